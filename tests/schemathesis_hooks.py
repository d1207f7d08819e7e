"""Schemathesis hooks for the OpenAPI run (loaded with SCHEMATHESIS_HOOKS).

A schema says which requests are well formed; a few are refused for what they say about
data the schema cannot know. Those, and only those, are not counted as "schema-valid
request rejected":

- a submission whose heading does not fit the source section (a heading where the source
  has none, or none where it has one) or that names a source revision not yet written;
- a catalog upload, whose file is checked against the essay: its entries' contexts must be
  the essay's sections and its ``Language`` the URL's locale.

Every other refusal of schema-valid data is still a failure.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

HEADING_CODES = {"heading_missing", "heading_extra", "empty"}


def _problem(response: Any) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def refused_for_data(case: Any, response: Any) -> bool:
    if response.status_code != 422:
        return False
    path, method = case.operation.path, case.method.upper()
    if method == "POST" and path.endswith("/catalogs/{locale}.po"):
        return True
    if method == "POST" and path.endswith("/sections/{key}/translations"):
        problem = _problem(response)
        errors = problem.get("errors") or {}
        checks = problem.get("checks") or []
        if set(errors) == {"source_revision"}:
            return True
        return (
            bool(checks)
            and set(errors) == {"heading"}
            and all(c.get("code") in HEADING_CODES and c.get("field") == "heading" for c in checks)
        )
    return False


@schemathesis.check
def positive_data_accepted_unless_data_refuses(ctx: Any, response: Any, case: Any) -> bool | None:
    """``positive_data_acceptance``, except for the refusals listed above."""
    if refused_for_data(case, response):
        return None
    return positive_data_acceptance(ctx, response, case)
