"""Which new passwords to refuse, after NIST SP 800-63B §3.1.1.2.

At least 8 characters (the schema) and no composition rules; refused are the passwords
that attackers try first: the 30,000 most common ones of zxcvbn's list (built from
leaked password sets, the list zxcvbn itself scores with) and the account's own email
address, its local part or the account's name.
"""

from __future__ import annotations

from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from server.core.errors import Invalid


class PasswordTooCommon(Invalid):
    code = "password_too_common"


class PasswordLikeAccount(Invalid):
    code = "password_like_account"


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's common passwords, lower case (about 30,000; loaded once, ~30 ms)."""
    return frozenset(str(word) for word in FREQUENCY_LISTS["passwords"])


def _forms(value: str) -> set[str]:
    """A value as compared: case-folded, as typed (ends trimmed) and without any spaces."""
    folded = value.strip().casefold()
    return {folded, "".join(folded.split())}


def check_new_password(password: str, *, email: str, name: str) -> None:
    """Raise a 422 naming the problem if `password` is one to refuse."""
    forms = _forms(password)
    local_part = email.rpartition("@")[0]
    if forms & (_forms(email) | _forms(local_part) | _forms(name)):
        raise PasswordLikeAccount("Choose a password that is not your email address or your name.")
    if forms & common_passwords():
        raise PasswordTooCommon(
            "This password is too common: it is among the first that attackers try. "
            "Choose another one; a few unrelated words make a strong password."
        )
