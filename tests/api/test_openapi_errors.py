"""The OpenAPI document declares the error answers the app really gives, with their shape:
405 with `Allow` for a known path, 404 JSON for an unknown one, 401 before a body that
is not JSON, and every 401/403/404/413/422/429 as `ErrorOut`/`ValidationErrorOut`."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from server.app import create_app
from server.openapi import SERVICE_ANSWERS
from tests.conftest import Account, Accounts, make_settings, order_body, place_order

JSON = {"Content-Type": "application/json"}
NOT_JSON = [
    b"{",  # a syntax error
    b'{"vendor_id": "1", "items": [}',
    b"\xff\xfe{}",  # not UTF-8: the framework's own 400 before
    b"[" * 20000 + b"]" * 20000,  # nested past the parser's recursion limit: a 400 before
]


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def declared(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses: dict[str, Any] = document["paths"][path][method.lower()]["responses"]
    return responses


def assert_conforms(
    document: dict[str, Any], method: str, path: str, response: httpx.Response
) -> None:
    """The answer's status is declared for the operation and its body has that schema."""
    answers = declared(document, method, path)
    status = str(response.status_code)
    assert status in answers, (method, path, status, response.text, sorted(answers))
    content = answers[status].get("content")
    if content is None:
        assert not response.content, (method, path, status)
        return
    assert response.headers["content-type"].startswith("application/json")
    schema = {**content["application/json"]["schema"], "components": document["components"]}
    errors = [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(response.json())]
    assert not errors, (method, path, status, response.text, errors)


# -- 405 and 404 under /api ------------------------------------------------------------


