"""An encryption child process (see crypto_pool): reads batches of (payload, p256dh,
auth) from stdin, writes their encrypted bodies to stdout, exits at end of input.

Frames both ways are a 4-byte big-endian length and a pickle; the only peer is the
parent that started this process, through its own pipes.
"""

from __future__ import annotations

import pickle
import signal
import struct
import sys

from server.push.crypto import encrypt_batch

_LENGTH = struct.Struct("!I")


def serve() -> None:
    # Ctrl-C in a terminal reaches the whole process group; this child ends when the
    # parent closes its input (or dies), after finishing the batch in hand.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while header := source.read(_LENGTH.size):
        if len(header) < _LENGTH.size:
            return
        (length,) = _LENGTH.unpack(header)
        items = pickle.loads(source.read(length))  # noqa: S301 (from the parent, on our pipe)
        frame = pickle.dumps(encrypt_batch(items), protocol=pickle.HIGHEST_PROTOCOL)
        sink.write(_LENGTH.pack(len(frame)) + frame)
        sink.flush()


if __name__ == "__main__":
    serve()
