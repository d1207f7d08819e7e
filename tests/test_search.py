"""Search over HTTP (API.md: Search): what readers of each locale find, and when.

The index is kept by the changes themselves, so every test here changes something
through the API and searches right after, with no step in between.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import polib
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.extensions import db
from api.models import Job, SearchDocument, SearchFallback
from api.services.outbound import edge
from tests.conftest import ROOT, SLUG, Person, _config

SEARCH = "/api/v1/search"
ESSAY = f"/api/v1/essays/{SLUG}"
INTELLIGENCE = "enhanced-intelligence-capabilities"
MALAY = {
    entry.msgctxt: entry.msgstr
    for entry in polib.pofile(str(Path(ROOT, "tests", "search_queries", "ms.po")))
}
# The shipped catalogs: English source, six translations (Persian in part), no Malay.
SHIPPED_DOCUMENTS = 7 + 7 + 4 + 7 + 7 + 7 + 7


def search(client: FlaskClient, q: str | None, locale: str | None = "en", **params: Any) -> Any:
    query = {"q": q, "locale": locale, **params}
    return client.get(SEARCH, query_string={k: v for k, v in query.items() if v is not None})


def found(client: FlaskClient, q: str, locale: str = "en", **params: Any) -> list[dict[str, Any]]:
    response = search(client, q, locale, **params)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def units(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(item["unit"], item["locale"]) for item in items]


def highlighted(item: dict[str, Any]) -> list[str]:
    return [item["snippet"][start:end] for start, end in item["highlights"]]


def submit_malay(client: FlaskClient, translator: Person, key: str = INTELLIGENCE) -> int:
    body: dict[str, Any] = {"locale": "ms", "body": MALAY[f"{key}.body"], "source_revision": 1}
    if f"{key}.heading" in MALAY:
        body["heading"] = MALAY[f"{key}.heading"]
    response = client.post(
        f"{ESSAY}/sections/{key}/translations", json=body, headers=translator.headers
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def review(client: FlaskClient, reviewer: Person, version: int, action: str, **body: Any) -> None:
    response = client.post(
        f"/api/v1/translations/{version}/{action}", json=body, headers=reviewer.headers
    )
    assert response.status_code == 200, response.get_json()


def publish_malay(client: FlaskClient, people: dict[str, Person], key: str = INTELLIGENCE) -> int:
    version = submit_malay(client, people["translator"], key)
    review(client, people["reviewer"], version, "approve")
    return version


# --- what a reader finds -----------------------------------------------------------------


def test_an_english_reader_finds_a_section_with_its_snippet_and_highlights(
    client: FlaskClient,
) -> None:
    response = search(client, "intelligence threats")
    assert response.status_code == 200
    document = response.get_json()
    assert (document["page"], document["per_page"], document["total"]) == (1, 20, 1)
    (item,) = document["items"]
    assert item["essay"] == SLUG and item["unit"] == INTELLIGENCE
    assert (item["locale"], item["direction"]) == ("en", "ltr")
    assert item["heading"] == "Enhanced Intelligence Capabilities"
    assert item["score"] > 0
    assert {word.lower() for word in highlighted(item)} == {"intelligence", "threats"}
    assert len(item["snippet"]) <= 202  # the snippet, and an ellipsis at each cut


def test_an_arabic_reader_finds_words_whatever_their_vowels_article_and_letters(
    client: FlaskClient,
) -> None:
    for query in ("الاستخبارات", "استخبارات", "الاِسْتِخْبَارَات", "إستخبارات"):
        items = found(client, query, "ar")
        assert items[0]["unit"] == INTELLIGENCE, query
        assert all(item["locale"] == "ar" and item["direction"] == "rtl" for item in items)
        assert "الاستخبارات" in highlighted(items[0])
    # Nation, with the teh marbuta typed as heh and a Persian yeh in "Islamic".
    items = found(client, "الامه الاسلامیه", "ar")
    assert len(items) == 7
    # Its capacity: the teh before the pronoun is the teh marbuta of capacity (قدرة), and
    # capacities (القدرات) are found too.
    assert {item["unit"] for item in found(client, "قدرتها", "ar")} == {
        "technological-advancements-in-defense",
        INTELLIGENCE,
    }


def test_a_turkish_reader_finds_capital_i_typed_either_way(client: FlaskClient) -> None:
    for query in ("ISTIHBARAT", "İSTİHBARAT", "istihbaratın"):
        assert found(client, query, "tr")[0]["unit"] == INTELLIGENCE, query
    assert found(client, "ILIŞKILER", "tr")[0]["unit"] == "strategic-alliances-and-diplomacy"


def test_a_persian_reader_finds_words_joined_or_split_at_the_non_joiner(
    client: FlaskClient,
) -> None:
    for query in ("سازمان\u200cهای", "سازمانهای", "سازمان های"):
        items = found(client, query, "fa")
        assert units(items) == [(INTELLIGENCE, "fa")], query
        assert highlighted(items[0]) == ["سازمان\u200cهای"]


def test_fallback_sections_are_found_in_the_locale_they_are_written_in(
    client: FlaskClient,
) -> None:
    # Persian has four units of seven: a Persian reader reads the other three in English.
    items = found(client, "technology", "fa")
    assert {(unit, locale) for unit, locale in units(items)} == {
        ("technological-advancements-in-defense", "en"),
        ("conclusion", "en"),
    }
    assert all(item["direction"] == "ltr" for item in items)
    # The English intelligence section is not what a Persian reader gets: only the
    # conclusion, still in English, speaks of intelligence to them.
    assert units(found(client, "intelligence", "fa")) == [("conclusion", "en")]
    # Malay has no text of its own: its readers get Indonesian, and find it as such.
    malay = found(client, "keamanan", "ms")
    assert malay and {item["locale"] for item in malay} == {"id"}
    assert units(malay) == units(found(client, "keamanan", "id"))


def test_a_malay_translation_is_found_once_approved_in_place_of_the_indonesian(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    assert search(client, "perisikan", "ms").get_json()["total"] == 0
    before = units(found(client, "intelijen", "ms"))
    assert (INTELLIGENCE, "id") in before
    version = submit_malay(client, people["translator"])
    # Submitted is not published: nobody finds it yet.
    assert search(client, "perisikan", "ms").get_json()["total"] == 0
    review(client, people["reviewer"], version, "approve")
    items = found(client, "perisikan", "ms")
    assert units(items)[0] == (INTELLIGENCE, "ms")
    assert "perisikan" in [word.lower() for word in highlighted(items[0])]
    # The Indonesian text of that section is no longer what Malay readers get.
    assert units(found(client, "intelijen", "ms")) == [
        unit for unit in before if unit[0] != INTELLIGENCE
    ]
    # Indonesian readers never see the Malay text.
    assert search(client, "perisikan", "id").get_json()["total"] == 0
    # Unpublished, it is gone again, and the Indonesian comes back.
    review(client, people["reviewer"], version, "unpublish", reason="Wrong terms.")
    assert search(client, "perisikan", "ms").get_json()["total"] == 0
    assert units(found(client, "intelijen", "ms")) == before


def test_a_staged_locale_is_found_only_once_released(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    publish_malay(client, people)
    assert search(client, "perisikan", "ms").get_json()["total"] == 1
    path = f"{ESSAY}/locales/ms"
    assert client.put(path, json={"state": "staged"}, headers=admin.headers).status_code == 200
    assert search(client, "perisikan", "ms").get_json()["total"] == 0
    assert (INTELLIGENCE, "id") in units(found(client, "intelijen", "ms"))
    assert client.put(path, json={"state": "live"}, headers=admin.headers).status_code == 200
    assert units(found(client, "perisikan", "ms")) == [(INTELLIGENCE, "ms")]


def test_a_source_edit_is_found_at_once_and_its_old_words_are_not(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    assert units(found(client, "delve")) == [("introduction", "en")]
    url = f"{ESSAY}/sections/introduction"
    etag = client.get(url, query_string={"locale": "en"}).headers["ETag"]
    edited = client.put(
        url,
        json={"body": "Zeppelins once *crossed* the [sea](https://example.org)."},
        headers={**people["admin"].headers, "If-Match": etag},
    )
    assert edited.status_code == 200, edited.get_json()
    (item,) = found(client, "zeppelin")
    assert item["snippet"] == "Zeppelins once crossed the sea."  # plain text, no Markdown
    assert highlighted(item) == ["Zeppelins"]
    assert search(client, "delve").get_json()["total"] == 0
    # Readers of a locale whose introduction is an outdated translation still get it.
    assert units(found(client, "الأمة", "ar"))[0][1] == "ar"


def test_an_archived_essay_is_found_no_more(client: FlaskClient, people: dict[str, Person]) -> None:
    assert search(client, "ummah").get_json()["total"] > 0
    assert client.delete(ESSAY, headers=people["admin"].headers).status_code == 204
    for locale in ("en", "ar", "ms"):
        assert search(client, "ummah umat الأمة", locale).get_json()["total"] == 0


def test_when_no_section_has_every_word_sections_with_some_of_them_are_found(
    client: FlaskClient,
) -> None:
    items = found(client, "intelligence zeppelins")
    assert items[0]["unit"] == INTELLIGENCE
    assert search(client, "zeppelins dirigibles").get_json()["total"] == 0


def test_results_come_in_pages(client: FlaskClient) -> None:
    everything = found(client, "security", per_page=100)
    assert len(everything) == 7
    first = search(client, "security", per_page=3).get_json()
    second = search(client, "security", per_page=3, page=2).get_json()
    assert first["total"] == second["total"] == 7
    assert first["items"] + second["items"] == everything[:6]
    beyond = search(client, "security", per_page=3, page=9).get_json()
    assert (beyond["items"], beyond["total"]) == ([], 7)
    scores = [item["score"] for item in everything]
    assert scores == sorted(scores, reverse=True)


# --- bad queries ---------------------------------------------------------------------------


@pytest.mark.parametrize("q", [None, "", "   ", "x" * 201, "… — !? ،؛"])
def test_an_empty_or_over_long_query_is_a_400_problem(client: FlaskClient, q: str | None) -> None:
    response = search(client, q)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 400 and problem["type"].startswith("urn:tarjuma:problem:")
    assert problem["errors"]["q"]


def test_the_problem_speaks_the_readers_language(client: FlaskClient) -> None:
    english = search(client, "x" * 201).get_json()
    french = client.get(
        SEARCH, query_string={"q": "x" * 201}, headers={"Accept-Language": "fr"}
    ).get_json()
    assert "200" in english["detail"] and "200" in french["detail"]
    assert english["detail"] != french["detail"]


def test_a_locale_not_offered_is_a_400_naming_the_offered_ones(client: FlaskClient) -> None:
    response = search(client, "ummah", "de")
    assert response.status_code == 400
    assert "ms" in response.get_json()["available_locales"]
    assert search(client, "ummah", "*").status_code == 400


# --- caching and the edge ------------------------------------------------------------------


def test_a_search_is_a_public_read_tagged_with_the_locales_it_reads(client: FlaskClient) -> None:
    response = client.get(
        SEARCH, query_string={"q": "ummah", "locale": "ms"}, headers={"xkey-want": "1"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert {"all", "search", "search/ms", "search/id", "search/en"} <= set(
        response.headers["xkey"].split()
    )
    etag = response.headers["ETag"]
    again = client.get(
        SEARCH, query_string={"q": "ummah", "locale": "ms"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    # Without ?locale the body depends on Accept-Language, and says so.
    negotiated = client.get(
        SEARCH, query_string={"q": "الأمة"}, headers={"Accept-Language": "ar-EG"}
    )
    assert "Accept-Language" in negotiated.headers["Vary"]
    assert negotiated.get_json()["items"] == found(client, "الأمة", "ar")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _purged_tags(app: Flask) -> set[str]:
    with app.app_context():
        jobs = db.session.scalars(sa.select(Job).where(Job.kind == edge.JOB_KIND))
        return {tag for job in jobs for tag in job.payload["tags"]}


# An edge that refuses connections: every purge stays behind as a job to look at.
@pytest.mark.parametrize(
    "app_config", [{"EDGE_PURGE_URLS": [f"http://127.0.0.1:{_closed_port()}"]}]
)
def test_a_publication_purges_the_searches_of_its_locale(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    submit_malay(client, people["translator"])
    assert not any(tag.startswith("search") for tag in _purged_tags(app))
    publish_malay(client, people, "introduction")
    tags = _purged_tags(app)
    assert "search/ms" in tags
    assert not {"search/en", "search/id", "search"} & tags


# --- the index itself ----------------------------------------------------------------------


def _forget_the_index(app: Flask) -> None:
    with app.app_context():
        db.session.execute(sa.delete(SearchFallback))
        db.session.execute(sa.delete(SearchDocument))
        db.session.commit()


def test_the_index_holds_exactly_what_readers_get(app: Flask) -> None:
    with app.app_context():
        rows = db.session.execute(
            sa.select(SearchDocument.locale, sa.func.count()).group_by(SearchDocument.locale)
        ).all()
    assert dict(rows) == {"en": 7, "ar": 7, "fa": 4, "fr": 7, "id": 7, "tr": 7, "ur": 7}


def _fallbacks(app: Flask) -> dict[tuple[str, str], int]:
    """How many sections readers of a locale are served from another, by both locales."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(SearchFallback.reader, SearchFallback.locale, sa.func.count())
            .join(SearchDocument, SearchDocument.id == SearchFallback.document_id)
            .where(SearchDocument.locale == SearchFallback.locale)
            .group_by(SearchFallback.reader, SearchFallback.locale)
        ).all()
    return {(reader, locale): count for reader, locale, count in rows}


