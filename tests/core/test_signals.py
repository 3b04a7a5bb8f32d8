"""Signals are declared by the feature that sends them and found by name: the relay
carries any of them between processes without knowing it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from server.cluster.signal_relay import RedisSignalRelay
from server.core.signals import Signals, SignalSpec, id_list, one_id

PARCELS = SignalSpec("parcels", id_list)  # a signal no feature of the app declares
LABEL = SignalSpec("label", lambda value: str(value))


def test_a_signal_is_one_per_name_and_tells_its_listeners() -> None:
    signals = Signals()
    heard: list[list[int]] = []
    signals[PARCELS].connect(heard.append)
    signals[PARCELS].send([1, 2])
    assert signals[PARCELS] is signals[PARCELS]
    assert heard == [[1, 2]]
    signals[PARCELS].disconnect(heard.append)
    signals[PARCELS].send([3])
    assert heard == [[1, 2]]


def test_two_specs_of_one_name_are_refused() -> None:
    signals = Signals()
    signals[PARCELS].connect(lambda _: None)
    with pytest.raises(ValueError, match="parcels"):
        signals[SignalSpec("parcels", one_id)]


def test_a_relayed_value_is_read_by_its_spec_and_a_wrong_one_refused() -> None:
    signals = Signals()
    heard: list[list[int]] = []
    signals[PARCELS].connect(heard.append)
    signals.send_relayed("parcels", [4, 5])
    signals.send_relayed("nobody-listens", [6])  # no signal of that name here: dropped
    with pytest.raises(ValueError):
        signals.send_relayed("parcels", ["7"])
    assert heard == [[4, 5]]


def test_every_signal_sent_is_forwarded_by_name() -> None:
    signals, forwarded = Signals(), []
    signals.forward(lambda name, value: forwarded.append((name, value)))
    signals[PARCELS].send([1])
    signals[LABEL].send("x")
    assert forwarded == [("parcels", [1]), ("label", "x")]
    assert json.dumps(forwarded)  # what the relay publishes


@asynccontextmanager
async def relayed(redis_url: str, channel: str) -> AsyncIterator[tuple[Signals, Signals]]:
    """Two processes' signals joined by the Redis relay: (an API's, a worker's)."""
    api, worker = Signals(), Signals()
    sender = RedisSignalRelay(redis_url, channel, api, listen=False)
    listener = RedisSignalRelay(redis_url, channel, worker, listen=True)
    await listener.start()
    await sender.start()
    try:
        yield api, worker
    finally:
        await sender.close()
        await listener.close()


async def send_until_heard(send: Callable[[], None], heard: list[Any]) -> None:
    """The listener may subscribe after the first message: send until one arrives."""
    async with asyncio.timeout(5):
        while not heard:
            send()
            await asyncio.sleep(0.1)


@pytest.mark.redis
async def test_a_newly_declared_signal_crosses_processes_through_redis(
    redis_url: str, channel: str
) -> None:
    heard: list[list[int]] = []
    async with relayed(redis_url, channel) as (api, worker):
        worker[PARCELS].connect(heard.append)

        def send() -> None:
            api[LABEL].send("not a list of ids")  # heard by nobody there: dropped
            api[PARCELS].send([7, 8])

        await send_until_heard(send, heard)
    assert heard[0] == [7, 8]
    assert all(value == [7, 8] for value in heard)
