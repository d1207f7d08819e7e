"""Where the analysed terms go, and how a query finds them: SQLite FTS5 or PostgreSQL.

Both databases get the analyzer's terms, never the text: SQLite's FTS5 table (``ascii``
tokenizer) splits the space-separated terms and changes none; PostgreSQL gets a
``tsvector`` written out term by term (its input syntax, not ``to_tsvector``), and
queries as ``tsquery`` the same way. Ranking is the database's own: BM25 for FTS5,
``ts_rank_cd`` (cover density) for PostgreSQL, both weighing a match in the heading
above one in the body.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from api.extensions import db
from api.models.search import FTS_TABLE
from api.services.search.analysis import Query, Token

# FTS5's BM25 weights of the heading and the body columns.
_BM25_WEIGHTS = (2.0, 1.0)
# PostgreSQL: heading terms carry weight B (0.4 by default), body terms D (0.1).
_HEADING_WEIGHT = "B"
# ``ts_rank_cd`` normalisation 1: divided by 1 + log(document length), as BM25 does too.
_RANK_NORMALISATION = 1
# tsvector limits: positions up to 16383, at most 256 positions per lexeme.
_MAX_POSITION = 16383
_MAX_POSITIONS = 256


@dataclass(frozen=True)
class Branch:
    """Where one locale's query looks.

    locale: the locale whose documents it matches (with ``query``, analysed in it).
    reader: None for the reader's own locale, whose every document is served; else the
        reader's locale, who is served only the documents ``search_fallbacks`` lists.
    """

    locale: str
    query: Query
    reader: str | None = None


@dataclass(frozen=True)
class Hit:
    id: int
    score: float


class Store:
    """The generic part: both databases keep the documents in ``search_documents``."""

    def columns(self, heading: Sequence[Token], body: Sequence[Token]) -> dict[str, Any]:
        """The index columns of a document with these heading and body tokens."""
        raise NotImplementedError

    def search(
        self, branches: Sequence[Branch], limit: int, offset: int, *, any_clause: bool = False
    ) -> tuple[list[Hit], int]:
        """A page of the best documents, best first, and how many match in all.

        A document matches when it has every word of the query (in one of its forms), or
        with ``any_clause`` one of them.
        """
        selects = []
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        for n, branch in enumerate(branches):
            if not branch.query:
                continue
            select, named = self._branch(n, branch, any_clause)
            selects.append(select)
            params.update(named)
        if not selects:
            return [], 0
        self._prepare()
        union = " UNION ALL ".join(selects)
        sql = (
            f"SELECT id, score, count(*) OVER () AS total FROM ({union}) AS found"  # noqa: S608
            " ORDER BY score DESC, id LIMIT :limit OFFSET :offset"
        )
        rows = db.session.execute(sa.text(sql), params).all()
        if rows:
            return [Hit(row.id, float(row.score)) for row in rows], int(rows[0].total)
        if offset == 0:
            return [], 0
        total = db.session.scalar(
            sa.text(f"SELECT count(*) FROM ({union}) AS found"),  # noqa: S608
            params,
        )
        return [], int(total or 0)

    def _branch(self, n: int, branch: Branch, any_clause: bool) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Before a search's statements, inside the request's transaction."""

    @staticmethod
    def _served(n: int, branch: Branch) -> tuple[str, dict[str, Any]]:
        """The ids of the documents the branch may serve, as a subquery: the locale's, or
        those the reader is served from it (listed apart, so a fallback locale costs what
        it serves, not what it matches)."""
        # Only parameter names are spelt into the SQL; every value is bound.
        params: dict[str, Any] = {f"locale_{n}": branch.locale}
        if branch.reader is None:
            sql = f"SELECT d.id FROM search_documents AS d WHERE d.locale = :locale_{n}"  # noqa: S608
            return sql, params
        params[f"reader_{n}"] = branch.reader
        sql = (
            "SELECT f.document_id FROM search_fallbacks AS f"  # noqa: S608
            f" WHERE f.reader = :reader_{n} AND f.locale = :locale_{n}"
        )
        return sql, params

    def rebuild(self) -> None:
        """After documents were written behind the index's back (nothing to do here)."""


