"""A marketplace vendor, found by the `sub` its marketplace knows it by: the webhook
events about a notification are part of its story."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from server.core.config import Settings
from tests.admin.test_broadcasts import admin_account
from tests.conftest import make_settings
from tests.integrations.test_webhooks import shop, tell


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # No worker: the webhook stays queued, as it is until the marketplace answers.
    return make_settings(tmp_path, database_url, webhook_allowed_hosts="127.0.0.1")


async def test_a_vendor_found_by_sub_shows_the_notification_s_webhook(
    app: Any, client: httpx.AsyncClient
) -> None:
    marketplace = await shop(app, "http://127.0.0.1:9/hook", ("notification.created",))
    await tell(app, marketplace.user_id, "New order #7")
    await tell(app, marketplace.user_id, "New order #8")
    admin = await admin_account(client, app.state.settings)

    response = await client.get("/api/admin/activity", params={"q": "v_1"}, headers=admin.headers)

    assert response.status_code == 200, response.text
    page = response.json()
    assert page["user"]["sub"] == "v_1" and page["user"]["id"] == str(marketplace.user_id)
    newest, older = page["items"]
    for item in (newest, older):
        [hook] = [e for e in item["timeline"] if e["kind"] == "webhook"]
        assert (hook["status"], hook["text"]) == ("queued", "Webhook notification.created queued")
        assert hook["next_retry_at"] is not None
    assert (newest["title"], older["title"]) == ("New order #8", "New order #7")
