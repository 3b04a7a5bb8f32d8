"""Account request and response bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from server.ids import ID
from server.text import Name


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=8, max_length=256)
    name: Name
    role: Literal["vendor", "customer"]


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=256)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    email: str
    name: str
    role: str


class SessionOut(BaseModel):
    user: UserOut
    token: str


class VendorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: ID
    name: str
