"""The WebSocket protocol uvicorn runs, with oversize handshakes answered at once.

websockets refuses a handshake whose request line or a header line is over 8 KiB
(414 / 431), but uvicorn 0.54's sans-I/O protocol writes out what websockets
queued only when a request event arrives, so that refusal was never sent and the
client hung until its own timeout. This subclass flushes it and closes.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's default WebSocket protocol, plus the refusal of an oversize handshake."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.handshake_exc is not None and not self.handshake_initiated:
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()
