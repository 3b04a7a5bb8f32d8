"""Settings read once from environment variables (and an optional `.env`)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Public push services of the major browsers. A leading "*." matches any subdomain.
DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",  # Chrome, Edge on Android, Opera, Brave
    "*.push.services.mozilla.com",  # Firefox
    "*.push.apple.com",  # Safari (macOS, iOS)
    "*.notify.windows.com",  # Edge on Windows (WNS)
)


def _csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything an operator can set; see the README's table."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'data' / 'vendorbell.db'}"
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
    # Processes that encrypt pushes of a large fan-out; None: one per core (≤ 4), 0 on one core.
    push_encrypt_processes: int | None = Field(default=None, ge=0)
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
    redis_channel: str = "vendorbell:live"  # pub/sub channel carrying live events (REDIS_URL)
    ws_ping_interval: float = 25.0  # seconds between WebSocket pings; 0 disables; 2 missed = dead
    ws_send_queue: int = 256  # events buffered per socket before a slow client is closed (1013)
    # One user's live sockets per process; one more is refused (close code 4429).
    ws_max_per_user: int = Field(default=32, ge=1)
    # Push devices per user; a new one beyond this replaces the least recently used.
    max_devices_per_user: int = Field(default=20, ge=1)
    gc_tuning: bool = True  # freeze start-up objects, collect less often (server.app)

    @field_validator("allowed_origins", "push_allowed_hosts", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        return _csv(value)

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

    @property
    def effective_role(self) -> Literal["all", "api", "worker"]:
        return "api" if self.role == "all" and not self.run_worker else self.role

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def origins(self) -> set[str]:
        """Origins allowed to make cookie-authenticated writes and open the WebSocket."""
        parts = urlsplit(self.public_url)
        return {f"{parts.scheme}://{parts.netloc}", *self.allowed_origins}

    def resolved_secret_key(self) -> str:
        """SECRET_KEY, or one generated once and kept (0600) under the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
