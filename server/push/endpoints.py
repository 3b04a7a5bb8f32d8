"""Push endpoint safety: only the allowed push services, never our own network (SSRF).

An endpoint is checked when a subscription is saved and again before every send;
the send connects to the very addresses the check resolved (`CheckedResolver`),
so a DNS answer that changes in between (rebinding) cannot reach a private host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

from server.config import Settings


class UnsafeEndpoint(ValueError):
    """The endpoint may not be contacted; `code` says why (stable, for the API)."""

    def __init__(self, detail: str, code: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


@dataclass(frozen=True)
class EndpointTarget:
    host: str
    port: int
    origin: str  # scheme://host[:port], the VAPID `aud`
    explicit: bool  # the host is listed by name (may be private, may be http)


def host_rule(host: str, allowed: list[str]) -> str | None:
    """'explicit', 'wildcard' or None: how `host` matches the allow list."""
    if host in allowed:
        return "explicit"
    if _is_ip_literal(host):
        return None  # wildcards name domains, never addresses
    for pattern in allowed:
        if pattern.startswith("*.") and host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
            return "wildcard"
    return None


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_url(endpoint: str, settings: Settings) -> EndpointTarget:
    """The syntactic checks (no DNS): scheme, userinfo, host allowed."""
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError as exc:
        raise UnsafeEndpoint("The push endpoint is not a valid URL.", "endpoint_invalid") from exc
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeEndpoint("A push endpoint may not carry credentials.", "endpoint_userinfo")
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeEndpoint("The push endpoint must be an https URL.", "endpoint_not_https")
    allowed = [h.lower() for h in settings.push_allowed_hosts]
    rule = host_rule(host, allowed)
    if rule is None:
        raise UnsafeEndpoint(
            f"{host} is not an allowed push service (PUSH_ALLOWED_HOSTS).", "endpoint_host_refused"
        )
    if parts.scheme == "http" and rule != "explicit":
        raise UnsafeEndpoint("The push endpoint must be an https URL.", "endpoint_not_https")
    port = port or (443 if parts.scheme == "https" else 80)
    origin = f"{parts.scheme}://{parts.netloc.lower()}"
    return EndpointTarget(host=host, port=port, origin=origin, explicit=rule == "explicit")


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
        or not ip.is_global
    )


async def resolve_checked(host: str, port: int, settings: Settings) -> list[ResolveResult]:
    """Resolve `host`; refuse if any address is private, unless the host is listed by name."""
    explicit = host_rule(host.lower(), [h.lower() for h in settings.push_allowed_hosts])
    if explicit is None:
        raise UnsafeEndpoint(f"{host} is not an allowed push service.", "endpoint_host_refused")
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:  # e.g. an empty label ("a..b"): IDNA refuses it
        raise UnsafeEndpoint("The push endpoint's host is malformed.", "endpoint_invalid") from exc
    except OSError as exc:
        raise UnsafeEndpoint(f"{host} does not resolve.", "endpoint_unresolvable") from exc
    results: list[ResolveResult] = []
    for family, _, proto, _, sockaddr in infos:
        address = str(sockaddr[0])
        if explicit != "explicit" and not is_public_address(address):
            raise UnsafeEndpoint(
                f"{host} resolves to a private address.", "endpoint_private_address"
            )
        results.append(
            ResolveResult(
                hostname=host,
                host=address,
                port=int(sockaddr[1]),
                family=family,
                proto=proto,
                flags=socket.AI_NUMERICHOST,
            )
        )
    if not results:
        raise UnsafeEndpoint(f"{host} does not resolve.", "endpoint_unresolvable")
    return results


async def check_endpoint(endpoint: str, settings: Settings) -> EndpointTarget:
    """Every check, DNS included: used when a subscription is saved."""
    target = check_url(endpoint, settings)
    if not _is_ip_literal(target.host):
        await resolve_checked(target.host, target.port, settings)
    return target


class RefusedAddress(OSError):
    """Raised inside the HTTP client when a host resolves to an address we refuse."""

    def __init__(self, unsafe: UnsafeEndpoint) -> None:
        super().__init__(unsafe.detail)
        self.code = unsafe.code


class CheckedResolver(AbstractResolver):
    """aiohttp resolver that only ever hands the connector checked addresses."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            return await resolve_checked(host, port, self.settings)
        except UnsafeEndpoint as exc:
            if exc.code == "endpoint_unresolvable":
                raise OSError(exc.detail) from exc  # may be transient: retried
            raise RefusedAddress(exc) from exc

    async def close(self) -> None:
        return None
