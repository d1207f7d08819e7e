"""Search at scale: a search's latency, and what keeping the index adds to an approval.

``make bench-search-scale`` (or ``python scripts/bench_search.py``) does, for SQLite (a
file in a scratch directory) and for PostgreSQL (``tarjuma_bench_search`` on the local
server), the same steps:

1. a fresh database, migrated and seeded as ``make run`` does, with the Malay text of
   ``tests/search_queries/ms.po`` published (as the relevance measure does);
2. scaled to 1,000 essays in the 8 shipped locales, every copy approving the shipped
   essay's text (``scripts/scale_data.py --locales shipped --translated``), so that each
   query finds its sections in every essay, then the index rebuilt (``reindex``);
3. gunicorn (``gunicorn.conf.py``, one worker, pinned to one core) serving the app, and
   beside it the same app without the search index's deriver;
4. searches: the project's query sets (``tests/search_queries``, all 8 languages, the
   locales taken in turn) over HTTP, each followed by the baseline, the public essay in
   the same locale from the same server, so that both meet the same machine; p50, p95
   and p99 of each, and the ratio of the search's to the essay's;
5. approvals: a reviewer approves, in turn, two submitted Arabic versions of a section of
   the shipped essay (each approval publishes different text, so the index is written
   every time), on the app with the index and on the one without, alternating
   A B B A; p50 and p99 of each and the difference.

Latency is the client's: from sending the request to reading the whole response, on a
new connection each time (gunicorn's sync workers do not keep connections alive).
Results go to ``bench-results/search-<time>.json`` and a table on stdout.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench import (  # noqa: E402
    ESSAY,
    Scenario,
    _flask,
    _fresh_database,
    _machine,
    _request,
    percentile,
    serving,
)

TARGETS = {"search_p99_ms": 20.0, "approval_p50_added_ms": 5.0}
SEARCH_DERIVER = "api.services.search.index._derive"
SECTION = "conclusion"


def unindexed_app() -> Flask:
    """The app without the search index's deriver (gunicorn: ``scripts.bench_search:
    unindexed_app()``): approvals there do all but keep the index."""
    from api import create_app
    from api.services import effects

    app = create_app()
    effects.derivers(app).remove(SEARCH_DERIVER)
    return app


@dataclass
class Spread:
    count: int
    p50: float
    p95: float
    p99: float
    mean: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        def rank(share: float) -> float:
            return round(percentile(values, share), 3)

        return cls(
            len(values), rank(0.5), rank(0.95), rank(0.99), round(sum(values) / len(values), 3)
        )


def build(url: str, essays: int) -> dict[str, Any]:
    """Migrate, seed, publish Malay, scale and index the database at ``url``."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from api import create_app
    from api.database import transaction
    from api.extensions import db
    from api.services.search import index as search_index
    from scripts import scale_data
    from tests.search_relevance import publish_malay

    started = time.perf_counter()
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "RATELIMIT_ENABLED": False,
    }
    app = create_app(config)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        result = app.test_cli_runner().invoke(args=["seed"])
        if result.exit_code != 0:
            raise SystemExit(f"seed failed:\n{result.output}")
    publish_malay(app)
    with app.app_context():
        shape = scale_data.Scale(essays, 3, tuple(scale_data.SHIPPED_LOCALES), translated=True)
        counts = scale_data.scale(shape)
        db.session.commit()
        indexed = time.perf_counter()
        with transaction():
            documents = search_index.reindex()
        indexing = time.perf_counter() - indexed
        with db.engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))
            connection.commit()
        db.engine.dispose()
    built = {
        "essays": counts.essays + 1,
        "units": counts.units,
        "versions": counts.versions,
        "documents": documents,
        "reindex_s": round(indexing, 1),
        "build_s": round(time.perf_counter() - started, 1),
    }
    print(
        f"  built: {built['essays']} essays, {built['units']} units, {documents} documents"
        f" (reindex {built['reindex_s']} s, all {built['build_s']} s)",
        flush=True,
    )
    return built


