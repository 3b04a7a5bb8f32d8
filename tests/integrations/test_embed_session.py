"""Signing a marketplace's vendor in with the token the marketplace signs: first sight,
profile updates, every refusal, single use everywhere, and the session bound to its page."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from sqlalchemy import select

from server.accounts.models import User
from server.app import create_app
from server.core.config import Settings
from server.integrations import embed_keys
from tests.conftest import Accounts
from tests.integrations.embedding import (
    SHOP,
    Marketplace,
    bearer,
    exchange,
    register,
    signed_in,
)


async def vendors_of(app: Any, integration_id: str) -> list[User]:
    async with app.state.db.reader() as session:
        rows = await session.scalars(select(User).where(User.integration_id == integration_id))
        return list(rows)


async def test_a_vendor_never_seen_is_created_from_the_token_and_signed_in(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    r = await exchange(client, market.token("v_123", name="Ada's Bakery", locale="de-DE"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["user"]["name"] == "Ada's Bakery" and body["user"]["locale"] == "de"
    assert body["counts"] == {"unread": 0, "unseen": 0}
    assert body["vapid_public_key"] == app.state.keys.current.public_key
    [vendor] = await vendors_of(app, market.id)
    assert (vendor.external_sub, vendor.role, vendor.password_hash) == ("v_123", "vendor", None)
    assert str(vendor.id) == body["user"]["id"]
    count = await client.get("/api/notifications/count", headers=bearer(body))
    assert count.status_code == 200 and count.json()["unseen"] == 0


async def test_profile_claims_are_applied_on_every_exchange(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    first = await signed_in(client, market, name="Old name", zoneinfo="Europe/Berlin")
    second = await signed_in(client, market, name="New name", vb_shop="Bakery", locale="fr")
    assert first["user"]["id"] == second["user"]["id"]
    [vendor] = await vendors_of(app, market.id)
    assert (vendor.name, vendor.shop_name, vendor.locale, vendor.time_zone) == (
        "New name",
        "Bakery",
        "fr",
        "Europe/Berlin",
    )
    me = await client.get("/api/me", headers=bearer(first))
    assert me.json()["name"] == "New name"  # the cached session reads the new profile


async def test_a_token_never_links_to_an_existing_account_by_email(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    own = await accounts.vendor()
    market = await register(app)
    session = await signed_in(client, market, email=own.email.upper())
    assert session["user"]["id"] != own.id
    login = await client.post(
        "/api/auth/login", json={"email": own.email, "password": own.password}
    )
    assert login.status_code == 200 and login.json()["user"]["id"] == own.id
    client.cookies.clear()


async def test_a_marketplaces_vendor_cannot_sign_in_with_a_password(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    await signed_in(client, market, email="embedded@example.com")
    r = await client.post(
        "/api/auth/login",
        json={"email": "embedded@example.com", "password": "correct horse battery"},
    )
    assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")


def _other_key(kind: str) -> Any:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def _refused_tokens(market: Marketplace) -> dict[str, tuple[str, str]]:
    now = int(time.time())
    base = {"iss": market.id, "sub": "v_1", "aud": "http://testserver", "iat": now}
    base |= {"exp": now + 300, "jti": "j-1"}
    hs = jwt.encode(base, "a-shared-secret-of-enough-length-000", "HS256", {"kid": market.kid})
    unsigned = jwt.encode(base, None, "none", {"kid": market.kid})
    other = _other_key("rsa")
    return {
        "HS256": (hs, "token_invalid"),
        "none": (unsigned, "token_invalid"),
        "alg not the key's": (
            jwt.encode(base, other, "RS256", {"kid": market.kid}),
            "token_invalid",
        ),
        "signed by another key": (
            jwt.encode(base, _other_key("ec"), "ES256", {"kid": market.kid}),
            "token_invalid",
        ),
        "no kid": (jwt.encode(base, market.private_key, "ES256"), "token_invalid"),
        "unknown kid": (market.token(header={"kid": "nope"}), "unknown_key"),
        "another integration's iss": (market.token(iss="int_other"), "unknown_key"),
        "jku header": (market.token(header={"jku": "https://evil.example/k"}), "token_invalid"),
        "jwk header": (market.token(header={"jwk": {"kty": "EC"}}), "token_invalid"),
        "crit header": (market.token(header={"crit": ["exp"]}), "token_invalid"),
        "x5u header": (market.token(header={"x5u": "https://evil.example/c"}), "token_invalid"),
        "wrong aud": (market.token(aud="https://elsewhere.example"), "wrong_audience"),
        "aud as a list": (market.token(aud=["http://testserver"]), "wrong_audience"),
        "expired": (market.token(iat=now - 400, exp=now - 60), "token_expired"),
        "lifetime over 600 s": (market.token(iat=now, exp=now + 601), "token_lifetime"),
        "issued in the future": (market.token(iat=now + 300, exp=now + 600), "token_invalid"),
        "no jti": (market.token(jti=None), "token_invalid"),
        "no exp": (market.token(exp=None), "token_invalid"),
        "no sub": (market.token(sub=None), "token_invalid"),
        "sub not ASCII": (market.token("vé"), "token_invalid"),
        "sub too long": (market.token("v" * 129), "token_invalid"),
        "sub with a newline": (market.token("v\n1"), "token_invalid"),
        "zoneinfo not IANA": (market.token(zoneinfo="Mars/Olympus"), "token_invalid"),
        "zoneinfo a path": (market.token(zoneinfo="../../etc/passwd"), "token_invalid"),
        "name not text": (market.token(name={"a": 1}), "token_invalid"),
        "not a JWT": ("not-a-jwt", "token_invalid"),
        "empty": ("", "token_invalid"),
        "huge": ("a." * 5000, "token_invalid"),
    }


async def test_each_refused_token_is_401_with_its_own_code(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    for case, (token, code) in _refused_tokens(market).items():
        r = await exchange(client, token)
        assert (r.status_code, r.json().get("code")) == (401, code), (case, r.text)
    assert await vendors_of(app, market.id) == []


async def test_a_retired_key_signs_no_one_in(app: Any, client: httpx.AsyncClient) -> None:
    market = await register(app)
    async with app.state.db.writer() as session:
        await embed_keys.retire(session, market.id, market.kid)
        await session.commit()
    r = await exchange(client, market.token())
    assert (r.status_code, r.json()["code"]) == (401, "unknown_key")


async def test_eddsa_and_rs256_keys_sign_in_with_their_own_algorithm(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    for kind, alg in (("ed25519", "EdDSA"), ("rsa", "RS256")):
        private = _other_key(kind)
        async with app.state.units.writer() as uow:
            key, _ = await embed_keys.generate(uow.session, market.id, alg)
            await uow.session.delete(key)
            from cryptography.hazmat.primitives import serialization

            pem = private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            await embed_keys.retire(uow.session, market.id, market.kid)
            added = await embed_keys.add(uow.session, market.id, pem.decode())
            await uow.commit()
        assert added.alg == alg
        now = int(time.time())
        claims = {"iss": market.id, "sub": "v_9", "aud": "http://testserver"}
        claims |= {"iat": now, "exp": now + 60, "jti": f"j-{alg}"}
        good = jwt.encode(claims, private, alg, {"kid": added.kid})
        assert (await exchange(client, good)).status_code == 201
        async with app.state.db.writer() as session:
            await embed_keys.retire(session, market.id, added.kid)
            await session.commit()


async def test_a_token_signs_in_once(app: Any, client: httpx.AsyncClient) -> None:
    market = await register(app)
    token = market.token()
    assert (await exchange(client, token)).status_code == 201
    again = await exchange(client, token)
    assert (again.status_code, again.json()["code"]) == (401, "token_replayed")


async def test_a_token_signs_in_once_across_two_processes_sharing_the_database(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    market = await register(app)
    token = market.token()
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c2:
            assert (await exchange(c2, token)).status_code == 201
            again = await exchange(client, token)
            assert (again.status_code, again.json()["code"]) == (401, "token_replayed")
            fresh = await exchange(client, market.token())
            assert fresh.status_code == 201  # the other process knew the integration too


async def test_an_origin_not_registered_is_refused_before_the_token_is_read(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    other = await register(app, origins=("https://other-shop.example",), name="Other")
    cases = {
        "unregistered": ("https://evil.example", market.token()),
        "no Origin": (None, market.token()),
        "another integration's": (other.origin, market.token()),
    }
    for case, (origin, token) in cases.items():
        r = await exchange(client, token, origin)
        assert (r.status_code, r.json()["code"]) == (403, "origin_not_allowed"), case
        # A registered page (of another integration) may read the refusal; others may not.
        cors = r.headers.get("access-control-allow-origin")
        assert cors == (origin if case == "another integration's" else None)
    assert await vendors_of(app, market.id) == []


async def test_the_session_answers_only_to_the_origin_it_was_issued_to(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app, origins=(SHOP, "https://m.shop.example"))
    session = await signed_in(client, market)
    assert (await client.get("/api/notifications", headers=bearer(session))).status_code == 200
    for origin in ("https://m.shop.example", "https://evil.example", "http://testserver", None):
        r = await client.get("/api/notifications", headers=bearer(session, origin))
        assert (r.status_code, r.json()["code"]) == (403, "origin_mismatch"), origin
    write = await client.post("/api/notifications/mark-all-read", headers=bearer(session, None))
    assert (write.status_code, write.json()["code"]) == (403, "origin_mismatch")


async def test_a_session_ends_when_the_page_ends_it(app: Any, client: httpx.AsyncClient) -> None:
    market = await register(app)
    session = await signed_in(client, market)
    assert (await client.delete("/api/embed/session", headers=bearer(session))).status_code == 204
    r = await client.get("/api/notifications/count", headers=bearer(session))
    assert r.status_code == 401


async def test_the_session_expires_after_embed_session_seconds(
    tmp_path: Any, database_url: str
) -> None:
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, database_url, embed_session_seconds=60)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            market = await register(application)
            session = await signed_in(c, market)
            from datetime import datetime

            issued = datetime.fromisoformat(session["expires_at"])
            assert 0 < (issued - datetime.now(issued.tzinfo)).total_seconds() <= 60


def test_embed_session_seconds_may_not_exceed_an_hour(tmp_path: Any) -> None:
    from tests.conftest import make_settings

    with pytest.raises(ValueError):
        make_settings(tmp_path, "sqlite+aiosqlite:///x.db", embed_session_seconds=3601)


async def test_a_disabled_vendor_cannot_sign_in(app: Any, client: httpx.AsyncClient) -> None:
    market = await register(app)
    await signed_in(client, market)
    async with app.state.units.writer() as uow:
        from server.integrations import vendors

        user = await vendors.get(uow, market.id, "v_1")
        await vendors.set_disabled(uow, user, True)
        await uow.commit()
    r = await exchange(client, market.token())
    assert (r.status_code, r.json()["code"]) == (403, "vendor_disabled")


async def test_spent_token_ids_are_forgotten_once_their_tokens_expire(
    app: Any, client: httpx.AsyncClient
) -> None:
    from datetime import timedelta

    from sqlalchemy import func

    from server.core.db import utcnow
    from server.integrations.models import EmbedTokenUse

    market = await register(app)
    async with app.state.db.writer() as session:
        session.add(
            EmbedTokenUse(
                integration_id=market.id,
                jti_sha256="0" * 64,
                expires_at=utcnow() - timedelta(seconds=1),
            )
        )
        await session.commit()
    await signed_in(client, market)
    async with app.state.db.reader() as session:
        left = await session.scalars(select(EmbedTokenUse.jti_sha256))
        assert "0" * 64 not in set(left)
        assert await session.scalar(select(func.count()).select_from(EmbedTokenUse)) == 1


async def test_the_live_channel_checks_a_session_and_its_origin_with_one_function(
    app: Any, client: httpx.AsyncClient
) -> None:
    from server.accounts.service import OriginMismatch, session_for_token

    market = await register(app)
    session = await signed_in(client, market)
    state = app.state
    async with state.units.reader() as uow:
        found = await session_for_token(uow, session["token"], state.secret_key, None, SHOP)
        assert str(found.user.id) == session["user"]["id"] and found.origin == SHOP
        assert found.expires_at.isoformat()[:19] == session["expires_at"][:19]
        with pytest.raises(OriginMismatch):
            await session_for_token(
                uow, session["token"], state.secret_key, None, "https://x.example"
            )
