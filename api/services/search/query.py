"""A reader's search: published sections matching words, in the locale they read.

A reader of locale L is served each section in the first locale of L's fallback chain
(then the essay's source) that has published text; search looks at exactly those texts.
Each is matched in the language it is written in: the query is analysed once per locale
the reader is served sections from (the index lists which: ``SearchFallback``), and a
section served from a fallback is found, and reported, in that fallback's locale (a Malay
reader whose section comes from Indonesian finds it with the Indonesian analyzer, under
``"locale": "id"``).

Every word of the query must match (in one of its forms); when no section has them all,
sections with some of them are returned, best first.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext

from api import i18n
from api.errors import InvalidInput
from api.extensions import db
from api.models import Essay, SearchDocument, Unit
from api.services.outbound import edge
from api.services.search import analysis, snippets
from api.services.search.index import search_tag
from api.services.search.store import Branch, Hit, store

MAX_QUERY = 200
SNIPPET_LENGTH = 200
_SOURCE_LOCALES = sa.text("SELECT DISTINCT source_locale FROM essays WHERE archived_at IS NULL")
_FALLBACK_LOCALES = sa.text("SELECT DISTINCT locale FROM search_fallbacks WHERE reader = :reader")


def _source_locales() -> list[str]:
    """The locales essays are written in (a reader's chain ends with the essay's own)."""
    found = db.session.execute(_SOURCE_LOCALES).scalars()
    return i18n.ordered(found)


def _checked(text: str) -> str:
    if not text.strip():
        message = gettext("Search for some text.")
        raise InvalidInput(message, errors={"q": [message]})
    if len(text) > MAX_QUERY:
        message = gettext("Search for at most %(max)s characters.", max=MAX_QUERY)
        raise InvalidInput(message, errors={"q": [message]})
    return text


def _fallback_locales(locale: str) -> list[str]:
    """The locales a reader of ``locale`` is served some sections from, instead of their own
    (the index keeps the list: see ``SearchFallback``)."""
    found = set(db.session.execute(_FALLBACK_LOCALES, {"reader": locale}).scalars())
    chain = i18n.registry().chain(locale)
    return [code for code in chain if code in found] + i18n.ordered(
        code for code in found if code not in chain
    )


def branches(text: str, locale: str) -> list[Branch]:
    """Where a reader of ``locale`` searches, each locale with the query analysed in it:
    their own, and each locale they are served sections from."""
    found = [Branch(locale, analysis.analyzer(locale).query(text))]
    found += [
        Branch(code, analysis.analyzer(code).query(text), locale)
        for code in _fallback_locales(locale)
    ]
    return found


def looked_in(locale: str) -> list[str]:
    """The locales a search in ``locale`` reads (its chain, and every essay's source)."""
    return list(dict.fromkeys([*i18n.registry().chain(locale), *_source_locales()]))


def tags(locale: str) -> str:
    """The edge tags of a search in ``locale``: a change in any locale it reads purges it."""
    return " ".join([edge.ALL, search_tag(None), *(search_tag(code) for code in looked_in(locale))])


def search(text: str, locale: str, page: int, per_page: int) -> dict[str, Any]:
    """A page of the sections matching ``text`` for a reader of ``locale``, best first."""
    text = _checked(text)
    where = branches(text, locale)
    if not any(branch.query for branch in where):
        message = gettext("Search for some text.")
        raise InvalidInput(message, errors={"q": [message]})
    found = store()
    offset = (page - 1) * per_page
    hits, total = found.search(where, per_page, offset)
    if total == 0 and any(len(branch.query.clauses) > 1 for branch in where):
        hits, total = found.search(where, per_page, offset, any_clause=True)
    queries = {branch.locale: branch.query for branch in where}
    return {
        "items": _items(hits, queries),
        "page": page,
        "per_page": per_page,
        "total": total,
    }


def _items(hits: list[Hit], queries: dict[str, analysis.Query]) -> list[dict[str, Any]]:
    if not hits:
        return []
    rows = db.session.execute(
        sa.select(
            SearchDocument.id,
            SearchDocument.locale,
            SearchDocument.heading,
            SearchDocument.body,
            Essay.slug,
            Unit.key,
        )
        .join(Essay, Essay.id == SearchDocument.essay_id)
        .join(Unit, Unit.id == SearchDocument.unit_id)
        .where(SearchDocument.id.in_([hit.id for hit in hits]))
    )
    by_id = {row.id: row for row in rows}
    items = []
    for hit in hits:
        row = by_id[hit.id]
        words = analysis.analyzer(row.locale)
        snippet, highlights = snippets.cut(
            row.body, words.tokens(row.body), queries[row.locale].terms, SNIPPET_LENGTH
        )
        items.append(
            {
                "essay": row.slug,
                "unit": row.key,
                "locale": row.locale,
                "direction": i18n.direction_of(row.locale),
                "heading": row.heading,
                "snippet": snippet,
                "highlights": highlights,
                "score": round(hit.score, 6),
            }
        )
    return items
