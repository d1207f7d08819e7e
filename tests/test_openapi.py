"""The OpenAPI document states what the server enforces, and standard tools can build on it.

Against a live server (werkzeug, on a free port, over a real database):

- ``schemathesis run --checks all`` with a reviewer's personal token scoped to what a
  reviewer does (``read``, ``translate``, ``review``), positive and negative data,
  finds nothing: no schema-valid request refused except for what depends on data (401,
  403, 404, 409 and the refusals ``tests/schemathesis_hooks.py`` lists), no invalid
  request accepted, every response as documented;
- ``openapi-python-client generate`` builds a whole client, which submits, approves and
  reads a translation.
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api import i18n
from api.extensions import db
from api.models import Event
from api.services.accounts import identity, tokens
from tests.conftest import ROOT, SLUG, Person, make_person
from tests.schemathesis_hooks import refused_for_data

BIN = Path(sys.executable).parent
# The configuration the README shows: without it the generator drops the authoring,
# catalog and TMX endpoints (their bodies are Markdown, PO and XML).
CLIENT_CONFIG = Path(__file__).resolve().parent.parent / "clients" / "openapi-python-client.yaml"
EXAMPLES = os.environ.get("TARJUMA_OPENAPI_EXAMPLES", "5")


def _tool_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


# --- the document itself ----------------------------------------------------------------


@pytest.fixture
def spec(app: Flask) -> dict[str, Any]:
    document: dict[str, Any] = app.test_client().get("/api/v1/openapi.json").get_json()
    return document


def test_request_bodies_name_every_member(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("Submission", "Approve", "Reject", "CommentIn", "BulkApprove", "BulkReject"):
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["Reject"]["properties"]["reason"]["minLength"] == 1
    assert schemas["Translation"]["properties"]["checks"]["items"] == {
        "$ref": "#/components/schemas/Check"
    }
    assert schemas["Check"]["properties"]["severity"]["enum"] == ["error", "warning"]


def _bodies(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON request body's schema (each branch of a ``oneOf``), by operation."""
    schemas = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            content = (operation.get("requestBody") or {}).get("content") or {}
            body = (content.get("application/json") or {}).get("schema")
            if body is None:
                continue
            for branch in body.get("oneOf", [body]):
                yield f"{method.upper()} {path}", schemas[branch["$ref"].rsplit("/", 1)[1]]


def test_every_json_body_refuses_unknown_members(spec: dict[str, Any]) -> None:
    bodies = list(_bodies(spec))
    for operation, schema in bodies:
        assert schema.get("additionalProperties") is False, operation
    operations = {operation for operation, _ in bodies}
    assert {
        "POST /api/v1/webhooks",
        "PATCH /api/v1/webhooks/{webhook_id}",
        "POST /api/v1/essays/{slug}/preview-links",
        "PUT /api/v1/essays/{slug}/locales/{locale}",
        "POST /api/v1/translations/{version_id}/unpublish",
    } <= operations


