"""Account request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field
from pydantic_core import PydanticCustomError

from server.core.ids import ID
from server.core.languages import LANGUAGES
from server.core.text import Name


def _offered(code: str) -> str:
    if code not in LANGUAGES:
        raise PydanticCustomError(
            "unknown_locale",
            "Input should be one of: {expected}",
            {"expected": ", ".join(LANGUAGES)},
        )
    return code


# One of the languages with a catalogue (server.core.languages): "en", "de", "fr".
LocaleCode = Annotated[
    str,
    Field(max_length=16, json_schema_extra={"enum": list(LANGUAGES)}),
    AfterValidator(_offered),
]


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=8, max_length=256)
    name: Name
    role: Literal["vendor", "customer"]
    # Absent: the best match of Accept-Language, else English.
    locale: LocaleCode | None = None


class MeIn(BaseModel):
    """PATCH /api/me: what is given changes, what is left out stays."""

    model_config = ConfigDict(extra="forbid")

    locale: LocaleCode | None = None
    name: Name | None = None


class PasswordIn(BaseModel):
    """POST /api/me/password: the new password follows the rules of sign-up."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=256)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    email: str
    name: str
    role: str
    locale: str


class SessionOut(BaseModel):
    user: UserOut
    token: str


class SignedInSessionOut(BaseModel):
    """One of the caller's sessions (a signed-in browser or API token)."""

    id: ID = Field(description="Opaque; for DELETE /api/me/sessions/{id}.")
    created_at: datetime
    last_used_at: datetime = Field(description="Recorded at most once an hour.")
    user_agent: str | None = Field(description="The User-Agent it signed in with, if recorded.")
    client_address: str | None = Field(description="The address it signed in from, if recorded.")
    current: bool = Field(description="The session of this request.")


class VendorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    name: str
