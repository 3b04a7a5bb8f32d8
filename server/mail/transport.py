"""How an email leaves: over SMTP (SMTP_URL), or into a .eml file when none is set.

Both take a finished message (server.mail.message) and either return (sent / written)
or raise `MailFailure`, temporary or permanent, with a reason fit to show: the SMTP
URL and its password never appear in one (`redact`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from server.core.config import Settings

log = logging.getLogger("vendorbell.mail")

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailFailure(Exception):
    """The message was not sent. `permanent`: sending it again will not help (SMTP 5xx)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...

    def describe(self) -> str:
        """Where messages go, safe to log."""
        ...


@dataclass(frozen=True)
class SmtpTarget:
    """SMTP_URL taken apart: credentials URL-decoded, the scheme's default port filled in."""

    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)  # Settings checked the scheme, host and port at start-up
        return cls(
            scheme=parts.scheme,
            host=parts.hostname or "localhost",
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    def describe(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every non-empty secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class SmtpTransport:
    """One SMTP session per message (aiosmtplib): fallback emails are rare, and a fresh
    connection never trips over a server that dropped an idle one."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self._url = url
        self.target = SmtpTarget.parse(url)
        self.timeout = timeout

    def describe(self) -> str:
        return self.target.describe()

    async def send(self, message: EmailMessage) -> None:
        t = self.target
        sender = parseaddr(str(message["From"]))[1]
        recipient = parseaddr(str(message["To"]))[1]
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=[recipient],
                hostname=t.host,
                port=t.port,
                username=t.username,
                password=t.password,
                use_tls=t.scheme == "smtps",
                # smtp:// is a plain session (a relay on the same machine or network);
                # smtp+starttls:// must upgrade, or the message is not sent.
                start_tls=t.scheme == "smtp+starttls",
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            raise self._failure(refusal.code, refusal.message) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise self._failure(exc.code, exc.message) from None
        except aiosmtplib.SMTPNotSupported as exc:
            # e.g. no STARTTLS offered, or no AUTH: the settings must change, not the timing.
            raise MailFailure(self._redact(f"SMTP server: {exc}"), permanent=True) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise MailFailure(self._redact(reason), permanent=False) from None

    def _failure(self, code: int, message: str) -> MailFailure:
        # RFC 5321 §4.2.1: 4yz is a transient failure, 5yz a permanent one.
        reason = self._redact(f"{code} {message}".strip())
        return MailFailure(reason, permanent=500 <= code < 600)

    def _redact(self, text: str) -> str:
        return redact(text, self._url, urlsplit(self._url).password, self.target.password)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class EmlWriter:
    """Without SMTP_URL: each message becomes DATA_DIR/mail/<message id>.eml, and a log
    line says so, so that a trial shows exactly what would have been sent."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return f"files in {self.folder}"

    async def send(self, message: EmailMessage) -> None:
        name = _UNSAFE.sub("_", str(message["Message-ID"]).strip("<> ")) or "message"
        path = self.folder / f"{name}.eml"
        try:
            await asyncio.to_thread(_write, path, message.as_bytes())
        except OSError as exc:
            raise MailFailure(f"cannot write {path}: {exc.strerror}", permanent=False) from None
        log.info(
            "mail.written",
            extra={"path": str(path), "to": str(message["To"]), "subject": str(message["Subject"])},
        )


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a reader never sees half a message, a retry overwrites."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".eml.part")
    partial.write_bytes(data)
    os.replace(partial, path)


def make_transport(settings: Settings) -> Transport:
    """SMTP when SMTP_URL is set, else the .eml writer under DATA_DIR/mail."""
    if settings.smtp_url is not None:
        return SmtpTransport(settings.smtp_url.get_secret_value(), timeout=settings.smtp_timeout)
    return EmlWriter(settings.data_dir / "mail")
