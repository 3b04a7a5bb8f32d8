"""Preference bodies: channels per type and quiet hours, as `HH:MM` in an IANA zone."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    field_validator,
    model_validator,
)

from server.notifications.preferences.rules import default_channels
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


class OrderAlertsIO(BaseModel):
    """A pending order rings again every `repeat_every_seconds` (0: off, else 30-3600),
    at most `max_repeats` times (0-10). Whole JSON numbers only: no strings, no NaN."""

    model_config = ConfigDict(extra="forbid")

    repeat_every_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 120
    max_repeats: Annotated[StrictInt, Field(ge=0, le=10)] = 3

    @field_validator("repeat_every_seconds")
    @classmethod
    def _off_or_at_least_30(cls, value: int) -> int:
        # Under 30 s a phone would ring on and on; 0 is how to say "never".
        if 0 < value < 30:
            raise ValueError("must be 0 (off) or between 30 and 3600 seconds")
        return value


class PreferencesIO(BaseModel):
    """GET answers every type; PUT may leave types out (they get the defaults)."""

    model_config = ConfigDict(extra="forbid")

    types: dict[NotificationType, ChannelsIO] = Field(default_factory=dict)
    quiet_hours: QuietHoursIO = Field(default_factory=QuietHoursIO)
    order_alerts: OrderAlertsIO = Field(default_factory=OrderAlertsIO)
    # Said by the answers, so an app draws an email switch for exactly these types; ignored
    # in a PUT body (an answer sent back as it came is accepted).
    email_offered: list[NotificationType] = Field(
        default_factory=list,
        description="The types with an email switch for this account (answers only; "
        "ignored when sent).",
    )
    # The types whose `email` was left out and took the default (not a choice to check).
    _email_defaulted: set[str] = PrivateAttr(default_factory=set)

    @model_validator(mode="after")
    def _email_defaults(self) -> PreferencesIO:
        for name, channels in self.types.items():
            if channels.email is None:
                channels.email = default_channels(name).email
                self._email_defaulted.add(name)
        return self

    def email_chosen(self, name: str) -> bool:
        """Whether the body switched `name`'s email on itself (not by leaving it out)."""
        channels = self.types.get(name)
        return bool(channels and channels.email) and name not in self._email_defaulted
