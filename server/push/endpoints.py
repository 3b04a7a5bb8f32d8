"""Push endpoint safety: only plain URLs of the allowed push services, never our own
network (SSRF), never raw bytes on a push-service connection (request smuggling).

An endpoint is parsed strictly (`parse_push_url`: printable ASCII in the RFC 3986
grammar, nothing else) when a subscription is saved and again before every send, and
the request line is built from the parsed parts; the send connects to the very
addresses the check resolved (`Address`), so a DNS answer that changes in
between (rebinding) cannot reach a private host.

Trust: only an allow-list entry that is an IP literal or a `localhost` name (a push
service run for local testing) may use http, any port and private addresses. A named
push service, listed by name or by wildcard, must be https on 443 and resolve to
public addresses only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import NamedTuple

from server.core.config import Settings

# RFC 3986 §3 for http(s) with a registered name or an IP literal, no userinfo and no
# fragment. pchar = unreserved / pct-encoded / sub-delims / ":" / "@". Explicit ASCII
# classes: no control character, space, backslash or non-ASCII can get through.
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_PUSH_URL = re.compile(
    r"(?P<scheme>[Hh][Tt][Tt][Pp][Ss]?)://"
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?\.?|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
    rf"(?P<path>(?:/{_PCHAR}*)*)"
    rf"(?P<query>\?(?:{_PCHAR}|[/?])*)?"
)
MAX_URL = 2048


class UnsafeEndpoint(ValueError):
    """The endpoint may not be contacted; `code` says why (stable, for the API)."""

    def __init__(self, detail: str, code: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


@dataclass(frozen=True, slots=True)
class PushURL:
    """An endpoint in parts, each safe to write into a request head as it is."""

    scheme: str  # "https" | "http"
    host: str  # lower case, no trailing dot; an IPv6 literal without brackets
    port: int
    netloc: str  # the Host header: host[:port] as given, lower case
    target: str  # the request target: path (at least "/") and query

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"


def parse_push_url(url: str) -> PushURL:
    """`url` as a plain absolute http(s) URL, or UnsafeEndpoint(code='endpoint_malformed')."""
    found = _PUSH_URL.fullmatch(url) if len(url) <= MAX_URL else None
    if found is None:
        raise UnsafeEndpoint(
            "The push endpoint must be a plain absolute https URL: printable ASCII without "
            "spaces, credentials or a fragment.",
            "endpoint_malformed",
        )
    scheme = found["scheme"].lower()
    host = found["host"].lower()
    netloc = host if found["port"] is None else f"{host}:{found['port']}"
    host = host.rstrip(".")
    if host.startswith("["):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            malformed = UnsafeEndpoint("The push endpoint's host is malformed.", "endpoint_invalid")
            raise malformed from exc
    port = int(found["port"]) if found["port"] is not None else (443 if scheme == "https" else 80)
    if not 0 < port < 65536:
        raise UnsafeEndpoint("The push endpoint's port is out of range.", "endpoint_invalid")
    target = (found["path"] or "/") + (found["query"] or "")
    return PushURL(scheme, host, port, netloc, target)


@dataclass(frozen=True)
class EndpointTarget:
    host: str
    port: int
    origin: str  # scheme://host[:port], the VAPID `aud`
    trusted: bool  # an IP literal or localhost entry: may be private, may be http


def host_rule(host: str, allowed: list[str]) -> str | None:
    """'trusted', 'named' or None: how `host` matches the allow list."""
    if host in allowed:
        return "trusted" if _is_ip_literal(host) or _is_localhost(host) else "named"
    if _is_ip_literal(host):
        return None  # wildcards name domains, never addresses
    for pattern in allowed:
        if pattern.startswith("*.") and host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
            return "named"
    return None


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")  # RFC 6761 §6.3


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_url(endpoint: str, settings: Settings) -> EndpointTarget:
    """The checks that need no DNS: the URL's form, scheme, host allowed, port."""
    if "@" in endpoint.partition("://")[2].partition("/")[0]:
        raise UnsafeEndpoint("A push endpoint may not carry credentials.", "endpoint_userinfo")
    url = parse_push_url(endpoint)
    rule = host_rule(url.host, [h.lower() for h in settings.push_allowed_hosts])
    if rule is None:
        raise UnsafeEndpoint(
            f"{url.host} is not an allowed push service (PUSH_ALLOWED_HOSTS).",
            "endpoint_host_refused",
        )
    if rule != "trusted":
        if url.scheme != "https":
            raise UnsafeEndpoint("The push endpoint must be an https URL.", "endpoint_not_https")
        if url.port != 443:
            raise UnsafeEndpoint(
                "A named push service is reached on port 443 only.", "endpoint_port_refused"
            )
    trusted = rule == "trusted"
    return EndpointTarget(host=url.host, port=url.port, origin=url.origin, trusted=trusted)


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


class Address(NamedTuple):
    """An address a push service's name resolved to, checked: connect to this one."""

    host: str  # numeric
    port: int
    family: int
    proto: int


async def resolve_checked(host: str, port: int, settings: Settings) -> list[Address]:
    """Resolve `host`; refuse if any address is private, unless the host is trusted."""
    rule = host_rule(host.lower(), [h.lower() for h in settings.push_allowed_hosts])
    if rule is None:
        raise UnsafeEndpoint(f"{host} is not an allowed push service.", "endpoint_host_refused")
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:  # e.g. an empty label ("a..b"): IDNA refuses it
        raise UnsafeEndpoint("The push endpoint's host is malformed.", "endpoint_invalid") from exc
    except OSError as exc:
        raise UnsafeEndpoint(f"{host} does not resolve.", "endpoint_unresolvable") from exc
    results: list[Address] = []
    for family, _, proto, _, sockaddr in infos:
        address = str(sockaddr[0])
        if rule != "trusted" and not is_public_address(address):
            raise UnsafeEndpoint(
                f"{host} resolves to a private address.", "endpoint_private_address"
            )
        results.append(Address(address, int(sockaddr[1]), family, proto))
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
