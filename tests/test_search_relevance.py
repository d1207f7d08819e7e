"""Search relevance per language holds its targets (on SQLite, and on PostgreSQL with
``make test-postgres``): recall@5 >= 0.95 and MRR >= 0.85 on the query sets."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.search_relevance import TARGETS, measure, publish_malay, query_sets, report


def test_every_language_has_a_query_set_of_fifteen_or_more() -> None:
    sets = query_sets()
    assert set(sets) == {"ar", "en", "fa", "fr", "id", "ms", "tr", "ur"}
    assert all(len(queries) >= 15 for queries in sets.values())


def test_recall_and_mrr_per_language_meet_the_targets(
    app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    publish_malay(app)
    results = measure(app)
    with capsys.disabled():
        print("\n" + report(results, app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]))
    short = {
        locale: (round(found.recall, 3), round(found.mrr, 3))
        for locale, found in results.items()
        if found.recall < TARGETS["recall@5"] or found.mrr < TARGETS["MRR"]
    }
    assert short == {}
