"""Running background loops under one supervision (`every`), and stopping them so that
a stop always ends, in a bounded time.

Why not `task.cancel(); await task`: on Python 3.11, `asyncio.wait_for` swallows a
cancellation that arrives just as the awaited operation completes (CPython
gh-86296, fixed in 3.12). redis-py wraps every command's socket write in
`wait_for` (its `send_packed_command`), so a loop cancelled while it sends a Redis
command can carry on as if nothing happened: a PING loop then pinged forever and
the `await` of its stop never returned (the hang that held CI for its 90 minutes).
A cancellation is therefore repeated until the task ends, and the wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypedDict, Unpack

log = logging.getLogger("vendorbell.tasks")


class Pace(TypedDict, total=False):
    """How `every` paces its passes beside its period (whoever starts one passes these on)."""

    wake: asyncio.Event | None  # set: a pass at once, not after the wait
    first: bool  # a pass before the first wait


async def every(
    name: str, seconds: float, step: Callable[[], Awaitable[object]], **pace: Unpack[Pace]
) -> None:
    """Forever: wait `seconds` (or until `wake` is set), then run `step` once. A failing
    step is logged as `<name>.failed` and the loop goes on: a database outage or a bug in
    one pass never ends a loop that the next pass may serve. `first` runs a pass before
    the first wait (a restart resumes at once); otherwise waiting first keeps short-lived
    apps (tests) from writing in the background."""
    run_now, wake = pace.get("first", False), pace.get("wake")
    while True:
        if not run_now:
            if wake is None:
                await asyncio.sleep(seconds)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), seconds)
                wake.clear()
        run_now = False
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(f"{name}.failed")


RECANCEL_SECONDS = 0.05
STOP_SECONDS = 5.0


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any]], *, within: float = STOP_SECONDS
) -> None:
    """Cancel `tasks` and wait for them to end, cancelling again while one carries on,
    for at most `within` seconds (then log which ones did not end, and return).

    If the caller is cancelled meanwhile (a stop that is itself being stopped), the
    tasks are still seen to their end first, within the same bound, and the
    cancellation is raised after: an interrupted clean-up would leave them running."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    interrupted = False
    while pending:
        for task in pending:
            task.cancel()
        left = deadline - loop.time()
        if left <= 0:
            log.error("tasks.stop_timeout", extra={"tasks": sorted(t.get_name() for t in pending)})
            break
        try:
            _, pending = await asyncio.wait(pending, timeout=min(RECANCEL_SECONDS, left))
        except asyncio.CancelledError:
            interrupted = True
    # Retrieve outcomes so that no "exception was never retrieved" is logged for them.
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()
    if interrupted:
        raise asyncio.CancelledError
