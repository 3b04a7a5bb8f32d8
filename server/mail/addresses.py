"""Addresses as the receiving server can take them (RFC 5321, RFC 6531/6532).

An international domain is sent in its ASCII form (IDNA, `idna` with UTS 46 mapping),
which every server and every relay after it accepts. A local part (before the @) has no
ASCII form: it needs a server that offers SMTPUTF8, and without one the email cannot be
sent at all, so it fails with a reason rather than going out with a garbled address.
The headers are written by the stdlib `email` package from `Address` objects, never
pasted together.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from email.headerregistry import Address, AddressHeader
from email.message import EmailMessage

import idna

ENVELOPE_HEADERS = ("From", "To")


class UnsendableAddress(ValueError):
    """The address cannot be written for this server."""


@dataclass(frozen=True)
class Addressed:
    """The message with addresses the server can take, and its envelope."""

    message: EmailMessage
    sender: str
    recipients: list[str]
    utf8: bool  # the envelope or headers need SMTPUTF8 (RFC 6531)


def addressed(message: EmailMessage, *, smtputf8: bool) -> Addressed:
    """`message` (left untouched) with From and To rewritten for a server that does, or
    does not, offer SMTPUTF8. Raises `UnsendableAddress`."""
    out = copy.deepcopy(message)
    found: dict[str, list[Address]] = {}
    for name in ENVELOPE_HEADERS:
        header = out[name]
        if not isinstance(header, AddressHeader):
            raise UnsendableAddress(f"the message has no {name} address")
        found[name] = [_for_server(a, smtputf8=smtputf8) for a in header.addresses]
        del out[name]
        out[name] = found[name]
    sender = found["From"][0].addr_spec
    recipients = [a.addr_spec for a in found["To"]]
    utf8 = not all(a.isascii() for a in (sender, *recipients))
    return Addressed(out, sender, recipients, utf8)


def _for_server(address: Address, *, smtputf8: bool) -> Address:
    if not address.username.isascii():
        if smtputf8:
            return address  # RFC 6531: UTF-8 throughout, the domain as written
        raise UnsendableAddress(
            f"{address.addr_spec}: the part before the @ is not ASCII and the mail server "
            "does not offer SMTPUTF8"
        )
    domain = address.domain
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise UnsendableAddress(f"{address.addr_spec}: not a valid domain ({exc})") from None
    return Address(display_name=address.display_name, username=address.username, domain=domain)
