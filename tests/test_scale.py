"""Running at scale: SQLite's safety pragmas, indexed workflow queries, and freshness across
app instances (two gunicorn servers on one PostgreSQL database)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from api import create_app
from api.extensions import db
from api.services.delivery import reading
from tests.conftest import ROOT, SLUG, Person, PostgresDatabases, _config, make_person
from tests.servers import Instance

ESSAY = f"/api/v1/essays/{SLUG}"
INTRO = f"{ESSAY}/sections/introduction"
MALAY = "Memajukan keselamatan Negara Islam amat penting untuk memperkukuh Ummah."

# Tables that grow with the content and the workflow; the others stay small.
BIG_TABLES = frozenset(
    {
        "units",
        "source_revisions",
        "translation_versions",
        "publication_stamps",
        "comments",
        "events",
    }
)
# What the review queue, the event log and the progress figures ask the database.
WORKFLOW_READS = [
    ("reviewer", "/api/v1/reviews"),
    ("reviewer", "/api/v1/reviews?locale=ms"),
    ("reviewer", "/api/v1/reviews?locale=ms&status=approved"),
    ("admin", "/api/v1/reviews"),
    ("admin", "/api/v1/reviews?status=rejected"),
    # The whole log asks for every row (a reviewer's leaves out the few about people, which
    # no index narrows); every filter must be served by an index, for reviewers too.
    ("admin", "/api/v1/events"),
    ("reviewer", "/api/v1/events?locale=ms"),
    ("reviewer", "/api/v1/events?unit=introduction"),
    ("reviewer", "/api/v1/events?user=tariq"),
    ("reviewer", "/api/v1/events?action=translation.approved"),
    ("reviewer", "/api/v1/events?since=2026-01-01T00:00:00Z&until=2099-01-01T00:00:00Z"),
    ("reviewer", "/api/v1/events?locale=ms&user=rania&action=translation.approved"),
    (None, "/api/v1/locales"),
    (None, "/api/v1/locales/ms/progress"),
]


# --- SQLite, the embedded default ------------------------------------------------------


def _pragmas(connection: Any) -> dict[str, Any]:
    names = ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
    return {name: connection.execute(f"PRAGMA {name}").fetchone()[0] for name in names}


@pytest.fixture
def sqlite_app(sqlite_databases: Any) -> Iterator[Flask]:
    """An app on SQLite whatever TARJUMA_TEST_DB says: the embedded default's own checks."""
    from tests.conftest import _make_app

    yield from _make_app(sqlite_databases)


def test_sqlite_connections_are_safe_for_concurrent_use(sqlite_app: Flask) -> None:
    app = sqlite_app
    expected = {"journal_mode": "wal", "busy_timeout": 10000, "foreign_keys": 1, "synchronous": 1}
    with app.app_context():
        with db.engine.connect() as connection:
            assert _pragmas(connection.connection.dbapi_connection) == expected
        with app.test_request_context(ESSAY):
            reading.read_stamps(SLUG, "", ("en",))
            held = reading._reader().connections.held()
            assert _pragmas(held.connection) == expected
        orphan = sa.text(
            "INSERT INTO units (essay_id, key, kind, position, body, source_revision,"
            " source_hash, source_changed_at) VALUES (999999, 'k', 'section', 0, 'b', 1, 'h',"
            " '2026-01-01')"
        )
        with db.engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
            connection.execute(orphan)


