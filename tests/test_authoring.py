"""The authoring API: essays created, re-imported and archived from Markdown over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models import Essay, Event, SourceRevision, TranslationVersion, Unit
from tests.conftest import ROOT, SLUG, Person
from tests.test_workflow import MALAY_HEADED, submit

ESSAYS = "/api/v1/essays"
MARKDOWN = {"Content-Type": "text/markdown; charset=utf-8"}
DRAFT = """# Water Security in Arid Lands

Water is the first question of every settlement in a dry land.

## Ancient Cisterns

Cisterns kept the winter rain for the summer.

## Modern Desalination

Desalination turns the sea into drinking water, at a price in energy.

In conclusion, every drop counts.
"""


def post(client: FlaskClient, person: Person, text: str | bytes, **query: str) -> Any:
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        ESSAYS, data=data, headers={**person.headers, **MARKDOWN}, query_string=query
    )


def counts(app: Flask) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(  # type: ignore[return-value]
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Essay, Unit, SourceRevision, Event)
        )


def test_create_an_essay_from_markdown(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    response = post(client, people["admin"], DRAFT)
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/api/v1/essays/water-security-in-arid-lands")
    data = response.get_json()
    assert data["title"] == "Water Security in Arid Lands" and data["locale"] == "en"
    assert [s["key"] for s in data["sections"]] == [
        "introduction",
        "ancient-cisterns",
        "modern-desalination",
        "conclusion",
    ]
    read = client.get(f"{ESSAYS}/water-security-in-arid-lands", query_string={"locale": "ar"})
    assert read.status_code == 200
    assert {s["locale"] for s in read.get_json()["sections"]} == {"en"}
    assert (
        response.headers["ETag"]
        == client.get(
            f"{ESSAYS}/water-security-in-arid-lands", query_string={"locale": "en"}
        ).headers["ETag"]
    )
    with app.app_context():
        actions = db.session.scalars(
            sa.select(Event.action).join(Essay).where(Essay.slug == "water-security-in-arid-lands")
        ).all()
    assert actions[0] == "essay.created" and actions.count("source.created") == 5

    named = post(client, people["admin"], DRAFT, slug="water")
    assert named.status_code == 201 and named.get_json()["slug"] == "water"
    assert post(client, people["admin"], DRAFT, slug="water").status_code == 409


def test_the_shipped_mojibake_repair_applies(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    shipped = (ROOT / "content" / "essays" / f"{SLUG}.md").read_bytes()
    response = post(client, people["admin"], shipped, slug="copy")
    assert response.status_code == 201
    original = client.get(f"{ESSAYS}/{SLUG}", query_string={"locale": "en"}).get_json()
    copy = response.get_json()
    assert copy["title"] == original["title"] and "’" in copy["title"]
    assert [s["body"] for s in copy["sections"]] == [s["body"] for s in original["sections"]]


@pytest.mark.parametrize(
    ("who", "text", "headers", "status", "needle"),
    [
        ("reviewer", DRAFT, MARKDOWN, 403, None),
        ("admin", DRAFT, {"Content-Type": "application/json"}, 415, None),
        ("admin", "Just a paragraph.\n\n## A section\n\nText.", MARKDOWN, 422, "no title"),
        ("admin", DRAFT + "\n# Another Title\n\nMore.\n", MARKDOWN, 422, "Line 15"),
        (
            "admin",
            "# T\n\n" + "".join(f"## S{n}\n\nx\n\n" for n in range(4)),
            MARKDOWN,
            422,
            "Line 15",
        ),
        ("admin", "# T\n\n" + "word " * 1000, MARKDOWN, 422, "bytes"),
        ("admin", b"# T\n\n\xff\xfe", MARKDOWN, 422, "Line 3"),
        # A form feed would survive the repair and break the source's PO catalogs.
        ("admin", "# T\r\n\r\nA page\x0cbreak.\r\n", MARKDOWN, 422, "Line 3"),
        ("admin", "# T\n\n## S\n\nx\x00y\n", MARKDOWN, 422, "U+0000"),
    ],
)
def test_bad_markdown_changes_nothing(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    who: str,
    text: str | bytes,
    headers: dict[str, str],
    status: int,
    needle: str | None,
) -> None:
    app.config.update(MAX_ESSAY_BYTES=4000, MAX_ESSAY_SECTIONS=3)
    before = counts(app)
    data = text.encode() if isinstance(text, str) else text
    response = client.post(ESSAYS, data=data, headers={**people[who].headers, **headers})
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    if needle:
        assert needle in response.get_json()["detail"]
    assert counts(app) == before


def test_reimport_changes_only_what_changed_and_archives_what_went(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    essay = f"{ESSAYS}/{SLUG}"
    source = (ROOT / "content" / "essays" / f"{SLUG}.md").read_text(encoding="utf-8")
    version = submit(
        client, people["translator"], key="strategic-alliances-and-diplomacy", **MALAY_HEADED
    )
    assert version.status_code == 201
    edited = source.replace(
        "## Strategic Alliances and Diplomacy", "## Alliances and Diplomacy"
    ).replace("Just as a shattered egg", "Just as a broken egg", 1)
    assert edited != source

    put = {**admin.headers, **MARKDOWN}
    assert client.put(essay, data=edited.encode(), headers=put).status_code == 428
    stale = client.put(essay, data=edited.encode(), headers={**put, "If-Match": '"old"'})
    assert stale.status_code == 412
    etag = client.get(essay, query_string={"locale": "en"}).headers["ETag"]
    assert (
        client.put(
            essay,
            data=edited.encode(),
            headers={**people["reviewer"].headers, **MARKDOWN, "If-Match": etag},
        ).status_code
        == 403
    )

    response = client.put(essay, data=edited.encode(), headers={**put, "If-Match": etag})
    assert response.status_code == 200
    keys = [s["key"] for s in response.get_json()["sections"]]
    assert "alliances-and-diplomacy" in keys and "strategic-alliances-and-diplomacy" not in keys
    revisions = {s["key"]: s["source_revision"] for s in response.get_json()["sections"]}
    changed = [key for key, revision in revisions.items() if revision > 1]
    assert changed == ["enhanced-intelligence-capabilities"]
    gone = client.get(f"{essay}/sections/strategic-alliances-and-diplomacy")
    assert gone.status_code == 404
    arabic = client.get(essay, query_string={"locale": "ar"}).get_json()
    assert "strategic-alliances-and-diplomacy" not in [s["key"] for s in arabic["sections"]]
    with app.app_context():
        kept = db.session.get(TranslationVersion, version.get_json()["id"])
        assert kept is not None and kept.status == "submitted"
        archived = db.session.scalars(
            sa.select(Event).where(Event.action == "source.archived")
        ).all()
        assert [e.unit_key for e in archived] == ["strategic-alliances-and-diplomacy"]
    assert client.put(
        essay, data=edited.encode(), headers={**put, "If-Match": etag}
    ).status_code == (412)

    etag = response.headers["ETag"]
    back = client.put(essay, data=source.encode(), headers={**put, "If-Match": etag})
    assert back.status_code == 200
    assert "strategic-alliances-and-diplomacy" in [s["key"] for s in back.get_json()["sections"]]
    restored = client.get(f"{essay}/sections/strategic-alliances-and-diplomacy")
    assert restored.status_code == 200 and restored.get_json()["source_revision"] == 1


def test_archiving_an_essay_hides_it_from_readers(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    essay = f"{ESSAYS}/{SLUG}"
    assert client.get(essay).status_code == 200
    assert client.delete(essay, headers=people["reviewer"].headers).status_code == 403
    assert client.delete(essay, headers=people["admin"].headers).status_code == 204
    assert client.get(essay).status_code == 404
    assert client.get(essay, query_string={"locale": "ar"}).status_code == 404
    assert client.get(f"{essay}/sections/introduction").status_code == 404
    assert client.get(ESSAYS).get_json()["items"] == []
    assert client.delete(essay, headers=people["admin"].headers).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(Essay.archived_at).where(Essay.slug == SLUG))
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Event.id)).where(Event.action == "essay.archived")
            )
            == 1
        )
    assert submit(client, people["translator"]).status_code == 404
