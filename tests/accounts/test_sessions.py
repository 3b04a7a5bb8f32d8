"""One's sessions: the list, ending one, signing out everywhere else, changing the password."""

from __future__ import annotations

from typing import Any

import httpx

from server.accounts.security import token_digest
from tests.conftest import Account, Accounts, place_order
from tests.realtime.conftest import close_code, next_message, open_socket
from tests.realtime.conftest import ws_url as ws_url  # the live server fixture

PHONE = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
NEW_PASSWORD = "violet anchor meadow"


async def sign_in(
    client: httpx.AsyncClient, account: Account, user_agent: str = "test-client"
) -> dict[str, str]:
    """Another session of the account (its bearer headers)."""
    response = await client.post(
        "/api/auth/login",
        json={"email": account.email, "password": account.password},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def session_list(client: httpx.AsyncClient, headers: dict[str, str]) -> list[Any]:
    response = await client.get("/api/me/sessions", headers=headers)
    assert response.status_code == 200, response.text
    sessions: list[Any] = response.json()
    return sessions


async def signed_in(client: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    return (await client.get("/api/me", headers=headers)).status_code == 200


async def test_the_list_shows_each_session_with_its_device_and_marks_the_callers(
    client: httpx.AsyncClient, accounts: Accounts, app: Any
) -> None:
    vendor = await accounts.vendor()
    phone = await sign_in(client, vendor, PHONE)
    listed = await session_list(client, phone)
    assert len(listed) == 2
    mine = [s for s in listed if s["current"]]
    assert len(mine) == 1 and mine[0]["user_agent"] == PHONE
    assert mine[0]["client_address"] == "127.0.0.1"
    assert set(mine[0]) == {
        "id",
        "created_at",
        "last_used_at",
        "user_agent",
        "client_address",
        "current",
    }
    # Neither a token nor its digest is ever shown.
    text = (await client.get("/api/me/sessions", headers=phone)).text
    for token in (vendor.token, phone["Authorization"].removeprefix("Bearer ")):
        assert token not in text and token_digest(app.state.secret_key, token) not in text


async def test_ending_one_session_signs_out_only_that_one(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    phone = await sign_in(client, vendor, PHONE)
    other = next(s for s in await session_list(client, vendor.headers) if not s["current"])
    response = await client.delete(f"/api/me/sessions/{other['id']}", headers=vendor.headers)
    assert response.status_code == 204
    assert not await signed_in(client, phone)
    assert await signed_in(client, vendor.headers)
    assert [s["current"] for s in await session_list(client, vendor.headers)] == [True]


async def test_another_users_session_is_not_found_and_stays(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, stranger = await accounts.vendor(), await accounts.customer()
    [theirs] = await session_list(client, stranger.headers)
    response = await client.delete(f"/api/me/sessions/{theirs['id']}", headers=vendor.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "session_not_found"
    assert await signed_in(client, stranger.headers)
    for made_up in ("999999", "abc", "²"):
        response = await client.delete(f"/api/me/sessions/{made_up}", headers=vendor.headers)
        assert response.status_code == 404, made_up


async def test_signing_out_everywhere_else_keeps_only_the_current_session(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    others = [await sign_in(client, vendor, PHONE), await sign_in(client, vendor)]
    response = await client.delete("/api/me/sessions", headers=vendor.headers)
    assert response.status_code == 204
    for headers in others:
        assert not await signed_in(client, headers)
    assert await signed_in(client, vendor.headers)
    assert await signed_in(client, customer.headers), "another user's sessions stay"


async def test_ending_the_current_session_clears_its_cookie(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    [mine] = await session_list(client, vendor.headers)
    response = await client.delete(f"/api/me/sessions/{mine['id']}", headers=vendor.headers)
    assert response.status_code == 204
    assert 'vb_session=""' in response.headers["set-cookie"]
    assert not await signed_in(client, vendor.headers)


async def test_ending_a_session_closes_its_live_sockets(
    ws_url: str, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    phone = await sign_in(client, vendor, PHONE)
    phone_token = phone["Authorization"].removeprefix("Bearer ")
    async with (
        open_socket(ws_url, token=phone_token) as ended,
        open_socket(ws_url, token=vendor.token) as kept,
    ):
        await place_order(client, customer, vendor)
        await next_message(ended)  # both subscribed
        await next_message(kept)
        response = await client.delete("/api/me/sessions", headers=vendor.headers)
        assert response.status_code == 204
        assert await close_code(ended) == 4401
        assert kept.close_code is None


async def test_a_wrong_current_password_changes_nothing(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    phone = await sign_in(client, vendor, PHONE)
    body = {"current_password": "not my password", "new_password": NEW_PASSWORD}
    response = await client.post("/api/me/password", json=body, headers=vendor.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "wrong_password"
    assert await signed_in(client, phone)
    await sign_in(client, vendor)  # the old password still signs in


async def test_a_new_password_follows_the_sign_up_rules(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    for new, code in [
        ("password1", "password_too_common"),
        (vendor.email, "password_like_account"),
        ("short", "validation_error"),
    ]:
        body = {"current_password": vendor.password, "new_password": new}
        response = await client.post("/api/me/password", json=body, headers=vendor.headers)
        assert response.status_code == 422, new
        assert response.json()["code"] == code, response.json()


async def test_a_password_change_ends_every_other_session_and_keeps_this_one(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    phone = await sign_in(client, vendor, PHONE)
    body = {"current_password": vendor.password, "new_password": NEW_PASSWORD}
    response = await client.post("/api/me/password", json=body, headers=vendor.headers)
    assert response.status_code == 204, response.text
    assert not await signed_in(client, phone)
    assert await signed_in(client, vendor.headers)
    old = {"email": vendor.email, "password": vendor.password}
    assert (await client.post("/api/auth/login", json=old)).status_code == 401
    new = {"email": vendor.email, "password": NEW_PASSWORD}
    assert (await client.post("/api/auth/login", json=new)).status_code == 200


async def test_wrong_current_passwords_are_limited_like_sign_ins(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    body = {"current_password": "not my password", "new_password": NEW_PASSWORD}
    for _ in range(5):
        response = await client.post("/api/me/password", json=body, headers=vendor.headers)
        assert response.status_code == 422
    right = {**body, "current_password": vendor.password}
    blocked = await client.post("/api/me/password", json=right, headers=vendor.headers)
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "password_rate_limited"
    assert int(blocked.headers["retry-after"]) > 0
    # The same budget as signing in: the guesses cannot continue there either.
    login = {"email": vendor.email, "password": vendor.password}
    assert (await client.post("/api/auth/login", json=login)).status_code == 429
