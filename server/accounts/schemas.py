"""Account request and response bodies."""

from __future__ import annotations

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


class VendorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    name: str
