"""SMTP_URL: checked at start-up, its credentials URL-decoded, its password never shown."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import ValidationError

from server.core.config import Settings
from server.mail.transport import (
    EmlWriter,
    MailFailure,
    SmtpTarget,
    SmtpTransport,
    make_transport,
)
from tests.conftest import make_settings
from tests.mail.smtpserver import self_signed, server_tls, smtp_server


def message() -> EmailMessage:
    m = EmailMessage()
    m["From"] = "Shop <alerts@shop.example>"
    m["To"] = "vendor@example.com"
    m["Subject"] = "New order #1"
    m["Message-ID"] = "<1.order1.no_device@shop.example>"
    m.set_content("hello")
    return m


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://user:hunter2@mail.example.com", "must start with smtp://"),
        ("smtp://user:hunter2@:25", "names no host"),
        ("smtps://user:hunter2@mail.example.com:port", "not a number"),
    ],
)
def test_a_bad_smtp_url_stops_start_up_without_showing_the_password(
    tmp_path: Path, url: str, error: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(tmp_path, "sqlite+aiosqlite:///unused.db", smtp_url=url)
    assert error in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_the_smtp_url_is_a_secret_in_the_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, "sqlite+aiosqlite:///unused.db", smtp_url="smtps://u:hunter2@mail.example.com"
    )
    assert "hunter2" not in repr(settings)
    transport = make_transport(settings)
    assert isinstance(transport, SmtpTransport)
    assert transport.describe() == "smtps://u:***@mail.example.com:465"


def test_each_scheme_has_its_default_port_and_credentials_are_url_decoded() -> None:
    assert SmtpTarget.parse("smtp://relay").port == 25
    assert SmtpTarget.parse("smtp+starttls://relay").port == 587
    target = SmtpTarget.parse("smtps://shop%40example.com:p%40ss%3Aw%2Frd@mail.example.com")
    assert (target.port, target.username, target.password) == (465, "shop@example.com", "p@ss:w/rd")


def test_without_smtp_url_mail_goes_to_files_under_the_data_dir(tmp_path: Path) -> None:
    settings: Settings = make_settings(tmp_path, "sqlite+aiosqlite:///unused.db")
    transport = make_transport(settings)
    assert isinstance(transport, EmlWriter)
    assert transport.folder == tmp_path / "data" / "mail"
    assert settings.mail_sender == "vendorbell <no-reply@testserver>"


async def test_credentials_reach_the_server_decoded() -> None:
    with smtp_server(auth_require_tls=False) as (mailbox, port):
        url = f"smtp://shop%40example.com:p%40ss%3Aw%2Frd@127.0.0.1:{port}"
        await SmtpTransport(url, timeout=5).send(message())
    assert mailbox.logins == [("shop@example.com", "p@ss:w/rd")]
    assert len(mailbox.messages) == 1


async def test_the_eml_writer_writes_one_file_per_message(tmp_path: Path) -> None:
    writer = EmlWriter(tmp_path / "mail")
    await writer.send(message())
    await writer.send(message())  # a retry of the same message replaces its file
    [path] = (tmp_path / "mail").glob("*.eml")
    assert path.name == "1.order1.no_device_shop.example.eml"
    assert b"Subject: New order #1" in path.read_bytes()


async def test_starttls_upgrades_before_logging_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted like a CA's certificate
    with smtp_server(tls_context=server_tls(cert, key), require_starttls=True) as (box, port):
        url = f"smtp+starttls://shop:secret@127.0.0.1:{port}"
        await SmtpTransport(url, timeout=5).send(message())
    assert box.logins == [("shop", "secret")]  # AUTH is only offered once TLS is on
    assert len(box.messages) == 1


async def test_smtps_speaks_tls_from_the_first_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with smtp_server(ssl_context=server_tls(cert, key)) as (box, port):
        await SmtpTransport(f"smtps://127.0.0.1:{port}", timeout=5).send(message())
    assert len(box.messages) == 1


async def test_an_untrusted_certificate_is_refused_and_retried_later(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with (
        smtp_server(ssl_context=server_tls(cert, key)) as (box, port),
        pytest.raises(MailFailure) as caught,
    ):
        await SmtpTransport(f"smtps://u:hunter2@127.0.0.1:{port}", timeout=5).send(message())
    assert not caught.value.permanent
    assert "hunter2" not in caught.value.reason
    assert box.messages == []
