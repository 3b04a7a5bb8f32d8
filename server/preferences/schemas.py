"""Preference bodies: channels per type and quiet hours, as `HH:MM` in an IANA zone."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.notifications.schemas import NotificationType

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"  # ASCII digits: \d takes any script's


class ChannelsIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    push: bool = True
    inbox: bool = True
    # Left out or null: the type's default (on for orders, off for the others).
    email: bool | None = None


class QuietHoursIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    start: str = Field(default="22:00", pattern=HHMM)
    end: str = Field(default="07:00", pattern=HHMM)
    time_zone: str = Field(default="UTC", max_length=64, examples=["Europe/Berlin"])
    # New orders push at once even inside quiet hours.
    orders_ring: bool = True


class PreferencesIO(BaseModel):
    """GET answers every type; PUT may leave types out (they get the defaults)."""

    model_config = ConfigDict(extra="forbid")

    types: dict[NotificationType, ChannelsIO] = Field(default_factory=dict)
    quiet_hours: QuietHoursIO = Field(default_factory=QuietHoursIO)

    @model_validator(mode="after")
    def _email_defaults(self) -> PreferencesIO:
        for name, channels in self.types.items():
            if channels.email is None:
                channels.email = name == "order"
        return self
