"""Personal tokens: made, listed and revoked by their owners; scoped, expiring, and checked
against one table of what each endpoint needs (API.md: Teams, personal tokens)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import polib
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api import scopes
from api.extensions import db
from api.models import SCOPES, ApiToken, Event, TranslationVersion
from api.models.types import utcnow
from api.services.accounts import identity
from tests.conftest import SLUG, Person, make_person
from tests.test_console import bare_latin_text, csrf_token, html, in_persian, parse, post, sign_in
from tests.test_workflow import MALAY_INTRO

ESSAY = f"/api/v1/essays/{SLUG}"
INTRO = f"{ESSAY}/sections/introduction"
TOKENS = "/api/v1/me/tokens"
HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_RETRY_SCHEDULE": "", "WTF_CSRF_ENABLED": True}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_token(
    client: FlaskClient, owner: Person, scopes_: list[str], **extra: Any
) -> dict[str, Any]:
    response = client.post(
        TOKENS, json={"name": "tool", "scopes": scopes_, **extra}, headers=owner.headers
    )
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def set_token(app: Flask, token_id: int, **values: Any) -> None:
    with app.app_context():
        db.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(**values))
        db.session.commit()


def stored(app: Flask, token_id: int) -> ApiToken:
    with app.app_context():
        record = db.session.get(ApiToken, token_id)
        assert record is not None
        db.session.expunge(record)
        return record


# --- making, listing, revoking ----------------------------------------------------------


def test_a_token_is_made_shown_once_and_stored_hashed(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    before = utcnow()
    made = make_token(client, people["translator"], ["translate", "read"])
    assert set(made) == {"id", "name", "token", "prefix", "scopes", "created_at", "expires_at"}
    assert made["scopes"] == ["read", "translate"] and made["name"] == "tool"
    assert made["token"].startswith("tjl_") and made["token"].startswith(made["prefix"])
    record = stored(app, made["id"])
    assert made["token"] not in record.token_hash and len(record.token_hash) == 64
    # A release that knows no limits hashes tokens plainly: it never finds this one.
    assert record.token_hash != hashlib.sha256(made["token"].encode()).hexdigest()
    assert record.expires_at is not None
    days = (record.expires_at - before).total_seconds() / 86400
    assert 90 <= days < 90.01

    listed = client.get(TOKENS, headers=people["translator"].headers).get_json()
    assert made["token"] not in json.dumps(listed)
    mine = next(item for item in listed["items"] if item["id"] == made["id"])
    assert set(mine) == {
        "id",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
    }
    assert mine["last_used_at"] is None
    me = client.get("/api/v1/me", headers=bearer(made["token"]))
    assert me.status_code == 200 and me.get_json()["name"] == "tariq"


def test_the_listing_is_the_callers_own_live_tokens(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    kept = make_token(client, people["translator"], ["read"])
    dropped = make_token(client, people["translator"], ["read"])
    theirs = make_token(client, people["reviewer"], ["read"])
    assert client.delete(f"{TOKENS}/{dropped['id']}", headers=people["translator"].headers)
    listed = client.get(TOKENS, headers=people["translator"].headers).get_json()
    ids = [item["id"] for item in listed["items"]]
    assert kept["id"] in ids and dropped["id"] not in ids and theirs["id"] not in ids
    # The token made on the command line is there too, with its whole role.
    cli = next(item for item in listed["items"] if item["name"] is None)
    assert cli["scopes"] == ["read", "translate"] and cli["expires_at"] is None
    assert ids == sorted(ids, reverse=True) and listed["total"] == len(ids) == 2


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        ("translator", ["read", "translate"], ["review", "admin"]),
        ("reviewer", ["read", "translate", "review"], ["admin"]),
        ("admin", ["read", "translate", "review", "admin"], []),
    ],
)
def test_scopes_stay_within_the_role(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    who: str,
    allowed: list[str],
    refused: list[str],
) -> None:
    assert make_token(client, people[who], allowed)["scopes"] == allowed
    before = (count(app, ApiToken), count(app, Event))
    for scope in refused:
        response = client.post(
            TOKENS,
            json={"name": "too much", "scopes": ["read", scope]},
            headers=people[who].headers,
        )
        assert response.status_code == 422, response.get_json()
        assert response.mimetype == "application/problem+json"
        assert scope in response.get_json()["errors"]["scopes"][0]
    assert (count(app, ApiToken), count(app, Event)) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["read"], "expires_in_days": 366}, "expires_in_days"),
        ({"name": "x", "scopes": ["read"], "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["write"]}, "scopes.0"),
        ({"name": "   ", "scopes": ["read"]}, "name"),
        ({"name": "two\nlines", "scopes": ["read"]}, "name"),
        ({"name": "x" * 81, "scopes": ["read"]}, "name"),
        ({"scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": ["read"], "token": "mine"}, "token"),
    ],
)
def test_bad_requests_make_nothing(
    app: Flask, client: FlaskClient, people: dict[str, Person], body: dict[str, Any], field: str
) -> None:
    before = (count(app, ApiToken), count(app, Event))
    response = client.post(TOKENS, json=body, headers=people["admin"].headers)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert (count(app, ApiToken), count(app, Event)) == before


def test_a_year_is_the_longest(app: Flask, client: FlaskClient, people: dict[str, Person]) -> None:
    made = make_token(client, people["admin"], ["read"], expires_in_days=365)
    expires = stored(app, made["id"]).expires_at
    assert expires is not None and timedelta(days=364) < expires - utcnow() <= timedelta(days=365)


def test_a_revoked_token_is_refused_and_only_its_owner_revokes_it(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    made = make_token(client, people["translator"], ["read"])
    url = f"{TOKENS}/{made['id']}"
    assert client.delete(url, headers=people["reviewer"].headers).status_code == 404
    assert client.delete(url, headers=people["admin"].headers).status_code == 404
    assert client.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    assert client.delete(url, headers=people["translator"].headers).status_code == 204
    refused = client.get("/api/v1/me", headers=bearer(made["token"]))
    assert refused.status_code == 401
    assert client.delete(url, headers=people["translator"].headers).status_code == 404
    assert (
        client.delete(f"{TOKENS}/999999", headers=people["translator"].headers).status_code == 404
    )


def test_token_changes_are_in_the_event_log_without_secrets(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    made = make_token(client, people["reviewer"], ["read", "review"], expires_in_days=7)
    client.delete(f"{TOKENS}/{made['id']}", headers=people["reviewer"].headers)
    digest = stored(app, made["id"]).token_hash
    events = client.get(
        "/api/v1/events", query_string={"user": "rania"}, headers=people["admin"].headers
    ).get_json()["items"]
    logged = {e["action"]: e for e in events if e["action"].startswith("token.")}
    assert set(logged) == {"token.issued", "token.revoked"}
    issued, revoked = logged["token.issued"], logged["token.revoked"]
    assert issued["after"]["token_id"] == made["id"] == revoked["before"]["token_id"]
    assert issued["after"]["scopes"] == ["read", "review"] and issued["after"]["name"] == "tool"
    assert issued["after"]["prefix"] == made["prefix"]
    text = json.dumps(events)
    assert made["token"] not in text and digest not in text
    assert made["token"][len(made["prefix"]) :] not in text


# --- expiry, and the command line's tokens ----------------------------------------------


def test_an_expired_token_is_refused_with_401(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    made = make_token(client, people["translator"], ["read", "translate"])
    set_token(app, made["id"], expires_at=utcnow() - timedelta(seconds=1))
    versions = count(app, TranslationVersion)
    for response in (
        client.get("/api/v1/me", headers=bearer(made["token"])),
        client.post(
            f"{INTRO}/translations",
            json={"locale": "ms", "body": MALAY_INTRO},
            headers=bearer(made["token"]),
        ),
    ):
        assert response.status_code == 401
        assert response.get_json()["detail"] == "The token has expired."
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert count(app, TranslationVersion) == versions
    listed = client.get(TOKENS, headers=people["translator"].headers).get_json()["items"]
    assert made["id"] in [item["id"] for item in listed], "an expired token is still listed"


def test_command_line_tokens_keep_their_whole_role_and_may_expire(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    # The fixture's tokens come from the command line's service: no scopes, no expiry.
    reviewer = people["reviewer"]
    with app.app_context():
        record = db.session.scalar(
            sa.select(ApiToken).where(ApiToken.token_hash == identity.hash_token(reviewer.token))
        )
        assert record is not None and (record.scopes, record.expires_at) == (None, None)
    version = client.post(
        f"{INTRO}/translations",
        json={"locale": "ms", "body": MALAY_INTRO},
        headers=people["translator"].headers,
    ).get_json()["id"]
    approved = client.post(
        f"/api/v1/translations/{version}/approve", json={}, headers=reviewer.headers
    )
    assert approved.status_code == 200
    # A role-wide token may make tokens, within the role.
    assert make_token(client, reviewer, ["review"])["scopes"] == ["review"]

    runner = app.test_cli_runner()
    result = runner.invoke(args=["tokens", "create", "rania", "--expires-in-days", "2"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    token_id = int(result.output.split()[1])
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    expires = stored(app, token_id).expires_at
    assert expires is not None and timedelta(days=1) < expires - utcnow() <= timedelta(days=2)
    listing = runner.invoke(args=["tokens", "list"]).output
    line = next(row for row in listing.splitlines() if row.startswith(f"{token_id}\t"))
    assert "\tlive\t" in line and "\trole\t" in line
    set_token(app, token_id, expires_at=utcnow() - timedelta(minutes=1))
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    listing = runner.invoke(args=["tokens", "list"]).output
    assert "\texpired\t" in next(r for r in listing.splitlines() if r.startswith(f"{token_id}\t"))
    assert runner.invoke(args=["tokens", "create", "rania", "--expires-in-days", "0"]).exit_code
    # Revoking by the token itself works for tokens with limits too.
    made = make_token(client, reviewer, ["read"])
    assert runner.invoke(args=["tokens", "revoke", made["token"]]).exit_code == 0
    assert client.get("/api/v1/me", headers=bearer(made["token"])).status_code == 401


# --- last use ---------------------------------------------------------------------------


@pytest.fixture
def token_writes(app: Flask) -> Iterator[list[str]]:
    """Every statement that writes to api_tokens while the test runs."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listen)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", listen)