def test_the_index_lists_what_readers_get_from_a_fallback(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    # Persian lacks three sections (English for its readers); Malay has none (Indonesian).
    assert _fallbacks(app) == {("fa", "en"): 3, ("ms", "id"): 7}
    version = publish_malay(client, people)
    assert _fallbacks(app) == {("fa", "en"): 3, ("ms", "id"): 6}
    admin = people["admin"]
    staged = client.put(f"{ESSAY}/locales/ms", json={"state": "staged"}, headers=admin.headers)
    assert staged.status_code == 200
    assert _fallbacks(app) == {("fa", "en"): 3, ("ms", "id"): 7}
    live = client.put(f"{ESSAY}/locales/ms", json={"state": "live"}, headers=admin.headers)
    assert live.status_code == 200
    review(client, people["reviewer"], version, "unpublish", reason="Wrong terms.")
    assert _fallbacks(app) == {("fa", "en"): 3, ("ms", "id"): 7}
    # Gone with the essay, and rebuilt with the index.
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert _fallbacks(app) == {("fa", "en"): 3, ("ms", "id"): 7}
    assert client.delete(ESSAY, headers=admin.headers).status_code == 204
    assert _fallbacks(app) == {}


def test_seed_brings_the_fallback_list_in_line_after_the_upgrade_and_a_change_of_chains(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        db.session.execute(sa.delete(SearchFallback))  # as the upgrade that adds it leaves it
        db.session.commit()
    assert search(client, "keamanan", "ms").get_json()["total"] == 0
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "search: 10 fallback entries brought in line" in result.output
    assert _fallbacks(app) == {("fa", "en"): 3, ("ms", "id"): 7}
    assert {item["locale"] for item in found(client, "keamanan", "ms")} == {"id"}
    # The same database served with Malay falling straight back to the source.
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    other = create_app(_config(url, FALLBACKS={}))
    try:
        result = other.test_cli_runner().invoke(args=["seed"])
        assert result.exit_code == 0, result.output
        assert _fallbacks(other) == {("fa", "en"): 3, ("ms", "en"): 7}
        assert found(other.test_client(), "security", "ms")
        assert search(other.test_client(), "keamanan", "ms").get_json()["total"] == 0
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_reindex_command_rebuilds_the_index(app: Flask, client: FlaskClient) -> None:
    before = found(client, "الأمة", "ar")
    _forget_the_index(app)
    assert search(client, "ummah").get_json()["total"] == 0
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"search: {SHIPPED_DOCUMENTS} documents indexed"
    assert found(client, "الأمة", "ar") == before


def test_seed_builds_an_index_it_finds_empty(app: Flask, client: FlaskClient) -> None:
    before = found(client, "ummah")
    _forget_the_index(app)
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert f"search: {SHIPPED_DOCUMENTS} documents indexed" in result.output
    assert found(client, "ummah") == before
    # A second seed finds it full and leaves it be.
    again = app.test_cli_runner().invoke(args=["seed"])
    assert "search:" not in again.output