async def test_a_known_path_asked_with_another_method_is_405_with_allow(
    client: httpx.AsyncClient,
) -> None:
    for method, path, allow in [
        ("GET", "/api/auth/login", "POST"),
        ("PUT", "/api/me", "GET, PATCH"),
        ("DELETE", "/api/preferences", "GET, PUT"),  # every method of the path
        ("GET", "/api/orders/1/accept", "POST"),
        ("POST", "/api/push/subscriptions/1", "DELETE, PATCH"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["allow"] == allow, (method, path)
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == {"detail": "Method Not Allowed", "code": "method_not_allowed"}
    response = await client.post("/api/notifications/")  # the trailing slash is tolerated
    assert response.status_code == 405 and response.headers["allow"] == "GET"


async def test_unknown_api_paths_are_404_json_whatever_the_method(
    client: httpx.AsyncClient,
) -> None:
    for method, path in itertools.product(
        ("GET", "HEAD", "POST", "DELETE"), ("/api/nope", "/api", "/api/orders/1/nope", "/ws/x")
    ):
        response = await client.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
        if method != "HEAD":
            assert response.json()["code"] == "not_found", (method, path)


async def test_the_pwa_still_answers_its_own_paths(client: httpx.AsyncClient) -> None:
    assert (await client.get("/orders/42")).status_code == 200  # a client-side route
    assert (await client.head("/")).status_code == 200
    post = await client.post("/orders/42")
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"


# -- who before what: 401/403 before a body that is not JSON -------------------------------


@pytest.mark.parametrize("body", NOT_JSON, ids=["syntax", "truncated", "not-utf8", "deep"])
async def test_an_anonymous_body_that_is_not_json_is_401_not_422(
    client: httpx.AsyncClient, body: bytes
) -> None:
    for path in ("/api/orders", "/api/preferences", "/api/push/subscriptions"):
        method = "PUT" if path == "/api/preferences" else "POST"
        response = await client.request(method, path, content=body, headers=JSON)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("body", NOT_JSON, ids=["syntax", "truncated", "not-utf8", "deep"])
async def test_a_signed_in_body_that_is_not_json_is_422_malformed_json(
    client: httpx.AsyncClient, accounts: Accounts, body: bytes
) -> None:
    customer = await accounts.customer()
    response = await client.post("/api/orders", content=body, headers={**customer.headers, **JSON})
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["code"] == "malformed_json"
    assert answer["errors"][0]["type"] == "json_invalid"
    assert_conforms(await openapi(client), "POST", "/api/orders", response)


async def test_a_public_route_refuses_a_body_that_is_not_json_with_422(
    client: httpx.AsyncClient,
) -> None:
    for body in NOT_JSON:
        response = await client.post("/api/auth/login", content=body, headers=JSON)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "malformed_json"


async def test_the_wrong_role_is_refused_before_a_body_that_is_not_json(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    response = await client.post("/api/orders", content=b"{", headers={**vendor.headers, **JSON})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "customer_only"


async def test_a_cookie_write_from_another_origin_is_refused_before_its_body(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    customer = await accounts.customer()
    cookie = {"Cookie": f"vb_session={customer.token}", "Origin": "https://evil.example"}
    response = await client.post("/api/orders", content=b"{", headers={**JSON, **cookie})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "csrf_origin_mismatch"


async def test_a_valid_json_body_with_wrong_values_is_also_401_first(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/orders", json={"items": "nope"})
    assert response.status_code == 401


# -- the document ---------------------------------------------------------------------


async def test_the_declared_422_is_what_is_sent(client: httpx.AsyncClient) -> None:
    document = await openapi(client)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "422" in operation["responses"]:
                schema = operation["responses"]["422"]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ValidationErrorOut"}, (method, path)
    missing = await client.post("/api/auth/login", json={"email": "a@example.com"})
    malformed = await client.post("/api/auth/login", content=b"{", headers=JSON)
    wrong_type = await client.get("/api/notifications", params={"limit": "many"})
    for response in (missing, malformed):
        assert response.status_code == 422
        assert set(response.json()) == {"detail", "code", "errors"}
        assert_conforms(document, "POST", "/api/auth/login", response)
    assert wrong_type.status_code == 401  # who first, then the query
    properties = schemas["ValidationErrorOut"]["properties"]
    assert set(properties) == {"detail", "code", "errors"}
    assert schemas["ValidationErrorOut"]["required"] == ["detail", "code"]


async def test_a_services_own_422_conforms_too(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    customer = await accounts.customer()
    response = await client.post("/api/orders", json=order_body("999999"), headers=customer.headers)
    assert response.status_code == 422 and response.json()["code"] == "unknown_vendor"
    assert_conforms(await openapi(client), "POST", "/api/orders", response)


async def test_every_route_needing_a_caller_declares_401_and_answers_it(
    client: httpx.AsyncClient,
) -> None:
    document = await openapi(client)
    public = {("POST", "/api/auth/register"), ("POST", "/api/auth/login")}
    public |= {("GET", "/api/vendors"), ("GET", "/api/push/vapid-public-key")}
    public |= {("GET", "/healthz"), ("GET", "/readyz")}  # for load balancers and probes
    public |= {("POST", "/api/notifications/receipts")}  # a push's receipt token vouches
    public |= {("POST", "/api/push/renewals")}  # a device's renewal token vouches
    checked = 0
    for path, operations in document["paths"].items():
        for method in operations:
            url = path.replace("{", "").replace("}", "")  # /api/orders/order_id: any id
            kwargs: dict[str, Any] = {"json": {}} if method in ("post", "put", "patch") else {}
            response = await client.request(method.upper(), url, **kwargs)
            assert_conforms(document, method, path, response)
            if (method.upper(), path) not in public:
                assert response.status_code == 401, (method, path, response.text)
                assert "401" in operations[method]["responses"]
            checked += 1
    assert checked >= 30


async def test_signed_in_answers_are_declared(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    """A customer and a vendor on every operation, with a real order and notification."""
    document = await openapi(client)
    vendor, customer = await accounts.vendor(), await accounts.customer()
    order = await place_order(client, customer, vendor)
    ids = {"order_id": order["id"], "notification_id": "1", "subscription_id": "1"}
    ids |= {"broadcast_id": "1", "key_ref": "vb_nope", "session_id": "999999"}
    ids |= {"sub": "v_1", "integration_id": "int_nope", "kid": "nope", "delivery_id": "1"}
    for who, path, method in itertools.product(
        (customer, vendor), document["paths"], ("get", "post", "put", "patch", "delete")
    ):
        if method not in document["paths"][path] or path == "/api/auth/logout":
            continue
        url = path.format(**ids)
        kwargs: dict[str, Any] = {"json": {}} if method in ("post", "put", "patch") else {}
        response = await client.request(method.upper(), url, headers=who.headers, **kwargs)
        assert_conforms(document, method, path, response)


async def test_a_body_over_the_limit_is_a_declared_413(client: httpx.AsyncClient) -> None:
    document = await openapi(client)
    big = b'{"email": "' + b"a" * 70_000 + b'"}'
    response = await client.post("/api/auth/login", content=big, headers=JSON)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert_conforms(document, "POST", "/api/auth/login", response)
    for path, operations in document["paths"].items():
        for method in ("post", "put", "patch", "delete"):
            if method in operations:
                assert "413" in operations[method]["responses"], (method, path)


async def test_the_sign_in_limit_is_a_declared_429_with_retry_after(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    document = await openapi(client)
    customer = await accounts.customer()
    wrong = {"email": customer.email, "password": "not the password"}
    for _ in range(10):
        response = await client.post("/api/auth/login", json=wrong)
        if response.status_code == 429:
            break
        assert_conforms(document, "POST", "/api/auth/login", response)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert_conforms(document, "POST", "/api/auth/login", response)
    assert "Retry-After" in declared(document, "POST", "/api/auth/login")["429"]["headers"]


async def test_role_refusals_are_declared_403(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    document = await openapi(client)
    customer: Account = await accounts.customer()
    for method, path in [("GET", "/api/admin/broadcasts"), ("POST", "/api/admin/broadcasts")]:
        response = await client.request(method, path, headers=customer.headers, json={})
        assert response.status_code == 403
        assert_conforms(document, method, path, response)


async def test_the_service_answers_name_real_operations(client: httpx.AsyncClient) -> None:
    document = await openapi(client)
    for method, path in SERVICE_ANSWERS:
        assert method.lower() in document["paths"].get(path, {}), (method, path)


async def test_the_sign_up_limit_is_a_declared_429(tmp_path: Path, database_url: str) -> None:
    app = create_app(make_settings(tmp_path, database_url, register_max_per_window=2))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        document = await openapi(client)
        for n in range(3):
            body = {"email": f"many{n}@example.com", "password": "correct horse battery"}
            body |= {"name": f"Many {n}", "role": "customer"}
            response = await client.post("/api/auth/register", json=body)
            assert_conforms(document, "POST", "/api/auth/register", response)
    assert response.status_code == 429
    assert response.json()["code"] == "register_rate_limited"


async def test_operations_needing_a_caller_declare_how_to_sign_in(
    client: httpx.AsyncClient,
) -> None:
    document = await openapi(client)
    schemes = {"bearer", "session", "marketplace_jwt"}
    assert set(document["components"]["securitySchemes"]) == schemes
    signed_otherwise = {("post", "/api/auth/login"), ("post", "/api/events")}
    signed_otherwise |= {
        (m, p) for p, ops in document["paths"].items() for m in ops if "/api/integrations/" in p
    }
    embed = document["paths"]["/api/embed/session"]["post"]
    assert embed["security"] == [{"marketplace_jwt": []}]
    signed_otherwise.add(("post", "/api/embed/session"))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (method, path) == ("post", "/api/embed/session"):
                continue
            if "401" in operation["responses"] and (method, path) not in signed_otherwise:
                assert operation["security"] == [{"bearer": []}, {"session": []}], (method, path)
            else:
                assert "security" not in operation, (method, path)


async def test_the_event_api_declares_its_signed_body(client: httpx.AsyncClient) -> None:
    document = await openapi(client)
    operation = document["paths"]["/api/events"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/IntegrationEventIn"}
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"Vendorbell-Key", "Vendorbell-Signature"}
    schemas = document["components"]["schemas"]
    assert set(schemas["IntegrationEventIn"]["required"]) == {"id", "type", "vendor"}
    assert "event" in schemas["EventIn"]["properties"]  # the inbox's EventIn, untouched


async def test_the_vendor_api_declares_its_signed_bodies_and_headers(
    client: httpx.AsyncClient,
) -> None:
    document = await openapi(client)
    for method, path, body in [
        ("put", "/api/integrations/vendors/{sub}", "VendorIn"),
        ("post", "/api/integrations/vendors/bulk", "BulkVendorsIn"),
        ("delete", "/api/integrations/vendors/{sub}", None),
        ("post", "/api/integrations/vendors/{sub}/sign-out", None),
    ]:
        operation = document["paths"][path][method]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"Vendorbell-Key", "Vendorbell-Signature"}, path
        declared_body = operation.get("requestBody", {}).get("content", {})
        if body:
            ref = declared_body["application/json"]["schema"]["$ref"]
            assert ref == f"#/components/schemas/{body}"
        assert {"401", "403"} <= set(operation["responses"]), path
