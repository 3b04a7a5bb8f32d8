"""International addresses: the domain goes out in its ASCII form to any server, a
non-ASCII part before the @ needs a server offering SMTPUTF8 and fails clearly without
one, and the To: header is always a well-formed address, never an encoded word."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import Parser

import pytest

from server.mail.transport import BAD_ADDRESS, MailFailure, SmtpTransport
from tests.mail.smtpserver import smtp_server


def message(to: str) -> EmailMessage:
    m = EmailMessage()
    m["From"] = "Corner Market <alerts@market.example>"
    m["To"] = to
    m["Subject"] = "New order #7"
    m["Message-ID"] = "<7.order7.no_device@market.example>"
    m.set_content("hello")
    return m


def to_line(raw: bytes) -> bytes:
    [line] = [x for x in raw.splitlines() if x.lower().startswith(b"to:")]
    return line


@pytest.mark.parametrize("address", ["josé@exämple.de", "用户@例子.广告"])
async def test_an_international_address_reaches_a_server_offering_smtputf8(address: str) -> None:
    with smtp_server(enable_SMTPUTF8=True) as (box, port):
        await SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5).send(message(address))
    assert box.envelopes == [("alerts@market.example", [address])]
    # RFC 6532: the headers are UTF-8 (the stdlib's bytes parser reads only ASCII ones).
    received = Parser(policy=policy.default).parsestr(box.raw[0].decode("utf-8"))
    [to] = received["To"].addresses
    assert to.addr_spec == address
    assert to_line(box.raw[0]) == f"To: {address}".encode()  # RFC 6532: UTF-8 as is


async def test_an_international_domain_goes_out_in_ascii_to_any_server() -> None:
    with smtp_server(enable_SMTPUTF8=False) as (box, port):
        await SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5).send(
            message("Jose <jose@exämple.de>")
        )
    assert box.envelopes == [("alerts@market.example", ["jose@xn--exmple-cua.de"])]
    assert to_line(box.raw[0]) == b"To: Jose <jose@xn--exmple-cua.de>"


@pytest.mark.parametrize("address", ["josé@exämple.de", "用户@例子.广告"])
async def test_a_non_ascii_name_before_the_at_fails_for_good_without_smtputf8(
    address: str,
) -> None:
    with (
        smtp_server(enable_SMTPUTF8=False) as (box, port),
        pytest.raises(MailFailure) as caught,
    ):
        await SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5).send(message(address))
    failure = caught.value
    assert failure.permanent
    assert failure.shown == BAD_ADDRESS
    assert address in failure.reason and "SMTPUTF8" in failure.reason
    assert box.messages == [] and box.attempts == 0  # nothing garbled went out
