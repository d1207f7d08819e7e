"""Property-based fuzzing of the whole HTTP surface from its own OpenAPI document.

schemathesis generates requests for every operation and checks that no response is a 5xx
and that every response, success or problem, matches what the document publishes for it.
Generated values alone would rarely name anything that exists, so each case is steered
(drawn by hypothesis, so that shrinking still works) towards the essay's real slug, unit
keys, locales, users and translation ids, the ETags edits need, real Markdown for essays and
a real catalog for uploads, and carries a reviewer's, a translator's or an admin's token,
or a personal token scoped to less than its owner's role.
Each operation must answer some cases with a 2xx, or the fuzzing never reached the code
behind the errors. DELETE is left out: archiving the essay would leave the other operations
nothing to reach. Examples and time are bounded so the suite stays quick.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import polib
import pytest
import schemathesis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from api import i18n
from api.extensions import db
from api.models import Delivery, GlossaryTerm, TranslationVersion, Unit, Webhook
from api.services import jobs
from api.services.outbound.webhooks import EVENT_TYPES
from tests.conftest import ROOT, SLUG, Person, make_person

MAX_EXAMPLES = int(os.environ.get("TARJUMA_FUZZ_EXAMPLES", "50"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
SPEC = "/api/v1/openapi.json"
PROBLEM = "application/problem+json"
STATUSES = ["submitted", "approved", "rejected", "withdrawn", "superseded"]
ACTIONS = ["translation.submitted", "translation.approved", "translation.rejected"]
# Webhook deliveries go nowhere: nothing runs the jobs that would send them.
HOOK = "http://127.0.0.1:9/tarjuma"
SEED = (ROOT / "content" / "essays" / f"{SLUG}.md").read_text(encoding="utf-8")
MALAY = "Keselamatan Negara Islam amat penting untuk Ummah."
ARABIC = "أمن الأمة الإسلامية مهم جدا."
MANAGED = "zainab"  # the person the admin's cases change and reset
SUBMISSIONS = [("translator", "ms", MALAY)] * 4 + [("admin", "ar", ARABIC)] * 2


@dataclass
class World:
    """What exists in the fuzzed app: the values a steered case may use."""

    keys: list[str]
    headed: set[str]
    locales: list[str]
    targets: list[str]
    users: list[str]
    people: dict[str, Person]
    client: FlaskClient
    ids: list[int] = field(default_factory=list)
    submitted: list[int] = field(default_factory=list)
    approved: list[int] = field(default_factory=list)
    webhooks: list[int] = field(default_factory=list)
    terms: list[int] = field(default_factory=list)
    deliveries: list[tuple[int, int]] = field(default_factory=list)

    def replenish(self) -> None:
        """New submitted versions (a translator's in Malay, the admin's in Arabic), so that
        each operation finds some to review, withdraw or comment on, and a webhook that
        has deliveries of them."""
        response = self.client.post(
            "/api/v1/webhooks",
            json={"url": HOOK, "events": list(EVENT_TYPES)},
            headers=self.people["admin"].headers,
        )
        assert response.status_code == 201, response.get_json()
        for key, (who, locale, text) in zip(self.keys, SUBMISSIONS, strict=False):
            response = self.client.post(
                f"/api/v1/essays/{SLUG}/sections/{key}/translations",
                json={
                    "locale": locale,
                    "body": text,
                    "heading": text if key in self.headed else None,
                },
                headers=self.people[who].headers,
            )
            # 200: the same text is already pending from them, or published; either way
            # there is a version for the operations to act on.
            assert response.status_code in (200, 201), response.get_json()
        with self.client.application.app_context():
            versions = db.session.execute(
                sa.select(TranslationVersion.id, TranslationVersion.status)
            )
            rows = versions.all()
            jobs.run_due(limit=50)  # deliveries to a closed port: failed at once
            self.webhooks = list(db.session.scalars(sa.select(Webhook.id)))
            self.terms = list(db.session.scalars(sa.select(GlossaryTerm.id)))
            pairs = db.session.execute(sa.select(Delivery.webhook_id, Delivery.id)).all()
            self.deliveries = [(pair.webhook_id, pair.id) for pair in pairs]
        self.ids = [row.id for row in rows]
        self.submitted = [row.id for row in rows if row.status == "submitted"]
        self.approved = [row.id for row in rows if row.status == "approved"]

    def essay_etag(self) -> str:
        url = f"/api/v1/essays/{SLUG}"
        return self.client.get(url, query_string={"locale": "en"}).headers.get("ETag", '"none"')

    def source_etag(self, key: str) -> str:
        url = f"/api/v1/essays/{SLUG}/sections/{key}"
        return self.client.get(url, query_string={"locale": "en"}).headers.get("ETag", '"none"')

    def catalog(self, locale: str, text: str) -> bytes:
        """The locale's catalog as exported, with one entry's translation replaced."""
        exported = self.client.get(f"/api/v1/essays/{SLUG}/catalogs/{locale}.po")
        if exported.status_code != 200:
            return exported.data
        po = polib.pofile(exported.data.decode("utf-8"))
        entry = next(e for e in po if e.msgctxt.endswith(".body"))
        entry.msgstr = text
        entry.flags = [flag for flag in entry.flags if flag != "fuzzy"]
        return str(po).encode("utf-8")


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_RETRY_SCHEDULE": "", "WEBHOOK_TIMEOUT": 1.0}


def _world(app: Flask, people: dict[str, Person]) -> World:
    client = app.test_client()
    make_person(app, MANAGED, "translator", "ms")
    with app.app_context():
        units = db.session.execute(sa.select(Unit.key, Unit.heading).order_by(Unit.id)).all()
        offered = list(i18n.registry().offered)
    return World(
        keys=[unit.key for unit in units],
        headed={unit.key for unit in units if unit.heading},
        locales=offered,
        targets=[code for code in offered if code != "en"],
        users=[person.name for person in people.values()],
        people={**people, **_scoped(client, people)},
        client=client,
    )


# Personal tokens narrower than their owner's role: a reviewer's that may only read, and
# a translator's and an admin's without review. What they may not do must be the
# documented 403 problem, and what they may, the same answers as a full token's.
SCOPED = {
    "reviewer/read": ("reviewer", ["read"]),
    "translator/translate": ("translator", ["read", "translate"]),
    "admin/translate": ("admin", ["read", "translate"]),
}


def _scoped(client: FlaskClient, people: dict[str, Person]) -> dict[str, Person]:
    made = {}
    for label, (owner, scopes) in SCOPED.items():
        response = client.post(
            "/api/v1/me/tokens",
            json={"name": label, "scopes": scopes, "expires_in_days": 30},
            headers=people[owner].headers,
        )
        assert response.status_code == 201, response.get_json()
        made[label] = replace(people[owner], token=response.get_json()["token"])
    return made


def _maybe(data: st.DataObject, values: st.SearchStrategy[Any]) -> Any:
    """A real value about three times in four; None leaves the generated one.

    The real value is the simpler choice, so that a failure shrinks towards it.
    """
    if data.draw(st.integers(0, 3)) == 3:
        return None
    return data.draw(values)


def _steer(case: schemathesis.Case, data: st.DataObject, world: World, tokens: list[str]) -> None:
    """Point a generated case at things that exist, keeping some of it generated."""
    real: dict[str, Callable[[], Any]] = {
        "slug": lambda: _maybe(data, st.just(SLUG)),
        "key": lambda: _maybe(data, st.sampled_from(world.keys)),
        "code": lambda: _maybe(data, st.sampled_from(world.locales)),
        "version_id": lambda: _maybe(
            data,
            # Only a published version can be unpublished; the others need a submitted one.
            st.sampled_from(world.approved)
            if case.operation.path.endswith("/unpublish") and world.approved
            else st.one_of(st.sampled_from(world.submitted), st.sampled_from(world.ids)),
        ),
        "webhook_id": lambda: _maybe(data, st.sampled_from(world.webhooks)),
        "term_id": lambda: _maybe(data, st.sampled_from(world.terms)),
        # Only a person nobody else's cases sign in as is changed: deactivating the
        # reviewer would leave the other operations without a working token.
        "name": lambda: _maybe(data, st.just(MANAGED)),
    }
    if "delivery_id" in (case.path_parameters or {}):
        pair = _maybe(data, st.sampled_from(world.deliveries))
        if pair is not None:
            case.path_parameters["webhook_id"], case.path_parameters["delivery_id"] = pair
    for name in list(case.path_parameters or {}):
        if name == "locale":
            value = _maybe(data, st.sampled_from(world.targets))
        elif name in real and not (name == "webhook_id" and "delivery_id" in case.path_parameters):
            value = real[name]()
        else:
            value = None
        if value is not None:
            case.path_parameters[name] = value
    queries: dict[str, Callable[[], Any]] = {
        "locale": lambda: _maybe(data, st.sampled_from([*world.locales, "*", "ms-MY"])),
        "status": lambda: _maybe(data, st.sampled_from(STATUSES)),
        "unit": lambda: _maybe(data, st.sampled_from(world.keys)),
        "user": lambda: _maybe(data, st.sampled_from(world.users)),
        "action": lambda: _maybe(data, st.sampled_from(ACTIONS)),
        "page": lambda: _maybe(data, st.integers(1, 3)),
        "per_page": lambda: _maybe(data, st.integers(1, 100)),
        "approve": lambda: _maybe(data, st.sampled_from(["false", "true"])),
    }
    if isinstance(case.query, dict):
        for name in list(case.query):
            if name in queries and (value := queries[name]()) is not None:
                case.query[name] = value
    if isinstance(case.body, dict):
        body: dict[str, Any] = case.body
        if "locale" in body:
            body["locale"] = _maybe(data, st.sampled_from(world.targets)) or body["locale"]
        if "source_revision" in body and _maybe(data, st.just(True)):
            body["source_revision"] = 1
        if "ids" in body and _maybe(data, st.just(True)):
            body["ids"] = data.draw(st.lists(st.sampled_from(world.ids), min_size=1, max_size=5))
        if "url" in body and _maybe(data, st.just(True)):
            body["url"] = HOOK
        if "events" in body and _maybe(data, st.just(True)):
            body["events"] = data.draw(st.lists(st.sampled_from(EVENT_TYPES), min_size=1))
        if "locales" in body and _maybe(data, st.just(True)):
            body["locales"] = data.draw(st.lists(st.sampled_from(world.targets), max_size=3))
        if "action" in body and _maybe(data, st.just(True)):
            body["action"] = data.draw(st.sampled_from(["approve", "reject"]))
            body.setdefault("reason", "Fuzzed")
    method = case.operation.method.upper()
    if method == "PUT" and case.operation.path.endswith("/sections/{key}"):
        headers = dict(case.headers or {})
        if _maybe(data, st.just(True)):
            headers["If-Match"] = world.source_etag(str(case.path_parameters.get("key")))
        case.headers = headers
    if case.operation.path in ("/api/v1/essays", "/api/v1/essays/{slug}") and method != "GET":
        if _maybe(data, st.just(True)):
            words = data.draw(st.text(st.characters(categories=["L", "N", "Zs"]), min_size=1))
            if method == "POST":
                case.body = f"# {words}\n\nAn introduction.\n\n## A section\n\nIts body.\n"
            else:  # the shipped essay, every section kept, its introduction longer
                case.body = SEED.replace("\n\n## ", f" {words}\n\n## ", 1)
            case.media_type = "text/markdown"
        if method == "PUT" and _maybe(data, st.just(True)):
            case.headers = {**(case.headers or {}), "If-Match": world.essay_etag()}
    if method == "POST" and case.operation.path == "/api/v1/memory.tmx":
        if _maybe(data, st.just(True)):
            locale = data.draw(st.sampled_from(world.targets))
            case.query = {**(case.query or {}), "locale": locale}
            case.body = world.client.get(
                "/api/v1/memory.tmx",
                query_string={"locale": locale},
                headers=world.people["admin"].headers,
            ).data
            case.media_type = "application/octet-stream"
    if method == "POST" and case.operation.path.endswith("/catalogs/{locale}.po"):
        if _maybe(data, st.just(True)):
            text = data.draw(st.text(min_size=1, max_size=80))
            case.body = world.catalog(str(case.path_parameters.get("locale")), text)
            case.media_type = "application/octet-stream"
    token = data.draw(st.sampled_from(tokens))
    if token:
        case.headers = {**(case.headers or {}), **world.people[token].headers}


def _fuzz_operation(operation: Any, world: World, tokens: list[str]) -> Counter[int]:
    """Fuzz one operation; the statuses it answered, counted."""
    statuses: Counter[int] = Counter()
    world.replenish()

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
        _steer(case, data, world, tokens)
        response = case.call()
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    run()
    return statuses


def _fuzz(app: Flask, world: World, methods: set[str], tokens: list[str]) -> dict[str, Counter]:
    """Fuzz every operation with these methods; per operation, the statuses answered."""
    schema = schemathesis.openapi.from_wsgi(SPEC, app)
    seen: dict[str, Counter] = {}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() not in methods:
            continue
        try:
            seen[operation.label] = _fuzz_operation(operation, world, tokens)
        except (AssertionError, ExceptionGroup) as error:
            failures.append(f"{operation.label}: {error!r}"[:2000])
    assert failures == []
    return seen


def _require_success(seen: dict[str, Counter]) -> None:
    successes = {
        label: sum(n for status, n in counts.items() if 200 <= status < 300)
        for label, counts in seen.items()
    }
    report = "\n".join(
        f"{label}: {successes[label]} of {counts.total()} cases answered 2xx"
        f" (by status: {dict(sorted(counts.items()))})"
        for label, counts in sorted(seen.items())
    )
    print(report)
    assert seen, "no operation was fuzzed"
    assert all(successes.values()), report


@pytest.mark.slow
def test_reading_api_never_fails_or_breaks_its_schema(
    app: Flask, people: dict[str, Person]
) -> None:
    world = _world(app, people)
    tokens = ["admin", "reviewer", "reviewer/read", "translator/translate", ""]
    _require_success(_fuzz(app, world, {"GET"}, tokens))


@pytest.mark.slow
def test_write_api_never_fails_or_breaks_its_schema(app: Flask, people: dict[str, Person]) -> None:
    world = _world(app, people)
    tokens = ["admin", "reviewer", "translator", *SCOPED]
    seen = _fuzz(app, world, {"POST", "PUT", "PATCH"}, tokens)
    _require_success(seen)


def test_every_client_error_is_documented_as_a_problem(app: Flask) -> None:
    """Every 4xx is documented as problem+json (not left to ``default``), so the schema
    check holds client errors to the problem document's shape."""
    schema = schemathesis.openapi.from_wsgi(SPEC, app)
    undocumented = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for status in range(400, 500):
            definition = operation.responses.find_by_status_code(status)
            if definition is None or definition.status_code == "default":
                undocumented.append(f"{operation.label} {status}")
                continue
            content = definition.definition.get("content") or {}
            if set(content) != {PROBLEM} or not content[PROBLEM].get("schema"):
                undocumented.append(f"{operation.label} {status}")
    assert undocumented == []
