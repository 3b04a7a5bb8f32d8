"""The schema fuzz (tests/fuzz/run.py) in `make test`: schemathesis as nobody, a customer,
a vendor and an admin finds no server error and no answer the OpenAPI document does
not declare. About 2 minutes; `make fuzz` runs it alone."""

from __future__ import annotations

import pytest

from tests.fuzz import run


@pytest.mark.slow
def test_the_api_answers_as_its_openapi_document_says() -> None:
    assert run.main([]) == 0, "schemathesis found failures: see the output above"
