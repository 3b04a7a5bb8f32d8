"""Bodies no JSON encoder can echo (NaN, Infinity, lone surrogates) get a 422 JSON answer."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Accounts

HOSTILE_JSON = [
    b'{"email": "a@example.com", "password": NaN}',
    b'{"email": "a@example.com", "password": Infinity}',
    b'{"email": "a@example.com", "password": -Infinity}',
    b'{"email": "a@example.com", "password": ["\\ud800"]}',
    b'{"email": "\\ud800", "password": "x"}',
    b'{"\\ud800": 1, "email": "a@example.com"}',
    b'{"email": {"\\udfff": NaN}, "password": "x"}',
]


@pytest.mark.parametrize("body", HOSTILE_JSON, ids=range(len(HOSTILE_JSON)))
async def test_values_json_cannot_encode_are_refused_with_422(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/api/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["code"] == "validation_error"
    assert isinstance(answer["detail"], str) and answer["detail"]


async def test_a_refused_password_is_never_echoed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", json={"email": "a@example.com", "password": ["hunter2-secret"]}
    )
    assert response.status_code == 422
    assert "hunter2-secret" not in response.text


async def test_a_nan_in_a_signed_in_body_is_refused(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    customer = await accounts.customer()
    body = b'{"vendor_id": "1", "items": [{"name": "x", "quantity": NaN, "unit_price_cents": 1}]}'
    response = await client.post(
        "/api/orders",
        content=body,
        headers={**customer.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