def accounts(env: dict[str, str]) -> None:
    _flask(env, "users", "create", "bench-translator", "--role", "translator", "--locale", "ar")
    _flask(env, "users", "create", "bench-reviewer", "--role", "reviewer", "--locale", "ar")
    env["BENCH_TRANSLATOR"] = _flask(env, "tokens", "create", "bench-translator").split()[-1]
    env["BENCH_REVIEWER"] = _flask(env, "tokens", "create", "bench-reviewer").split()[-1]


def _timed(base: str, scenario: Scenario) -> tuple[float, bytes]:
    """Milliseconds from sending the request to reading the whole response, and the body."""
    started = time.perf_counter()
    status, _, body = _request(base, scenario)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise SystemExit(f"{scenario.name}: {status} {body[:300]!r}")
    return elapsed, body


def searches(base: str, count: int, warmup: int) -> dict[str, Any]:
    """``count`` searches, the query sets' locales in turn, each followed by the essay."""
    from urllib.parse import urlencode

    from tests.search_relevance import query_sets

    sets = query_sets()
    rounds = itertools.zip_longest(*([(k, str(q["q"])) for q in v] for k, v in sets.items()))
    turns = [pair for group in rounds for pair in group if pair is not None]
    times: dict[str, list[float]] = {"search": [], "essay": []}
    hits = 0
    for n, (locale, text) in enumerate(itertools.islice(itertools.cycle(turns), warmup + count)):
        query = urlencode({"q": text, "locale": locale})
        search = Scenario("search", f"/api/v1/search?{query}")
        essay = Scenario("essay", f"{ESSAY}?locale={locale}")
        (searched, body), (read, _) = _timed(base, search), _timed(base, essay)
        if n >= warmup:
            times["search"].append(searched)
            times["essay"].append(read)
        if n < len(turns):
            hits += json.loads(body)["total"] > 0
    return {
        "queries": len(turns),
        "queries_with_hits": hits,
        "search": Spread.of(times["search"]),
        "essay": Spread.of(times["essay"]),
    }


def approvals(env: dict[str, str], indexed: str, plain: str, count: int) -> dict[str, Spread]:
    """Approval latencies on the app with the index's deriver and on the one without."""
    translator = {
        "Authorization": f"Bearer {env['BENCH_TRANSLATOR']}",
        "Content-Type": "application/json",
    }
    ids = []
    for n in range(2):
        body = json.dumps({"locale": "ar", "body": f"خاتمة للقياس رقم {n}: تعزيز الأمن."})
        submit = Scenario("submit", f"{ESSAY}/sections/{SECTION}/translations", translator)
        status, _, text = _request(
            plain, Scenario(submit.name, submit.path, translator, "POST", body)
        )
        if status != 201:
            raise SystemExit(f"submission failed: {status} {text[:300]!r}")
        ids.append(json.loads(text)["id"])
    reviewer = {
        "Authorization": f"Bearer {env['BENCH_REVIEWER']}",
        "Content-Type": "application/json",
    }
    times: dict[str, list[float]] = {"indexed": [], "plain": []}
    order = ["indexed", "plain", "plain", "indexed"]
    for n in range(count * 2 + 4):
        label = order[n % 4]
        base = indexed if label == "indexed" else plain
        approve = Scenario("approve", f"/api/v1/translations/{ids[n % 2]}/approve", reviewer)
        elapsed, _ = _timed(base, Scenario(approve.name, approve.path, reviewer, "POST", "{}"))
        if n >= 4:  # the first publish each version once; the rest restore one or the other
            times[label].append(elapsed)
    return {label: Spread.of(values) for label, values in times.items()}


def bench(database: str, url: str, options: argparse.Namespace, work: Path) -> dict[str, Any]:
    print(f"{database}:", flush=True)
    built = build(url, options.essays)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_APP": "wsgi",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "WEB_CONCURRENCY": "1",
        "RATELIMIT_DEFAULT": "100000000 per minute",
    }
    accounts(env)
    with (
        serving("wsgi:app", env, work / f"{database}-app.log", "/readyz") as app,
        serving(
            "scripts.bench_search:unindexed_app()", env, work / f"{database}-plain.log", "/readyz"
        ) as plain,
    ):
        found = searches(app.base, options.searches, options.warmup)
        approved = approvals(env, app.base, plain.base, options.approvals)
    search, essay, indexed, unindexed = (
        found["search"],
        found["essay"],
        approved["indexed"],
        approved["plain"],
    )
    return {
        "database": database,
        "data": built,
        "queries": found["queries"],
        "queries_with_hits": found["queries_with_hits"],
        "search": search.__dict__,
        "essay": essay.__dict__,
        "ratio": {
            "p50": round(search.p50 / essay.p50, 2),
            "p95": round(search.p95 / essay.p95, 2),
            "p99": round(search.p99 / essay.p99, 2),
        },
        "approval_indexed": indexed.__dict__,
        "approval_plain": unindexed.__dict__,
        "approval_added_ms": {
            "p50": round(indexed.p50 - unindexed.p50, 3),
            "p99": round(indexed.p99 - unindexed.p99, 3),
        },
    }


