"""The VAPID keys as the console shows and changes them: the same KeyStore operations
as `python -m server keys rotate|retire` (server.push.cli), through the API.

Several processes: each has its own KeyStore, loaded from the files in KEYS_DIR, which
every process must share (one host, or one shared volume), exactly as for the CLI.
A rotation writes the new `vapid-<kid>.pem` (0600), then replaces the `current` pointer
atomically. Every other process stats that pointer each time it asks for the current
key (`KeyStore.current` -> `refresh`), so the next subscription it accepts is made with
the new key; a worker asked to sign with a kid it has not loaded reads the directory
again (`KeyStore.get` -> `reload`). Nothing has to be restarted, and old subscriptions
keep being signed with their own key until it is retired.

Retiring deletes the files of the keys no subscription uses, never the current one.
Other processes keep such a key in memory until they reload; that is harmless, as
nothing is signed with it. Because a retirement does not touch the `current` pointer,
the listing reloads the directory itself: any API process answers with what is on disk.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from server.console.keys_schemas import RetiredOut, VapidKeyOut, VapidKeysOut
from server.push.keys import KeyStore
from server.push.subscriptions import key_usage


def _listed(store: KeyStore, usage: dict[str, int]) -> VapidKeysOut:
    keys = [
        VapidKeyOut(
            kid=kid,
            # Public parts only: the private PEM never leaves KEYS_DIR.
            public_key=key.public_key,
            current=kid == store.current_kid,
            created_at=store.created_at(kid),
            subscriptions=usage.get(kid, 0),
        )
        for kid, key in store.keys.items()
    ]
    keys.sort(key=lambda k: (not k.current, -(k.created_at.timestamp() if k.created_at else 0)))
    unknown = sum(n for kid, n in usage.items() if kid not in store.keys)
    return VapidKeysOut(keys=keys, unknown_subscriptions=unknown)


async def listing(session: AsyncSession, store: KeyStore) -> VapidKeysOut:
    store.reload()  # another process may have rotated or retired
    return _listed(store, await key_usage(session))


async def rotate(session: AsyncSession, store: KeyStore) -> VapidKeysOut:
    """A new current key; the old ones stay for the subscriptions made with them."""
    store.reload()
    store.rotate()
    return _listed(store, await key_usage(session))


async def retire(session: AsyncSession, store: KeyStore) -> RetiredOut:
    """Delete the keys no subscription uses (the current one always stays)."""
    usage = await key_usage(session)
    retired = store.retire({kid for kid, n in usage.items() if n > 0})
    listed = _listed(store, usage)
    return RetiredOut(**listed.model_dump(), retired=retired)
