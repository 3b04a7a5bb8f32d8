"""The real app plus the benchmark's peer: a bare endpoint returning a constant JSON,
served by the same process with the same middleware, so the ratio isolates our work."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from server.app import create_app

BARE = {"unread": 0, "unseen": 0, "by_type": {"order": 0, "payment": 0, "message": 0}}


def create() -> FastAPI:
    app = create_app()
    peer = APIRouter()

    @peer.get("/bench/bare")
    async def bare() -> dict[str, object]:
        return BARE

    # Last of the API routes, just ahead of the PWA's catch-all (which would otherwise
    # answer this path): routing walks the table, so the peer pays for the same walk.
    app.router.routes[-1:-1] = peer.routes
    return app