def table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"{'database':11} {'request':30} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}",
    ]
    for item in results:
        rows = [
            ("search", item["search"]),
            ("essay GET (baseline)", item["essay"]),
            ("approval, index kept", item["approval_indexed"]),
            ("approval, no index deriver", item["approval_plain"]),
        ]
        for name, spread in rows:
            lines.append(
                f"{item['database']:11} {name:30} {spread['count']:>5} {spread['p50']:>7.2f}"
                f" {spread['p95']:>7.2f} {spread['p99']:>7.2f}"
            )
        ratio = item["ratio"]
        lines.append(
            f"{item['database']:11} {'search / essay':30} {'':>5} {ratio['p50']:>6.2f}×"
            f" {ratio['p95']:>6.2f}× {ratio['p99']:>6.2f}×"
        )
    return lines


def verdict(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for item in results:
        p99 = item["search"]["p99"]
        ok = "met" if p99 <= TARGETS["search_p99_ms"] else "MISSED"
        lines.append(
            f"{item['database']}: search p99 {p99:.2f} ms at {item['data']['essays']} essays × 8"
            f" locales ({item['ratio']['p99']:.2f}× the essay's p99;"
            f" ≤ {TARGETS['search_p99_ms']:.0f} ms: {ok})"
        )
        added = item["approval_added_ms"]["p50"]
        ok = "met" if added <= TARGETS["approval_p50_added_ms"] else "MISSED"
        lines.append(
            f"{item['database']}: the index adds {added:+.2f} ms p50"
            f" ({item['approval_added_ms']['p99']:+.2f} ms p99) to an approval"
            f" ({item['approval_indexed']['p50']:.2f} against {item['approval_plain']['p50']:.2f};"
            f" ≤ {TARGETS['approval_p50_added_ms']:.0f} ms: {ok})"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--essays", type=int, default=1000)
    parser.add_argument("--searches", type=int, default=2000, help="searches measured")
    parser.add_argument("--warmup", type=int, default=100, help="searches before measuring")
    parser.add_argument("--approvals", type=int, default=200, help="approvals per side")
    parser.add_argument(
        "--database",
        action="append",
        choices=["sqlite", "postgresql"],
        help="one database only (repeatable; default: both)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a database on the server where the benchmark database is created",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    options = parser.parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)
    machine = _machine()
    print(
        f"{machine['nproc']} cores, {machine['cpu']}, load"
        f" {' '.join(f'{x:.2f}' for x in machine['load_average'])}, {machine['date']}",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="tarjuma-bench-search-") as scratch:
        work = Path(scratch)
        for database in options.database or ["sqlite", "postgresql"]:
            if database == "sqlite":
                url = f"sqlite:///{work / 'bench.db'}"
            else:
                url = _fresh_database(options.postgres, "tarjuma_bench_search")
            results.append(bench(database, url, options, work))
    finished = _machine()
    report = {
        "machine": machine,
        "load_average_after": finished["load_average"],
        "settings": {
            "essays": options.essays,
            "searches": options.searches,
            "warmup": options.warmup,
            "approvals": options.approvals,
            "workers": 1,
            "client": "urllib, a new connection per request",
        },
        "results": results,
    }
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = options.out / f"search-{stamp}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print()
    for line in table(results):
        print(line)
    print()
    for line in verdict(results):
        print(line)
    load = " ".join(f"{x:.2f}" for x in finished["load_average"])
    print(f"load average after: {load}; → {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