def test_new_locale_members_and_parameters_state_their_pattern(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    offered_exact = schemas["OfferedLocale"]["pattern"]
    for name in ("WebhookIn", "WebhookPatch"):
        assert schemas[name]["properties"]["locales"]["items"]["pattern"] == offered_exact
    assert schemas["PreviewLinkIn"]["properties"]["locale"]["pattern"] == offered_exact
    assert schemas["Unpublish"]["properties"]["reason"]["minLength"] == 1
    feed = {p["name"]: p for p in spec["paths"]["/api/v1/changes"]["get"]["parameters"]}
    assert feed["locale"]["schema"]["items"]["pattern"] == offered_exact
    assert re.search(feed["cursor"]["schema"]["pattern"], "c_00000000000000ff")
    release = spec["paths"]["/api/v1/essays/{slug}/locales/{locale}"]
    locale = next(p for p in release["parameters"] if p["name"] == "locale")
    assert locale["schema"] == {"$ref": "#/components/schemas/TargetLocale"}
    authoring = spec["paths"]["/api/v1/essays"]["post"]["parameters"]
    slug = next(p for p in authoring if p["name"] == "slug")["schema"]
    assert re.search(slug["pattern"], "my-essay.v2") and not re.search(slug["pattern"], "-x")


ESSAY = f"/api/v1/essays/{SLUG}"
WEBHOOK = {"url": "https://hooks.example.org/tarjuma", "events": ["essay.created"]}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("GET", "/api/v1/changes?per_page=0", None, 400, "per_page"),
        ("GET", "/api/v1/changes?locale=" + "a" * 65, None, 400, "locale.0"),
        ("GET", "/api/v1/webhooks?page=0", None, 400, "page"),
        ("GET", "/api/v1/webhooks/1/deliveries?per_page=101", None, 400, "per_page"),
        ("POST", "/api/v1/essays?slug=" + "a" * 201, None, 400, "slug"),
        ("POST", "/api/v1/webhooks", {**WEBHOOK, "secret": "mine"}, 422, "secret"),
        ("PATCH", "/api/v1/webhooks/1", {"colour": "red"}, 422, "colour"),
        (
            "POST",
            f"{ESSAY}/preview-links",
            {"locale": "ms", "expires_in": 3600, "to": 1},
            422,
            "to",
        ),
        ("PUT", f"{ESSAY}/locales/ms", {"state": "staged", "when": "now"}, 422, "when"),
        ("POST", "/api/v1/translations/1/unpublish", {"reason": "Wrong.", "x": 1}, 422, "x"),
        ("GET", "/api/v1/glossary?locale=zz", None, 400, "locale"),
        ("GET", "/api/v1/memory?q=x", None, 400, "locale"),
        ("GET", f"{ESSAY}/sections/introduction/suggestions?locale=en", None, 400, "locale"),
        (
            "POST",
            "/api/v1/glossary",
            {"term": "x", "locale": "ar", "translations": ["y"], "z": 1},
            422,
            "z",
        ),
    ],
)
def test_the_server_refuses_what_the_document_refuses(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    field: str,
) -> None:
    """Malformed query strings are 400, unknown members 422; nothing changes either way."""
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(Event.id)))
    response = client.open(path, method=method, json=body, headers=people["admin"].headers)
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Event.id))) == before


