"""Session tokens end after 30 idle days or 90 days in all; use keeps them alive."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from server.accounts import service, tokens
from server.accounts.models import ApiToken
from server.accounts.security import token_digest
from server.core.db import utcnow
from tests.conftest import Account, Accounts


async def _set_token(app: Any, account: Account, **values: datetime) -> None:
    digest = token_digest(app.state.secret_key, account.token)
    async with app.state.db.writer() as session:
        await session.execute(
            update(ApiToken).where(ApiToken.token_hash == digest).values(**values)
        )
        await session.commit()


async def _token_row(app: Any, account: Account) -> ApiToken | None:
    digest = token_digest(app.state.secret_key, account.token)
    async with app.state.db.reader() as session:
        found: ApiToken | None = await session.scalar(
            select(ApiToken).where(ApiToken.token_hash == digest)
        )
        return found


async def test_token_unused_for_the_idle_lifetime_is_refused(
    client: httpx.AsyncClient, accounts: Accounts, app: Any
) -> None:
    account = await accounts.vendor()
    await _set_token(app, account, last_used_at=utcnow() - timedelta(days=30, minutes=1))
    response = await client.get("/api/me", headers=account.headers)
    assert response.status_code == 401


async def test_token_past_its_absolute_lifetime_is_refused_even_if_used(
    client: httpx.AsyncClient, accounts: Accounts, app: Any
) -> None:
    account = await accounts.vendor()
    await _set_token(app, account, created_at=utcnow() - timedelta(days=90, minutes=1))
    response = await client.get("/api/me", headers=account.headers)
    assert response.status_code == 401


async def test_using_a_token_extends_its_idle_lifetime_at_most_hourly(
    client: httpx.AsyncClient, accounts: Accounts, app: Any
) -> None:
    account = await accounts.vendor()
    old = utcnow() - timedelta(days=29)
    await _set_token(app, account, last_used_at=old)
    assert (await client.get("/api/me", headers=account.headers)).status_code == 200
    activity = app.state.token_activity
    assert activity is not None
    await activity.flush()
    row = await _token_row(app, account)
    assert row is not None and utcnow() - row.last_used_at < timedelta(minutes=1)

    # A token last used within the hour is not written to.
    recent = utcnow() - timedelta(minutes=10)
    other = await accounts.vendor()
    await _set_token(app, other, last_used_at=recent)
    assert (await client.get("/api/me", headers=other.headers)).status_code == 200
    await activity.flush()
    row = await _token_row(app, other)
    assert row is not None and row.last_used_at == recent


async def test_cached_token_never_outlives_its_expiry(
    client: httpx.AsyncClient, accounts: Accounts, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await accounts.vendor()
    # It ends in 30 seconds: within the cache's lifetime, so it must not be cached.
    await _set_token(app, account, created_at=utcnow() - timedelta(days=90) + timedelta(seconds=30))
    assert (await client.get("/api/me", headers=account.headers)).status_code == 200
    later = utcnow() + timedelta(seconds=31)
    monkeypatch.setattr(service, "utcnow", lambda: later)
    assert (await client.get("/api/me", headers=account.headers)).status_code == 401


async def test_expired_token_is_a_session_expired_error(accounts: Accounts, app: Any) -> None:
    account = await accounts.customer()
    await _set_token(app, account, last_used_at=utcnow() - timedelta(days=31))
    key = app.state.secret_key
    async with app.state.units.reader() as uow:
        with pytest.raises(service.SessionExpired) as expired:
            await service.session_for_token(uow, account.token, key, None)
        assert expired.value.status == 401 and expired.value.code == "session_expired"
        with pytest.raises(service.NotAuthenticated) as unknown:
            await service.session_for_token(uow, "not-a-token", key, None)
        assert unknown.value.code == "not_authenticated"


async def test_an_expired_session_is_told_so(
    client: httpx.AsyncClient, accounts: Accounts, app: Any
) -> None:
    account = await accounts.customer()
    await _set_token(app, account, last_used_at=utcnow() - timedelta(days=31))
    response = await client.get("/api/me", headers=account.headers)
    assert (response.status_code, response.json()["code"]) == (401, "session_expired")


async def test_session_cookie_lasts_the_absolute_lifetime(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.customer()
    response = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200
    assert f"max-age={90 * 24 * 3600}" in response.headers["set-cookie"].lower()


async def test_signing_in_deletes_the_accounts_expired_tokens(
    client: httpx.AsyncClient, accounts: Accounts, app: Any
) -> None:
    account = await accounts.customer()
    await _set_token(app, account, last_used_at=utcnow() - timedelta(days=31))
    response = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200
    assert await _token_row(app, account) is None
    async with app.state.db.reader() as session:
        left = (await session.scalars(select(ApiToken.token_hash))).all()
    assert left == [token_digest(app.state.secret_key, response.json()["token"])]


def test_cache_margin_covers_the_token_cache_lifetime() -> None:
    assert tokens.TOKENS.ttl_seconds <= tokens.CACHE_MARGIN.total_seconds()
