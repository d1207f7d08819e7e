"""The translation workflow over HTTP (API.md: Identity, Submissions, Review, Source edits)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models import ApiToken, TranslationVersion
from tests.conftest import SLUG, Person

ESSAY = f"/api/v1/essays/{SLUG}"
INTRO = f"{ESSAY}/sections/introduction"
MALAY_INTRO = (
    "Memajukan keselamatan Negara Islam amat penting untuk memperkukuh Ummah dan menjamin"
    " keselamatan umat Islam di seluruh dunia. Advokasi ini berasaskan pelbagai unsur seperti"
    " pakatan strategik, hubungan diplomatik, operasi perisikan dan kemajuan teknologi dalam"
    " pertahanan. Mari kita teliti isu penting ini."
)
MALAY_HEADED = {
    "heading": "Pakatan Strategik dan Diplomasi",
    "body": (
        "Usaha memajukan keselamatan sesebuah Negara Islam melangkaui sempadannya hingga ke"
        " pentas antarabangsa. Sebagai sebahagian daripada komitmen Ummah, adalah penting untuk"
        " memupuk dan memelihara hubungan dengan negara-negara yang menjunjung hak masyarakat"
        " Islam untuk hidup dengan aman. Justeru, diplomasi antarabangsa memainkan peranan yang"
        " penting. Sebagai contoh, perjanjian damai antara pelbagai negara Islam telah banyak"
        " menyumbang kepada kestabilan serantau."
    ),
}


def submit(client: FlaskClient, person: Person, key: str = "introduction", **payload: Any) -> Any:
    body: dict[str, Any] = {"locale": "ms", "body": MALAY_INTRO, "source_revision": 1}
    body.update(payload)
    return client.post(f"{ESSAY}/sections/{key}/translations", json=body, headers=person.headers)


def action(client: FlaskClient, person: Person, version_id: int, name: str, **payload: Any) -> Any:
    return client.post(
        f"/api/v1/translations/{version_id}/{name}", json=payload, headers=person.headers
    )


def count_versions(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(TranslationVersion.id))) or 0


# --- identity ---------------------------------------------------------------------------


def test_cli_creates_users_and_tokens_stored_hashed(app: Flask, client: FlaskClient) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "amina",
            "--role",
            "translator",
            "--locale",
            "ms",
            "--locale",
            "AR_eg",
        ]
    )
    assert result.exit_code != 0 and "not offered" in result.output
    result = runner.invoke(
        args=[
            "users",
            "create",
            "amina",
            "--role",
            "translator",
            "--locale",
            "ms",
            "--locale",
            "ur",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["tokens", "create", "amina"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("tj_") and len(token) > 40
    with app.app_context():
        stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json() == {"name": "amina", "roles": ["translator"], "locales": ["ms", "ur"]}

    listing = runner.invoke(args=["tokens", "list"])
    assert "amina" in listing.output and token not in listing.output
    assert runner.invoke(args=["tokens", "revoke", "amina"]).exit_code == 0
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500]
)
def test_missing_or_invalid_token_is_401(client: FlaskClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.post(
        f"{INTRO}/translations", json={"locale": "ms", "body": "x"}, headers=headers
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["Content-Type"] == "application/problem+json"


# --- submissions ------------------------------------------------------------------------


def test_submission_is_stored_with_location_and_not_public(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    before = client.get(ESSAY, query_string={"locale": "ms"})
    response = submit(client, people["translator"], note="first draft")
    assert response.status_code == 201
    version = response.get_json()
    assert version["status"] == "submitted" and version["version"] == 1
    assert version["author"] == "tariq" and version["section"] == "introduction"
    assert version["source_revision"] == 1 and version["created_at"].endswith("Z")
    assert response.headers["Location"].endswith(f"/api/v1/translations/{version['id']}")
    after = client.get(ESSAY, query_string={"locale": "ms"})
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.get_json()["sections"][0]["locale"] == "id"
    assert client.get(f"/api/v1/translations/{version['id']}").status_code == 401
    detail = client.get(
        f"/api/v1/translations/{version['id']}", headers=people["fr_translator"].headers
    ).get_json()
    assert [e["action"] for e in detail["events"]] == ["translation.submitted"]


def test_title_is_translated_as_the_title_unit(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    response = submit(
        client,
        people["translator"],
        key="title",
        body="Memperjuangkan Keselamatan Negara Islam: Membina Ummah yang Kukuh",
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["section"] == "title"


def test_warnings_are_stored_and_do_not_block(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    response = submit(
        client, people["translator"], body=MALAY_INTRO.replace("ini.", "ini pada 2026.")
    )
    assert response.status_code == 201
    codes = {c["code"] for c in response.get_json()["checks"]}
    assert "numbers" in codes
    assert all(c["severity"] == "warning" and c["message"] for c in response.get_json()["checks"])


@pytest.mark.parametrize(
    ("key", "payload", "field"),
    [
        ("introduction", {"body": "   "}, "body"),
        ("introduction", {"body": "Hello <script>alert(1)</script>"}, "body"),
        ("introduction", {"body": "<img src=x onerror=alert(1)>"}, "body"),
        ("introduction", {"heading": "Tajuk", "body": MALAY_INTRO}, "heading"),
        ("strategic-alliances-and-diplomacy", {"body": MALAY_HEADED["body"]}, "heading"),
        ("introduction", {"source_revision": 2}, "source_revision"),
        ("introduction", {"locale": "de"}, "locale"),
        ("introduction", {"locale": "en"}, "locale"),
        ("introduction", {"body": None}, "body"),
        ("introduction", {"body": "x" * 20_001}, "body"),
    ],
)
def test_blocking_problems_are_422_and_store_nothing(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    key: str,
    payload: dict[str, Any],
    field: str,
) -> None:
    before = count_versions(app)
    response = submit(client, people["translator"], key=key, **payload)
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in problem["errors"]
    assert count_versions(app) == before


def test_older_source_revision_is_accepted_and_outdated(
    client: FlaskClient, people: dict[str, Person], app: Flask
) -> None:
    edit_source(client, people["admin"], "introduction", "Promoting security matters.")
    response = submit(client, people["translator"], source_revision=1)
    assert response.status_code == 201
    assert response.get_json()["outdated"] is True
    assert submit(client, people["translator"], source_revision=3).status_code == 422


def test_withdraw_by_author_only(client: FlaskClient, people: dict[str, Person]) -> None:
    version = submit(client, people["translator"]).get_json()
    assert action(client, people["translator2"], version["id"], "withdraw").status_code == 403
    assert action(client, people["reviewer"], version["id"], "withdraw").status_code == 403
    response = action(client, people["translator"], version["id"], "withdraw")
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"
    assert action(client, people["translator"], version["id"], "withdraw").status_code == 409


def test_history_newest_first(client: FlaskClient, people: dict[str, Person]) -> None:
    first = submit(client, people["translator"]).get_json()
    second = submit(client, people["translator2"], body=MALAY_INTRO + " Sekian.").get_json()
    history = client.get(
        f"{INTRO}/translations", query_string={"locale": "ms"}, headers=people["translator"].headers
    ).get_json()
    assert [v["id"] for v in history["items"]][:2] == [second["id"], first["id"]]
    assert history["total"] == 2 and second["version"] == 2
    assert client.get(f"{INTRO}/translations").status_code == 401


# --- review -----------------------------------------------------------------------------


def test_approval_switches_malay_from_fallback(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    etags = {
        code: client.get(ESSAY, query_string={"locale": code}).headers["ETag"]
        for code in ("ms", "id", "fr", "ar")
    }
    section_etag = client.get(
        f"{ESSAY}/sections/conclusion", query_string={"locale": "ms"}
    ).headers["ETag"]
    version = submit(client, people["translator"]).get_json()
    response = action(client, people["reviewer"], version["id"], "approve", comment="Bagus")
    assert response.status_code == 200 and response.get_json()["status"] == "approved"

    essay = client.get(ESSAY, query_string={"locale": "ms"})
    intro = essay.get_json()["sections"][0]
    assert intro["locale"] == "ms" and intro["fallback"] is False and intro["body"] == MALAY_INTRO
    assert essay.get_json()["sections"][1]["locale"] == "id"
    assert essay.headers["Content-Language"] == "ms, id"
    assert essay.headers["ETag"] != etags["ms"]
    for code in ("id", "fr", "ar"):
        assert client.get(ESSAY, query_string={"locale": code}).headers["ETag"] == etags[code]
    assert (
        client.get(f"{ESSAY}/sections/conclusion", query_string={"locale": "ms"}).headers["ETag"]
        == section_etag
    )
    stale = client.get(ESSAY, query_string={"locale": "ms"}, headers={"If-None-Match": etags["ms"]})
    assert stale.status_code == 200


def test_rejection_needs_a_reason(client: FlaskClient, people: dict[str, Person]) -> None:
    version = submit(client, people["translator"]).get_json()
    assert action(client, people["reviewer"], version["id"], "reject").status_code == 422
    assert (
        action(client, people["reviewer"], version["id"], "reject", reason="  ").status_code == 422
    )
    response = action(
        client,
        people["reviewer"],
        version["id"],
        "reject",
        reason="Terminology: use 'Ummah' consistently.",
    )
    assert response.status_code == 200 and response.get_json()["status"] == "rejected"
    detail = client.get(
        f"/api/v1/translations/{version['id']}", headers=people["translator"].headers
    ).get_json()
    assert detail["comments"][0]["body"] == "Terminology: use 'Ummah' consistently."
    assert detail["reviewer"] == "rania"


def test_self_review_is_refused(client: FlaskClient, people: dict[str, Person]) -> None:
    version = submit(client, people["reviewer"]).get_json()
    assert action(client, people["reviewer"], version["id"], "approve").status_code == 403
    assert (
        action(client, people["reviewer"], version["id"], "reject", reason="no").status_code == 403
    )
    assert action(client, people["reviewer2"], version["id"], "approve").status_code == 200


class TestSelfReviewAllowed:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"ALLOW_SELF_REVIEW": True}

    def test_deployment_may_allow_it(self, client: FlaskClient, people: dict[str, Person]) -> None:
        version = submit(client, people["reviewer"]).get_json()
        assert action(client, people["reviewer"], version["id"], "approve").status_code == 200


TRANSITIONS = {
    "submitted": {"approve": 200, "reject": 200, "withdraw": 200},
    "approved": {"approve": 409, "reject": 409, "withdraw": 409},
    "rejected": {"approve": 409, "reject": 409, "withdraw": 409},
    "withdrawn": {"approve": 409, "reject": 409, "withdraw": 409},
    "superseded": {"approve": 200, "reject": 409, "withdraw": 409},
}


def _version_in(client: FlaskClient, people: dict[str, Person], status: str) -> int:
    author, reviewer = people["translator"], people["reviewer"]
    version = submit(client, author).get_json()["id"]
    if status == "approved":
        action(client, reviewer, version, "approve")
    elif status == "rejected":
        action(client, reviewer, version, "reject", reason="no")
    elif status == "withdrawn":
        action(client, author, version, "withdraw")
    elif status == "superseded":
        action(client, reviewer, version, "approve")
        newer = submit(client, author, body=MALAY_INTRO + " Sekian.").get_json()["id"]
        action(client, reviewer, newer, "approve")
    return version


@pytest.mark.parametrize(
    ("status", "name"),
    [(s, a) for s, actions in TRANSITIONS.items() for a in actions],
)
def test_state_table(
    client: FlaskClient, people: dict[str, Person], status: str, name: str
) -> None:
    version = _version_in(client, people, status)
    detail = client.get(f"/api/v1/translations/{version}", headers=people["reviewer"].headers)
    assert detail.get_json()["status"] == status
    actor = people["translator"] if name == "withdraw" else people["reviewer"]
    payload = {"reason": "no"} if name == "reject" else {}
    response = action(client, actor, version, name, **payload)
    assert response.status_code == TRANSITIONS[status][name], response.get_json()
    if response.status_code == 409:
        assert response.get_json()["current_status"] == status


def test_rollback_restores_a_superseded_version(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    reviewer = people["reviewer"]
    first = submit(client, people["translator"]).get_json()["id"]
    action(client, reviewer, first, "approve")
    second = submit(client, people["translator"], body=MALAY_INTRO + " Sekian.").get_json()["id"]
    action(client, reviewer, second, "approve")
    assert client.get(f"{INTRO}?locale=ms").get_json()["body"].endswith("Sekian.")
    response = action(client, reviewer, first, "approve", comment="Back to the first")
    assert response.status_code == 200
    assert client.get(f"{INTRO}?locale=ms").get_json()["body"] == MALAY_INTRO
    history = client.get(f"{INTRO}/translations?locale=ms", headers=reviewer.headers).get_json()
    assert {v["id"]: v["status"] for v in history["items"]} == {
        first: "approved",
        second: "superseded",
    }
    events = client.get(
        "/api/v1/events", query_string={"locale": "ms"}, headers=reviewer.headers
    ).get_json()["items"]
    assert events[0]["action"] == "comment.added"
    assert "translation.restored" in [e["action"] for e in events]


def test_review_queue_shows_source_published_and_diff(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    reviewer = people["reviewer"]
    first = submit(client, people["translator"]).get_json()["id"]
    action(client, reviewer, first, "approve")
    submit(client, people["translator"], body=MALAY_INTRO.replace("amat penting", "sangat penting"))
    submit(client, people["translator"], key="strategic-alliances-and-diplomacy", **MALAY_HEADED)
    queue = client.get(
        "/api/v1/reviews", query_string={"locale": "ms"}, headers=reviewer.headers
    ).get_json()
    assert queue["total"] == 2
    item = queue["items"][0]
    assert item["source"]["body"].startswith("Promoting the security")
    assert item["published"]["id"] == first
    ops = {(op["op"], op["text"]) for op in item["diff"]["body"]}
    assert ("delete", "amat") in ops and ("insert", "sangat") in ops
    assert queue["items"][1]["published"] is None
    fr_queue = client.get("/api/v1/reviews", headers=people["fr_reviewer"].headers).get_json()
    assert fr_queue["total"] == 0
    assert (
        client.get(
            "/api/v1/reviews", query_string={"locale": "ms"}, headers=people["fr_reviewer"].headers
        ).status_code
        == 403
    )
    assert client.get("/api/v1/reviews", headers=people["translator"].headers).status_code == 403


def test_bulk_review_reports_per_id(client: FlaskClient, people: dict[str, Person]) -> None:
    reviewer = people["reviewer"]
    ok = submit(client, people["translator"]).get_json()["id"]
    own = submit(
        client,
        reviewer,
        key="conclusion",
        body="Kesimpulannya, keselamatan Negara Islam adalah tugas pelbagai rupa.",
    ).get_json()["id"]
    response = client.post(
        "/api/v1/reviews/bulk",
        headers=reviewer.headers,
        json={"action": "approve", "ids": [ok, own, 999999]},
    )
    assert response.status_code == 200
    results = {r["id"]: r for r in response.get_json()["results"]}
    assert results[ok]["status"] == 200 and results[ok]["translation"]["status"] == "approved"
    assert results[own]["status"] == 403 and results[own]["problem"]["status"] == 403
    assert results[999999]["status"] == 404
    rejected = client.post(
        "/api/v1/reviews/bulk", headers=reviewer.headers, json={"action": "reject", "ids": [own]}
    )
    assert rejected.status_code == 422


def test_comments_by_author_and_reviewer(client: FlaskClient, people: dict[str, Person]) -> None:
    version = submit(client, people["translator"]).get_json()["id"]
    url = f"/api/v1/translations/{version}/comments"
    assert (
        client.post(
            url, json={"body": "Please check"}, headers=people["translator"].headers
        ).status_code
        == 201
    )
    assert (
        client.post(
            url, json={"body": "Looks fine"}, headers=people["reviewer"].headers
        ).status_code
        == 201
    )
    assert (
        client.post(url, json={"body": "Hi"}, headers=people["translator2"].headers).status_code
        == 403
    )
    detail = client.get(
        f"/api/v1/translations/{version}", headers=people["translator"].headers
    ).get_json()
    assert [c["author"] for c in detail["comments"]] == ["tariq", "rania"]


# --- permissions ------------------------------------------------------------------------

ROLE_OF = {"translator": "translator", "reviewer": "reviewer2", "admin": "admin"}


@pytest.mark.parametrize("role", ["translator", "reviewer", "admin"])
@pytest.mark.parametrize("own_locale", [True, False])
@pytest.mark.parametrize("name", ["submit", "approve", "reject", "edit_source"])
def test_permission_matrix(
    client: FlaskClient, people: dict[str, Person], role: str, own_locale: bool, name: str
) -> None:
    actor = people[ROLE_OF[role]]
    locale = "ms" if own_locale else "fr"
    author = people["translator2"] if locale == "ms" else people["fr_translator"]
    expected = {
        ("translator", "submit"): 201,
        ("translator", "approve"): 403,
        ("translator", "reject"): 403,
        ("translator", "edit_source"): 403,
        ("reviewer", "submit"): 201,
        ("reviewer", "approve"): 200,
        ("reviewer", "reject"): 200,
        ("reviewer", "edit_source"): 403,
        ("admin", "submit"): 201,
        ("admin", "approve"): 200,
        ("admin", "reject"): 200,
        ("admin", "edit_source"): 200,
    }[(role, name)]
    if not own_locale and role != "admin" and name != "edit_source":
        expected = 403
    if name == "submit":
        response = submit(client, actor, locale=locale)
    elif name == "edit_source":
        response = edit_source(client, actor, "conclusion", "In conclusion, security matters.")
    else:
        version = submit(client, author, locale=locale).get_json()["id"]
        payload = {"reason": "no"} if name == "reject" else {}
        response = action(client, actor, version, name, **payload)
    assert response.status_code == expected, response.get_json()


# --- source edits -----------------------------------------------------------------------


def edit_source(
    client: FlaskClient,
    person: Person,
    key: str,
    body: str,
    heading: str | None = None,
    etag: str | None = None,
) -> Any:
    url = f"{ESSAY}/sections/{key}"
    if etag is None:
        etag = client.get(url, query_string={"locale": "en"}).headers["ETag"]
    return client.put(
        url, json={"heading": heading, "body": body}, headers={**person.headers, "If-Match": etag}
    )


def test_source_edit_marks_translations_outdated_until_edited_back(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    url = f"{ESSAY}/sections/introduction"
    original = client.get(url, query_string={"locale": "en"})
    etag, text = original.headers["ETag"], original.get_json()["body"]
    other_section = client.get(f"{ESSAY}/sections/conclusion", query_string={"locale": "en"})

    assert client.put(url, json={"body": "x"}, headers=admin.headers).status_code == 428
    edited = edit_source(client, admin, "introduction", text + " Edited.", etag=etag)
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["source_revision"] == 2
    stale = edit_source(client, admin, "introduction", "Again.", etag=etag)
    assert stale.status_code == 412
    assert (
        client.get(f"{ESSAY}/sections/conclusion", query_string={"locale": "en"}).headers["ETag"]
        == other_section.headers["ETag"]
    )

    arabic = client.get(ESSAY, query_string={"locale": "ar"}).get_json()["sections"]
    assert arabic[0]["outdated"] is True and arabic[1]["outdated"] is False
    malay = client.get(ESSAY, query_string={"locale": "ms"}).get_json()["sections"]
    assert malay[0]["outdated"] is True and malay[0]["locale"] == "id"
    locales = {
        i["code"]: i["progress"] for i in client.get("/api/v1/locales").get_json()["locales"]
    }
    assert locales["ar"]["outdated"] == 1 and locales["ar"]["approved"] == 7

    back = edit_source(client, admin, "introduction", text)
    assert back.status_code == 200 and back.get_json()["source_revision"] == 3
    arabic = client.get(ESSAY, query_string={"locale": "ar"}).get_json()["sections"]
    assert arabic[0]["outdated"] is False


def test_new_translation_clears_outdated(client: FlaskClient, people: dict[str, Person]) -> None:
    edit_source(client, people["admin"], "introduction", "Promoting security matters a lot.")
    version = submit(
        client, people["translator"], source_revision=2, body="Memajukan keselamatan amat penting."
    ).get_json()
    action(client, people["reviewer"], version["id"], "approve")
    intro = client.get(f"{INTRO}?locale=ms").get_json()
    assert intro["locale"] == "ms" and intro["outdated"] is False
    queue_item = client.get(
        "/api/v1/reviews",
        query_string={"status": "approved", "locale": "ms"},
        headers=people["reviewer"].headers,
    ).get_json()["items"][0]
    assert queue_item["outdated"] is False


# --- audit and progress -----------------------------------------------------------------


def test_event_log_filters_and_is_read_only(client: FlaskClient, people: dict[str, Person]) -> None:
    reviewer = people["reviewer"]
    version = submit(client, people["translator"]).get_json()["id"]
    action(client, reviewer, version, "reject", reason="no")
    log = client.get(
        "/api/v1/events", query_string={"user": "rania"}, headers=reviewer.headers
    ).get_json()
    assert {e["action"] for e in log["items"]} == {"translation.rejected", "comment.added"}
    rejected = next(e for e in log["items"] if e["action"] == "translation.rejected")
    assert rejected["before"] == {"status": "submitted"}
    assert rejected["after"]["status"] == "rejected" and rejected["unit"] == "introduction"
    assert rejected["actor"] == "rania" and rejected["at"].endswith("Z")
    by_unit = client.get(
        "/api/v1/events",
        query_string={"unit": "introduction", "locale": "ms"},
        headers=reviewer.headers,
    ).get_json()
    assert by_unit["total"] == 3
    future = client.get(
        "/api/v1/events", query_string={"since": "2999-01-01T00:00:00Z"}, headers=reviewer.headers
    ).get_json()
    assert future["total"] == 0
    assert client.get("/api/v1/events", headers=people["translator"].headers).status_code == 403
    for method in (client.post, client.put, client.patch, client.delete):
        assert method("/api/v1/events", headers=people["admin"].headers).status_code == 405


def test_progress_follows_the_workflow(client: FlaskClient, people: dict[str, Person]) -> None:
    def malay() -> dict[str, Any]:
        locales = client.get("/api/v1/locales").get_json()["locales"]
        return next(i["progress"] for i in locales if i["code"] == "ms")

    assert malay()["approved"] == 0
    version = submit(client, people["translator"]).get_json()["id"]
    assert malay()["submitted"] == 1
    action(client, people["reviewer"], version, "approve")
    assert malay() | {} == {
        "total": 7,
        "approved": 1,
        "outdated": 0,
        "submitted": 0,
        "missing": 6,
        "percent": 14.3,
    }
    breakdown = client.get("/api/v1/locales/ms/progress").get_json()
    states = {u["key"]: u["state"] for u in breakdown["units"]}
    assert states["introduction"] == "approved" and states["conclusion"] == "missing"
    assert breakdown["progress"]["approved"] == 1
