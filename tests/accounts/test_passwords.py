"""New passwords: at least 8 characters, not a common one, not the account's own email or name."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.accounts.models import User
from server.accounts.passwords import check_new_password, common_passwords


def _body(password: str, **overrides: str) -> dict[str, str]:
    return {
        "email": "ann.baker@example.com",
        "password": password,
        "name": "Ann Baker",
        "role": "vendor",
        **overrides,
    }


@pytest.mark.parametrize(
    "password", ["password1", "Password1", "iloveyou", " qwertyuiop ", "1q2w3e4r"]
)
async def test_common_passwords_are_refused(
    client: httpx.AsyncClient, app: Any, password: str
) -> None:
    response = await client.post("/api/auth/register", json=_body(password))
    assert response.status_code == 422
    assert response.json()["code"] == "password_too_common"
    assert response.json()["detail"].startswith("This password is too common")
    async with app.state.db.reader() as session:
        assert (await session.scalars(select(User))).all() == []


@pytest.mark.parametrize(
    ("password", "overrides"),
    [
        ("ann.baker@example.com", {}),
        ("ANN.BAKER@example.com", {}),
        ("ann.baker", {}),
        ("ann baker", {}),
        ("annbaker", {}),
        ("Sunflower Bakery", {"name": "Sunflower Bakery"}),
    ],
)
async def test_passwords_like_the_account_are_refused(
    client: httpx.AsyncClient, password: str, overrides: dict[str, str]
) -> None:
    response = await client.post("/api/auth/register", json=_body(password, **overrides))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "password_like_account"


@pytest.mark.parametrize("password", ["correct horse battery", "long enough", "Ann's 2nd shop"])
async def test_uncommon_passwords_are_accepted(client: httpx.AsyncClient, password: str) -> None:
    response = await client.post("/api/auth/register", json=_body(password))
    assert response.status_code == 201, response.text


def test_the_common_list_is_large_and_quick_to_consult() -> None:
    common = common_passwords()
    assert len(common) >= 10_000
    assert "password" in common and "correct horse battery" not in common
    started = time.perf_counter()
    for _ in range(1000):
        check_new_password("correct horse battery", email="a@example.com", name="A")
    assert time.perf_counter() - started < 0.5