# A process that reads, forks, and lets its child read too (a fresh interpreter: forking
# the test process itself would copy its threads).
_FORKED_READS = """
import os, sys
import sqlalchemy as sa
from api.database import HeldConnections
engine = sa.create_engine(sys.argv[1])
connections = HeldConnections(engine)
one = connections.prepare(sa.select(sa.literal_column("1")))
assert connections.read(one, {}) == [(1,)]
mine = connections.held()
pid = os.fork()
if pid == 0:
    reused = connections.held() is mine
    ok = connections.read(one, {}) == [(1,)]
    os._exit(3 if reused else 0 if ok else 4)
_, status = os.waitpid(pid, 0)
assert connections.held() is mine and connections.read(one, {}) == [(1,)]
print(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.multiprocess
def test_a_forked_child_reads_on_connections_of_its_own(app: Flask) -> None:
    """A child never writes on its parent's held connection, nor closes it."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    done = subprocess.run(
        [sys.executable, "-c", _FORKED_READS, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0", "the child read on its parent's connection"


# --- indexed reads -----------------------------------------------------------------------


def _capture(app: Flask, calls: Callable[[], None]) -> list[tuple[str, Any]]:
    """Every SELECT the app sends while ``calls`` runs."""
    seen: dict[str, Any] = {}

    def listener(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.setdefault(statement, parameters)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        calls()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return list(seen.items())


def _full_scans(app: Flask, statement: str, parameters: Any) -> list[str]:
    """The big tables a statement reads whole, by the database's own plan.

    SQLite must SEARCH a big table (``SCAN`` reads all of it, or all of one of its
    indexes); PostgreSQL, with sequential scans priced out, must use an index with a
    condition. A statement without WHERE asks for every row (or the first page of them
    in primary-key order), so reading the whole table is its plan by design.
    """
    if not re.search(r"\bWHERE\b", statement, re.IGNORECASE):
        return []
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            details = [row[3] for row in plan]
            # SQLite names a table by its alias (SCAN units_1 for "units AS units_1").
            aliases = {
                alias: table
                for table, alias in re.findall(r'"?(\w+)"?\s+AS\s+"?(\w+)"?', statement)
                if table in db.metadata.tables
            }
            return [
                detail
                for detail in details
                if (match := re.match(r"SCAN (\w+)", detail))
                and aliases.get(match[1], match[1]) in BIG_TABLES
            ]
        connection.exec_driver_sql("SET enable_seqscan = off")
        document = connection.exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) {statement}", parameters
        ).scalar_one()
        plan = document if isinstance(document, list) else json.loads(document)
        scans: list[str] = []

        def visit(node: dict[str, Any]) -> None:
            kind, table = node["Node Type"], node.get("Relation Name")
            if kind == "Seq Scan" and table in BIG_TABLES:
                scans.append(f"Seq Scan on {table}")
            elif "Index" in kind and table in BIG_TABLES and "Index Cond" not in node:
                scans.append(f"{kind} on {table} using {node['Index Name']} without a condition")
            for child in node.get("Plans", []):
                visit(child)

        visit(plan[0]["Plan"])
        return scans


def test_full_scans_are_found_through_table_aliases(sqlite_app: Flask) -> None:
    """The plan check itself: on SQLite a scan of a big table counts under any alias."""
    app = sqlite_app
    plain = "SELECT units.id FROM units WHERE units.body = ?"
    aliased = "SELECT units_1.id FROM units AS units_1 WHERE units_1.body = ?"
    assert _full_scans(app, plain, ("x",)) != []
    assert _full_scans(app, aliased, ("x",)) != []
    by_key = "SELECT units_1.id FROM units AS units_1 WHERE units_1.id = ?"
    assert _full_scans(app, by_key, (1,)) == []


def _workflow_history(app: Flask, people: dict[str, Person]) -> None:
    """Versions in several states, comments and events, so that every query has rows."""
    client = app.test_client()
    ids = []
    for key in ("introduction", "conclusion", "title"):
        response = client.post(
            f"{ESSAY}/sections/{key}/translations",
            json={"locale": "ms", "body": MALAY, "source_revision": 1},
            headers=people["translator"].headers,
        )
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    approve = f"/api/v1/translations/{ids[0]}/approve"
    response = client.post(approve, json={"comment": "Baik"}, headers=people["reviewer"].headers)
    assert response.status_code == 200, response.get_json()
    reject = f"/api/v1/translations/{ids[1]}/reject"
    response = client.post(reject, json={"reason": "No"}, headers=people["reviewer"].headers)
    assert response.status_code == 200, response.get_json()