def test_last_use_is_written_at_most_once_a_minute(
    app: Flask, client: FlaskClient, people: dict[str, Person], token_writes: list[str]
) -> None:
    made = make_token(client, people["translator"], ["read"])
    token_writes.clear()  # the command line's token, used to make this one
    outside = client.post(
        TOKENS, json={"name": "x", "scopes": ["read"]}, headers=bearer(made["token"])
    )
    assert outside.status_code == 403
    assert token_writes == [] and stored(app, made["id"]).last_used_at is None, "refused: no use"
    for _ in range(5):
        assert client.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    assert len(token_writes) == 1
    first = stored(app, made["id"]).last_used_at
    assert first is not None and utcnow() - first < timedelta(minutes=1)

    recent = utcnow() - timedelta(seconds=50)
    set_token(app, made["id"], last_used_at=recent)
    token_writes.clear()
    client.get("/api/v1/me", headers=bearer(made["token"]))
    assert token_writes == [] and stored(app, made["id"]).last_used_at == recent

    stale = utcnow() - timedelta(minutes=2)
    set_token(app, made["id"], last_used_at=stale)
    token_writes.clear()
    client.get("/api/v1/me", headers=bearer(made["token"]))
    later = stored(app, made["id"]).last_used_at
    assert later is not None and later > stale + timedelta(minutes=1)
    assert len(token_writes) == 1
    listed = client.get(TOKENS, headers=people["translator"].headers).get_json()["items"]
    assert next(i for i in listed if i["id"] == made["id"])["last_used_at"] is not None


