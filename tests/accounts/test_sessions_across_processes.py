"""Ending a session through one process closes its live sockets held by another (Redis)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Accounts, order_body
from tests.realtime.conftest import close_code, next_message, open_socket
from tests.realtime.test_redis import Process
from tests.realtime.test_redis import two_processes as two_processes  # the fixture

pytestmark = pytest.mark.redis


@pytest.mark.parametrize("action", ["sign out everywhere else", "change the password"])
async def test_a_session_ended_through_one_process_loses_its_socket_on_the_other(
    two_processes: tuple[Process, Process], action: str
) -> None:
    a, b = two_processes
    async with httpx.AsyncClient(base_url=a.http) as client:
        accounts = Accounts(client)
        vendor, customer = await accounts.vendor(), await accounts.customer()
        login = {"email": vendor.email, "password": vendor.password}
        phone = (await client.post("/api/auth/login", json=login)).json()["token"]
        async with open_socket(b.ws, token=phone) as ws:
            await client.post("/api/orders", json=order_body(vendor.id), headers=customer.headers)
            await next_message(ws)  # connected and subscribed
            if action == "sign out everywhere else":
                response = await client.delete("/api/me/sessions", headers=vendor.headers)
            else:
                body = {"current_password": vendor.password, "new_password": "violet anchor meadow"}
                response = await client.post("/api/me/password", json=body, headers=vendor.headers)
            assert response.status_code == 204, response.text
            assert await close_code(ws) == 4401