def test_essay_texts_state_the_characters_they_refuse(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("Submission", "SourceEdit"):
        for member in ("heading", "body"):
            pattern = ecma(schemas[name]["properties"][member]["pattern"])
            assert pattern.search("Line one\r\nline\ttwo"), (name, member)
            for refused in ("\x00", "\x01", "\x0b", "\x1b"):
                assert not pattern.search(f"Text{refused}"), (name, member, refused)
    body = ecma(schemas["Submission"]["properties"]["body"]["pattern"])
    assert not body.search(" \r\n\u200b")
    comment = ecma(schemas["CommentIn"]["properties"]["body"]["pattern"])
    assert comment.search("A\x01B")  # a comment is no essay text


def test_locale_parameters_state_their_pattern(spec: dict[str, Any]) -> None:
    essays = spec["paths"]["/api/v1/essays"]["get"]["parameters"]
    locale = next(p for p in essays if p["name"] == "locale")["schema"]
    assert locale["maxLength"] == 64 and locale["pattern"].startswith("^")
    submission = spec["components"]["schemas"]["Submission"]["properties"]["locale"]
    assert re.search(submission["pattern"], "ar_eg") is None
    assert re.search(submission["pattern"], "AR") and not re.search(submission["pattern"], "en")
    assert spec["components"]["schemas"]["ReadableLocale"]["pattern"].startswith(r"^(?:\*|")


def ecma(pattern: str) -> re.Pattern[str]:
    """A document's pattern as ECMA 262 reads it: its ``$`` is Python's ``\\Z``."""
    assert pattern.endswith("$")
    return re.compile(pattern[:-1] + r"\Z")


def _resolves(registry: i18n.LocaleRegistry, tag: str) -> bool:
    try:
        return registry.resolve(i18n.normalise_tag(tag)) is not None
    except i18n.MalformedLocale:
        return False


def test_locale_patterns_take_exactly_what_negotiation_takes() -> None:
    registry = i18n.LocaleRegistry(
        ["en", "ar", "ms", "pt-BR", "zh-Hant", "sr-Latn-RS", "ca-valencia"],
        source="en",
        default="en",
        fallbacks={},
    )
    offered, exact = (ecma(registry.pattern(kind)) for kind in ("offered", "offered-exact"))
    spellings = itertools.product(
        ["ar", "AR", "pt", "zh", "sr", "en", "xx", "msa", "e", "ａｒ", "ca"],
        [None, "Latn", "hant", "abcd"],
        [None, "BR", "eg", "RS", "419", "1"],
        [[], ["x1234"], ["1abc"], ["abcd"], ["valencia"]],
        ["-", "_"],
    )
    for language, script, region, variants, separator in spellings:
        tag = separator.join([p for p in (language, script, region) if p] + variants)
        assert bool(offered.search(tag)) == _resolves(registry, tag), tag
        try:
            is_offered = i18n.normalise_tag(tag) in registry.offered
        except i18n.MalformedLocale:
            is_offered = False
        assert bool(exact.search(tag)) == is_offered, tag
    for odd in ("ar\n", " ar", "\u212a", "ar-\u212aa", "*", ""):
        assert not offered.search(odd) and not _resolves(registry, odd), repr(odd)


# --- schemathesis -----------------------------------------------------------------------


def test_schemathesis_finds_nothing(app: Flask, live_server: str, tmp_path: Path) -> None:
    reviewer = make_person(app, "schemathesis", "reviewer", "ms", "ar")
    # A scoped token, as a reviewer's tool would have: without ``admin`` it cannot revoke
    # itself (``DELETE /me/tokens/{id}``) halfway through the run.
    with app.app_context():
        user = identity.get_user(reviewer.name)
        token = tokens.create(user, "schemathesis", ["read", "translate", "review"], 1).token
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"{live_server}/api/v1/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        EXAMPLES,
        "--seed",
        "1",
        "--workers",
        "1",
        "--continue-on-failure",
        "--header",
        f"Authorization: Bearer {token}",
    ]
    env = {
        **_tool_env(),
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
    }
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20000:]
    tested = re.search(r"Tested:\s+(\d+)", output)
    assert tested and int(tested.group(1)) >= 20, output[-3000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts and int(counts.group(1)) > 200, output[-3000:]


class _Response:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code = status
        self.content = json.dumps(body).encode()


class _Case:
    def __init__(self, method: str, path: str, query: dict[str, Any] | None = None) -> None:
        self.method = method
        self.operation = type("Operation", (), {"path": path})()
        self.query = query


SUBMIT = "/api/v1/essays/{slug}/sections/{key}/translations"


@pytest.mark.parametrize(
    ("case", "status", "body", "excused"),
    [
        (_Case("POST", SUBMIT), 422, {"errors": {"source_revision": ["…"]}}, True),
        (
            _Case("POST", SUBMIT),
            422,
            {
                "errors": {"heading": ["…"]},
                "checks": [{"code": "heading_extra", "field": "heading"}],
            },
            True,
        ),
        (
            _Case("POST", SUBMIT),
            422,
            {"errors": {"body": ["…"]}, "checks": [{"code": "empty", "field": "body"}]},
            False,
        ),
        (_Case("POST", SUBMIT), 422, {"errors": {"locale": ["…"]}}, False),
        (_Case("POST", SUBMIT), 400, {}, False),
        (_Case("POST", "/api/v1/essays/{slug}/catalogs/{locale}.po"), 422, {}, True),
        (_Case("POST", "/api/v1/reviews/bulk"), 422, {"errors": {"reason": ["…"]}}, False),
        (
            _Case("POST", "/api/v1/glossary"),
            422,
            {"type": "urn:tarjuma:problem:unprocessable", "errors": {"forbidden": ["…"]}},
            True,
        ),
        (
            _Case("PUT", "/api/v1/glossary/{term_id}"),
            422,
            {"type": "urn:tarjuma:problem:validation-failed", "errors": {"term": ["…"]}},
            False,
        ),
        (
            _Case("POST", "/api/v1/glossary"),
            422,
            {"type": "urn:tarjuma:problem:unprocessable", "errors": {"locale": ["…"]}},
            False,
        ),
        (
            _Case("POST", "/api/v1/me/tokens"),
            422,
            {"type": "urn:tarjuma:problem:unprocessable", "errors": {"scopes": ["…"]}},
            True,
        ),
        (
            _Case("POST", "/api/v1/me/tokens"),
            422,
            {"type": "urn:tarjuma:problem:validation-failed", "errors": {"scopes": ["…"]}},
            False,
        ),
        (
            _Case("GET", "/api/v1/changes", {"cursor": "c_00000000000000ff"}),
            400,
            {"errors": {"cursor": ["…"]}},
            True,
        ),
        (
            _Case("GET", "/api/v1/changes", {"cursor": "c_1", "locale": ["ar"]}),
            400,
            {"errors": {"cursor": ["…"]}},
            False,
        ),
        (
            _Case("GET", "/api/v1/changes", {"locale": ["xx"]}),
            400,
            {"type": "urn:tarjuma:problem:locale-not-offered"},
            False,
        ),
        (
            _Case("GET", "/api/v1/essays/{slug}", {"locale": "*", "preview": True}),
            400,
            {"type": "urn:tarjuma:problem:malformed-locale"},
            True,
        ),
        (
            _Case("GET", "/api/v1/essays/{slug}", {"locale": "*"}),
            400,
            {"type": "urn:tarjuma:problem:malformed-locale"},
            False,
        ),
    ],
)
def test_only_refusals_about_data_are_excused(
    case: _Case, status: int, body: dict[str, Any], excused: bool
) -> None:
    assert refused_for_data(case, _Response(status, body)) is excused


# --- a generated client -----------------------------------------------------------------


def _generate_client(document: dict[str, Any], directory: Path) -> Any:
    (directory / "openapi.json").write_text(json.dumps(document), encoding="utf-8")
    run = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            str(CLIENT_CONFIG),
            "--meta",
            "none",
            "--output-path",
            "tarjuma_client",
            "--fail-on-warning",
        ],
        cwd=directory,
        env=_tool_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(directory))
    importlib.invalidate_caches()
    return importlib.import_module("tarjuma_client")