# --- the permission matrix --------------------------------------------------------------


def _catalog(client: FlaskClient) -> bytes:
    exported = client.get(f"{ESSAY}/catalogs/ms.po")
    po = polib.pofile(exported.get_data(as_text=True))
    entry = next(e for e in po if e.msgctxt == "introduction.body")
    entry.msgstr = MALAY_INTRO
    entry.flags = [flag for flag in entry.flags if flag != "fuzzy"]
    return str(po).encode("utf-8")


class World:
    """An admin (so that no role rule is in the way), a token of theirs for each scope, and
    things for each request to act on."""

    def __init__(self, app: Flask, client: FlaskClient, people: dict[str, Person]) -> None:
        self.client = client
        self.people = people
        admin = people["admin"]
        self.tokens = {scope: make_token(client, admin, [scope])["token"] for scope in SCOPES}
        self.submitted = [
            client.post(
                f"{ESSAY}/sections/{key}/translations",
                json={"locale": "ms", "body": MALAY_INTRO},
                headers=people["translator"].headers,
            ).get_json()["id"]
            for key in ("introduction", "conclusion", "title")
        ]
        self.own = client.post(
            f"{INTRO}/translations", json={"locale": "ar", "body": "مقدمة."}, headers=admin.headers
        ).get_json()["id"]
        self.doomed = make_token(client, admin, ["read"])["id"]
        self.catalog = _catalog(client)


