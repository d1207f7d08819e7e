"""Schemathesis hooks for the OpenAPI run (loaded with SCHEMATHESIS_HOOKS).

A schema says which requests are well formed; a few are refused for what they say about
data the schema cannot know. Those, and only those, are not counted as "schema-valid
request rejected":

- a submission whose heading does not fit the source section (a heading where the source
  has none, or none where it has one) or that names a source revision not yet written;
- a catalog upload, whose file is checked against the essay: its entries' contexts must be
  the essay's sections and its ``Language`` the URL's locale;
- a change-feed cursor that is well formed but was never handed out (the feed is not
  that long yet);
- a preview of every locale at once (``?preview=true&locale=*``): each parameter is valid,
  the pair is not, and OpenAPI cannot say so;
- a glossary term refused by the glossary's own rules on its term and renderings: a term
  or rendering must hold a word of its language, and no rendering may be both allowed and
  forbidden; a schema can say neither;
- a personal token asked with a scope beyond the caller's role (which the schema cannot
  know).

Every other refusal of schema-valid data is still a failure.
"""

from __future__ import annotations

import json
import re
from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

HEADING_CODES = {"heading_missing", "heading_extra", "empty"}
CURSOR = re.compile(r"c_[0-9a-f]{16}")
GLOSSARY = {"/api/v1/glossary", "/api/v1/glossary/{term_id}"}
GLOSSARY_RULES = {"term", "translations", "forbidden"}
TOKENS = "/api/v1/me/tokens"
# What a service's refusal is typed as; a schema's own refusal is ``validation-failed``.
UNPROCESSABLE = "urn:tarjuma:problem:unprocessable"


def _problem(response: Any) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _query(case: Any) -> dict[str, Any]:
    query = getattr(case, "query", None)
    return query if isinstance(query, dict) else {}


def refused_as_a_bad_request(case: Any, response: Any) -> bool:
    path, method = case.operation.path, case.method.upper()
    problem = _problem(response)
    query = _query(case)
    if method == "GET" and path == "/api/v1/changes":
        return set(problem.get("errors") or {}) == {"cursor"} and bool(
            CURSOR.fullmatch(str(query.get("cursor", "")))
        )
    if method == "GET" and path == "/api/v1/essays/{slug}":
        return (
            problem.get("type") == "urn:tarjuma:problem:malformed-locale"
            and query.get("locale") == "*"
            and str(query.get("preview")).lower() in {"true", "1"}
        )
    return False


def refused_for_data(case: Any, response: Any) -> bool:
    if response.status_code == 400:
        return refused_as_a_bad_request(case, response)
    if response.status_code != 422:
        return False
    path, method = case.operation.path, case.method.upper()
    if method == "POST" and path.endswith("/catalogs/{locale}.po"):
        return True
    if path in GLOSSARY and method in {"POST", "PUT"}:
        problem = _problem(response)
        errors = set(problem.get("errors") or {})
        return problem.get("type") == UNPROCESSABLE and bool(errors) and errors <= GLOSSARY_RULES
    if method == "POST" and path == TOKENS:
        problem = _problem(response)
        errors = set(problem.get("errors") or {})
        return problem.get("type") == UNPROCESSABLE and errors == {"scopes"}
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
