"""A user's locale: chosen at registration (or from Accept-Language), shown by GET /api/me,
changed with PATCH /api/me."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Accounts


async def register(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **fields: Any
) -> httpx.Response:
    body = {
        "email": f"lang-{uuid.uuid4().hex[:8]}@example.com",
        "password": "correct horse battery",
        "name": "Marktstand",
        "role": "vendor",
        **fields,
    }
    response = await client.post("/api/auth/register", json=body, headers=headers or {})
    client.cookies.clear()  # each test says who asks with a bearer token
    return response


def bearer(response: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
async def test_register_keeps_the_chosen_locale_and_me_returns_it(
    client: httpx.AsyncClient, locale: str
) -> None:
    response = await register(client, {"Accept-Language": "fr"}, locale=locale)
    assert response.status_code == 201, response.text
    assert response.json()["user"]["locale"] == locale
    me = await client.get("/api/me", headers=bearer(response))
    assert me.json()["locale"] == locale


@pytest.mark.parametrize(
    ("accept_language", "locale"),
    [
        (None, "en"),
        ("de-CH", "de"),
        ("es, fr;q=0.5, de;q=0.4", "fr"),
        ("fr;q=0.5, de;q=0.8", "de"),
        ("en;q=0.2, de-AT;q=0.9", "de"),
        ("es, it;q=0.9", "en"),
        ("de;q=0, fr;q=nonsense, *", "en"),
        ("x;;;q==,,;q=1.5, de;q=2, ;q=", "en"),
    ],
)
async def test_register_without_locale_takes_the_best_of_accept_language(
    client: httpx.AsyncClient, accept_language: str | None, locale: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language is not None else {}
    response = await register(client, headers)
    assert response.status_code == 201, response.text
    assert response.json()["user"]["locale"] == locale


@pytest.mark.parametrize("locale", ["es", "DE", "de-DE", "", None, 7])
async def test_register_refuses_a_locale_we_do_not_speak(
    client: httpx.AsyncClient, locale: object
) -> None:
    response = await register(client, locale=locale)
    if locale is None:  # null is "not given"
        assert response.status_code == 201
        return
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert [e["loc"] for e in body["errors"]] == [["body", "locale"]]


async def test_patch_me_changes_the_locale_for_every_session_at_once(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor("Corner Bakery")
    login = await client.post(
        "/api/auth/login", json={"email": vendor.email, "password": vendor.password}
    )
    client.cookies.clear()
    laptop = bearer(login)
    assert (await client.get("/api/me", headers=laptop)).json()["locale"] == "en"  # cached now

    response = await client.patch("/api/me", json={"locale": "de"}, headers=vendor.headers)
    assert response.status_code == 200, response.text
    assert response.json()["locale"] == "de" and response.json()["name"] == "Corner Bakery"
    assert (await client.get("/api/me", headers=laptop)).json()["locale"] == "de"
    assert (await client.get("/api/me", headers=vendor.headers)).json()["locale"] == "de"


async def test_patch_me_changes_only_what_is_given(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor("Corner Bakery")
    await client.patch("/api/me", json={"locale": "fr"}, headers=vendor.headers)
    response = await client.patch("/api/me", json={"name": "Boulangerie"}, headers=vendor.headers)
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["locale"]) == ("Boulangerie", "fr")
    assert (await client.patch("/api/me", json={}, headers=vendor.headers)).json() == (
        response.json()
    )


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"locale": "es"}, ["body", "locale"]),
        ({"locale": "fr", "role": "admin"}, ["body", "role"]),
        ({"email": "other@example.com"}, ["body", "email"]),
        ({"name": ""}, ["body", "name"]),
    ],
)
async def test_patch_me_refuses_unknown_locales_and_fields(
    client: httpx.AsyncClient, accounts: Accounts, body: dict[str, Any], loc: list[str]
) -> None:
    vendor = await accounts.vendor()
    response = await client.patch("/api/me", json=body, headers=vendor.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert loc in [e["loc"] for e in response.json()["errors"]]
    me = (await client.get("/api/me", headers=vendor.headers)).json()
    assert (me["locale"], me["role"]) == ("en", "vendor")


async def test_patch_me_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    response = await client.patch("/api/me", json={"locale": "de"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