PO = {"Content-Type": "text/x-gettext-translation"}
MARKDOWN = "# A new essay\n\nAn introduction.\n\n## A section\n\nIts body.\n"
# (label, method, path, request, the scope it needs, the status it answers with that scope)
MATRIX: list[tuple[str, str, str, dict[str, Any], str, int]] = [
    ("who am I", "GET", "/api/v1/me", {}, "read", 200),
    ("review queue", "GET", "/api/v1/reviews?locale=ms", {}, "read", 200),
    ("preview", "GET", f"{ESSAY}?preview=true&locale=ms", {}, "read", 200),
    ("pending catalog", "GET", f"{ESSAY}/catalogs/ms.po?pending=true", {}, "read", 200),
    ("history", "GET", f"{INTRO}/translations?locale=ms", {}, "read", 200),
    ("glossary", "GET", "/api/v1/glossary", {}, "read", 200),
    ("own tokens", "GET", TOKENS, {}, "read", 200),
    (
        "submission",
        "POST",
        f"{ESSAY}/sections/conclusion/translations",
        {"json": {"locale": "fr", "body": "Pour conclure."}},
        "translate",
        201,
    ),
    (
        "comment",
        "POST",
        "/api/v1/translations/{0}/comments",
        {"json": {"body": "Ok"}},
        "translate",
        201,
    ),
    ("withdrawal", "POST", "/api/v1/translations/{own}/withdraw", {}, "translate", 200),
    ("upload", "POST", f"{ESSAY}/catalogs/ms.po", {"catalog": True}, "translate", 201),
    ("approval", "POST", "/api/v1/translations/{0}/approve", {"json": {}}, "review", 200),
    (
        "rejection",
        "POST",
        "/api/v1/translations/{1}/reject",
        {"json": {"reason": "No."}},
        "review",
        200,
    ),
    (
        "release",
        "PUT",
        f"{ESSAY}/locales/ms",
        {"json": {"state": "staged"}},
        "review",
        200,
    ),
    (
        "preview link",
        "POST",
        f"{ESSAY}/preview-links",
        {"json": {"locale": "ms", "expires_in": 3600}},
        "review",
        201,
    ),
    (
        "glossary term",
        "POST",
        "/api/v1/glossary",
        {"json": {"term": "regional harmony", "locale": "ms", "translations": ["keharmonian"]}},
        "review",
        201,
    ),
    (
        "webhook",
        "POST",
        "/api/v1/webhooks",
        {"json": {"url": HOOK, "events": ["essay.created"]}},
        "admin",
        201,
    ),
    ("essay", "POST", "/api/v1/essays", {"markdown": MARKDOWN}, "admin", 201),
    ("new token", "POST", TOKENS, {"json": {"name": "more", "scopes": ["read"]}}, "admin", 201),
    ("revoking a token", "DELETE", TOKENS + "/{doomed}", {}, "admin", 204),
]


def _call(
    world: World, method: str, path: str, request: dict[str, Any], token: str
) -> TestResponse:
    path = path.format(*world.submitted, own=world.own, doomed=world.doomed)
    headers = bearer(token)
    kwargs: dict[str, Any] = {}
    if "json" in request:
        kwargs["json"] = request["json"]
    if "markdown" in request:
        kwargs["data"] = request["markdown"]
        headers["Content-Type"] = "text/markdown"
    if request.get("catalog"):
        kwargs["data"] = world.catalog
        headers.update(PO)
    return world.client.open(path, method=method, headers=headers, **kwargs)


def _changes(app: Flask) -> tuple[int, ...]:
    return tuple(count(app, model) for model in (Event, ApiToken, TranslationVersion))


