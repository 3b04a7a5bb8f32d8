"""httpx as a push client, so that respx can stand in for push services in unit tests."""

from __future__ import annotations

from collections.abc import Mapping

import httpx


class HttpxClient:
    """An httpx client in the PushClient contract (no redirects followed)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], str]:
        try:
            response = await self.client.post(
                url, content=body, headers=dict(headers), follow_redirects=False
            )
        except httpx.TimeoutException as exc:
            raise TimeoutError(str(exc)) from exc
        except httpx.HTTPError as exc:
            raise ConnectionError(str(exc)) from exc
        text = "" if response.status_code < 300 else response.text[:200]
        return response.status_code, response.headers, text

    async def close(self) -> None:
        await self.client.aclose()
