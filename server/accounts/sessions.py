"""One's signed-in sessions (API tokens): list them, end one, end all but the current.

A session's public id is its row id; neither the token nor its digest ever leaves the
server. Ending a session deletes its row and, once that is committed, closes the live
sockets opened with it in every process (the hub's end-of-session message), as logout does.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import tokens
from server.accounts.models import ApiToken
from server.core.db import utcnow
from server.core.errors import NotFound
from server.core.unit_of_work import UnitOfWork


class SessionNotFound(NotFound):
    code = "session_not_found"


async def list_sessions(
    session: AsyncSession, user_id: int, lifetime: tokens.Lifetime
) -> Sequence[ApiToken]:
    """The user's sessions that can still sign in, most recently used first."""
    expired = lifetime.expired(utcnow())
    return (
        await session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id, ~expired)
            .order_by(ApiToken.last_used_at.desc(), ApiToken.id.desc())
        )
    ).all()


async def end_session(uow: UnitOfWork, user_id: int, session_id: int) -> str:
    """End one of the user's sessions (another user's is not found); returns its digest."""
    digest = await uow.session.scalar(
        select(ApiToken.token_hash).where(ApiToken.id == session_id, ApiToken.user_id == user_id)
    )
    if digest is None:
        raise SessionNotFound("No such session.")
    await end_tokens(uow, user_id, [digest])
    return digest


async def end_other_sessions(uow: UnitOfWork, user_id: int, keep_digest: str) -> int:
    """End every session of the user but the one with `keep_digest`; returns how many."""
    digests = list(
        await uow.session.scalars(
            select(ApiToken.token_hash).where(
                ApiToken.user_id == user_id, ApiToken.token_hash != keep_digest
            )
        )
    )
    await end_tokens(uow, user_id, digests)
    return len(digests)


async def end_tokens(uow: UnitOfWork, user_id: int, digests: list[str]) -> None:
    """Delete these tokens of the user; after commit no cache serves them and their live
    sockets close, in every process."""
    if not digests:
        return
    await uow.session.execute(
        delete(ApiToken).where(ApiToken.user_id == user_id, ApiToken.token_hash.in_(digests))
    )
    if uow.caches is not None:
        # Until commit no lookup here may keep them; after it, none anywhere.
        for digest in digests:
            uow.caches[tokens.TOKENS].invalidate(digest)
        uow.invalidate_after_commit(uow.caches[tokens.TOKENS], *digests)
    hub = uow.hub

    async def end_sockets() -> None:
        for digest in digests:
            await hub.end_sessions(user_id, digest)

    uow.after_commit(end_sockets)
