"""Registration and sign-in limits: per address, in words, and never against a new account."""

from __future__ import annotations

import math
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from server.accounts import service
from server.accounts.models import User
from server.accounts.security import SlidingWindowLimiter, try_again_in
from server.core.config import Settings
from tests.conftest import Accounts, make_settings

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, register_max_per_window=3)


def _body(n: int) -> dict[str, str]:
    return {
        "email": f"user{n}@example.com",
        "password": PASSWORD,
        "name": f"U{n}",
        "role": "vendor",
    }


def _waits_in_words(response: httpx.Response) -> None:
    """The detail says, in minutes, the wait that Retry-After gives in seconds."""
    wait = int(response.headers["retry-after"])
    assert wait > 0
    minutes = math.ceil(wait / 60)
    unit = "minute" if minutes == 1 else "minutes"
    assert response.json()["detail"].endswith(f" Try again in {minutes} {unit}."), response.json()


async def test_registration_is_limited_per_address_and_says_how_long(
    client: httpx.AsyncClient, app: object
) -> None:
    for n in range(3):
        assert (await client.post("/api/auth/register", json=_body(n))).status_code == 201
    blocked = await client.post("/api/auth/register", json=_body(3))
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "register_rate_limited"
    assert int(blocked.headers["retry-after"]) <= 600
    _waits_in_words(blocked)
    async with app.state.db.reader() as session:  # type: ignore[attr-defined]
        assert await session.scalar(select(func.count()).select_from(User)) == 3
    # Another address is not affected.
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        assert (await other.post("/api/auth/register", json=_body(4))).status_code == 201


async def test_refused_registrations_count_too(client: httpx.AsyncClient) -> None:
    """Probing which emails have an account, or which passwords pass, is limited alike."""
    assert (await client.post("/api/auth/register", json=_body(0))).status_code == 201
    taken = await client.post("/api/auth/register", json=_body(0))
    assert taken.status_code == 409
    common = await client.post("/api/auth/register", json={**_body(1), "password": "password1"})
    assert common.status_code == 422
    blocked = await client.post("/api/auth/register", json=_body(2))
    assert blocked.status_code == 429 and blocked.json()["code"] == "register_rate_limited"


async def test_login_lockout_says_how_long(client: httpx.AsyncClient, accounts: Accounts) -> None:
    account = await accounts.vendor()
    for _ in range(5):
        response = await client.post(
            "/api/auth/login", json={"email": account.email, "password": "wrong pass"}
        )
        assert response.status_code == 401
    blocked = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert blocked.status_code == 429 and blocked.json()["code"] == "login_rate_limited"
    assert blocked.json()["detail"].startswith("Too many failed sign-in attempts.")
    assert int(blocked.headers["retry-after"]) <= 300
    _waits_in_words(blocked)


async def test_new_account_signs_in_whatever_its_address_did(
    client: httpx.AsyncClient, app: object
) -> None:
    async with app.state.db.writer() as session:  # type: ignore[attr-defined]
        # An account from before (not registered within the window).
        await service.register(
            session, email="older@example.com", password=PASSWORD, name="Old", role="vendor"
        )
        await session.commit()
    # Someone at the same address (a shared NAT) fails on five other accounts.
    for n in range(5):
        response = await client.post(
            "/api/auth/login", json={"email": f"nobody{n}@example.com", "password": "wrong pass"}
        )
        assert response.status_code == 401
    blocked = await client.post(
        "/api/auth/login", json={"email": "older@example.com", "password": PASSWORD}
    )
    assert blocked.status_code == 429, "the address is locked out for existing accounts"

    created = await client.post("/api/auth/register", json=_body(7))
    assert created.status_code == 201
    signed_in = await client.post(
        "/api/auth/login", json={"email": "USER7@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["email"] == "user7@example.com"

    # Its own failures still lock it out.
    for _ in range(5):
        response = await client.post(
            "/api/auth/login", json={"email": "user7@example.com", "password": "wrong pass"}
        )
        assert response.status_code == 401
    again = await client.post(
        "/api/auth/login", json={"email": "user7@example.com", "password": PASSWORD}
    )
    assert again.status_code == 429


async def test_sign_up_from_a_locked_out_address_is_signed_in_by_its_answer(
    client: httpx.AsyncClient,
) -> None:
    for n in range(5):
        wrong = {"email": f"nobody{n}@example.com", "password": "wrong pass"}
        assert (await client.post("/api/auth/login", json=wrong)).status_code == 401
    created = await client.post("/api/auth/register", json=_body(8))
    assert created.status_code == 201, created.text
    # The answer's cookie is the session: no sign-in call that the address's lock refuses.
    cookie = created.cookies.get("vb_session")
    assert cookie, created.headers
    me = await client.get("/api/me")
    assert me.status_code == 200
    assert me.json()["email"] == "user8@example.com"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "Try again in 1 second."),
        (1, "Try again in 1 second."),
        (59, "Try again in 59 seconds."),
        (60, "Try again in 1 minute."),
        (61, "Try again in 2 minutes."),
        (300, "Try again in 5 minutes."),
        (7199, "Try again in 120 minutes."),
        (7200, "Try again in 2 hours."),
        (86400, "Try again in 24 hours."),
    ],
)
def test_wait_in_words(seconds: int, words: str) -> None:
    assert try_again_in(seconds) == words


def test_limiter_forgets_keys_whose_events_left_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr("server.accounts.security.time.monotonic", lambda: now[0])
    limiter = SlidingWindowLimiter(5, 300)
    for n in range(5000):  # a stream of made-up accounts
        limiter.hit([f"account:{n}@example.com"])
        assert limiter.retry_after([f"account:other{n}@example.com"]) is None
    now[0] += 301
    limiter.hit(["account:last@example.com"])
    for n in range(5000):
        limiter.hit([f"account:again{n}@example.com"])
    assert len(limiter._events) < 8000, "keys from the first burst are still held"


def test_limiter_waits_until_the_oldest_counted_event_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr("server.accounts.security.time.monotonic", lambda: now[0])
    limiter = SlidingWindowLimiter(2, 100)
    limiter.hit(["k"])
    now[0] = 50.0
    limiter.hit(["k"])
    assert limiter.retry_after(["k"]) == 50
    now[0] = 100.5
    assert limiter.retry_after(["k"]) is None
    assert re.fullmatch(r"Try again in \d+ seconds\.", try_again_in(50))
