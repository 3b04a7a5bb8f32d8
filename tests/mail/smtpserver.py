"""A real SMTP server for the mail tests (aiosmtpd, in its own thread): it keeps what it
accepts, parsed by the stdlib, and answers DATA from a script when told to."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bench.certs import make_certificate


@dataclass
class Mailbox:
    """The handler: accepted messages, their envelopes, logins, and scripted replies."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)  # the messages as they came
    logins: list[tuple[str, str]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # the next DATA answers; then 250
    attempts: int = 0
    stall_until: float = 0.0  # time.monotonic(): until then, DATA gets no answer at all
    stalled: int = 0

    def stall(self, seconds: float) -> None:
        """From now on for `seconds`, take each message and never answer it (after the
        scripted `replies`): the client waits on its final reply until it gives up. A
        message not answered is not kept, as a real server that hangs keeps nothing."""
        self.stall_until = time.monotonic() + seconds

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.replies:
            return self.replies.pop(0)
        if time.monotonic() < self.stall_until:
            self.stalled += 1
            # Silent until the stall ends (the client has given up by then), then a
            # refusal nobody reads: the session ends normally and its socket is closed.
            await asyncio.sleep(self.stall_until - time.monotonic())
            return "451 4.3.0 Stalled"
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.raw.append(envelope.original_content or envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def smtp_server(**options: Any) -> Iterator[tuple[Mailbox, int]]:
    """A server on 127.0.0.1 and a free port, stopped on exit."""
    mailbox = Mailbox()
    port = free_port()
    options.setdefault("authenticator", mailbox.authenticate)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA): trusted once named in SSL_CERT_FILE."""
    return make_certificate(folder, "smtp")


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


# The fixtures of every test package that sends mail (imported by their conftest.py).
@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on loopback for the test: its mailbox and port."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailbox(smtp: tuple[Mailbox, int]) -> Mailbox:
    return smtp[0]
