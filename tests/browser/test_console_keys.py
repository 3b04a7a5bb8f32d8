"""The console's Integrations and keys page: an admin sees a marketplace with its keys
and a failed webhook it sends again, and the VAPID key with the number of devices
subscribed with it, rotates it after confirming, on a phone in light and dark mode; a
vendor gets no link to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select, update

from server.integrations import embed_keys
from server.integrations.models import Integration
from server.integrations.webhooks.models import WebhookDelivery
from tests.browser.conftest import LiveServer, Session, screenshot
from tests.browser.test_accessibility import severe_violations
from tests.browser.test_console_health import admin_user
from tests.integrations.test_webhooks import shop, tell
from tests.pushservice import make_browser_subscription

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


async def marketplace_with_a_failed_webhook(app: Any) -> None:
    """A marketplace (HMAC key, embed key, one vendor) whose webhook gave up on one event."""
    market = await shop(app, "http://127.0.0.1:9/hook", ("notification.created",))
    async with app.state.units.writer() as uow:
        integration = await uow.session.scalar(select(Integration))
        assert integration is not None
        await embed_keys.generate(uow.session, integration.id, "ES256")
        await uow.commit()
    await tell(app, market.user_id)
    async with app.state.db.writer() as session:
        await session.execute(
            update(WebhookDelivery).values(
                status="failed", attempts=9, last_status=503, error="answered 503"
            )
        )
        await session.commit()


@pytest.mark.parametrize("live_server", [{"webhook_allowed_hosts": "127.0.0.1"}], indirect=True)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_admin_redelivers_a_webhook_and_rotates_the_vapid_key(
    live_server: LiveServer, sessions: Callable[..., Session], scheme: str
) -> None:
    vendor = live_server.register("vendor", "Corner Bakery")
    device = make_browser_subscription("http://127.0.0.1:9/push/device-1")
    with live_server.client() as client:
        answer = client.post(
            "/api/push/subscriptions", json=device.to_json(), headers=vendor.headers
        )
        assert answer.status_code == 201, answer.text
    live_server.run(marketplace_with_a_failed_webhook)

    admin = sessions(admin_user(live_server), viewport=PHONE, color_scheme=scheme)
    page = admin.page("/")
    page.get_by_role("navigation").get_by_role("link", name="Keys").click()
    expect(page).to_have_url(f"{live_server.origin}/console/keys")
    expect(page.get_by_role("heading", level=1)).to_have_text("Integrations and keys")

    vapid = page.get_by_test_id("vapid-keys")
    expect(vapid.locator("li[data-kid]")).to_have_count(1)
    [old] = vapid.locator("li[data-kid]").all()
    old_kid = old.get_attribute("data-kid")
    expect(old).to_contain_text("Current")
    expect(old.get_by_test_id("subscriptions")).to_have_text("1 subscription")

    market = page.get_by_test_id("integration").filter(has_text="Shop")
    expect(market.get_by_role("heading", level=2)).to_have_text("Shop")
    expect(market).to_contain_text("https://shop.example")
    expect(market.locator("li[data-key-id]")).to_have_count(1)
    expect(market.locator("li[data-kid]")).to_contain_text("ES256")
    expect(market.get_by_test_id("failures")).to_have_text("1")
    failed = market.locator("li[data-status=failed]")
    expect(failed).to_contain_text("notification.created")
    expect(failed).to_contain_text("answered 503")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert severe_violations(Axe(), page) == []
    screenshot(page, f"console-keys-phone-{scheme}")

    failed.get_by_test_id("redeliver").click()
    again = market.locator("li[data-delivery]")
    expect(again).to_have_attribute("data-status", "queued")
    expect(again.get_by_test_id("redeliver")).to_have_count(0)
    expect(market.get_by_test_id("failures")).to_have_text("0")

    # Retiring the marketplace's sign-in key, after the question.
    embed = market.locator("li[data-kid]")
    embed.get_by_test_id("retire-embed").click()
    expect(embed.get_by_role("alert")).to_contain_text("Sign-in tokens signed with it are refused")
    embed.get_by_test_id("retire-embed-confirm").click()
    expect(market.locator("li[data-kid]")).to_contain_text("retired")
    expect(market.locator("li[data-kid]").get_by_test_id("retire-embed")).to_have_count(0)

    vapid.get_by_test_id("rotate").click()
    expect(vapid.get_by_role("alert")).to_contain_text("Make a new current key?")
    vapid.get_by_test_id("rotate-confirm").click()
    keys = vapid.locator("li[data-kid]")
    expect(keys).to_have_count(2)
    new = vapid.locator("li[data-current=true]")
    expect(new.get_by_test_id("subscriptions")).to_have_text("0 subscriptions")
    kept = vapid.locator(f"li[data-kid='{old_kid}']")
    expect(kept).to_have_attribute("data-current", "false")
    expect(kept.get_by_test_id("subscriptions")).to_have_text("1 subscription")
    with live_server.client() as client:
        served = client.get("/api/push/vapid-public-key").json()["public_key"]
    expect(new).to_contain_text(served)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"console-keys-rotated-phone-{scheme}")
    assert admin.errors == []

    # In the admin's language, with the longer words still inside the phone.
    for lang, title, count, rotate in (
        ("de", "Integrationen und Schlüssel", "1 Anmeldung", "Schlüssel wechseln"),
        ("fr", "Intégrations et clés", "1 abonnement", "Changer de clé"),
    ):
        changed = admin.context.request.patch(
            "/api/me", data={"locale": lang}, headers={"Origin": live_server.origin}
        )
        assert changed.ok, changed.text()
        page.goto("/console/keys")
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(kept.get_by_test_id("subscriptions")).to_have_text(count)
        expect(vapid.get_by_test_id("rotate")).to_have_text(rotate)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], lang
    screenshot(page, f"console-keys-phone-fr-{scheme}")

    shop_page = sessions(vendor).page("/")
    nav = shop_page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="Orders")).to_be_visible()
    expect(nav.get_by_role("link", name="Keys")).to_have_count(0)
    shop_page.goto("/console/keys")
    expect(shop_page.get_by_text("Only administrators can see the console.")).to_be_visible()
