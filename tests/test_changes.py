"""The public change feed (API.md: Change feed): contents, cursors, filters, commit order."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models import Change, Event, TranslationVersion
from tests.conftest import SLUG, Person
from tests.test_workflow import MALAY_INTRO, action, submit

FEED = "/api/v1/changes"


def sync(client: FlaskClient, cursor: str | None = None, **params: Any) -> tuple[list[dict], str]:
    """Every item after ``cursor``, page by page, and the cursor to resume from."""
    items: list[dict[str, Any]] = []
    while True:
        query: dict[str, Any] = dict(params)
        if cursor:
            query["cursor"] = cursor
        response = client.get(FEED, query_string=query)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor


def published_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count(TranslationVersion.id)).where(
                TranslationVersion.status == "approved"
            )
        )


def test_first_sync_has_every_shipped_translation_and_the_source(
    app: Flask, client: FlaskClient
) -> None:
    items, cursor = sync(client, per_page=100)
    assert items, "the seed's publications are events, so the feed starts with them"
    types = {item["type"] for item in items}
    assert {"essay.created", "source.updated", "translation.published"} <= types
    assert types <= {"essay.created", "source.updated", "translation.published"}
    published = [i for i in items if i["type"] == "translation.published"]
    assert len({(i["unit"], i["locale"]) for i in published}) == published_count(app)
    intro_ar = next(i for i in published if i["unit"] == "introduction" and i["locale"] == "ar")
    served = client.get(f"/api/v1/essays/{SLUG}/sections/introduction?locale=ar").get_json()
    assert intro_ar["body"] == served["body"]
    assert intro_ar["essay"] == SLUG and intro_ar["version"] == served["version"]
    positions = [int(i["cursor"][2:], 16) for i in items]
    assert positions == list(range(1, len(items) + 1)), "commit order without gaps"
    assert cursor == items[-1]["cursor"]
    again = client.get(FEED, query_string={"cursor": cursor}).get_json()
    assert again == {"items": [], "next_cursor": cursor, "has_more": False}


def test_pages_resume_exactly_after_the_cursor(client: FlaskClient) -> None:
    everything, _ = sync(client, per_page=100)
    paged, _ = sync(client, per_page=7)
    assert paged == everything
    first = client.get(FEED, query_string={"per_page": 7})
    assert first.headers["Cache-Control"].startswith("public, max-age=31536000")
    assert first.get_json()["has_more"] is True
    tail = client.get(FEED, query_string={"cursor": everything[-2]["cursor"]})
    assert tail.get_json()["items"] == everything[-1:]
    assert "immutable" not in tail.headers["Cache-Control"]
    assert client.get(FEED, headers={"If-None-Match": first.headers["ETag"]}).status_code in (
        200,
        304,
    )
    cached = client.get(
        FEED, query_string={"per_page": 7}, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert cached.status_code == 304


def test_submissions_never_reach_the_feed_and_approvals_do(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    _, cursor = sync(client)
    version = submit(client, people["translator"]).get_json()
    action(client, people["translator"], version["id"], "withdraw")
    second = submit(client, people["translator"], body=MALAY_INTRO + " Dua.").get_json()
    action(client, people["reviewer"], second["id"], "reject", reason="Not yet")
    assert sync(client, cursor)[0] == []
    third = submit(client, people["translator"], body=MALAY_INTRO + " Tiga.").get_json()
    assert action(client, people["reviewer"], third["id"], "approve").status_code == 200
    items, cursor = sync(client, cursor)
    assert [(i["type"], i["unit"], i["locale"], i["version"]) for i in items] == [
        ("translation.published", "introduction", "ms", third["version"])
    ]
    assert items[0]["body"] == MALAY_INTRO + " Tiga."


def test_locale_filter_keeps_its_locale_and_essay_wide_changes(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    _, cursor = sync(client)
    ms = submit(client, people["translator"]).get_json()
    action(client, people["reviewer"], ms["id"], "approve")
    ar = submit(client, people["translator"], locale="ar", body="نص عربي جديد للمقدمة.").get_json()
    action(client, people["reviewer"], ar["id"], "approve")
    source = client.get(f"/api/v1/essays/{SLUG}/sections/introduction?locale=en")
    edit = client.put(
        f"/api/v1/essays/{SLUG}/sections/introduction",
        json={"heading": None, "body": "A new introduction."},
        headers={**people["admin"].headers, "If-Match": source.headers["ETag"]},
    )
    assert edit.status_code == 200, edit.get_json()
    only_ar, _ = sync(client, cursor, locale="ar")
    assert [(i["type"], i["locale"]) for i in only_ar] == [
        ("translation.published", "ar"),
        ("source.updated", "en"),
    ]
    assert only_ar[1]["body"] == "A new introduction."
    both, _ = sync(client, cursor, locale=["ar", "ms"])
    assert [i["locale"] for i in both] == ["ms", "ar", "en"]


@pytest.mark.parametrize(
    "cursor",
    ["nonsense", "c_123", "c_ffffffffffffffff", "C_0000000000000001", "c_000000000000000g"],
)
def test_unknown_or_malformed_cursor_is_a_400_problem(client: FlaskClient, cursor: str) -> None:
    response = client.get(FEED, query_string={"cursor": cursor})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "cursor" in response.get_json()["errors"]


@pytest.mark.parametrize("locale", ["xx-!!", "de"])
def test_bad_locale_filter_is_a_400_problem(client: FlaskClient, locale: str) -> None:
    response = client.get(FEED, query_string={"locale": locale})
    assert response.status_code == 400
    assert response.get_json()["available_locales"]


def test_a_rolled_back_change_leaves_no_item_and_no_gap(app: Flask) -> None:
    from api.database import transaction
    from api.services import audit
    from api.services.content import get_essay

    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.max(Change.position)))
        with pytest.raises(RuntimeError), transaction():
            audit.record("essay.archived", actor=None, essay=get_essay(SLUG))
            raise RuntimeError("the writer fails after its event")
        assert db.session.scalar(sa.select(sa.func.max(Change.position))) == before
        with transaction():
            audit.record("essay.archived", actor=None, essay=get_essay(SLUG))
        assert db.session.scalar(sa.select(sa.func.max(Change.position))) == before + 1


WRITERS = 4
ROUNDS = 6


def test_concurrent_writers_and_a_poller_see_every_change_once_in_commit_order(
    app: Flask, people: dict[str, Person]
) -> None:
    """Writers approve and roll back while a poller follows the feed: nothing is skipped."""
    client = app.test_client()
    _, start = sync(client)
    versions = [
        submit(client, people["translator"], body=f"{MALAY_INTRO} ({n})").get_json()["id"]
        for n in range(WRITERS)
    ]
    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[dict[str, Any]] = []

    def writer(n: int) -> None:
        own = app.test_client()
        reviewer = people["reviewer"] if n % 2 else people["reviewer2"]
        try:
            for round_ in range(ROUNDS):
                # approving, and approving an older version again (a rollback), both publish
                target = versions[(n + round_) % WRITERS]
                response = action(own, reviewer, target, "approve")
                assert response.status_code in (200, 409), response.get_json()
                if round_ % 3 == 2:
                    with app.app_context():
                        _fail_after_event(app)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def poller() -> None:
        own = app.test_client()
        cursor = start
        try:
            while True:
                finished = done.is_set()
                items, cursor = sync(own, cursor, per_page=5)
                seen.extend(items)
                if finished:
                    return
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    follower = threading.Thread(target=poller)
    follower.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    follower.join(timeout=60)
    assert not errors, errors

    with app.app_context():
        committed = list(
            db.session.scalars(
                sa.select(Change)
                .where(Change.position > int(start[2:], 16))
                .order_by(Change.position)
            )
        )
        approvals = db.session.scalar(
            sa.select(sa.func.count(Event.id)).where(
                Event.action.in_(["translation.approved", "translation.restored"]),
                Event.locale == "ms",
            )
        )
        published = db.session.scalar(
            sa.select(TranslationVersion.version).where(
                TranslationVersion.locale == "ms",
                TranslationVersion.status == "approved",
                TranslationVersion.unit.has(key="introduction"),
            )
        )
    positions = [int(item["cursor"][2:], 16) for item in seen]
    assert positions == [c.position for c in committed], "each change once, none skipped"
    assert positions == list(range(int(start[2:], 16) + 1, positions[-1] + 1)), "no gaps"
    assert len(seen) == approvals > WRITERS
    assert seen[-1]["version"] == published, "the last item is what readers are served"
    revisions = [item["revision"] for item in seen]
    assert revisions == sorted(revisions), "feed order is the order the essay changed in"


def _fail_after_event(app: Flask) -> None:
    """A writer that records a public event, then rolls back."""
    from api.database import transaction
    from api.services import audit
    from api.services.content import get_essay

    try:
        with transaction():
            audit.record("essay.archived", actor=None, essay=get_essay(SLUG))
            raise LookupError
    except LookupError:
        pass


def test_the_migration_gives_an_existing_database_its_feed(app: Flask, client: FlaskClient) -> None:
    from flask_migrate import downgrade, upgrade

    from tests.conftest import ROOT

    fresh, _ = sync(client)
    with app.app_context():
        downgrade(directory=str(ROOT / "migrations"), revision="0004_releases_previews")
        upgrade(directory=str(ROOT / "migrations"))
        db.session.remove()
    backfilled, _ = sync(client)
    expected = [{**item, "revision": None} for item in fresh]
    assert [{**i, "cursor": None} for i in backfilled] == [{**i, "cursor": None} for i in expected]
    positions = [int(i["cursor"][2:], 16) for i in backfilled]
    assert positions == list(range(1, len(backfilled) + 1))
    assert len(backfilled) > 0


def test_releases_unpublishing_and_authoring_reach_the_feed(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    from tests.test_authoring import DRAFT, post

    admin = people["admin"].headers
    locales = f"/api/v1/essays/{SLUG}/locales"
    _, cursor = sync(client)
    assert client.put(f"{locales}/ms", json={"state": "staged"}, headers=admin).status_code == 200
    version = submit(client, people["translator"]).get_json()
    assert action(client, people["reviewer"], version["id"], "approve").status_code == 200
    staged, cursor_staged = sync(client, cursor, locale="ms")
    assert [(i["type"], i["locale"]) for i in staged] == [("locale.staged", "ms")]
    assert client.put(f"{locales}/ms", json={"state": "live"}, headers=admin).status_code == 200
    released, _ = sync(client, cursor_staged, locale="ms")
    assert [i["type"] for i in released] == ["locale.released"]
    assert "introduction" in released[0]["units"], "one item for the whole release"
    unpublished = action(
        client, people["reviewer"], version["id"], "unpublish", reason="Wrong register"
    )
    assert unpublished.status_code == 200, unpublished.get_json()
    created = post(client, people["admin"], DRAFT)
    assert created.status_code == 201
    slug = created.get_json()["slug"]
    assert client.delete(f"/api/v1/essays/{slug}", headers=admin).status_code in (200, 204)
    tail, _ = sync(client, cursor, locale="ms")
    types = [(i["type"], i["essay"]) for i in tail]
    assert ("translation.unpublished", SLUG) in types
    assert ("essay.created", slug) in types and ("essay.archived", slug) in types
    assert not any(i["type"] == "translation.published" for i in tail), "staged, then released"
    gone = next(i for i in tail if i["type"] == "translation.unpublished")
    assert gone["locale"] == "ms" and gone["body"] is None
