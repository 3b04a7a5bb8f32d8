"""Register, login (token and cookie), logout, me, vendors, rate limits and CSRF."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from server.accounts.models import ApiToken, User
from tests.conftest import Accounts


async def test_register_returns_user_and_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register",
        json={
            "email": "Ann@Example.com",
            "password": "long enough",
            "name": "Ann's Bakery",
            "role": "vendor",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "ann@example.com"
    assert body["user"]["role"] == "vendor"
    assert isinstance(body["user"]["id"], str)
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json() == body["user"]


async def test_duplicate_email_is_409_and_first_account_kept(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    first = await accounts.vendor("First")
    response = await client.post(
        "/api/auth/register",
        json={
            "email": first.email.upper(),
            "password": "other password",
            "name": "Second",
            "role": "customer",
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"
    login = await client.post(
        "/api/auth/login", json={"email": first.email, "password": first.password}
    )
    assert login.json()["user"]["name"] == "First"


async def test_password_and_token_are_stored_hashed(app: object, accounts: Accounts) -> None:
    account = await accounts.vendor()
    async with app.state.db.reader() as session:  # type: ignore[attr-defined]
        user = await session.scalar(select(User).where(User.email == account.email))
        tokens = (await session.scalars(select(ApiToken.token_hash))).all()
    assert user is not None and user.password_hash.startswith("$argon2")
    assert account.password not in user.password_hash
    assert account.token not in tokens and len(tokens) == 1


async def test_login_sets_httponly_lax_cookie_that_authenticates(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.customer()
    response = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    me = await client.get("/api/me")
    assert me.status_code == 200 and me.json()["email"] == account.email


async def test_wrong_password_is_401_with_code(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.vendor()
    response = await client.post(
        "/api/auth/login", json={"email": account.email, "password": "nope nope"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Email or password is wrong.",
        "code": "invalid_credentials",
    }


async def test_repeated_failed_logins_are_rate_limited_per_account(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.vendor()
    for _ in range(5):
        response = await client.post(
            "/api/auth/login", json={"email": account.email, "password": "wrong pass"}
        )
        assert response.status_code == 401
    blocked = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "login_rate_limited"
    assert int(blocked.headers["retry-after"]) > 0


async def test_logout_revokes_the_token(client: httpx.AsyncClient, accounts: Accounts) -> None:
    account = await accounts.vendor()
    response = await client.post("/api/auth/logout", headers=account.headers)
    assert response.status_code == 204
    me = await client.get("/api/me", headers=account.headers)
    assert me.status_code == 401
    assert me.json()["code"] == "not_authenticated"


async def test_me_without_credentials_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_vendor_list_is_public_and_has_only_vendors(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor("Zed's Pizza")
    await accounts.customer("A customer")
    response = await client.get("/api/vendors")
    assert response.status_code == 200
    assert response.json() == [{"id": vendor.id, "name": "Zed's Pizza"}]


async def test_cookie_write_from_another_origin_is_refused(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.customer()
    await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    evil = await client.post("/api/auth/logout", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert evil.json()["code"] == "csrf_origin_mismatch"
    missing = await client.post("/api/auth/logout")
    assert missing.status_code == 403
    ours = await client.post("/api/auth/logout", headers={"Origin": "http://testserver"})
    assert ours.status_code == 204


async def test_bad_register_bodies_are_422_and_store_nothing(
    client: httpx.AsyncClient, app: object
) -> None:
    bad = [
        {"email": "not-an-email", "password": "long enough", "name": "X", "role": "vendor"},
        {"email": "a@example.com", "password": "short", "name": "X", "role": "vendor"},
        {"email": "a@example.com", "password": "long enough", "name": "X", "role": "admin"},
        {"email": "a@example.com", "password": "long enough", "name": "   ", "role": "vendor"},
        {"email": "a@example.com", "password": 12345678, "name": "X", "role": "vendor"},
    ]
    for body in bad:
        response = await client.post("/api/auth/register", json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
    malformed = await client.post(
        "/api/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422 and malformed.json()["code"] == "malformed_json"
    async with app.state.db.reader() as session:  # type: ignore[attr-defined]
        assert (await session.scalars(select(User))).all() == []
