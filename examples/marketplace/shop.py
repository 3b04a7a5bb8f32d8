"""The marketplace: its own vendors and login cookie, its own pages under a strict CSP, its
own service worker, and the one endpoint vendorbell needs from it (`/token`: a fresh
ES256 JWT for the signed-in vendor, answered as text to `<vendor-bell token-url>`).

Nothing here is vendorbell's code: it is what a marketplace's engineers write, kept small.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)

HERE = Path(__file__).resolve().parent
COOKIE = "shop_session"
TOKEN_SECONDS = 300  # vendorbell accepts at most 600 s; each page load asks for a new one


@dataclass(frozen=True)
class Vendor:
    id: str  # the marketplace's own id: the JWT's `sub`
    name: str
    password: str
    locale: str = "en"


# The marketplace's own vendors (its database, in a real one).
VENDORS = {
    "rosa": Vendor("v_1001", "Rosa's Bakery", "bread", "en"),
    "otto": Vendor("v_1002", "Otto's Käserei", "cheese", "de"),
}


@dataclass(frozen=True)
class Embedding:
    """What vendorbell's operator registered for this marketplace, and its signing key."""

    vendorbell: str  # e.g. http://127.0.0.1:8000 (also the JWT's `aud`)
    integration_id: str  # the JWT's `iss`
    kid: str
    private_key_pem: str
    element_sri: str  # sha384-… of /embed/v1/vendor-bell.js, as the docs publish it


def sri(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def csp(vendorbell: str) -> str:
    """The strict CSP: no unsafe-inline, no unsafe-eval; vendorbell added to script and connect."""
    ws = vendorbell.replace("https://", "wss://").replace("http://", "ws://")
    return (
        f"default-src 'self'; script-src 'self' {vendorbell}; "
        f"connect-src 'self' {vendorbell} {ws}; "
        "style-src 'self'; img-src 'self' data:; worker-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def create_app(embedding: Embedding) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    secret = secrets.token_bytes(32)  # signs the marketplace's own login cookie
    policy = csp(embedding.vendorbell)

    def sign(name: str) -> str:
        mac = hmac.new(secret, name.encode(), hashlib.sha256).hexdigest()
        return f"{name}.{mac}"

    def signed_in(request: Request) -> Vendor | None:
        name, _, mac = request.cookies.get(COOKIE, "").partition(".")
        if name in VENDORS and hmac.compare_digest(sign(name), f"{name}.{mac}"):
            return VENDORS[name]
        return None

    @app.middleware("http")
    async def strict_csp(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        vendor = signed_in(request)
        if vendor is None:
            return HTMLResponse(_page("Sign in", LOGIN_FORM))
        server = html.escape(embedding.vendorbell)
        bell = (
            f'<vendor-bell server="{server}" token-url="/token" push="prompt" theme="auto">'
            '<a slot="footer" href="/orders">All orders</a></vendor-bell>'
        )
        script = (
            f'<script type="module" src="{server}/embed/v1/vendor-bell.js" '
            f'integrity="{embedding.element_sri}" crossorigin="anonymous"></script>'
        )
        body = (
            "<header><strong>Corner Market</strong>"
            f'<span id="who">{html.escape(vendor.name)}</span>{bell}'
            '<form method="post" action="/logout"><button>Sign out</button></form></header>'
            '<main><h1>Your shop</h1><p id="status">Orders ring the bell above.</p></main>'
        )
        return HTMLResponse(_page(vendor.name, body, script, lang=vendor.locale))

    @app.get("/orders", response_class=HTMLResponse)
    @app.get("/orders/{ref}", response_class=HTMLResponse)
    async def orders(request: Request, ref: str = "") -> Response:
        if signed_in(request) is None:
            return RedirectResponse("/", status_code=303)
        title = f"Order {html.escape(ref)}" if ref else "All orders"
        return HTMLResponse(
            _page(title, f'<main><h1 id="order">{title}</h1><a href="/">Back</a></main>')
        )

    @app.post("/login")
    async def login(request: Request) -> Response:
        # A plain form, parsed here (no multipart dependency for one urlencoded body).
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        username, password = form.get("username", [""])[0], form.get("password", [""])[0]
        vendor = VENDORS.get(username)
        if vendor is None or not hmac.compare_digest(vendor.password, password):
            return HTMLResponse(_page("Sign in", LOGIN_FORM), status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, sign(username), httponly=True, samesite="lax")
        return response

    @app.post("/logout")
    async def logout() -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/token")
    async def token(request: Request) -> Response:
        """A fresh JWT for the signed-in vendor: the element fetches it with our cookie."""
        vendor = signed_in(request)
        if vendor is None:
            return PlainTextResponse("sign in first", status_code=401)
        now = int(time.time())
        claims = {
            "iss": embedding.integration_id,
            "sub": vendor.id,
            "aud": embedding.vendorbell,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "jti": secrets.token_urlsafe(16),
            "name": vendor.name,
            "locale": vendor.locale,
        }
        signed = jwt.encode(
            claims, embedding.private_key_pem, algorithm="ES256", headers={"kid": embedding.kid}
        )
        return PlainTextResponse(signed, headers={"Cache-Control": "no-store"})

    @app.get("/sw.js")
    async def own_worker() -> Response:
        source = (HERE / "static" / "sw.js").read_text("utf-8")
        body = f"const VENDORBELL = '{embedding.vendorbell}';\n{source}"
        return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.get("/vendorbell/sw.js")
    async def vendorbell_worker() -> Response:
        """The one file vendorbell asks for: its worker, at scope /vendorbell/."""
        body = (
            f"importScripts('{embedding.vendorbell}/embed/v1/sw.js');\n"
            f"vendorbell.init({{ server: '{embedding.vendorbell}' }});\n"
        )
        return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.get("/static/{name}")
    async def static(name: str) -> Response:
        path = (HERE / "static" / name).resolve()
        if path.parent != (HERE / "static") or not path.is_file():
            return PlainTextResponse("not found", status_code=404)
        return _script(path) if path.suffix == ".js" else FileResponse(path)

    return app


def _script(path: Path) -> Response:
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


LOGIN_FORM = (
    '<main><h1>Corner Market: vendor sign-in</h1><form method="post" action="/login">'
    '<label>Vendor <input name="username" value="rosa"></label>'
    '<label>Password <input name="password" type="password"></label>'
    "<button>Sign in</button></form><p>Try rosa / bread or otto / cheese.</p></main>"
)


def _page(title: str, body: str, head: str = "", lang: str = "en") -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="/static/style.css">'
        f'{head}<script type="module" src="/static/app.js"></script></head>'
        f"<body>{body}</body></html>"
    )