class SqliteStore(Store):
    def columns(self, heading: Sequence[Token], body: Sequence[Token]) -> dict[str, Any]:
        return {"heading_terms": _spaced(heading), "body_terms": _spaced(body), "terms": None}

    def _branch(self, n: int, branch: Branch, any_clause: bool) -> tuple[str, dict[str, Any]]:
        served, params = self._served(n, branch)
        heading, body = _BM25_WEIGHTS
        params[f"match_{n}"] = fts5_query(branch.query, any_clause=any_clause)
        # The documents the branch may serve are listed once, from an index (the set does
        # not depend on the words), and each match is looked up in that list: joining
        # every match to its document read a wide row per match, most of them in other
        # locales. The ``+`` keeps SQLite from handing the list to FTS5 as rowids to match
        # one by one.
        sql = (
            f"SELECT {FTS_TABLE}.rowid AS id,"  # noqa: S608
            f" -bm25({FTS_TABLE}, {heading}, {body}) AS score FROM {FTS_TABLE}"
            f" WHERE {FTS_TABLE} MATCH :match_{n} AND +{FTS_TABLE}.rowid IN ({served})"
        )
        return sql, params

    def rebuild(self) -> None:
        rebuild = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"  # noqa: S608
        db.session.execute(sa.text(rebuild))


class PostgresStore(Store):
    def _prepare(self) -> None:
        # A search's branches are a UNION ALL, which the planner likes to hand to parallel
        # workers; starting them costs more (3 to 8 ms) than the whole statement's work.
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))

    def columns(self, heading: Sequence[Token], body: Sequence[Token]) -> dict[str, Any]:
        literal = tsvector(heading, body)
        return {
            "heading_terms": None,
            "body_terms": None,
            "terms": sa.cast(sa.literal(literal, sa.Text), postgresql.TSVECTOR),
        }

    def _branch(self, n: int, branch: Branch, any_clause: bool) -> tuple[str, dict[str, Any]]:
        served, params = self._served(n, branch)
        params[f"match_{n}"] = tsquery(branch.query, any_clause=any_clause)
        query = f"CAST(:match_{n} AS tsquery)"
        # The locale's own documents through its index (met with the GIN index's matches
        # in a BitmapAnd); a fallback locale's also through the reader's list of them.
        fallback = f" AND d.id IN ({served})" if branch.reader is not None else ""
        sql = (
            f"SELECT d.id AS id, ts_rank_cd(d.terms, {query}, {_RANK_NORMALISATION}) AS score"  # noqa: S608
            f" FROM search_documents AS d WHERE d.terms @@ {query}"
            f" AND d.locale = :locale_{n}{fallback}"
        )
        return sql, params


def store() -> Store:
    """The store of the session's database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return PostgresStore()
    return SqliteStore()


def _spaced(tokens: Iterable[Token]) -> str:
    return " ".join(term for token in tokens for term in token.terms)


# --- FTS5 and tsquery / tsvector syntax ---------------------------------------------------


def fts5_query(query: Query, *, any_clause: bool = False) -> str:
    """The query in FTS5's syntax: every term a quoted string."""

    def term(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    clauses = [
        "(" + " OR ".join("(" + " AND ".join(map(term, alt)) + ")" for alt in clause) + ")"
        for clause in query.clauses
    ]
    return (" OR " if any_clause else " AND ").join(clauses)


def _lexeme(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery(query: Query, *, any_clause: bool = False) -> str:
    """The query in ``tsquery``'s input syntax: lexemes quoted, none normalised."""
    clauses = [
        "(" + " | ".join("(" + " & ".join(map(_lexeme, alt)) + ")" for alt in clause) + ")"
        for clause in query.clauses
    ]
    return (" | " if any_clause else " & ").join(clauses)


def tsvector(heading: Sequence[Token], body: Sequence[Token]) -> str:
    """A ``tsvector`` in its input syntax: each term with its positions, heading first
    (weighed more), then body."""
    positions: dict[str, list[str]] = {}
    for offset, tokens, weight in ((1, heading, _HEADING_WEIGHT), (len(heading) + 1, body, "")):
        for token in tokens:
            place = min(offset + token.position, _MAX_POSITION)
            for term in token.terms:
                held = positions.setdefault(term, [])
                if len(held) < _MAX_POSITIONS:
                    held.append(f"{place}{weight}")
    return " ".join(f"{_lexeme(term)}:{','.join(places)}" for term, places in positions.items())
