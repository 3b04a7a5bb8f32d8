"""Loops run under one supervision (`every`), and stopping background tasks ends, even
when a task swallows a cancellation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from server.core.tasks import cancel_and_wait, every


async def _swallows_first_cancellation(log: list[str]) -> None:
    """What Python 3.11's asyncio.wait_for does to a cancellation that arrives as the
    awaited write completes (redis-py wraps each command in it): carry on."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        log.append("swallowed")
    while True:
        await asyncio.sleep(0.01)
        log.append("went on")


async def test_a_task_that_swallows_its_cancellation_is_cancelled_again_until_it_ends() -> None:
    log: list[str] = []
    task = asyncio.create_task(_swallows_first_cancellation(log))
    await asyncio.sleep(0)
    async with asyncio.timeout(5):
        await cancel_and_wait([task])
    assert task.cancelled()
    assert log[0] == "swallowed"


async def test_a_task_that_never_ends_is_given_up_after_the_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="vendorbell.tasks"):
        async with asyncio.timeout(5):
            await cancel_and_wait([task], within=0.3)
    assert not task.done()
    assert [r.getMessage() for r in caplog.records] == ["tasks.stop_timeout"]
    release.set()
    await task


async def test_a_stop_that_is_itself_cancelled_still_sees_its_tasks_end() -> None:
    log: list[str] = []
    child = asyncio.create_task(_swallows_first_cancellation(log))

    async def owner() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await cancel_and_wait([child])

    parent = asyncio.create_task(owner())
    await asyncio.sleep(0)
    async with asyncio.timeout(5):
        await cancel_and_wait([parent])  # re-cancels the owner during its clean-up
    assert parent.cancelled()
    assert child.cancelled(), "the owner's clean-up was cut short and left its child running"


async def test_every_logs_a_failing_pass_and_keeps_going(caplog: pytest.LogCaptureFixture) -> None:
    passes: list[int] = []

    async def step() -> None:
        passes.append(len(passes))
        if len(passes) == 1:
            raise RuntimeError("database away")

    task = asyncio.create_task(every("reminders", 0.001, step))
    async with asyncio.timeout(10):
        while len(passes) < 3:
            await asyncio.sleep(0.001)
    await cancel_and_wait([task])
    assert [r.message for r in caplog.records if r.levelname == "ERROR"] == ["reminders.failed"]


async def test_every_runs_at_once_when_woken_or_asked_to_start_with_a_pass() -> None:
    wake = asyncio.Event()
    woken = asyncio.Event()
    # An hour between passes: only `first` and the wake can run one within the test.
    task = asyncio.create_task(every("broadcasts", 3600, _setter(woken), wake=wake, first=True))
    async with asyncio.timeout(10):
        await woken.wait()  # the first pass, before any wait
        woken.clear()
        wake.set()
        await woken.wait()  # the wake, long before the hour
    await cancel_and_wait([task])


def _setter(event: asyncio.Event) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        event.set()

    return step