@pytest.fixture
def generated(app: Flask, tmp_path: Path) -> Iterator[Any]:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    try:
        yield _generate_client(document, tmp_path)
    finally:
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.split(".")[0] == "tarjuma_client"]:
            del sys.modules[name]


def test_a_generated_client_submits_approves_and_reads(
    generated: Any, live_server: str, people: dict[str, Person]
) -> None:
    models = importlib.import_module("tarjuma_client.models")
    for name in ("Translation", "TranslationPage", "ReviewItem", "TranslationDetail", "Check"):
        assert hasattr(models, name), name
    workflow = "tarjuma_client.api.workflow."
    submit = importlib.import_module(workflow + "post_api_v1_essays_slug_sections_key_translations")
    approve = importlib.import_module(workflow + "post_api_v1_translations_version_id_approve")
    queue = importlib.import_module(workflow + "get_api_v1_reviews")
    detail = importlib.import_module(workflow + "get_api_v1_translations_version_id")
    read = importlib.import_module("tarjuma_client.api.reading.get_api_v1_essays_slug")
    # Markdown bodies: present through the shipped configuration.
    for authoring in ("post_api_v1_essays", "put_api_v1_essays_slug"):
        assert hasattr(importlib.import_module(f"tarjuma_client.api.reading.{authoring}"), "sync")

    def client(person: Person) -> Any:
        return generated.AuthenticatedClient(base_url=live_server, token=person.token)

    text = "Pengenalan ini diterjemahkan dengan klien yang dijana."
    version = submit.sync(
        slug=SLUG,
        key="introduction",
        client=client(people["translator"]),
        body=models.Submission(locale="ms", body=text),
    )
    assert isinstance(version, models.Submitted), version
    assert version.status == models.SubmittedStatus.SUBMITTED and version.unchanged is False
    again = submit.sync(
        slug=SLUG,
        key="introduction",
        client=client(people["translator"]),
        body=models.Submission(locale="ms", body=text),
    )
    assert isinstance(again, models.Submitted), again
    assert (again.id, again.unchanged) == (version.id, True)
    assert all(isinstance(check, models.Check) for check in version.checks)

    waiting = queue.sync(client=client(people["reviewer"]), locale="ms")
    assert isinstance(waiting, models.ReviewPage)
    assert [item.id for item in waiting.items if isinstance(item, models.ReviewItem)] == [
        version.id
    ]

    approved = approve.sync(
        version_id=version.id,
        client=client(people["reviewer"]),
        body=models.Approve(comment="Baik."),
    )
    assert isinstance(approved, models.Translation)
    assert approved.status == models.TranslationStatus.APPROVED
    history = detail.sync(version_id=version.id, client=client(people["reviewer"]))
    assert isinstance(history, models.TranslationDetail)
    assert {"translation.submitted", "translation.approved"} <= {e.action for e in history.events}

    essay = read.sync(slug=SLUG, client=generated.Client(base_url=live_server), locale="ms")
    assert isinstance(essay, models.Essay)
    section = next(s for s in essay.sections if s.key == "introduction")
    assert (section.body, section.locale, section.fallback) == (text, "ms", False)
    assert section.direction == "ltr" and essay.requested_locale == "ms"

    feed = importlib.import_module("tarjuma_client.api.delivery.get_api_v1_changes")
    changes = feed.sync(client=generated.Client(base_url=live_server), locale=["ms"])
    assert isinstance(changes, models.ChangePage)
    assert ("introduction", "ms", text) in {(c.unit, c.locale, c.body) for c in changes.items}

    refused = submit.sync_detailed(
        slug=SLUG,
        key="introduction",
        client=client(people["translator"]),
        body=models.Submission(locale="ms", body="   "),
    )
    assert refused.status_code == 422
