"""Previews, preview links, per-locale releases and unpublishing (API.md: Drafts…)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.extensions import db
from api.models import EssayLocale, Event, Job, PreviewLink, TranslationVersion
from api.services import jobs
from tests.conftest import SLUG, Person
from tests.test_workflow import ESSAY, MALAY_INTRO, action, submit

LOCALES = f"{ESSAY}/locales"
LINKS = f"{ESSAY}/preview-links"


def events(app: Flask, action_name: str | None = None) -> list[Event]:
    with app.app_context():
        statement = sa.select(Event).order_by(Event.id)
        if action_name:
            statement = statement.where(Event.action == action_name)
        return list(db.session.scalars(statement))


def sections(client: FlaskClient, locale: str) -> dict[str, str]:
    data = client.get(ESSAY, query_string={"locale": locale}).get_json()
    return {s["key"]: s["locale"] for s in data["sections"]}


def approved_intro(client: FlaskClient, people: dict[str, Person]) -> int:
    version = submit(client, people["translator"]).get_json()["id"]
    assert action(client, people["reviewer"], version, "approve").status_code == 200
    return version


# --- preview ----------------------------------------------------------------------------


def test_preview_shows_newest_submissions_to_people_of_the_locale(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    first = submit(client, people["translator"]).get_json()["id"]
    newer = submit(client, people["translator"], body=MALAY_INTRO + " Baharu.").get_json()["id"]
    assert first < newer
    before = client.get(ESSAY, query_string={"locale": "ms"})

    url = f"{ESSAY}?locale=ms&preview=true"
    assert client.get(url).status_code == 401
    forbidden = client.get(url, headers=people["fr_translator"].headers)
    assert forbidden.status_code == 403
    assert forbidden.mimetype == "application/problem+json"

    response = client.get(url, headers=people["translator"].headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers
    data = response.get_json()
    intro = next(s for s in data["sections"] if s["key"] == "introduction")
    assert intro["status"] == "submitted" and intro["locale"] == "ms"
    assert intro["body"].endswith("Baharu.")
    others = [s for s in data["sections"] if s["key"] != "introduction"]
    assert {(s["status"], s["locale"]) for s in others} == {("approved", "id")}
    assert client.get(url, headers=people["admin"].headers).status_code == 200

    after = client.get(ESSAY, query_string={"locale": "ms"})
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.get_data() == before.get_data()


# --- preview links ----------------------------------------------------------------------


def test_preview_link_shows_the_preview_until_revoked(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    submit(client, people["translator"], locale="ar", body="مقدمة جديدة للمعاينة.")
    response = client.post(
        LINKS, json={"locale": "ar", "expires_in": 3600}, headers=people["reviewer"].headers
    )
    assert response.status_code == 201
    link = response.get_json()
    assert link["url"].startswith("http://localhost/preview/")
    assert link["expires_at"].endswith("Z")
    token = link["url"].rsplit("/", 1)[1]
    second = client.post(
        LINKS, json={"locale": "ar", "expires_in": 60}, headers=people["reviewer"].headers
    ).get_json()
    assert second["url"] != link["url"]
    with app.app_context():
        stored = db.session.scalars(sa.select(PreviewLink.token_hash)).all()
    assert len(stored) == 2 and token not in stored and all(len(h) == 64 for h in stored)

    path = f"/preview/{token}"
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'dir="rtl"' in html and "مقدمة جديدة للمعاينة." in html
    assert page.headers["Cache-Control"] == "private, no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    as_json = client.get(path, headers={"Accept": "application/json"})
    data = as_json.get_json()
    assert data["locale"] == "ar" and data["direction"] == "rtl"
    assert next(s for s in data["sections"] if s["key"] == "introduction")["status"] == (
        "submitted"
    )

    assert client.delete(f"/api/v1/preview-links/{link['id']}").status_code == 401
    denied = client.delete(
        f"/api/v1/preview-links/{link['id']}", headers=people["fr_reviewer"].headers
    )
    assert denied.status_code == 403
    assert client.get(path).status_code == 200
    revoke = client.delete(f"/api/v1/preview-links/{link['id']}", headers=people["admin"].headers)
    assert revoke.status_code == 204
    assert client.get(path).status_code == 404
    again = client.delete(f"/api/v1/preview-links/{link['id']}", headers=people["admin"].headers)
    assert again.status_code == 404
    assert client.get("/preview/not-a-token").status_code == 404
    assert [e.action for e in events(app) if e.action.startswith("preview_link.")] == [
        "preview_link.created",
        "preview_link.created",
        "preview_link.revoked",
    ]


def test_expired_preview_link_is_gone(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    link = client.post(
        LINKS, json={"locale": "ms", "expires_in": 60}, headers=people["admin"].headers
    ).get_json()
    with app.app_context():
        db.session.execute(
            sa.update(PreviewLink).values(
                created_at=datetime.now(UTC) - timedelta(hours=2),
                expires_at=datetime.now(UTC) - timedelta(seconds=1),
            )
        )
        db.session.commit()
    path = link["url"].replace("http://localhost", "")
    gone = client.get(path, headers={"Accept": "application/json"})
    assert gone.status_code == 410
    assert gone.get_json()["type"] == "urn:tarjuma:problem:gone"
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 410 and page.mimetype == "text/html"
    assert "This preview link has expired." in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("who", "path", "payload", "status"),
    [
        ("translator", LINKS, {"locale": "ms", "expires_in": 3600}, 403),
        ("fr_reviewer", LINKS, {"locale": "ms", "expires_in": 3600}, 403),
        ("admin", "/api/v1/essays/no-such-essay/preview-links", {"locale": "ms"}, 422),
        ("admin", "/api/v1/essays/no-such-essay/preview-links", None, 404),
        ("admin", LINKS, {"locale": "pt", "expires_in": 3600}, 404),
        ("admin", LINKS, {"locale": "ms", "expires_in": 59}, 422),
        ("admin", LINKS, {"locale": "ms", "expires_in": 30 * 86400 + 1}, 422),
    ],
)
def test_bad_preview_links_change_nothing(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    who: str,
    path: str,
    payload: dict[str, Any] | None,
    status: int,
) -> None:
    before = len(events(app))
    body = payload if payload is not None else {"locale": "ms", "expires_in": 3600}
    response = client.post(path, json=body, headers=people[who].headers)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PreviewLink.id))) == 0
    assert len(events(app)) == before


# --- per-locale releases ----------------------------------------------------------------


def test_staging_hides_a_locale_and_releasing_publishes_it_at_once(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"].headers
    etag = client.get(ESSAY, query_string={"locale": "ms"}).headers["ETag"]
    assert set(sections(client, "ms").values()) == {"id"}

    staged = client.put(f"{LOCALES}/id", json={"state": "staged"}, headers=admin)
    assert staged.status_code == 200
    assert staged.get_json()["state"] == "staged"
    assert set(sections(client, "id").values()) == {"en"}
    assert set(sections(client, "ms").values()) == {"en"}
    assert client.get(ESSAY, query_string={"locale": "ms"}).headers["ETag"] != etag
    every = client.get(ESSAY, query_string={"locale": "*"}).get_json()
    assert all("id" not in s["translations"] for s in every["sections"])
    assert "id" not in every["titles"] and "ar" in every["titles"]
    one = client.get(f"{ESSAY}/sections/introduction", query_string={"locale": "id"})
    assert one.get_json()["locale"] == "en"

    listing = client.get(LOCALES).get_json()
    states = {item["code"]: item for item in listing["locales"]}
    assert states["id"]["state"] == "staged" and states["id"]["progress"]["approved"] == 7
    assert states["ar"]["state"] == "live" and states["en"]["is_source"] is True
    document = client.get("/api/v1/locales").get_json()
    by_code = {item["code"]: item for item in document["locales"]}
    assert by_code["id"]["states"] == {SLUG: "staged"}
    assert by_code["ar"]["states"] == {SLUG: "live"}

    again = client.put(f"{LOCALES}/id", json={"state": "staged"}, headers=admin)
    assert again.status_code == 409
    count = len(events(app))
    released = client.put(f"{LOCALES}/id", json={"state": "live"}, headers=admin)
    assert released.status_code == 200
    assert set(sections(client, "ms").values()) == {"id"}
    new_events = events(app)[count:]
    assert [e.action for e in new_events] == ["locale.released"]
    assert new_events[0].locale == "id" and len(new_events[0].after["units"]) == 7
    assert client.put(f"{LOCALES}/id", json={"state": "live"}, headers=admin).status_code == 409
    assert len(events(app)) == count + 1


def test_approvals_in_a_staged_locale_wait_for_the_release(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"].headers
    assert client.put(f"{LOCALES}/ms", json={"state": "staged"}, headers=admin).status_code == 200
    approved_intro(client, people)
    assert sections(client, "ms")["introduction"] == "id"
    preview = client.get(
        f"{ESSAY}?locale=ms&preview=true", headers=people["reviewer"].headers
    ).get_json()
    intro = next(s for s in preview["sections"] if s["key"] == "introduction")
    assert intro["locale"] == "ms" and intro["status"] == "approved"
    assert client.put(f"{LOCALES}/ms", json={"state": "live"}, headers=admin).status_code == 200
    assert sections(client, "ms")["introduction"] == "ms"


@pytest.mark.parametrize(
    ("who", "locale", "payload", "status"),
    [
        ("reviewer", "ms", {"state": "staged"}, 403),
        ("admin", "en", {"state": "staged"}, 422),
        ("admin", "pt", {"state": "staged"}, 404),
        ("admin", "ms", {"state": "hidden"}, 422),
        ("admin", "ms", {"state": "staged", "at": "tomorrow"}, 422),
        ("admin", "ms", {"state": "live"}, 409),
    ],
)
def test_bad_release_requests_change_nothing(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    who: str,
    locale: str,
    payload: dict[str, Any],
    status: int,
) -> None:
    before = len(events(app))
    response = client.put(f"{LOCALES}/{locale}", json=payload, headers=people[who].headers)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert len(events(app)) == before
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EssayLocale.essay_id))) == 0


def test_a_scheduled_release_is_a_job_any_worker_runs_after_its_time(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"].headers
    client.put(f"{LOCALES}/id", json={"state": "staged"}, headers=admin)
    at = datetime.now(UTC) + timedelta(seconds=1)
    response = client.put(
        f"{LOCALES}/id", json={"state": "live", "at": at.isoformat()}, headers=admin
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "staged" and body["scheduled"]["state"] == "live"
    with app.app_context():
        assert jobs.run_due() == 0
    assert set(sections(client, "id").values()) == {"en"}

    # A new worker process has nothing in memory: the job is a row it finds on its own.
    restarted = create_app(
        {key: app.config[key] for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY")}
    )
    while datetime.now(UTC) < at:
        time.sleep(0.05)
    with restarted.app_context():
        assert jobs.run_due() == 1
        job = db.session.scalar(sa.select(Job).where(Job.kind == "release"))
        assert job is not None and job.state == "done"
        db.session.remove()
        db.engine.dispose()
    assert set(sections(client, "id").values()) == {"id"}
    released = events(app, "locale.released")
    assert len(released) == 1 and released[0].after["scheduled"] is True
    states = {item["code"]: item for item in client.get(LOCALES).get_json()["locales"]}
    assert states["id"]["scheduled"] is None and states["id"]["state"] == "live"


def _stage_and_schedule_release(client: FlaskClient, admin: dict[str, str]) -> None:
    """Stage Indonesian, then schedule its release for an hour from now."""
    client.put(f"{LOCALES}/id", json={"state": "staged"}, headers=admin)
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    client.put(f"{LOCALES}/id", json={"state": "live", "at": at}, headers=admin)


def _run_scheduled_jobs_now(app: Flask) -> int:
    with app.app_context():
        db.session.execute(sa.update(Job).values(run_at=datetime.now(UTC)))
        db.session.commit()
        return jobs.run_due()


def test_a_schedule_overtaken_by_a_manual_release_does_nothing(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"].headers
    _stage_and_schedule_release(client, admin)
    assert client.put(f"{LOCALES}/id", json={"state": "live"}, headers=admin).status_code == 200
    assert _run_scheduled_jobs_now(app) == 1
    assert len(events(app, "locale.released")) == 1


def test_asking_for_the_state_a_locale_is_in_cancels_its_schedule(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"].headers
    _stage_and_schedule_release(client, admin)
    kept = client.put(f"{LOCALES}/id", json={"state": "staged"}, headers=admin)
    assert kept.status_code == 200
    assert (kept.get_json()["state"], kept.get_json()["scheduled"]) == ("staged", None)
    [cancelled] = events(app, "locale.unscheduled")
    assert cancelled.before["scheduled_state"] == "live" and cancelled.after == {"state": "staged"}
    assert _run_scheduled_jobs_now(app) == 1, "the job runs, finds its schedule gone, does nothing"
    assert events(app, "locale.released") == []
    assert set(sections(client, "id").values()) == {"en"}
    again = client.put(f"{LOCALES}/id", json={"state": "staged"}, headers=admin)
    assert again.status_code == 409, "nothing left to cancel"
    assert len(events(app, "locale.unscheduled")) == 1


# --- unpublishing -----------------------------------------------------------------------


def test_unpublish_takes_a_version_down_and_approval_restores_it(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    version = approved_intro(client, people)
    assert sections(client, "ms")["introduction"] == "ms"
    etag = client.get(ESSAY, query_string={"locale": "ms"}).headers["ETag"]

    assert action(client, people["reviewer"], version, "unpublish").status_code == 422
    assert action(client, people["reviewer"], version, "unpublish", reason=" ").status_code == 422
    denied = action(client, people["translator"], version, "unpublish", reason="Salah.")
    assert denied.status_code == 403
    assert action(client, people["fr_reviewer"], version, "unpublish", reason="x").status_code == (
        403
    )
    assert sections(client, "ms")["introduction"] == "ms"

    done = action(client, people["reviewer2"], version, "unpublish", reason="Ada kesilapan fakta.")
    assert done.status_code == 200 and done.get_json()["status"] == "unpublished"
    assert sections(client, "ms")["introduction"] == "id"
    assert client.get(ESSAY, query_string={"locale": "ms"}).headers["ETag"] != etag
    again = action(client, people["reviewer2"], version, "unpublish", reason="Lagi.")
    assert again.status_code == 409
    event = events(app, "translation.unpublished")
    assert len(event) == 1 and event[0].after["reason"] == "Ada kesilapan fakta."

    restored = action(client, people["reviewer2"], version, "approve")
    assert restored.status_code == 200 and restored.get_json()["status"] == "approved"
    assert sections(client, "ms")["introduction"] == "ms"
    assert events(app)[-1].action == "translation.restored"


def test_only_approved_versions_can_be_unpublished(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    version = submit(client, people["translator"]).get_json()["id"]
    response = action(client, people["reviewer"], version, "unpublish", reason="Tidak.")
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(TranslationVersion, version).status == "submitted"
