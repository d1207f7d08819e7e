"""The console's translators' aids: memory suggestions, glossary terms, the glossary page."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models import GlossaryTerm
from tests.conftest import SLUG, Person
from tests.test_console import csrf_token, html, post, sign_in, versions

EDIT_AR_INTRO = f"/console/translate/{SLUG}/ar/introduction"
EDIT_MS_INTRO = f"/console/translate/{SLUG}/ms/introduction"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def test_editor_shows_suggestions_and_glossary_terms_beside_the_source(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    page = html(client.get(EDIT_MS_INTRO))
    assert "Glossary terms in this text" in page
    for term in ("Islamic Nation", "Ummah", "security"):
        assert f">{term}</dt>" in page
    assert "Bangsa Islam · Ummah Islam" in page
    # Malay has no translation of its own; the memory holds the other languages' sentences.
    assert "Translation memory" in page
    arabic = html(client.get(EDIT_AR_INTRO))
    assert "100% match" in arabic
    assert 'form="translation-form" name="use"' in arabic


def test_copying_a_suggestion_fills_the_field_and_submits_nothing(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    page = html(client.get(EDIT_AR_INTRO))
    value = htmllib.unescape(re.search(r'name="use" value="([^"]+)"', page).group(1))
    before = versions(app, locale="ar")
    response = post(
        client, EDIT_AR_INTRO, {"body": "نص سابق.", "source_revision": "1", "use": value}
    )
    assert response.status_code == 200
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", html(response), re.S).group(1)
    assert htmllib.unescape(textarea).strip() == f"نص سابق. {value}"
    assert versions(app, locale="ar") == before


def test_glossary_page_lists_and_reviewers_add_change_and_remove(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["reviewer"])
    page = html(client.get("/console/glossary?locale=ar"))
    assert "الأمة الإسلامية" in page and "Add a term" in page
    response = post(
        client,
        "/console/glossary?locale=ar",
        {"term": "regional stability", "translations": "الاستقرار الإقليمي", "note": ""},
    )
    assert response.status_code == 303, html(response)
    with app.app_context():
        entry = db.session.scalar(
            sa.select(GlossaryTerm).where(GlossaryTerm.term == "regional stability")
        )
        assert entry is not None and entry.translations == ["الاستقرار الإقليمي"]
        term_id = entry.id
    response = post(
        client,
        f"/console/glossary/{term_id}",
        {"term": "regional stability", "translations": "الاستقرار الإقليمي\nاستقرار المنطقة"},
    )
    assert response.status_code == 303, html(response)
    with app.app_context():
        assert db.session.get(GlossaryTerm, term_id).translations == [
            "الاستقرار الإقليمي",
            "استقرار المنطقة",
        ]
    assert post(client, f"/console/glossary/{term_id}", {"delete": "1"}).status_code == 303
    with app.app_context():
        assert db.session.get(GlossaryTerm, term_id) is None


def test_a_term_without_renderings_is_refused(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["reviewer"])
    response = post(
        client, "/console/glossary?locale=ar", {"term": "regional stability", "translations": " "}
    )
    assert response.status_code == 422
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(GlossaryTerm).where(GlossaryTerm.term == "regional stability")
            )
            is None
        )


def test_translators_read_the_glossary_but_do_not_edit_it(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    page = html(client.get("/console/glossary?locale=ar"))
    assert "الأمة الإسلامية" in page and "Add a term" not in page
    response = post(client, "/console/glossary?locale=ar", {"term": "x y", "translations": "ش"})
    assert response.status_code == 403
    assert csrf_token(client, "/console/glossary")
