"""Property-based fuzzing of the whole HTTP surface from its own OpenAPI document.

schemathesis generates requests for every operation (reads anonymously, writes with a
valid admin token) and checks that no response is a 5xx and every response matches the
schema the API publishes for it. Examples and time are bounded so the suite stays quick.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.conftest import make_person

MAX_EXAMPLES = int(os.environ.get("TARJUMA_FUZZ_EXAMPLES", "50"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _fuzz(app: Flask, headers: dict[str, str], methods: set[str]) -> list[str]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() not in methods:
            continue

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), data=st.data())
        def run(case: schemathesis.Case, data: st.DataObject) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (AssertionError, ExceptionGroup) as error:
            failures.append(f"{operation.label}: {error!r}"[:2000])
    return failures


@pytest.mark.slow
def test_reading_api_never_fails_or_breaks_its_schema(app: Flask) -> None:
    assert _fuzz(app, {}, {"GET"}) == []


@pytest.mark.slow
def test_write_api_with_a_valid_token_never_fails(app: Flask) -> None:
    admin = make_person(app, "fuzzer", "admin")
    failures = _fuzz(app, admin.headers, {"POST", "PUT"})
    assert failures == []
