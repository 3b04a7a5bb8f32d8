"""How an email leaves: over SMTP (SMTP_URL), or into a .eml file when none is set.

Both take a finished message (server.mail.message) and either return (sent / written)
or raise `MailFailure`, temporary or permanent. A failure carries two texts: `reason`,
the full detail for the logs (the server's reply, the error; the SMTP URL and its
password never appear: `redact`), and `shown`, one of the fixed sentences below that
the vendor sees on the order page, which names neither the relay nor its reply.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from server.core.config import Settings
from server.mail.addresses import UnsendableAddress, addressed

log = logging.getLogger("vendorbell.mail")

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
# The longest one SMTP session may take, in SMTP_TIMEOUTs: each reply is bounded by one,
# and the whole session (connect, greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA and
# its final reply) by this many, so a server that answers slowly to everything cannot
# hold a send (and the row's lease, server.mail.outbox) for ten timeouts.
SESSION_TIMEOUTS = 3

# What the vendor sees of a failure (the API's `last_error`): the detail is in the logs.
REFUSED = "the mail server refused the message"
UNREACHABLE = "could not reach the mail server"
BAD_ADDRESS = "the email address cannot be used with this mail server"
SETTINGS = "the mail server settings need to be fixed"
NOT_SENT = "the email could not be sent"
SHOWN = frozenset({REFUSED, UNREACHABLE, BAD_ADDRESS, SETTINGS, NOT_SENT})


class MailFailure(Exception):
    """The message was not sent. `permanent`: sending it again will not help (SMTP 5xx);
    `connection`: the server could not be talked to, so the next message would fare no
    better now; `shown`: the sentence for the vendor, `reason`: the detail for the logs."""

    def __init__(
        self, reason: str, *, permanent: bool, shown: str, connection: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.shown = shown
        self.connection = connection


class Transport(Protocol):
    # The longest one send takes before it gives up (a mail lease must outlast it).
    session_seconds: float

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
        self.session_seconds = SESSION_TIMEOUTS * timeout

    def describe(self) -> str:
        return self.target.describe()

    async def send(self, message: EmailMessage) -> None:
        try:
            async with asyncio.timeout(self.session_seconds):
                await self._session(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            raise self._failure(refusal.code, refusal.message) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise self._failure(exc.code, exc.message) from None
        except aiosmtplib.SMTPNotSupported as exc:
            # e.g. no STARTTLS offered, or no AUTH: the settings must change, not the timing.
            reason = self._redact(f"SMTP server: {exc}")
            raise MailFailure(reason, permanent=True, shown=SETTINGS) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # Refused, dropped, TLS refused, or silent past a reply's or the session's bound.
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise MailFailure(
                self._redact(reason), permanent=False, shown=UNREACHABLE, connection=True
            ) from None

    async def _session(self, message: EmailMessage) -> None:
        t = self.target
        client = aiosmtplib.SMTP(
            hostname=t.host,
            port=t.port,
            username=t.username,
            password=t.password,
            use_tls=t.scheme == "smtps",
            # smtp:// is a plain session (a relay on the same machine or network);
            # smtp+starttls:// must upgrade, or the message is not sent.
            start_tls=t.scheme == "smtp+starttls",
            timeout=self.timeout,  # connecting, and each reply (the DATA transfer's too)
        )
        async with client:
            if client.is_ehlo_or_helo_needed:
                await client.ehlo()
            # The addresses are written for what this server offers (SMTPUTF8 or not).
            try:
                ready = addressed(message, smtputf8=client.supports_extension("smtputf8"))
            except UnsendableAddress as exc:
                raise MailFailure(str(exc), permanent=True, shown=BAD_ADDRESS) from None
            await client.send_message(
                ready.message, sender=ready.sender, recipients=ready.recipients
            )

    def _failure(self, code: int, message: str) -> MailFailure:
        # RFC 5321 §4.2.1: 4yz is a transient failure, 5yz a permanent one; 421 closes
        # the channel (§3.8), so it says the server, not this message, is unavailable.
        reason = self._redact(f"{code} {message}".strip())
        return MailFailure(
            reason, permanent=500 <= code < 600, shown=REFUSED, connection=code == 421
        )

    def _redact(self, text: str) -> str:
        return redact(text, self._url, urlsplit(self._url).password, self.target.password)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class EmlWriter:
    """Without SMTP_URL: each message becomes DATA_DIR/mail/<message id>.eml, and a log
    line says so, so that a trial shows exactly what would have been sent. The files hold
    the vendors' addresses and orders: the folder is 0700 and each file 0600."""

    session_seconds = 30.0  # a local write: the bound is for a hung disk or NFS mount

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return f"files in {self.folder}"

    async def send(self, message: EmailMessage) -> None:
        name = _UNSAFE.sub("_", str(message["Message-ID"]).strip("<> ")) or "message"
        path = self.folder / f"{name}.eml"
        try:
            # As a server offering SMTPUTF8 would get it (RFC 6532 headers when needed).
            ready = addressed(message, smtputf8=True)
        except UnsendableAddress as exc:
            raise MailFailure(str(exc), permanent=True, shown=BAD_ADDRESS) from None
        data = ready.message.as_bytes(policy=policy.default.clone(utf8=ready.utf8))
        try:
            async with asyncio.timeout(self.session_seconds):
                await asyncio.to_thread(_write, path, data)
        except TimeoutError:
            reason = f"writing {path} took over {self.session_seconds} s"
            raise MailFailure(reason, permanent=False, shown=NOT_SENT) from None
        except OSError as exc:
            reason = f"cannot write {path}: {exc.strerror}"
            raise MailFailure(reason, permanent=False, shown=NOT_SENT) from None
        log.info(
            "mail.written",
            extra={"path": str(path), "to": str(message["To"]), "subject": str(message["Subject"])},
        )


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a reader never sees half a message, a retry overwrites.
    Only this user may read them (the umask could leave them world-readable)."""
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)  # mkdir's mode is masked, and an existing folder keeps its own
    partial = path.with_suffix(".eml.part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), 0o600)  # a .part left by an older version keeps its mode
        file.write(data)
    os.replace(partial, path)


def make_transport(settings: Settings) -> Transport:
    """SMTP when SMTP_URL is set, else the .eml writer under DATA_DIR/mail."""
    if settings.smtp_url is not None:
        return SmtpTransport(settings.smtp_url.get_secret_value(), timeout=settings.smtp_timeout)
    return EmlWriter(settings.data_dir / "mail")