def _assert_workflow_reads_use_indexes(app: Flask, people: dict[str, Person]) -> None:
    _workflow_history(app, people)
    client = app.test_client()

    def run() -> None:
        for role, path in WORKFLOW_READS:
            headers = people[role].headers if role else {}
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.get_json())

    statements = _capture(app, run)
    assert len(statements) > 10
    scans = {
        statement: found
        for statement, parameters in statements
        if (found := _full_scans(app, statement, parameters))
    }
    assert not scans, scans


def _roles(app: Flask) -> dict[str, Person]:
    return {
        "translator": make_person(app, "tariq", "translator", "ms"),
        "reviewer": make_person(app, "rania", "reviewer", "ms"),
        "admin": make_person(app, "ada", "admin"),
    }


def test_review_queue_event_log_and_progress_use_indexes(app: Flask) -> None:
    _assert_workflow_reads_use_indexes(app, _roles(app))


@pytest.mark.postgres
def test_review_queue_event_log_and_progress_use_indexes_on_postgres(pg_app: Flask) -> None:
    _assert_workflow_reads_use_indexes(pg_app, _roles(pg_app))


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    reads: list[tuple[str, str]] = []
    original = reading.StampReader.read

    def counted(self: reading.StampReader, slug: str, scope: str, locales: Any) -> Any:
        reads.append((slug, scope))
        return original(self, slug, scope, locales)

    monkeypatch.setattr(reading.StampReader, "read", counted)
    return reads


