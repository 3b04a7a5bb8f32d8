"""aiohttp as a push client: the general-purpose peer bench_push measures the worker's
own HTTP/1.1 client against, in the same run. Not used by the service."""

from __future__ import annotations

import socket
from collections.abc import Mapping

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from server.core.config import Settings
from server.push.endpoints import RefusedAddress, UnsafeEndpoint, resolve_checked
from server.push.sender import SEND_TIMEOUT


class CheckedResolver(AbstractResolver):
    """Hands aiohttp's connector only addresses that resolve_checked approved."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            found = await resolve_checked(host, port, self.settings)
        except UnsafeEndpoint as exc:
            if exc.code == "endpoint_unresolvable":
                raise OSError(exc.detail) from exc  # may be transient: retried
            raise RefusedAddress(exc) from exc
        return [
            ResolveResult(
                hostname=host,
                host=a.host,
                port=a.port,
                family=a.family,
                proto=a.proto,
                flags=socket.AI_NUMERICHOST,
            )
            for a in found
        ]

    async def close(self) -> None:
        return None


class AiohttpClient:
    """One pooled aiohttp session, resolving through CheckedResolver, never following
    redirects; its errors are translated into the PushClient contract."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=max(self.settings.worker_concurrency, 1) * 2,
                limit_per_host=self.settings.per_origin_concurrency,
                resolver=CheckedResolver(self.settings),
                ttl_dns_cache=60,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT),
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], str]:
        try:
            async with self._open().post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as response:
                text = "" if response.status < 300 else await response.text(errors="replace")
                return response.status, response.headers, text[:200]
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedAddress):
                raise exc.os_error from exc
            raise ConnectionError(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise ConnectionError(str(exc)) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
