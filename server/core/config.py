"""Settings read once from environment variables (and an optional `.env`)."""

from __future__ import annotations

import ipaddress
import logging
import secrets
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]  # the repository (server/core/config.py)
log = logging.getLogger("vendorbell.config")

# Public push services of the major browsers. A leading "*." matches any subdomain.
DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",  # Chrome, Edge on Android, Opera, Brave
    "*.push.services.mozilla.com",  # Firefox
    "*.push.apple.com",  # Safari (macOS, iOS)
    "*.notify.windows.com",  # Edge on Windows (WNS)
)
SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")


def _csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything an operator can set; see docs/configuration.md."""

    # Errors never echo a value: SMTP_URL, DATABASE_URL and REDIS_URL may hold passwords.
    # The repository's .env, then the current folder's (which wins): a command run from
    # another folder reads the same settings as the server.
    model_config = SettingsConfigDict(
        env_file=(ROOT / ".env", ".env"), extra="ignore", hide_input_in_errors=True
    )

    # Unset: SQLite in DATA_DIR (DATA_DIR/vendorbell.db), see _database_in_data_dir.
    database_url: str = ""
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str | None = None
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    data_dir: Path = ROOT / "data"
    keys_dir: Path = ROOT / "keys"
    pwa_dir: Path = ROOT / "pwa"
    vapid_subject: str = "mailto:admin@vendorbell.invalid"
    push_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_PUSH_HOSTS)
    )
    # What this process runs besides HTTP (server.background): "all" (the default: every
    # background loop too), "api" (HTTP and WebSocket only) or "worker" (only the loops,
    # as `python -m server worker`). RUN_WORKER=false is the older spelling of "api".
    role: Literal["all", "api", "worker"] = "all"
    run_worker: bool = True
    worker_concurrency: int = 64
    # How long a claimed delivery stays with its worker before another may retake it.
    push_lease_seconds: float = Field(default=60.0, gt=0)
    # How often a worker looks for deliveries committed by other processes (those of its
    # own process wake it at once).
    push_poll_seconds: float = Field(default=1.0, gt=0)
    per_origin_concurrency: int = 64
    # Each push service (origin) has its own queue and this many pushes in flight, so one
    # that hangs holds at most these; PER_ORIGIN_CONCURRENCY, when set, is its older spelling.
    push_service_concurrency: int = Field(default=16, ge=1)
    # A push service that answers quickly (under 0.5 s) while all its slots are busy gets
    # more, up to this many; None: WORKER_CONCURRENCY - PUSH_SERVICE_CONCURRENCY, so a
    # service that then hangs leaves the others at least one base share.
    push_service_max_concurrency: int | None = Field(default=None, ge=1)
    # Consecutive timeouts or 429/5xx answers that open a push service's circuit breaker;
    # it stays open PUSH_SERVICE_OPEN_SECONDS (doubling per failed probe, up to 10 min).
    push_service_failures: int = Field(default=5, ge=1)
    push_service_open_seconds: float = Field(default=10.0, gt=0)
    push_send_timeout: float = Field(default=15.0, gt=0)  # seconds for one push's answer
    # Processes that encrypt pushes of a large fan-out; None: one per core but one (≤ 4), 0 on
    # one core.
    push_encrypt_processes: int | None = Field(default=None, ge=0)
    # The proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs);
    # empty: the headers are ignored and the connection's own address counts.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)
    login_max_attempts: int = 5
    login_window_seconds: int = 300
    # Registrations (each costs an argon2 hash) per client address in a sliding window.
    register_max_per_window: int = Field(default=10, ge=1)
    register_window_seconds: int = Field(default=600, ge=1)
    # A session token ends after this many days unused, and this many days after it was
    # issued at the latest (the session cookie's Max-Age).
    token_idle_days: int = Field(default=30, ge=1)
    token_absolute_days: int = Field(default=90, ge=1)
    max_body_bytes: int = 64 * 1024
    log_level: str = "INFO"
    cookie_secure: bool = False
    # Email fallback (server.mail): smtp://host:25, smtp+starttls://user:pass@host:587 or
    # smtps://user:pass@host:465 (user and password URL-encoded). Unset: messages are
    # written as .eml files under DATA_DIR/mail/ instead. A secret: never logged or shown.
    smtp_url: SecretStr | None = None
    # The From of those emails; unset: "vendorbell <no-reply@PUBLIC_URL's host>".
    mail_from: str | None = None
    smtp_timeout: float = Field(default=30.0, gt=0)  # seconds for connecting and each reply
    redis_channel: str = "vendorbell:live"  # pub/sub channel carrying live events (REDIS_URL)
    ws_ping_interval: float = 25.0  # seconds between WebSocket pings; 0 disables; 2 missed = dead
    ws_send_queue: int = 256  # events buffered per socket before a slow client is closed (1013)
    # One user's live sockets per process; one more is refused (close code 4429).
    ws_max_per_user: int = Field(default=32, ge=1)
    # Push devices per user; a new one beyond this replaces the least recently used.
    max_devices_per_user: int = Field(default=20, ge=1)
    gc_tuning: bool = True  # freeze start-up objects, collect less often (server.app)
    # After SIGTERM: how long in-flight requests, and separately in-flight push sends, may
    # take to finish before they are cut off (and unsent deliveries released).
    drain_seconds: float = Field(default=10.0, ge=0)
    # After SIGTERM, an HTTP process first answers /readyz with 503 for this long while
    # still serving, so a load balancer polling it stops sending before the port closes.
    drain_notice_seconds: float = Field(default=0.0, ge=0)
    # How often a worker process (role all or worker) records that it is alive.
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    # Finished push deliveries, sent or failed emails, finished webhook deliveries and
    # push service answers older than this many days are deleted (server.console.retention).
    retention_days: int = Field(default=30, ge=1, le=3650)
    # How long a session started by a marketplace's signed token lives, at most (absolute:
    # the page asks its marketplace for a new token to go on).
    embed_session_seconds: int = Field(default=3600, ge=60, le=3600)
    # Hosts an integration's webhook URL may name; empty: any public https host on 443.
    # An IP literal or localhost entry may use http, any port and private addresses.
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _database_in_data_dir(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'vendorbell.db'}"
        return self

    @field_validator(
        "allowed_origins", "push_allowed_hosts", "webhook_allowed_hosts", mode="before"
    )
    @classmethod
    def _split_csv(cls, value: object) -> object:
        return _csv(value)

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _check_proxies(cls, value: object) -> object:
        value = _csv(value)
        for entry in value if isinstance(value, list) else ():
            try:
                ipaddress.ip_network(str(entry), strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or CIDR network: {entry!r}") from None
        return value

    @field_validator("vapid_subject")
    @classmethod
    def _check_subject(cls, value: str) -> str:
        # RFC 8292 §2.1: `sub` is a mailto: or https: URI. Apple's push service
        # refuses a subject naming localhost, so refuse it here, at start-up.
        if not (value.startswith("mailto:") or value.startswith("https://")):
            raise ValueError("VAPID_SUBJECT must be a mailto: or https: URL")
        host = value.split("@")[-1] if value.startswith("mailto:") else urlsplit(value).hostname
        if (host or "").lower() in {"localhost", "127.0.0.1", "[::1]", "::1"}:
            raise ValueError(
                "VAPID_SUBJECT must not name localhost: Apple's push service rejects it; "
                "use a mailto: address or https: URL you control"
            )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        # The messages name the part at fault and never repeat the URL: it may hold a password.
        if value is None or not value.get_secret_value():
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in SMTP_SCHEMES:
            raise ValueError(
                "SMTP_URL must start with smtp://, smtp+starttls:// or smtps:// "
                "(e.g. smtp+starttls://user:password@mail.example.com:587)"
            )
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError("SMTP_URL has a port that is not a number") from None
        if not parts.hostname:
            raise ValueError("SMTP_URL names no host (e.g. smtp://mail.example.com:25)")
        return value

    @field_validator("mail_from")
    @classmethod
    def _check_mail_from(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        _, address = parseaddr(value)
        if "@" not in address or any(c in value for c in "\r\n"):
            raise ValueError('MAIL_FROM must be an address, e.g. "Shop <alerts@example.com>"')
        return value.strip()

    @property
    def effective_role(self) -> Literal["all", "api", "worker"]:
        return "api" if self.role == "all" and not self.run_worker else self.role

    @property
    def mail_sender(self) -> str:
        """MAIL_FROM, or a no-reply address at PUBLIC_URL's host (localhost for an IP)."""
        if self.mail_from:
            return self.mail_from
        host = urlsplit(self.public_url).hostname or "localhost"
        if host.replace(".", "").isdigit() or ":" in host:
            host = "localhost"
        return f"vendorbell <no-reply@{host}>"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def origins(self) -> set[str]:
        """Origins allowed to make cookie-authenticated writes and open the WebSocket."""
        parts = urlsplit(self.public_url)
        return {f"{parts.scheme}://{parts.netloc}", *self.allowed_origins}

    @property
    def secret_key_file(self) -> Path:
        """Where a generated secret key is kept when SECRET_KEY is unset."""
        return self.data_dir / "secret_key"

    def resolved_secret_key(self) -> str:
        """SECRET_KEY, or one generated once and kept (0600) under the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        # Said every time: a process started with another DATA_DIR than the server's
        # makes its own key, and what it signs the server then refuses.
        log.warning("secret_key.created", extra={"path": str(path)})
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