@pytest.mark.parametrize("path", [ESSAY, INTRO])
def test_a_prepared_representation_costs_one_indexed_read(
    app: Flask, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    client = app.test_client()
    etag = client.get(path, query_string={"locale": "ms"}).headers["ETag"]
    reads = _count_reads(monkeypatch)

    def again() -> None:
        assert client.get(path, query_string={"locale": "ms"}).status_code == 200
        not_modified = client.get(
            path, query_string={"locale": "ms"}, headers={"If-None-Match": etag}
        )
        assert not_modified.status_code == 304 and not_modified.data == b""

    assert _capture(app, again) == []
    assert len(reads) == 2
    with app.test_request_context(path):
        reader = reading._reader()
        for count in (3, 8):
            sql, order = reader._statement(count)
            named = {"slug": SLUG, "scope": "", **{f"locale_{n}": "en" for n in range(count)}}
            parameters = named if order is None else tuple(named[name] for name in order)
            assert _full_scans(app, sql, parameters) == []


# --- two app instances, one database ----------------------------------------------------


@contextmanager
def _instances(url: str, count: int) -> Iterator[list[Instance]]:
    started: list[Instance] = []
    try:
        for n in range(count):
            started.append(Instance(url, f"instance{n}"))
        for instance in started:
            instance.wait_ready()
        yield started
    finally:
        for instance in started:
            instance.stop()


def _people(url: str) -> tuple[str, str]:
    app = create_app(_config(url))
    with app.app_context():
        translator = make_person(app, "amina", "translator", "ms").token
        reviewer = make_person(app, "rahim", "reviewer", "ms").token
        db.engine.dispose()
    return translator, reviewer


@pytest.mark.postgres
@pytest.mark.multiprocess
def test_an_approval_through_one_instance_is_served_at_once_by_another(
    postgres_databases: PostgresDatabases,
) -> None:
    url = postgres_databases.new()
    try:
        translator, reviewer = _people(url)
        with _instances(url, 2) as (writer, reader):
            rounds = 8
            old = {}
            for path in (ESSAY, INTRO):
                statuses = [reader.get(f"{path}?locale=ms") for _ in range(rounds)]
                assert {status for status, _, _ in statuses} == {200}
                assert len({headers["ETag"] for _, headers, _ in statuses}) == 1
                old[path] = statuses[0][1]["ETag"]
                again = reader.get(f"{path}?locale=ms", **{"If-None-Match": old[path]})
                assert again[0] == 304

            version = writer.post(
                f"{INTRO}/translations",
                {"locale": "ms", "body": MALAY, "source_revision": 1},
                translator,
            )
            approved = writer.post(f"/api/v1/translations/{version['id']}/approve", {}, reviewer)
            assert approved["status"] == "approved"

            for _ in range(rounds):
                status, headers, body = reader.get(f"{ESSAY}?locale=ms")
                intro = json.loads(body)["sections"][0]
                assert (status, intro["locale"], intro["body"]) == (200, "ms", MALAY)
                assert headers["ETag"] != old[ESSAY]
                assert headers["Content-Language"] == "ms, id"
                status, headers, body = reader.get(INTRO + "?locale=ms")
                assert (status, json.loads(body)["body"]) == (200, MALAY)
                for path in (ESSAY, INTRO):
                    status, headers, body = reader.get(
                        f"{path}?locale=ms", **{"If-None-Match": old[path]}
                    )
                    assert status == 200 and body and headers["ETag"] != old[path]
            fresh = reader.get(f"{ESSAY}?locale=ms")[1]["ETag"]
            assert reader.get(f"{ESSAY}?locale=ms", **{"If-None-Match": fresh})[0] == 304
            assert writer.get(f"{ESSAY}?locale=ms")[1]["ETag"] == fresh
    finally:
        postgres_databases.drop(url)


def test_review_queue_costs_the_same_queries_for_any_page_size(app: Flask) -> None:
    translator = make_person(app, "tariq", "translator", "ms")
    reviewer = make_person(app, "rania", "reviewer", "ms")
    client = app.test_client()
    units = ["introduction", "conclusion", "title"]
    for n in range(12):
        client.post(
            f"{ESSAY}/sections/{units[n % 3]}/translations",
            json={"locale": "ms", "body": f"{MALAY} ({n})"},
            headers=translator.headers,
        )

    def count(per_page: int) -> int:
        statements: list[str] = []

        def listener(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            response = client.get(f"/api/v1/reviews?per_page={per_page}", headers=reviewer.headers)
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        assert response.status_code == 200 and len(response.get_json()["items"]) == per_page
        return len(statements)

    count(1)  # a token's first request also records when it was used; count the ones after
    assert count(12) == count(2)


def test_the_scale_script_can_keep_to_the_shipped_locales_and_their_text(app: Flask) -> None:
    """``--locales shipped --translated``: copies in the 8 shipped locales only, each
    approving the text the shipped essay publishes (what the search benchmark finds)."""
    from api.models import Essay, TranslationVersion, Unit
    from scripts import scale_data

    def approved(slug: str) -> dict[tuple[str, str], tuple[str | None, str]]:
        rows = db.session.execute(
            sa.select(
                Unit.key,
                TranslationVersion.locale,
                TranslationVersion.heading,
                TranslationVersion.body,
            )
            .join(Unit, Unit.id == TranslationVersion.unit_id)
            .join(Essay, Essay.id == Unit.essay_id)
            .where(Essay.slug == slug, TranslationVersion.status == "approved")
        )
        return {(row.key, row.locale): (row.heading, row.body) for row in rows}

    with app.app_context():
        shape = scale_data.Scale(3, 3, tuple(scale_data.SHIPPED_LOCALES), translated=True)
        counts = scale_data.scale(shape)
        db.session.commit()
        assert counts.essays == 2
        locales = set(db.session.scalars(sa.select(TranslationVersion.locale).distinct()))
        assert locales <= set(scale_data.SHIPPED_LOCALES)
        shipped, copy = approved(SLUG), approved("scaled-essay-001")
        assert shipped and {key: copy[key] for key in shipped} == shipped
        # Where the shipped essay publishes nothing, the copy approves the marked source.
        for (key, code), (_, body) in copy.items():
            if (key, code) not in shipped:
                assert body.startswith(f"[{code}] ")
