"""Browser tests: the real app under uvicorn on a free port, driven by Debian's headless
Chromium through Playwright. Skipped with a clear reason when /usr/bin/chromium is absent."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from server.app import create_app
from server.core.config import Settings
from tests.conftest import make_settings, order_body

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
T = TypeVar("T")


@dataclass
class User:
    id: str
    email: str
    name: str
    token: str
    password: str = "correct horse battery"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class LiveServer:
    """The app under uvicorn on 127.0.0.1:<port> in a thread; stop() and start() again
    on the same port and database to simulate a restart or an outage."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.settings = settings
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.app: Any = None
        self.loop: asyncio.AbstractEventLoop  # the running server's, set by start()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    def start(self) -> None:
        self._sock = _bound_socket(self.port)
        self.app = create_app(self.settings)
        self._server = server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", lifespan="on")
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_until_complete,
            args=(server.serve(sockets=[self._sock]),),
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not server.started:  # a flag set by another thread: nothing to await here
            assert self._thread.is_alive() and time.monotonic() < deadline, "no start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is None or self._thread is None or self._sock is None:
            return
        self._server.should_exit = True
        self._thread.join(15)
        self.loop.close()
        self._sock.close()
        self._server = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.origin, timeout=10)

    def run(self, make: Callable[[Any], Awaitable[T]]) -> T:
        """Run `make(app)` on the server's own event loop (database, hub) and wait for it."""
        return asyncio.run_coroutine_threadsafe(make(self.app), self.loop).result(10)  # type: ignore[arg-type]

    def register(self, role: str, name: str | None = None) -> User:
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
        name = name or f"{role.title()} {uuid.uuid4().hex[:4]}"
        body = {"email": email, "password": "correct horse battery", "name": name, "role": role}
        with self.client() as client:
            response = client.post("/api/auth/register", json=body)
        assert response.status_code == 201, response.text
        data = response.json()
        return User(data["user"]["id"], email, name, data["token"])

    def place_order(self, customer: User, vendor: User, **overrides: Any) -> dict[str, Any]:
        with self.client() as client:
            response = client.post(
                "/api/orders", json=order_body(vendor.id, **overrides), headers=customer.headers
            )
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        return order

    def notifications(self, user: User) -> list[dict[str, Any]]:
        with self.client() as client:
            response = client.get("/api/notifications", headers=user.headers)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


def _bound_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


@contextmanager
def serve(tmp_path: Path, template: Path, **overrides: Any) -> Iterator[LiveServer]:
    """The app on a free port of 127.0.0.1, public_url matching (cookie Origin checks)."""
    database = tmp_path / "browser.db"
    shutil.copy(template, database)
    probe = _bound_socket()
    port = probe.getsockname()[1]
    probe.close()
    url = f"sqlite+aiosqlite:///{database}"
    settings = make_settings(tmp_path, url, public_url=f"http://127.0.0.1:{port}", **overrides)
    server = LiveServer(settings, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live_server(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[LiveServer]:
    """Settings overrides via `parametrize("live_server", [{...}], indirect=True)`."""
    with serve(tmp_path, sqlite_template, **getattr(request, "param", {})) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


class Session:
    """A browser context signed in as one user (the HttpOnly cookie, like the sign-in form)."""

    def __init__(self, browser: Any, server: LiveServer, user: User | None, **options: Any):
        self.server = server
        options.setdefault("viewport", {"width": 1280, "height": 820})
        self.context = browser.new_context(base_url=server.origin, **options)
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        if user is not None:
            response = self.context.request.post(
                "/api/auth/login", data={"email": user.email, "password": user.password}
            )
            assert response.ok, response.text()

    def page(self, path: str = "/") -> Any:
        page = self.context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.goto(path)
        return page

    def _console(self, message: Any) -> None:
        # Answers like an expected 401 are logged by Chromium as "Failed to load resource";
        # script errors and CSP refusals ("Refused to …") are what we collect.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def sessions(browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Session]]:
    opened: list[Session] = []

    def open_session(user: User | None = None, **options: Any) -> Session:
        session = Session(browser, live_server, user, **options)
        opened.append(session)
        return session

    yield open_session
    for session in opened:
        session.close()


def screenshot(page: Any, name: str) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def deliver_push(page: Any, data: str, scope: str = "/") -> None:
    """Hand `data` to the `push` handler of the page origin's service worker at `scope`
    through DevTools, as a push service would after decryption (headless Chromium has no
    push service of its own)."""
    origin = page.evaluate("location.origin")
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.on("ServiceWorker.workerVersionUpdated", lambda e: versions.extend(e["versions"]))
    cdp.send("ServiceWorker.enable")

    def active_registration() -> str | None:
        ours = {r["registrationId"] for r in registrations if r["scopeURL"] == f"{origin}{scope}"}
        for version in versions:
            if version["registrationId"] in ours and version["status"] == "activated":
                return str(version["registrationId"])
        return None

    for _ in range(200):
        if (registration_id := active_registration()) is not None:
            break
        page.wait_for_timeout(50)  # lets Playwright dispatch the CDP events
    else:
        raise AssertionError(f"no activated service worker at {origin}{scope}: {versions}")
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": f"{origin}/", "registrationId": registration_id, "data": data},
    )
    # The CDP session is left open (closed with the context): detaching at once may race
    # the delivery.


NOTIFICATIONS = """async (scope) => {
  const registration = await navigator.serviceWorker.getRegistration(scope);
  return (await registration.getNotifications()).map((n) => ({
    title: n.title, body: n.body, tag: n.tag, data: n.data,
    requireInteraction: n.requireInteraction, icon: n.icon, badge: n.badge,
  }));
}"""


def shown_notifications(page: Any, count: int = 1, scope: str = "/") -> list[dict[str, Any]]:
    """The notifications the worker at `scope` is showing, once there are at least `count`."""
    # wait_for_function does not await a predicate's promise: poll the async getter.
    for _ in range(200):
        shown: list[dict[str, Any]] = page.evaluate(NOTIFICATIONS, scope)
        if len(shown) >= count:
            return shown
        page.wait_for_timeout(50)
    raise AssertionError(f"{len(shown)} notification(s) shown, expected {count}: {shown}")


def push_and_show(page: Any, data: str, count: int = 1, scope: str = "/") -> list[dict[str, Any]]:
    """`deliver_push`, then the notifications shown once there are `count`.

    Chrome drops a DevTools push handed to a worker that is still starting (seen on a
    loaded CI machine), so a push that shows nothing within 5 s is delivered again, up to
    three times. Only for pushes with a tag: a second delivery replaces the first.
    """
    for _attempt in range(3):
        deliver_push(page, data, scope)
        for _ in range(100):
            shown: list[dict[str, Any]] = page.evaluate(NOTIFICATIONS, scope)
            if len(shown) >= count:
                return shown
            page.wait_for_timeout(50)
    raise AssertionError(f"{len(shown)} notification(s) shown at {scope}, expected {count}")


def service_worker(context: Any) -> Any:
    return (
        context.service_workers[0]
        if context.service_workers
        else context.wait_for_event("serviceworker")
    )


def wait_for_service_worker(page: Any) -> None:
    """Until the page is controlled by our worker (first load: after clients.claim())."""
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)
