"""The console's search box: translators search their locales and the source."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.conftest import SLUG, Person
from tests.test_console import html, sign_in

SEARCH = "/console/search"
INTELLIGENCE = "enhanced-intelligence-capabilities"


def options(page: str) -> list[str]:
    select = page[page.index('id="search-locale"') :]
    select = select[: select.index("</select>")]
    return re.findall(r'<option value="([^"]+)"', select)


def test_a_translator_searches_their_locales_and_the_source(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])  # Malay and Arabic
    page = html(client.get(SEARCH))
    assert options(page) == ["ar", "ms", "en"]
    # A locale that is not theirs is not searched: their first one is.
    page = html(client.get(SEARCH, query_string={"q": "keamanan", "locale": "fr"}))
    assert 'value="ar" selected' in page


def test_the_words_found_are_marked_and_lead_to_the_editor(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    response = client.get(SEARCH, query_string={"q": "استخبارات", "locale": "ar"})
    assert response.status_code == 200
    page = html(response)
    assert "<mark>الاستخبارات</mark>" in page
    assert f'href="/console/translate/{SLUG}/ar/{INTELLIGENCE}"' in page
    assert '<p lang="ar" dir="rtl">' in page
    # In the source, there is nothing to translate: a preview only.
    page = html(client.get(SEARCH, query_string={"q": "intelligence", "locale": "en"}))
    assert "<mark>intelligence</mark>" in page.lower()
    assert "/console/translate/" not in page


def test_a_malay_translator_finds_the_indonesian_fallback_to_translate(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    page = html(client.get(SEARCH, query_string={"q": "intelijen", "locale": "ms"}))
    assert '<p lang="id" dir="ltr">' in page
    assert f'href="/console/translate/{SLUG}/ms/{INTELLIGENCE}"' in page


def test_a_query_with_no_words_says_so(client: FlaskClient, people: dict[str, Person]) -> None:
    sign_in(client, people["translator"])
    page = html(client.get(SEARCH, query_string={"q": "?!", "locale": "ar"}))
    assert 'role="alert"' in page and "Search for some text." in page
    page = html(client.get(SEARCH, query_string={"q": "zeppelin", "locale": "en"}))
    assert "No published section matches these words." in page
