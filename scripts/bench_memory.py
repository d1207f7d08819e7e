"""Benchmark memory suggestions for one section on the scaled data set, on both databases.

For each database (a fresh SQLite file, and a fresh PostgreSQL database on the local
server unless ``--sqlite-only``) the script migrates and seeds it, grows it with
``scripts/scale_data.py`` (100 essays, 50 locales), and gives the memory the scaled
approvals of the seven shipped target locales: scale_data.py writes its versions and
their events in bulk, beside the workflow, so the script hands those approval events to
the memory's deriver as the workflow would have. Then it asks, in process through the
Flask test client, for the suggestions of random sections in random target locales, and
reads the same section in the same locale right after as the baseline (the public read
path, one indexed query and a cached body). It prints p50 and p99 for both and their
ratio; the target is p99 ≤ 50 ms for suggestions.

    .venv/bin/python scripts/bench_memory.py [--requests 400] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api import create_app  # noqa: E402
from api.extensions import db  # noqa: E402
from scripts.bench import percentile  # noqa: E402
from scripts.scale_data import LOCALES, SHIPPED_LOCALES  # noqa: E402

TARGETS = [code for code in SHIPPED_LOCALES if code != "en"]
SECRET_KEY = secrets.token_urlsafe(24)
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _run(env: dict[str, str], *args: str) -> None:
    subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True, text=True)


def prepare(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "SECRET_KEY": SECRET_KEY}
    flask = str(Path(sys.executable).with_name("flask"))
    _run(env, flask, "db", "upgrade")
    _run(env, flask, "seed")
    _run(env, sys.executable, "scripts/scale_data.py")


def fill_memory(app: Any) -> int:
    """Hand the scaled approval events of the shipped target locales to the memory."""
    from api.database import transaction
    from api.models import Event, MemoryUnit, TranslationVersion
    from api.services.aids import memory

    with app.app_context():
        remembered = sa.select(MemoryUnit.translation_id).where(
            MemoryUnit.translation_id.is_not(None)
        )
        events = list(
            db.session.scalars(
                sa.select(Event)
                .join(TranslationVersion, TranslationVersion.id == Event.translation_id)
                .where(
                    Event.action.in_(memory.ADDS),
                    Event.locale.in_(TARGETS),
                    TranslationVersion.status == "approved",
                    Event.translation_id.not_in(remembered),
                )
                .order_by(Event.id)
            )
        )
        for start in range(0, len(events), 500):
            with transaction():
                for event in events[start : start + 500]:
                    memory.follow(db.session.merge(event))
        count = int(db.session.scalar(sa.select(sa.func.count(MemoryUnit.id))) or 0)
        db.session.commit()
        with db.engine.connect() as connection:
            # As scale_data.py does after its bulk load: statistics for the planner.
            connection.execute(sa.text("ANALYZE"))
            connection.commit()
        return count


def token(app: Any) -> str:
    from api.services.accounts import identity

    with app.app_context():
        identity.create_user(f"bench-{time.time_ns()}", "translator", TARGETS)
        users = identity.list_users()
        return identity.issue_token(users[-1].name).token


def measure(app: Any, requests: int, seed: int = 13) -> dict[str, Any]:
    with app.app_context():
        sections = db.session.execute(
            sa.text(
                "SELECT e.slug, u.key FROM units u JOIN essays e ON e.id = u.essay_id"
                " WHERE u.kind = 'section'"
            )
        ).all()
    headers = {"Authorization": f"Bearer {token(app)}"}
    client = app.test_client()
    rng = random.Random(seed)  # noqa: S311 - a reproducible choice of sections
    suggest: list[float] = []
    read: list[float] = []
    found: list[int] = []
    for n in range(requests + 20):
        slug, key = rng.choice(sections)
        locale = rng.choice(TARGETS)
        path = f"/api/v1/essays/{slug}/sections/{key}"
        started = time.perf_counter()
        response = client.get(f"{path}/suggestions?locale={locale}", headers=headers)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(response.get_data(as_text=True))
        started = time.perf_counter()
        baseline = client.get(f"{path}?locale={locale}")
        base_elapsed = time.perf_counter() - started
        if baseline.status_code != 200:
            raise SystemExit(baseline.get_data(as_text=True))
        if n >= 20:  # the first requests warm caches and connections
            suggest.append(elapsed * 1000)
            read.append(base_elapsed * 1000)
            found.append(len(response.get_json()["items"]))
    return {
        "requests": requests,
        "suggestions_p50_ms": statistics.median(suggest),
        "suggestions_p99_ms": percentile(suggest, 0.99),
        "read_p50_ms": statistics.median(read),
        "read_p99_ms": percentile(read, 0.99),
        "p99_ratio": percentile(suggest, 0.99) / percentile(read, 0.99),
        "items_per_section": statistics.mean(found),
    }


def bench(url: str, requests: int) -> dict[str, Any]:
    started = time.perf_counter()
    prepare(url)
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": SECRET_KEY,
        "LOCALES": LOCALES,
        "RATELIMIT_ENABLED": False,
    }
    app = create_app(config)
    units = fill_memory(app)
    with app.app_context():
        counts = db.session.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM essays), (SELECT count(*) FROM memory_sources),"
                " (SELECT count(*) FROM memory_words)"
            )
        ).one()
    figures = measure(app, requests)
    with app.app_context():
        db.engine.dispose()
    return {
        "essays": counts[0],
        "memory_units": units,
        "memory_sources": counts[1],
        "memory_words": counts[2],
        "prepare_s": time.perf_counter() - started,
        **figures,
    }


def _postgres_database(name: str) -> str:
    server = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = bench(f"sqlite:///{Path(folder) / 'bench.db'}", args.requests)
    if not args.sqlite_only:
        results["PostgreSQL"] = bench(_postgres_database("tarjuma_bench_memory"), args.requests)
    print(
        "| database | memory units | suggestions p50 ms | p99 ms | read p50 ms | p99 ms"
        " | p99 ratio | items |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        print(
            f"| {name} | {r['memory_units']:,} | {r['suggestions_p50_ms']:.1f}"
            f" | {r['suggestions_p99_ms']:.1f} | {r['read_p50_ms']:.1f} | {r['read_p99_ms']:.1f}"
            f" | {r['p99_ratio']:.1f} | {r['items_per_section']:.1f} |"
        )
    for name, r in results.items():
        verdict = "meets" if r["suggestions_p99_ms"] <= 50 else "MISSES"
        print(
            f"{name}: suggestions p99 {r['suggestions_p99_ms']:.1f} ms {verdict} the 50 ms target"
        )


if __name__ == "__main__":
    main()
