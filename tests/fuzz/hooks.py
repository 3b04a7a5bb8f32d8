"""schemathesis hooks for tests/fuzz/run.py (loaded through SCHEMATHESIS_HOOKS).

POST /api/events is signed like a shop signs it, with the integration key the run
seeded (FUZZ_EVENT_KEY, FUZZ_EVENT_SECRET), so that the fuzzer reaches the event parser
and what it notifies; unset (the anonymous run), the signature is the fuzzer's own.
The HMAC covers the raw body, so it is added by a requests auth hook, after the body
is serialized.
"""

from __future__ import annotations

import os
import time
from typing import Any

import requests
import schemathesis

from server.integrations import signature


class SignEvent(requests.auth.AuthBase):
    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id = key_id
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        request.headers[signature.KEY_HEADER] = self.key_id
        request.headers[signature.SIGNATURE_HEADER] = signature.header(
            self.secret, int(time.time()), raw
        )
        return request


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    key_id, secret = os.environ.get("FUZZ_EVENT_KEY"), os.environ.get("FUZZ_EVENT_SECRET")
    if key_id and secret and case.operation.path == "/api/events":
        kwargs["auth"] = SignEvent(key_id, secret)