@pytest.mark.parametrize(
    ("label", "method", "path", "request_", "needed", "status"),
    MATRIX,
    ids=[row[0] for row in MATRIX],
)
def test_each_scope_opens_its_own_work_and_nothing_else(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    label: str,
    method: str,
    path: str,
    request_: dict[str, Any],
    needed: str,
    status: int,
) -> None:
    world = World(app, client, people)
    before = _changes(app)
    for scope, token in world.tokens.items():
        if scope == needed:
            continue
        response = _call(world, method, path, request_, token)
        assert response.status_code == 403, (scope, response.get_json())
        problem = response.get_json()
        assert response.mimetype == "application/problem+json"
        assert problem["type"] == "urn:tarjuma:problem:insufficient-scope"
        assert problem["required_scope"] == needed
        assert f'scope="{needed}"' in response.headers["WWW-Authenticate"]
    assert _changes(app) == before, "a refused request changed nothing"
    response = _call(world, method, path, request_, world.tokens[needed])
    assert response.status_code == status, response.get_data(as_text=True)[:500]


def test_an_upload_that_approves_needs_review_too(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    translate = make_token(client, admin, ["translate"])["token"]
    both = make_token(client, admin, ["translate", "review"])["token"]
    url = f"{ESSAY}/catalogs/ms.po?approve=true"
    data = _catalog(client)
    versions = count(app, TranslationVersion)
    refused = client.post(url, data=data, headers={**bearer(translate), **PO})
    assert refused.status_code == 403 and refused.get_json()["required_scope"] == "review"
    assert count(app, TranslationVersion) == versions
    # Past the scopes, the review rules speak: nobody approves their own work.
    accepted = client.post(url, data=data, headers={**bearer(both), **PO})
    assert accepted.get_json()["type"] == "urn:tarjuma:problem:forbidden", accepted.get_json()


def test_public_reads_need_no_scope(client: FlaskClient, people: dict[str, Person]) -> None:
    review_only = make_token(client, people["admin"], ["review"])["token"]
    for path in (f"{ESSAY}?locale=ms", "/api/v1/locales", f"{ESSAY}/catalogs/ms.po"):
        assert client.get(path, headers=bearer(review_only)).status_code == 200, path


# --- the one table, and the document -----------------------------------------------------

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
# Console routes a browser reaches before or without a session; each needs no scope. The
# invitation and password links are their own credential, and so is a mail's unsubscribe
# link (a mail program posts to it, RFC 8058).
SESSION_ROUTES = {
    "console.sign_in",
    "console.sign_out",
    "console.set_locale",
    "console.join",
    "console.new_password",
    "shared.unsubscribe",
}


def test_every_route_is_in_the_table(app: Flask) -> None:
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) & METHODS
    }
    listed = {
        (endpoint, method) for endpoint, rules in scopes.ENDPOINTS.items() for method in rules
    }
    assert routes - listed == set(), "routes the table does not list"
    assert listed - routes == set(), "the table lists what is not a route"
    writes = {(e, m) for e, m in routes if m != "GET"}
    unscoped = {(e, m) for e, m in writes if not scopes.ENDPOINTS[e][m].scopes}
    assert {e for e, _ in unscoped} == SESSION_ROUTES
    for rules in scopes.ENDPOINTS.values():
        for need in rules.values():
            assert set(need.scopes) <= set(SCOPES)


def test_an_unlisted_endpoint_needs_admin() -> None:
    assert scopes.need("nowhere.New", "POST").scopes == ("admin",)
    assert scopes.need("workflow.Approve", "GET").scopes == ("admin",)
    assert scopes.need("workflow.Me", "HEAD").scopes == ("read",)


