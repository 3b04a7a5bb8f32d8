"""Message encryption spread over processes, so a large fan-out uses more than one core.

RFC 8291 encryption (a P-256 key pair and an ECDH per message) is most of a push's
CPU, and `cryptography` holds the GIL while it runs: measured here, two threads
encrypt no faster than one. So batches from a backlog (a broadcast, a burst of
orders) are encrypted by a few child processes while this one keeps the database
and the push services' connections busy. A small batch (one order's devices) is
encrypted inline: a process hop would only add latency to it.

The children are plain `python -m server.push.encryptor` processes fed through
their stdin/stdout pipes by this event loop. multiprocessing's pool was measured
first: its feeder and manager threads cost ~50 µs of CPU per push here, and its
spawned children re-import the parent's `__main__` (the whole app).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import pickle
import struct
import sys
from pathlib import Path

from server.push.crypto import encrypt_batch

log = logging.getLogger("vendorbell.push")

MIN_POOLED = 8  # fewer messages than this are encrypted inline
MAX_AUTO_PROCESSES = 4
STOP_SECONDS = 5.0
_LENGTH = struct.Struct("!I")
_PROJECT = str(Path(__file__).resolve().parents[2])  # so the children import this code


def auto_processes() -> int:
    """One encryption process per core but one, which is left to the worker's own
    process (the database, the push services' connections: about half the CPU of the
    encryption); at most 4, none on a single core. Measured with bench-push on 2
    cores: one child sends as many pushes/s as two, for 10-15 µs less CPU a push
    (two children and the worker's own process took turns on the two cores, and
    each switch cost the children cache and CPU)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(MAX_AUTO_PROCESSES, cores - 1)


class _Child:
    """One encryptor process. Up to DEPTH batches are written ahead, so the child
    never waits for this (busy) loop between batches; answers come back in order."""

    DEPTH = 2

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        assert process.stdin is not None and process.stdout is not None
        self.stdin = process.stdin
        self.stdout = process.stdout
        self.waiting: collections.deque[asyncio.Future[list[bytes | None]]] = collections.deque()
        self.reader = asyncio.create_task(self._read(), name="push-encryptor-reader")

    @classmethod
    async def start(cls) -> _Child:
        # Only what Python needs: this process's settings and secrets stay here.
        path = os.pathsep.join(filter(None, (_PROJECT, os.environ.get("PYTHONPATH"))))
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": path}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.push.encryptor",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        return cls(process)

    @property
    def alive(self) -> bool:
        return not self.reader.done()  # the reader ends when the child's output does

    @property
    def free(self) -> bool:
        return len(self.waiting) < self.DEPTH and self.alive

    async def encrypt(self, items: list[tuple[str, str, str]]) -> list[bytes | None]:
        if not self.alive:
            raise ChildLost("the encryptor process has ended")
        answer = asyncio.get_running_loop().create_future()
        self.waiting.append(answer)
        frame = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
        self.stdin.write(_LENGTH.pack(len(frame)) + frame)
        await self.stdin.drain()
        bodies: list[bytes | None] = await answer
        return bodies

    async def _read(self) -> None:
        try:
            while True:
                (length,) = _LENGTH.unpack(await self.stdout.readexactly(_LENGTH.size))
                # Trusted: written by the child this process started, on its own pipe.
                bodies = pickle.loads(await self.stdout.readexactly(length))  # noqa: S301
                answer = self.waiting.popleft()
                if not answer.done():
                    answer.set_result(bodies)
        except (asyncio.IncompleteReadError, OSError, pickle.UnpicklingError) as exc:
            while self.waiting:  # the child is gone: its batches are done elsewhere
                answer = self.waiting.popleft()
                if not answer.done():
                    answer.set_exception(ChildLost(str(exc) or type(exc).__name__))

    async def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.stdin.close()  # the child exits at the end of its input
        try:
            await asyncio.wait_for(self.process.wait(), STOP_SECONDS)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        await self.reader


class ChildLost(ConnectionError):
    """An encryptor process ended before answering."""


class EncryptionPool:
    """`encrypt` a batch inline or in one of `processes` child processes (0: always inline).

    The processes start with the first large batch, not before: a shop whose pushes
    come one order at a time never pays for them.
    """

    def __init__(self, processes: int) -> None:
        self.processes = max(0, processes)
        self.children: list[_Child] = []
        self._freed = asyncio.Event()
        self._spawning = asyncio.Lock()
        self.pooled_batches = 0
        self.started = 0  # processes started, replacements included
        self.lost = 0  # batches whose process died under them (then encrypted inline)

    async def encrypt(self, items: list[tuple[str, str, str]]) -> list[bytes | None]:
        """Bodies for (payload, p256dh, auth) triples, None where the keys are unusable."""
        if self.processes == 0 or len(items) < MIN_POOLED:
            return encrypt_batch(items)
        try:
            child = await self._free_child()
        except OSError:  # no process could be started (limits, memory): work on without
            log.exception("push.encrypt.spawn_failed")
            return encrypt_batch(items)
        try:
            bodies = await child.encrypt(items)
        except (ChildLost, OSError):
            # Killed, out of memory: the child is replaced for the next pooled batch,
            # and this one is encrypted here.
            log.warning("push.encrypt.child_lost", extra={"pid": child.process.pid})
            self.lost += 1
            if child in self.children:
                self.children.remove(child)
                await child.stop()
            return encrypt_batch(items)
        finally:
            self._freed.set()
        self.pooled_batches += 1
        return bodies

    async def _free_child(self) -> _Child:
        """The least busy child with room for a batch, replacing any that died."""
        while True:
            async with self._spawning:
                for dead in [child for child in self.children if not child.alive]:
                    self.children.remove(dead)
                    await dead.stop()
                while len(self.children) < self.processes:
                    self.children.append(await _Child.start())
                    self.started += 1
            free = [child for child in self.children if child.free]
            if free:
                return min(free, key=lambda child: len(child.waiting))
            self._freed.clear()
            await self._freed.wait()

    async def close(self) -> None:
        """Stop the processes (each finishes the batch it holds)."""
        children, self.children = self.children, []
        await asyncio.gather(*(child.stop() for child in children))
