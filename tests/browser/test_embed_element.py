"""`<vendor-bell>` on the example marketplace (examples/marketplace), in real Chromium.

Two origins on loopback: vendorbell at http://127.0.0.1:<port> and the marketplace at
http://localhost:<port>. The marketplace mints its ES256 JWT at /token; the exchange
(POST /api/embed/session) and the CORS answers of vendorbell's REST routes are another
branch's work, so this file stands in for them at the browser's network edge: the
exchange answers a real bearer session of a registered vendor, and the REST answers are
vendorbell's own, passed through with the CORS headers added. The page, its CSP, the
element, the WebSocket (first-message sign-in, not routed) and the workers are real.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Error as PlaywrightError

from examples.marketplace.shop import Embedding, create_app, sri
from server.core.ids import parse_id
from server.push.receipts import receipt_token
from tests.browser.conftest import (
    LiveServer,
    User,
    _bound_socket,
    push_and_show,
    screenshot,
    shown_notifications,
)
from tests.pushservice import PushService, ThreadedPushService

FAKE_PUSH_MANAGER = (Path(__file__).parent / "fake_push_manager.js").read_text()
ELEMENT = Path(__file__).resolve().parents[2] / "pwa" / "embed" / "vendor-bell.js"
CORS = {
    "access-control-allow-headers": "Authorization, Content-Type, Idempotency-Key",
    "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE",
}
# Records what the page sees: the element's events and any CSP violation.
RECORDER = """
window.__vb = []; window.__csp = [];
for (const name of ['vb-ready', 'vb-unread-change', 'vb-notification', 'vb-click',
                    'vb-push-change', 'vb-auth-error']) {
  const plain = (e) => (name === 'vb-click' ? { url: e.detail.url } : e.detail);
  document.addEventListener(name, (e) => window.__vb.push({ name, detail: plain(e) }), true);
}
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
"""
VAPID = "BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U"
BADGE = "document.querySelector('vendor-bell').shadowRoot.querySelector('[part=badge]')"


class ShopServer:
    """The example marketplace under uvicorn on localhost:<port>, in a thread. Its port
    (so its origin) is known before it starts, for registering the integration."""

    def __init__(self) -> None:
        self._sock = _bound_socket()
        self.port = self._sock.getsockname()[1]
        self.origin = f"http://localhost:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, embedding: Embedding) -> None:
        self._server = server = uvicorn.Server(
            uvicorn.Config(create_app(embedding), log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not server.started:  # a flag set by another thread
            assert time.monotonic() < deadline, "the marketplace did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(15)
        self._sock.close()


@dataclass
class Exchange:
    """Stands in for POST /api/embed/session: verifies the marketplace's JWT with its
    public key and answers a bearer session of the vendor it names."""

    server: LiveServer
    public_key: Any
    audience: str
    vendors: dict[str, User]
    seconds: int = 3600
    vapid: str = VAPID
    tokens: list[str] = field(default_factory=list)  # the sessions handed out, in order
    fresh: Any = None  # sub → a new bearer token (a second sign-in), for renewals

    def answer(self, authorization: str) -> tuple[int, dict[str, Any]]:
        claims = jwt.decode(
            authorization.removeprefix("Bearer "),
            self.public_key,
            algorithms=["ES256"],
            audience=self.audience,
        )
        vendor = self.vendors[claims["sub"]]
        token = vendor.token if not self.tokens or self.fresh is None else self.fresh(vendor)
        self.tokens.append(token)
        expires = datetime.now(UTC) + timedelta(seconds=self.seconds)
        with self.server.client() as client:
            counts = client.get(
                "/api/notifications/count", headers={"Authorization": f"Bearer {token}"}
            ).json()
        return 201, {
            "token": token,
            "expires_at": expires.isoformat(),
            "user": {"id": vendor.id, "name": claims.get("name"), "locale": "en"},
            "counts": {"unread": counts["unread"], "unseen": counts["unseen"]},
            "vapid_public_key": self.vapid,
        }


@dataclass
class Marketplace:
    shop: ShopServer
    vendorbell: LiveServer
    exchange: Exchange
    vendor: User


def allow_embedding(server: LiveServer, *origins: str) -> None:
    """These origins may hold the live channel (what an integration's allowed origins do)."""

    async def allowed() -> frozenset[str]:
        return frozenset(origins)

    server.app.state.embed_origins = allowed


@pytest.fixture
def marketplace(live_server: LiveServer) -> Iterator[Marketplace]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    shop = ShopServer()
    vendor = live_server.register("vendor", "Rosa's Bakery")
    exchange = Exchange(live_server, key.public_key(), live_server.origin, {"v_1001": vendor})
    allow_embedding(live_server, shop.origin)
    shop.start(Embedding(live_server.origin, "int_test", "k1", pem, sri(ELEMENT)))
    try:
        yield Marketplace(shop, live_server, exchange, vendor)
    finally:
        shop.stop()


@contextmanager
def browser_context(browser: Any, marketplace: Marketplace, **options: Any) -> Iterator[Any]:
    """A context whose requests to vendorbell's REST routes get the stand-ins above."""
    options.setdefault("viewport", {"width": 1280, "height": 800})
    ctx = browser.new_context(**options)
    ctx.add_init_script(RECORDER)
    vendorbell = marketplace.vendorbell.origin
    closing = False

    def route(request_route: Any) -> None:
        request = request_route.request
        headers = {"access-control-allow-origin": request.headers.get("origin", "*"), **CORS}
        if request.method == "OPTIONS":
            request_route.fulfill(status=204, headers=headers)
        elif request.url == f"{vendorbell}/api/embed/session":
            status, body = marketplace.exchange.answer(request.headers["authorization"])
            request_route.fulfill(status=status, json=body, headers=headers)
        else:
            try:
                response = request_route.fetch()
                request_route.fulfill(response=response, headers={**response.headers, **headers})
            except PlaywrightError:
                # Only while the test closes its pages: a request still in flight is dropped.
                if not closing:
                    raise

    ctx.route(f"{vendorbell}/api/**", route)
    try:
        yield ctx
    finally:
        closing = True
        ctx.close()


@pytest.fixture
def context(browser: Any, marketplace: Marketplace) -> Iterator[Any]:
    with browser_context(browser, marketplace) as ctx:
        yield ctx


def signed_in_page(context: Any, shop: ShopServer, errors: list[str] | None = None) -> Any:
    page = context.new_page()
    if errors is not None:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{shop.origin}/")
    if page.locator("input[name=username]").count():
        page.fill("input[name=username]", "rosa")
        page.fill("input[name=password]", "bread")
        page.click("text=Sign in")
    page.wait_for_function("() => window.__vb.some((e) => e.name === 'vb-ready')")
    return page


def events(page: Any, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        "(name) => window.__vb.filter((e) => e.name === name)", name
    )
    return found


def order_for(marketplace: Marketplace) -> dict[str, Any]:
    server = marketplace.vendorbell
    return server.place_order(server.register("customer"), marketplace.vendor)


def test_the_bell_renders_under_the_strict_csp_and_rings_live_without_reload(
    context: Any, marketplace: Marketplace
) -> None:
    errors: list[str] = []
    page = signed_in_page(context, marketplace.shop, errors)
    csp = page.evaluate(
        "fetch(location.href).then((r) => r.headers.get('content-security-policy'))"
    )
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.evaluate(f"{BADGE}.hidden")
    order_for(marketplace)
    page.wait_for_function(f"() => !{BADGE}.hidden && {BADGE}.textContent === '1'")
    assert events(page, "vb-unread-change")[-1]["detail"] == {"unread": 1, "unseen": 1}
    assert events(page, "vb-notification")
    page.locator("vendor-bell").locator("[part=button]").click()
    page.wait_for_selector("vendor-bell >> [part~=item-unread]")
    screenshot(page, "embed-dropdown")
    assert page.evaluate("window.__csp") == []
    assert not [e for e in errors if "Refused" in e or "Content Security Policy" in e], errors


def test_vb_click_is_cancelable_and_otherwise_opens_the_marketplace_page(
    context: Any, marketplace: Marketplace
) -> None:
    order = order_for(marketplace)
    page = signed_in_page(context, marketplace.shop)
    page.evaluate(
        """() => document.querySelector('vendor-bell')
          .addEventListener('vb-click', (e) => e.preventDefault(), { once: true })"""
    )
    page.locator("vendor-bell").locator("[part=button]").click()
    page.locator("vendor-bell").locator("[part~=item] a").first.click()
    page.wait_for_function("() => window.__vb.some((e) => e.name === 'vb-click')")
    clicked = events(page, "vb-click")[0]["detail"]
    assert clicked["url"] == f"{marketplace.shop.origin}/orders/{order['id']}"
    assert page.url == f"{marketplace.shop.origin}/"  # the page routed itself: no navigation
    page.wait_for_function(f"() => {BADGE}.hidden")  # read on click, the badge follows
    page.locator("vendor-bell").locator("[part=button]").click()
    with page.expect_navigation():
        page.locator("vendor-bell").locator("[part~=item] a").first.click()
    assert page.url == clicked["url"]
    assert page.locator("#order").text_content() == f"Order {order['id']}"


def test_three_tabs_share_one_socket_and_all_ring(context: Any, marketplace: Marketplace) -> None:
    sockets: list[str] = []
    context.on("page", lambda p: p.on("websocket", lambda ws: sockets.append(ws.url)))
    pages = [signed_in_page(context, marketplace.shop) for _ in range(3)]
    pages[0].wait_for_timeout(500)  # lets a second owner, if there were one, connect
    assert len(sockets) == 1
    assert "token" not in sockets[0]  # the token travels in the first message, never the URL
    order_for(marketplace)
    for page in pages:
        page.wait_for_function(f"() => {BADGE}.textContent === '1'")
    pages[0].close()  # the owner goes: another tab takes the socket over
    order_for(marketplace)
    for page in pages[1:]:
        page.wait_for_function(f"() => {BADGE}.textContent === '2'")
    assert len(sockets) == 2


def test_a_session_renewed_through_the_marketplace_keeps_the_same_socket(
    context: Any, marketplace: Marketplace
) -> None:
    server, exchange = marketplace.vendorbell, marketplace.exchange
    exchange.seconds = 8  # renewed at 80 %: after about 6.4 s

    def sign_in_again(vendor: User) -> str:
        with server.client() as client:
            response = client.post(
                "/api/auth/login", json={"email": vendor.email, "password": vendor.password}
            )
        token: str = response.json()["token"]
        return token

    exchange.fresh = sign_in_again
    sockets: list[Any] = []
    context.on("page", lambda p: p.on("websocket", lambda ws: sockets.append(ws)))
    page = signed_in_page(context, marketplace.shop)
    page.wait_for_function("() => window.__vb.length >= 0")
    page.wait_for_timeout(7500)
    assert len(exchange.tokens) >= 2
    # The first session ends (as one past its expiry does): the socket moved to the new one.
    with server.client() as client:
        ended = client.post(
            "/api/auth/logout", headers={"Authorization": f"Bearer {exchange.tokens[0]}"}
        )
    assert ended.status_code == 204
    order_for(marketplace)
    page.wait_for_function(f"() => {BADGE}.textContent === '1'")
    assert len(sockets) == 1 and not sockets[0].is_closed()


def shown(page: Any, scope: str) -> list[dict[str, Any]]:
    return shown_notifications(page, 0, scope)


def vendorbell_push(shop: str) -> str:
    return json.dumps(
        {
            "web_push": 8030,
            "notification": {
                "title": "New order #7",
                "body": "2 items",
                "navigate": f"{shop}/orders/7",
                "tag": "order-7",
                "data": {"app": "vendorbell", "id": "7", "type": "order", "event": "order.created"},
            },
            "app_badge": 1,
        }
    )


def test_the_worker_snippet_shows_vendorbells_push_and_leaves_the_hosts_own_alone(
    context: Any, marketplace: Marketplace
) -> None:
    shop = marketplace.shop.origin
    context.grant_permissions(["notifications"], origin=shop)
    page = signed_in_page(context, marketplace.shop)
    page.evaluate(
        """async () => {
          await navigator.serviceWorker.register('/vendorbell/sw.js', { scope: '/vendorbell/' });
          await navigator.serviceWorker.ready;  // the marketplace's own worker, scope /
        }"""
    )
    # The default: vendorbell's own worker at /vendorbell/, beside the marketplace's.
    push_and_show(page, vendorbell_push(shop), 1, "/vendorbell/")
    [note] = shown(page, "/vendorbell/")
    assert note["title"] == "New order #7"
    assert note["data"]["navigate"] == f"{shop}/orders/7"
    # The snippet imported into the marketplace's own worker: its own push stays its own…
    push_and_show(page, json.dumps({"title": "Payout sent", "tag": "payout"}), 1, "/")
    host = [n for n in shown(page, "/") if not n["tag"].startswith("vendorbell-")]
    assert [n["title"] for n in host] == ["Payout sent"]
    # …and a vendorbell push there is shown once, by vendorbell's handler.
    push_and_show(page, vendorbell_push(shop), 2, "/")
    titles = sorted(n["title"] for n in shown(page, "/"))
    assert titles == ["New order #7", "Payout sent"]
    scopes = page.evaluate(
        "navigator.serviceWorker.getRegistrations().then((l) => l.map((r) => r.scope))"
    )
    assert sorted(scopes) == [f"{shop}/", f"{shop}/vendorbell/"]


def test_the_bell_fits_a_360_pixel_phone(context: Any, marketplace: Marketplace) -> None:
    order_for(marketplace)
    page = signed_in_page(context, marketplace.shop)
    page.set_viewport_size({"width": 360, "height": 740})
    page.locator("vendor-bell").locator("[part=button]").click()
    page.wait_for_selector("vendor-bell >> [part~=item]")
    box = page.locator("vendor-bell").locator("[part=panel]").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    screenshot(page, "embed-phone")


def test_a_push_from_vendorbell_reports_shown_and_clicked_with_its_receipt_and_no_cookie(
    context: Any, marketplace: Marketplace
) -> None:
    server, shop = marketplace.vendorbell, marketplace.shop.origin
    order_for(marketplace)
    [notification] = server.notifications(marketplace.vendor)
    notification_id = parse_id(notification["id"])
    assert notification_id is not None
    receipt = receipt_token(server.app.state.secret_key, notification_id, 5)
    context.grant_permissions(["notifications"], origin=shop)
    page = signed_in_page(context, marketplace.shop)
    page.evaluate(
        "() => navigator.serviceWorker.register('/vendorbell/sw.js', { scope: '/vendorbell/' })"
    )
    document = json.loads(vendorbell_push(shop))
    document["notification"]["data"]["id"] = notification["id"]
    cookies: list[str | None] = []
    page.on(
        "request",
        lambda r: cookies.append(r.headers.get("cookie")) if "/receipts" in r.url else None,
    )
    context.on(
        "request",
        lambda r: cookies.append(r.headers.get("cookie")) if "/receipts" in r.url else None,
    )
    push_and_show(page, json.dumps({**document, "receipt": receipt}), 1, "/vendorbell/")
    [worker] = [w for w in context.service_workers if w.url.endswith("/vendorbell/sw.js")]
    worker.evaluate(
        """async () => {
          const [n] = await self.registration.getNotifications();
          self.dispatchEvent(new NotificationEvent('notificationclick', { notification: n }));
        }"""
    )
    for _ in range(200):  # the click's receipt marks it read
        if server.notifications(marketplace.vendor)[0]["read_at"] is not None:
            break
        page.wait_for_timeout(50)
    else:
        raise AssertionError("the clicked receipt never arrived")
    assert not any(cookies)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_inside_the_open_bell(
    context: Any, marketplace: Marketplace, theme: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    order_for(marketplace)
    page = signed_in_page(context, marketplace.shop)
    page.evaluate(f"() => document.querySelector('vendor-bell').setAttribute('theme', '{theme}')")
    page.locator("vendor-bell").locator("[part=button]").click()
    page.wait_for_selector("vendor-bell >> [part~=item]")
    results = Axe().run(page, context="vendor-bell")
    serious = [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    screenshot(page, f"embed-{theme}")


PROBE = "document.cookie = 'probe=1; SameSite=None; Secure'; document.cookie"


def test_the_bell_works_where_third_party_cookies_are_blocked(
    context: Any, marketplace: Marketplace
) -> None:
    shop, vendorbell = marketplace.shop.origin, marketplace.vendorbell.origin
    # This browser blocks third-party cookies (as Safari, Firefox and Chrome's incognito
    # do): a page of vendorbell's origin, framed by the shop, cannot keep a cookie. (Both
    # probe pages are answered by the test; the browser treats them as those origins'.)
    framing = f"<iframe src='{vendorbell}/cookie-probe'></iframe>"
    context.route(
        f"{shop}/cookie-probe", lambda r: r.fulfill(content_type="text/html", body=framing)
    )
    context.route(
        f"{vendorbell}/cookie-probe", lambda r: r.fulfill(content_type="text/html", body="")
    )
    probe = context.new_page()
    probe.goto(f"{shop}/cookie-probe")
    probe.wait_for_function("() => document.querySelector('iframe') !== null")
    for _ in range(100):
        framed = [f for f in probe.frames if f.url.startswith(vendorbell)]
        if framed:
            break
        probe.wait_for_timeout(50)
    framed[0].wait_for_load_state()
    assert framed[0].evaluate(PROBE) == ""
    probe.close()

    sent_cookies: list[str] = []
    context.on(
        "request",
        lambda r: (
            sent_cookies.append(r.url)
            if r.url.startswith(vendorbell) and r.headers.get("cookie")
            else None
        ),
    )
    page = signed_in_page(context, marketplace.shop)
    order_for(marketplace)
    page.wait_for_function(f"() => {BADGE}.textContent === '1'")
    page.locator("vendor-bell").locator("[part=button]").click()
    page.locator("vendor-bell").locator(".head button").click()  # mark all as read
    for _ in range(200):
        if marketplace.vendorbell.notifications(marketplace.vendor)[0]["read_at"] is not None:
            break
        page.wait_for_timeout(50)
    else:
        raise AssertionError("mark all as read never reached vendorbell")
    assert sent_cookies == []
    # First-party, the same cookie is kept: the probe above measured the blocking, not http.
    top = context.new_page()
    top.goto(f"{vendorbell}/cookie-probe")
    assert "probe=1" in top.evaluate(PROBE)


def test_the_bell_speaks_the_pages_language(context: Any, marketplace: Marketplace) -> None:
    otto = marketplace.vendorbell.register("vendor", "Otto's Käserei")
    marketplace.exchange.vendors["v_1002"] = otto
    page = context.new_page()
    page.goto(f"{marketplace.shop.origin}/")
    page.fill("input[name=username]", "otto")
    page.fill("input[name=password]", "cheese")
    page.click("text=Sign in")
    page.wait_for_function("() => window.__vb.some((e) => e.name === 'vb-ready')")
    mark_all = page.locator("vendor-bell").locator(".head button")
    assert mark_all.text_content() == "Alle als gelesen markieren"


@pytest.fixture
def push_service() -> Iterator[tuple[PushService, ThreadedPushService]]:
    threaded = ThreadedPushService()
    with threaded as service:
        yield service, threaded


@pytest.mark.parametrize("live_server", [{"run_worker": True}], indirect=True)
def test_enabling_push_in_the_bell_subscribes_through_the_vendorbell_worker_and_a_push_shows(
    context: Any,
    marketplace: Marketplace,
    push_service: tuple[PushService, ThreadedPushService],
) -> None:
    service, threaded = push_service
    device = service.subscribe()
    server, shop = marketplace.vendorbell, marketplace.shop.origin
    with server.client() as client:
        marketplace.exchange.vapid = client.get("/api/push/vapid-public-key").json()["public_key"]
    # Headless Chromium has no push service: subscribe() answers the loopback service's
    # subscription (tests/browser/fake_push_manager.js); everything after it is real.
    context.add_init_script(
        FAKE_PUSH_MANAGER.replace("__MADE__", json.dumps(device.to_json())).replace(
            "__EXISTING_KEY__", "null"
        )
    )
    context.grant_permissions(["notifications"], origin=shop)
    page = signed_in_page(context, marketplace.shop)
    page.locator("vendor-bell").locator("[part=button]").click()
    with page.expect_request(f"{server.origin}/api/push/subscriptions") as posted:
        page.locator("vendor-bell").locator(".push button").click()
    assert posted.value.post_data_json["endpoint"] == device.endpoint
    page.wait_for_function(
        "() => window.__vb.some((e) => e.name === 'vb-push-change' && e.detail.state === 'granted')"
    )
    scopes = page.evaluate(
        "() => navigator.serviceWorker.getRegistrations().then((l) => l.map((r) => r.scope))"
    )
    assert sorted(scopes) == [f"{shop}/", f"{shop}/vendorbell/"]  # the shop's own stays
    order_for(marketplace)
    [received] = asyncio.run_coroutine_threadsafe(service.wait_for(1), threaded.loop).result(15)
    assert received.json["notification"]["data"]["app"] == "vendorbell"
    push_and_show(page, received.plaintext.decode(), 1, "/vendorbell/")
    [note] = shown(page, "/vendorbell/")
    assert note["title"] == "New order #1"
    assert note["data"]["receipt"].startswith(f"{received_device(server, marketplace)}.")

    # The browser renews the subscription. Chromium never fires `pushsubscriptionchange`
    # itself, so the event is dispatched in the worker with the loopback service's next
    # subscription; the worker's renewal (token from IndexedDB, no session) is real.
    renewed = service.subscribe()
    [worker] = [w for w in context.service_workers if w.url.endswith("/vendorbell/sw.js")]
    worker.evaluate(
        """([old, made]) => {
          const event = new ExtendableEvent('pushsubscriptionchange');
          Object.defineProperty(event, 'oldSubscription', { value: { endpoint: old } });
          Object.defineProperty(event, 'newSubscription', { value: { toJSON: () => made } });
          self.dispatchEvent(event);
        }""",
        [device.endpoint, renewed.to_json()],
    )
    for _ in range(200):
        if device_endpoints(server, marketplace) == [renewed.endpoint]:
            break
        page.wait_for_timeout(50)
    else:
        raise AssertionError(f"not renewed: {device_endpoints(server, marketplace)}")
    order_for(marketplace)
    asyncio.run_coroutine_threadsafe(service.wait_for(2), threaded.loop).result(15)
    [moved] = service.messages_for(renewed)
    assert moved.json["notification"]["data"]["app"] == "vendorbell"


def device_endpoints(server: LiveServer, marketplace: Marketplace) -> list[str]:
    with server.client() as client:
        found = client.get("/api/push/subscriptions", headers=marketplace.vendor.headers)
    return [device["endpoint"] for device in found.json()]


def received_device(server: LiveServer, marketplace: Marketplace) -> str:
    with server.client() as client:
        [device] = client.get("/api/push/subscriptions", headers=marketplace.vendor.headers).json()
    return str(parse_id(device["id"]))


def test_the_bell_says_so_when_the_marketplace_has_no_token_for_it(
    context: Any, marketplace: Marketplace
) -> None:
    page = context.new_page()
    page.goto(f"{marketplace.shop.origin}/")  # signed out: /token answers 401
    page.evaluate(
        """async (server) => {
          await import(`${server}/embed/v1/vendor-bell.js`);
          const bell = document.createElement('vendor-bell');
          bell.setAttribute('server', server);
          bell.setAttribute('token-url', '/token');
          document.body.append(bell);
        }""",
        marketplace.vendorbell.origin,
    )
    page.wait_for_function("() => window.__vb.some((e) => e.name === 'vb-auth-error')")
    assert events(page, "vb-auth-error")[0]["detail"] == {"code": "token_unavailable"}


def test_without_the_live_channel_the_badge_follows_by_polling(
    context: Any, marketplace: Marketplace
) -> None:
    allow_embedding(marketplace.vendorbell)  # no origin may: the socket is refused
    page = context.new_page()
    page.clock.install()
    page.goto(f"{marketplace.shop.origin}/")
    page.fill("input[name=username]", "rosa")
    page.fill("input[name=password]", "bread")
    page.click("text=Sign in")
    page.wait_for_function("() => window.__vb.some((e) => e.name === 'vb-auth-error')")
    assert events(page, "vb-auth-error")[0]["detail"] == {"code": "origin_mismatch"}
    order_for(marketplace)
    page.clock.run_for(31_000)  # one polling interval
    page.wait_for_function(f"() => {BADGE}.textContent === '1'")


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


def test_an_iphone_outside_a_home_screen_app_is_told_to_install_not_prompted(
    browser: Any, marketplace: Marketplace
) -> None:
    phone = {"width": 390, "height": 844}
    with browser_context(browser, marketplace, user_agent=IPHONE, viewport=phone) as ctx:
        page = signed_in_page(ctx, marketplace.shop)
        page.wait_for_function("() => window.__vb.some((e) => e.name === 'vb-push-change')")
        assert events(page, "vb-push-change")[-1]["detail"] == {"state": "needs-install"}
        page.locator("vendor-bell").locator("[part=button]").click()
        push = page.locator("vendor-bell").locator(".push")
        assert "Home Screen" in (push.text_content() or "")
        assert push.locator("button").count() == 0
