"""Search relevance: recall@5 and MRR per language on the query sets in search_queries/.

Each query set (``search_queries/<locale>.json``) lists what a reader of that locale
types and the sections they expect: inflected forms, diacritics, variant letters, the
non-joiner, Turkish I. The Malay text is ``search_queries/ms.po`` (no catalog ships one),
published here as a reviewer would before Malay is measured.

    recall@5  the share of a query's expected sections among the first five results
    MRR       1 / the rank of the first expected section (0 when none is in the first 20)

both averaged over a language's queries. ``tests/test_search_relevance.py`` holds them to
the targets; ``make bench-search`` prints them for SQLite and PostgreSQL:

    python -m tests.search_relevance [POSTGRESQL_SERVER_URL]
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polib
from flask import Flask

QUERIES = Path(__file__).resolve().parent / "search_queries"
MALAY_TEXT = QUERIES / "ms.po"
SLUG = "championing-islamic-nations-security"
RECALL_AT = 5
DEPTH = 20
TARGETS = {"recall@5": 0.95, "MRR": 0.85}


@dataclass
class Measure:
    locale: str
    recall: float = 0.0
    mrr: float = 0.0
    queries: int = 0
    misses: list[str] = field(default_factory=list)


def query_sets() -> dict[str, list[dict[str, object]]]:
    sets = {}
    for path in sorted(QUERIES.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        sets[document["locale"]] = document["queries"]
    return sets


def publish_malay(app: Flask) -> None:
    """Publish the Malay text of every section, as a reviewer's approvals would."""
    from api.services import content
    from api.services.translation import catalogs

    with app.app_context():
        essay = content.get_essay(SLUG)
        catalogs.load_published(essay, "ms", polib.pofile(str(MALAY_TEXT)))


def measure(app: Flask) -> dict[str, Measure]:
    """recall@5 and MRR of every language's query set, searched as its readers would."""
    from api.services.search import query

    results = {}
    with app.test_request_context():
        for locale, queries in query_sets().items():
            found = Measure(locale)
            for item in queries:
                text, expected = str(item["q"]), set(item["expect"])  # type: ignore[arg-type]
                page = query.search(text, locale, 1, DEPTH)
                ranked = [hit["unit"] for hit in page["items"] if hit["locale"] == locale]
                recall = len(expected & set(ranked[:RECALL_AT])) / len(expected)
                rank = next((n for n, unit in enumerate(ranked, 1) if unit in expected), None)
                found.recall += recall
                found.mrr += 1 / rank if rank else 0.0
                found.queries += 1
                if recall < 1 or rank != 1:
                    found.misses.append(f"{text!r}: expected {sorted(expected)}, got {ranked[:5]}")
            found.recall /= found.queries
            found.mrr /= found.queries
            results[locale] = found
    return results


def report(results: dict[str, Measure], database: str) -> str:
    lines = [f"search relevance on {database}", "locale  queries  recall@5    MRR"]
    for found in results.values():
        lines.append(
            f"{found.locale:<7} {found.queries:>7}  {found.recall:>8.3f}  {found.mrr:>5.3f}"
        )
    for found in results.values():
        lines += [f"  {found.locale} {miss}" for miss in found.misses]
    return "\n".join(lines)


def _app(url: str) -> Flask:
    from flask_migrate import upgrade

    from api import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": True,
            "SECRET_KEY": "relevance",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        result = app.test_cli_runner().invoke(args=["seed"])
        assert result.exit_code == 0, result.output
    return app


def _measured(url: str, name: str) -> dict[str, Measure]:
    from api.extensions import db

    app = _app(url)
    publish_malay(app)
    results = measure(app)
    print(report(results, name))
    with app.app_context():
        db.engine.dispose()
    return results


def main(argv: list[str]) -> int:
    """Measure on a new SQLite file, then, given a PostgreSQL server's URL, on a scratch
    database made on it (and dropped after)."""
    import os

    import sqlalchemy as sa

    with tempfile.TemporaryDirectory() as directory:
        results = [_measured(f"sqlite:///{directory}/relevance.db", "SQLite")]
    if len(argv) > 1:
        server = sa.create_engine(argv[1], isolation_level="AUTOCOMMIT")
        scratch = f"tarjuma_relevance_{os.getpid()}"
        with server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
        try:
            url = sa.make_url(argv[1]).set(database=scratch)
            results.append(_measured(url.render_as_string(hide_password=False), "PostgreSQL"))
        finally:
            with server.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
            server.dispose()
    short = [
        found.locale
        for measured in results
        for found in measured.values()
        if found.recall < TARGETS["recall@5"] or found.mrr < TARGETS["MRR"]
    ]
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