def test_the_document_states_each_operations_scope(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    bearer_scheme = spec["components"]["securitySchemes"]["bearer"]
    assert bearer_scheme["type"] == "http" and bearer_scheme["scheme"] == "bearer"
    assert "required_scope" in spec["components"]["schemas"]["Problem"]["properties"]
    paths = spec["paths"]
    assert paths["/api/v1/essays/{slug}/sections/{key}/translations"]["post"]["security"] == [
        {"bearer": ["translate"]}
    ]
    assert paths["/api/v1/translations/{version_id}/approve"]["post"]["security"] == [
        {"bearer": ["review"]}
    ]
    assert paths["/api/v1/webhooks"]["post"]["security"] == [{"bearer": ["admin"]}]
    assert paths["/api/v1/me/tokens"]["get"]["security"] == [{"bearer": ["read"]}]
    assert paths["/api/v1/essays/{slug}"]["get"]["security"] == [{}, {"bearer": ["read"]}]
    upload = paths["/api/v1/essays/{slug}/catalogs/{locale}.po"]["post"]
    assert upload["security"] == [{"bearer": ["translate"]}]
    assert "``approve=true``" in upload["description"] and "``review``" in upload["description"]
    assert "security" not in paths["/api/v1/changes"]["get"]
    operations = [op for ops in paths.values() for m, op in ops.items() if m != "parameters"]
    secured = [op for op in operations if "security" in op]
    assert len(secured) > 40
    for operation in secured:
        for requirement in operation["security"]:
            assert set(requirement) <= {"bearer"}
            assert all(s in SCOPES for s in requirement.get("bearer", []))


# --- the console ------------------------------------------------------------------------


def test_the_console_makes_lists_and_revokes_tokens(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    page = client.get("/console/tokens")
    assert page.status_code == 200
    text = html(page)
    assert 'value="read"' in text and 'value="translate"' in text
    assert 'value="review"' not in text and 'value="admin"' not in text
    assert "<script" not in text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["Cache-Control"] == "no-store"

    made = post(
        client,
        "/console/tokens",
        {"name": "Poedit on my laptop", "scopes": ["read", "translate"], "expires_in_days": "30"},
    )
    assert made.status_code == 201
    shown = html(made)
    with app.app_context():
        record = db.session.scalars(
            sa.select(ApiToken).where(ApiToken.name == "Poedit on my laptop")
        ).one()
        found = re.search(r'id="new-token"[^>]*value="([^"]+)"', shown)
        assert found is not None
        token = found.group(1)
        assert record.scopes == "read translate" and record.token_hash == identity.hash_token(token)
        assert record.expires_at is not None
        assert timedelta(days=29) < record.expires_at - utcnow() <= timedelta(days=30)
        record_id = record.id
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    listing = html(client.get("/console/tokens"))
    assert "Poedit on my laptop" in listing and token not in listing

    refused = post(client, "/console/tokens", {"name": "x", "scopes": ["admin"]})
    assert (
        refused.status_code == 422
        and "The admin scope is beyond what your role may do." in html(refused)
    )
    empty = post(client, "/console/tokens", {"name": "x"})
    assert empty.status_code == 422 and "Choose at least one scope." in html(empty)

    revoked = post(client, f"/console/tokens/{record_id}/revoke")
    assert revoked.status_code == 303
    assert "is revoked" in html(client.get("/console/tokens"))
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    others = make_token(client, people["reviewer"], ["read"])
    assert post(client, f"/console/tokens/{others['id']}/revoke").status_code == 404
    assert client.get("/api/v1/me", headers=bearer(others["token"])).status_code == 200


def test_a_console_session_does_only_what_its_token_may(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    read_only = make_token(client, people["translator"], ["read"])
    sign_in(client, Person("tariq", "translator", ("ms",), read_only["token"]))
    assert client.get("/console/").status_code == 200
    editor = f"/console/translate/{SLUG}/ms/introduction"
    assert client.get(editor).status_code == 200
    versions = count(app, TranslationVersion)
    response = client.post(
        editor,
        data={
            "csrf_token": csrf_token(client, editor),
            "body": MALAY_INTRO,
            "source_revision": "1",
        },
    )
    assert response.status_code == 403
    assert "translate" in html(response)
    assert count(app, TranslationVersion) == versions
    assert post(client, "/console/tokens", {"name": "x", "scopes": ["read"]}).status_code == 403

    translate_only = make_token(client, people["translator"], ["translate"])
    post(client, "/console/sign-out")
    sign_in(client, Person("tariq", "translator", ("ms",), translate_only["token"]))
    assert client.get("/console/").status_code == 403

    set_token(app, translate_only["id"], expires_at=utcnow() - timedelta(seconds=1))
    response = client.get("/console/")
    assert response.status_code == 302 and "/console/sign-in" in response.headers["Location"]


def test_the_persian_tokens_page_isolates_latin_text(app: Flask, client: FlaskClient) -> None:
    farhad = make_person(app, "farhad", "translator", "fa")
    sign_in(in_persian(client), farhad)
    made = post(client, "/console/tokens", {"name": "Poedit", "scopes": ["read"]})
    for response in (made, client.get("/console/tokens")):
        tree = parse(response)
        assert tree.get("dir") == "rtl"
        assert bare_latin_text(tree) == []
