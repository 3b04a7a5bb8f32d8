"""The one function that turns an outbox row into the email that is sent (or written)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from server.core.links import absolute
from server.mail.models import OutgoingEmail

SETTINGS_PATH = "/preferences"  # the PWA's settings page: where email alerts are switched off


def new_message_id(public_url: str, idstring: str) -> str:
    """A Message-ID made once, when the row is written, and kept across retries."""
    host = urlsplit(public_url).hostname or "localhost"
    return make_msgid(idstring=idstring, domain=host)


def build_message(email: OutgoingEmail, *, sender: str, public_url: str) -> EmailMessage:
    """multipart/alternative (text, then HTML), with the headers a bulk sender needs:
    List-Unsubscribe (RFC 2369) at the settings page, and Auto-Submitted (RFC 3834) so
    that out-of-office replies are not sent back to a no-reply address."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    message["Message-ID"] = email.message_id
    message["List-Unsubscribe"] = f"<{absolute(public_url, SETTINGS_PATH)}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    return message
