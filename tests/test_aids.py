"""Translators' aids: the translation memory, the glossary and progress badges."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models import MemoryUnit, TranslationVersion, Unit
from tests.conftest import SLUG, Person

INTRO = f"/api/v1/essays/{SLUG}/sections/introduction"
FIRST_SENTENCE = (
    "Promoting the security of the Islamic Nation is paramount to fortifying the Ummah and"
    " guaranteeing safety for Muslims worldwide."
)


def memory_rows(app: Flask, **where: Any) -> list[MemoryUnit]:
    with app.app_context():
        statement = sa.select(MemoryUnit).order_by(MemoryUnit.id)
        for name, value in where.items():
            statement = statement.where(getattr(MemoryUnit, name) == value)
        return list(db.session.scalars(statement))


def published(app: Flask, key: str, locale: str) -> int:
    with app.app_context():
        return db.session.execute(
            sa.select(TranslationVersion.id)
            .join(Unit)
            .where(
                Unit.key == key,
                TranslationVersion.locale == locale,
                TranslationVersion.status == "approved",
            )
        ).scalar_one()


def submit(client: FlaskClient, person: Person, key: str, locale: str, body: str) -> int:
    response = client.post(
        f"/api/v1/essays/{SLUG}/sections/{key}/translations",
        json={"locale": locale, "body": body},
        headers=person.headers,
    )
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def approve(client: FlaskClient, person: Person, version: int) -> None:
    response = client.post(
        f"/api/v1/translations/{version}/approve", json={}, headers=person.headers
    )
    assert response.status_code == 200, response.json


def test_the_seed_fills_the_memory_sentence_by_sentence(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    rows = memory_rows(app, locale="ar")
    assert len(rows) >= 20
    response = client.get(f"{INTRO}/suggestions?locale=ar", headers=people["translator"].headers)
    assert response.status_code == 200, response.json
    items = response.json["items"]
    first = next(i for i in items if i["segment"] == FIRST_SENTENCE)
    assert first["score"] == 100
    assert first["source"] == FIRST_SENTENCE
    assert first["translation"].startswith("إن تعزيز أمن الأمة الإسلامية")
    assert first["origin"] == {
        "essay": SLUG,
        "unit": "introduction",
        "version": 1,
        "imported": False,
    }
    assert all(70 <= i["score"] <= 100 for i in items)
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)


def test_similar_sentences_score_below_100_and_closer_ones_higher(app: Flask) -> None:
    from api.services.aids import memory

    with app.app_context():
        close = FIRST_SENTENCE.replace("guaranteeing", "ensuring")
        further = (
            "Promoting the security of the Islamic Nation is paramount to fortifying the Ummah."
        )
        unrelated = "Bananas ripen faster in a paper bag on the kitchen counter."
        found = memory.match([close, further, unrelated], "en", "fr")
    best = {s.segment: s for s in found if s.source == FIRST_SENTENCE}
    assert 70 <= best[close].score < 100
    assert best[further].score < best[close].score
    assert all(s.segment != unrelated for s in found)
    assert all(s.translation.startswith("Promouvoir") for s in best.values())


def test_approval_adds_superseding_keeps_unpublishing_removes(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    old = published(app, "conclusion", "ar")
    old_rows = [(r.source_id, r.target) for r in memory_rows(app, translation_id=old)]
    assert old_rows
    body = "وختامًا، فإن أمن الأمة الإسلامية مهمة كبيرة. وهي تتطلب دبلوماسية دولية."
    new = submit(client, people["translator"], "conclusion", "ar", body)
    assert memory_rows(app, translation_id=new) == []
    approve(client, people["reviewer"], new)
    assert [r.target for r in memory_rows(app, translation_id=new)]
    assert [(r.source_id, r.target) for r in memory_rows(app, translation_id=old)] == old_rows

    approve(client, people["reviewer"], old)  # restored: stored once, not twice
    assert [(r.source_id, r.target) for r in memory_rows(app, translation_id=old)] == old_rows

    response = client.post(
        f"/api/v1/translations/{old}/unpublish",
        json={"reason": "Withdrawn for a legal review."},
        headers=people["reviewer"].headers,
    )
    assert response.status_code == 200, response.json
    assert memory_rows(app, translation_id=old) == []
    assert memory_rows(app, translation_id=new)
    approve(client, people["reviewer"], old)  # approving it again brings its pairs back
    assert [(r.source_id, r.target) for r in memory_rows(app, translation_id=old)] == old_rows


def test_rejected_and_withdrawn_versions_never_reach_the_memory(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    before = len(memory_rows(app, locale="ms"))
    body = "Keselamatan Ummah Islam amat penting. Ia memerlukan diplomasi."
    rejected = submit(client, people["translator"], "conclusion", "ms", body)
    response = client.post(
        f"/api/v1/translations/{rejected}/reject",
        json={"reason": "Tidak lengkap."},
        headers=people["reviewer"].headers,
    )
    assert response.status_code == 200
    withdrawn = submit(client, people["translator"], "conclusion", "ms", body)
    response = client.post(
        f"/api/v1/translations/{withdrawn}/withdraw", headers=people["translator"].headers
    )
    assert response.status_code == 200
    assert len(memory_rows(app, locale="ms")) == before


def test_memory_works_across_essays(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    from api.services import content

    admin = people["admin"]
    markdown = (
        "# Another essay\n\nPromoting the security of the Islamic Nation is paramount to"
        " fortifying the Ummah and guaranteeing safety for Muslims worldwide. Something new"
        " follows here.\n"
    )
    with app.app_context():
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "another-essay.md"
            path.write_text(markdown, encoding="utf-8")
            content.import_markdown(path, None, "en")
    response = client.get(
        "/api/v1/essays/another-essay/sections/introduction/suggestions?locale=tr",
        headers=admin.headers,
    )
    assert response.status_code == 200, response.json
    exact = [i for i in response.json["items"] if i["score"] == 100]
    assert exact and exact[0]["origin"]["essay"] == SLUG
    assert exact[0]["translation"].startswith("İslam Milleti’nin")


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 400),
        ("?locale=", 400),
        ("?locale=zz", 400),
        ("?locale=en", 400),
        ("?locale=" + "a" * 65, 400),
        ("?locale=%20ar%20x", 400),
    ],
)
def test_suggestions_refuse_bad_locales(
    client: FlaskClient, people: dict[str, Person], query: str, status: int
) -> None:
    response = client.get(f"{INTRO}/suggestions{query}", headers=people["translator"].headers)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_suggestions_need_a_token_and_a_section(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    assert client.get(f"{INTRO}/suggestions?locale=ar").status_code == 401
    response = client.get(
        f"/api/v1/essays/{SLUG}/sections/nope/suggestions?locale=ar",
        headers=people["translator"].headers,
    )
    assert response.status_code == 404


def test_concordance_finds_text_in_sources_and_translations(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    headers = people["translator"].headers
    response = client.get("/api/v1/memory?q=OUMMA&locale=fr", headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["total"] >= 3
    assert all("oumma" in i["translation"].lower() for i in response.json["items"])
    response = client.get("/api/v1/memory?q=international diplomacy&locale=fr", headers=headers)
    assert response.json["total"] >= 1
    assert all("international diplomacy" in i["source"].lower() for i in response.json["items"])
    response = client.get("/api/v1/memory?q=الأمة&locale=ar", headers=headers)
    assert response.json["total"] >= 3
    response = client.get("/api/v1/memory?q=100%25_&locale=ar", headers=headers)
    assert response.status_code == 200 and response.json["total"] == 0


@pytest.mark.parametrize(
    ("query", "status"),
    [
        # A malformed query string is a bad request; a blank search is well formed.
        ("q=&locale=ar", 400),
        ("q=%20%20&locale=ar", 422),
        ("q=" + "x" * 201 + "&locale=ar", 400),
        ("q=x&locale=zz", 400),
        ("q=x", 400),
    ],
)
def test_concordance_refuses_bad_queries(
    client: FlaskClient, people: dict[str, Person], query: str, status: int
) -> None:
    response = client.get(f"/api/v1/memory?{query}", headers=people["translator"].headers)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def tmx(pairs: list[tuple[str, str]], source: str = "en", target: str = "ar") -> bytes:
    from translate.storage.tmx import tmxfile

    store = tmxfile(sourcelanguage=source, targetlanguage=target)
    for src, tgt in pairs:
        store.addtranslation(src, source, tgt, target)
    return bytes(store)


def test_tmx_export_round_trips(app: Flask, client: FlaskClient, people: dict[str, Person]) -> None:
    from translate.storage.tmx import tmxfile

    response = client.get("/api/v1/memory.tmx?locale=ar", headers=people["translator"].headers)
    assert response.status_code == 200
    assert response.mimetype == "application/x-tmx+xml"
    store = tmxfile.parsestring(response.data)
    assert 'version="1.4"' in response.data.decode()
    pairs = {(u.source, u.target) for u in store.units}
    with app.app_context():
        stored = {
            (r.source.text, r.target)
            for r in db.session.scalars(sa.select(MemoryUnit).where(MemoryUnit.locale == "ar"))
        }
    assert pairs == stored


def test_tmx_import_ranks_below_own_units(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"].headers | {"Content-Type": "application/x-tmx+xml"}
    data = tmx(
        [(FIRST_SENTENCE, "ترجمة مستوردة للجملة الأولى."), ("A brand new line.", "سطر جديد.")]
    )
    response = client.post("/api/v1/memory.tmx?locale=ar", data=data, headers=admin)
    assert response.status_code == 200, response.json
    assert response.json == {"created": 2, "unchanged": 0}
    again = client.post("/api/v1/memory.tmx?locale=ar", data=data, headers=admin)
    assert again.json == {"created": 0, "unchanged": 2}

    items = client.get(f"{INTRO}/suggestions?locale=ar", headers=people["translator"].headers).json[
        "items"
    ]
    exact = [i for i in items if i["segment"] == FIRST_SENTENCE and i["score"] == 100]
    assert [i["origin"]["imported"] for i in exact] == [False, True]
    assert items.index(exact[1]) > max(
        n for n, i in enumerate(items) if not i["origin"]["imported"]
    )
    assert exact[1]["origin"] == {"essay": None, "unit": None, "version": None, "imported": True}


@pytest.mark.parametrize(
    ("body", "headers_of", "status"),
    [
        (b"<tmx><body><tu>", "admin", 422),
        (b"not xml at all", "admin", 422),
        (tmx([("Hello.", "Bonjour.")], target="fr"), "admin", 422),
        (tmx([("Merhaba.", "مرحبا.")], source="tr"), "admin", 422),
        (tmx([]), "admin", 422),
        (tmx([("Hello.", "مرحبا.")]), "reviewer", 403),
        (tmx([("Hello.", "مرحبا.")]), None, 401),
    ],
)
def test_bad_tmx_changes_nothing(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    body: bytes,
    headers_of: str | None,
    status: int,
) -> None:
    before = len(memory_rows(app))
    headers = {"Content-Type": "application/x-tmx+xml"}
    if headers_of:
        headers |= people[headers_of].headers
    response = client.post("/api/v1/memory.tmx?locale=ar", data=body, headers=headers)
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    assert len(memory_rows(app)) == before


def test_tmx_upload_as_multipart(client: FlaskClient, people: dict[str, Person]) -> None:
    import io

    response = client.post(
        "/api/v1/memory.tmx?locale=fr",
        data={"file": (io.BytesIO(tmx([("Hello.", "Bonjour.")], target="fr")), "m.tmx")},
        headers=people["admin"].headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    assert response.json["created"] == 1


def test_locale_badge_is_public_cacheable_and_right_to_left(client: FlaskClient) -> None:
    assert "xkey" not in client.get("/api/v1/locales/ar/badge.svg").headers
    response = client.get("/api/v1/locales/ar/badge.svg", headers={"xkey-want": "1"})
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.data.decode()
    assert "العربية" in svg and 'direction="rtl"' in svg and "100" in svg
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in response.headers["Cache-Control"]
    assert set(response.headers["xkey"].split()) == {"all", "essays"}
    etag = response.headers["ETag"]
    again = client.get("/api/v1/locales/ar/badge.svg", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    french = client.get("/api/v1/locales/fr/badge.svg").data.decode()
    assert "français" in french and "direction" not in french
    assert client.get("/api/v1/locales/ar-EG/badge.svg").status_code == 200
    for code in ("zz", "line", "a" * 300, "%3Cb%3E"):
        response = client.get(f"/api/v1/locales/{code}/badge.svg")
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


def test_essay_badge_follows_publication(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    url = f"/api/v1/essays/{SLUG}/badge.svg?locale=ms"
    before = client.get(url)
    assert before.status_code == 200
    assert "Melayu" in before.data.decode() and ">0%<" in before.data.decode()
    version = submit(client, people["translator"], "conclusion", "ms", "Kesimpulannya, ia penting.")
    approve(client, people["reviewer"], version)
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"], "xkey-want": "1"})
    assert after.status_code == 200
    assert ">14%<" in after.data.decode()
    with app.app_context():
        from api.services.content import get_essay

        essay_id = get_essay(SLUG).id
    # An approval in Malay purges the tag e{id}//ms; the badge carries it.
    assert f"e{essay_id}//ms" in after.headers["xkey"].split()
    persian = client.get(f"/api/v1/essays/{SLUG}/badge.svg?locale=fa").data.decode()
    assert "فارسی" in persian and "57" in persian


@pytest.mark.parametrize("query", ["", "?locale=zz", "?locale=%3Cx%3E", "?locale=" + "a" * 70])
def test_essay_badge_refuses_bad_locales(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/essays/{SLUG}/badge.svg{query}")
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/essays/nope/badge.svg?locale=ar").status_code == 404


def test_badge_text_is_escaped(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from api import i18n
    from api.services.delivery import badges

    with app.app_context():
        registry = i18n.registry()
        hostile = replace(registry.infos["ar"], native_name='<script>alert("x")</script>&')
        monkeypatch.setattr(type(registry), "infos", property(lambda _: {"ar": hostile}))
        svg = badges.render("ar", 50.0).svg.decode()
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "&amp;" in svg
    from lxml import etree

    etree.fromstring(svg.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
