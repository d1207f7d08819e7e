"""Benchmark notifications: what telling people costs a change, and how fast one worker mails.

On a fresh database (PostgreSQL on the local server by default, ``--sqlite`` for a SQLite
file), migrated and seeded, the script makes an author and a reviewer for Malay, then
``--subscribers`` other people who work in Malay and asked to hear at once of new source
text and of work waiting for review, and mails go to a local SMTP server (aiosmtpd's Sink,
in a process of its own). For 1 and for that many subscribers it times, in process
through the Flask test client, the requests of ``--rounds`` rounds of a submission (it
tells every subscribing reviewer), an approval (it tells the author) and a source edit (it
tells every subscribing translator), and prints their medians. Then one ``flask worker``
(its threads as ``WORKER_THREADS`` says, in this process) sends every mail those changes
called for, and the script prints messages per second.

Targets: an approval's time does not grow with the number of people told; one worker sends
at least 100 messages a second.

    .venv/bin/python scripts/bench_notify.py [--subscribers 200] [--rounds 15] [--sqlite]
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api import create_app  # noqa: E402
from api.extensions import db  # noqa: E402

SLUG = "championing-islamic-nations-security"
SECTION = f"/api/v1/essays/{SLUG}/sections/introduction"
SECRET_KEY = secrets.token_urlsafe(24)
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "SECRET_KEY": SECRET_KEY}
    flask = str(Path(sys.executable).with_name("flask"))
    for args in ((flask, "db", "upgrade"), (flask, "seed")):
        subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True, text=True)


def fresh_postgres() -> tuple[str, sa.Engine]:
    name = f"bench_notify_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}", admin


def people(app: Any, subscribers: int) -> dict[str, str]:
    """The author, the reviewer and ``subscribers`` people who asked to hear at once;
    their API tokens by role."""
    from api.services.accounts import identity
    from api.services.notify import settings

    with app.app_context():
        identity.create_user("author", "translator", ["ms"], email="author@example.org")
        identity.create_user("reviewer", "reviewer", ["ms"], email="reviewer@example.org")
        identity.create_user("editor", "admin", email="editor@example.org")
        for n in range(subscribers):
            role = "reviewer" if n % 2 else "translator"
            user = identity.create_user(f"sub{n}", role, ["ms"], email=f"sub{n}@example.org")
            settings.update(
                user, {"ms": {"source.changed": "instant", "review.waiting": "instant"}}
            )
        tokens = {
            "author": identity.issue_token("author").token,
            "reviewer": identity.issue_token("reviewer").token,
            "admin": identity.issue_token("editor").token,
        }
        db.session.remove()
    return tokens


def clear_subscribers(app: Any) -> None:
    """Subscribers turn everything off: the next run tells nobody but the author."""
    from api.models import NotificationSetting

    with app.app_context():
        db.session.execute(sa.update(NotificationSetting).values(mode="off"))
        db.session.commit()
        db.session.remove()


def expect(response: Any, status: int) -> None:
    if response.status_code != status:
        raise SystemExit(f"{response.status_code}: {response.get_json()}")


def timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    response = call()
    return response, (time.perf_counter() - started) * 1000


def rounds(app: Any, tokens: dict[str, str], count: int) -> dict[str, list[float]]:
    client = app.test_client()
    bearer = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
    times: dict[str, list[float]] = {"submission": [], "approval": [], "source edit": []}
    for n in range(count):
        submitted, ms = timed(
            lambda n=n: client.post(
                f"{SECTION}/translations",
                json={"locale": "ms", "body": f"Pengenalan yang baharu, pusingan {n}."},
                headers=bearer["author"],
            )
        )
        expect(submitted, 201)
        times["submission"].append(ms)
        version = submitted.get_json()["id"]
        approved, ms = timed(
            lambda version=version: client.post(
                f"/api/v1/translations/{version}/approve", json={}, headers=bearer["reviewer"]
            )
        )
        expect(approved, 200)
        times["approval"].append(ms)
        etag = client.get(SECTION, query_string={"locale": "en"}).headers["ETag"]
        edited, ms = timed(
            lambda n=n, etag=etag: client.put(
                SECTION,
                json={"body": f"Advancing the security of Islamic nations, round {n}."},
                headers={**bearer["admin"], "If-Match": etag},
            )
        )
        expect(edited, 200)
        times["source edit"].append(ms)
    return times


def pending_mail(app: Any) -> int:
    from api.models import Job

    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count(Job.id)).where(
                Job.kind == "notify.mail", Job.state.in_(("pending", "running"))
            )
        )
        db.session.remove()
        return int(count or 0)


def drain(app: Any) -> tuple[int, float]:
    """One worker sends every pending mail; how many, in how many seconds."""
    from api.services.jobs import Worker

    total = pending_mail(app)
    worker = Worker(app, threads=int(app.config["WORKER_THREADS"]), poll=0.01)
    thread = threading.Thread(target=worker.run, daemon=True)
    started = time.perf_counter()
    thread.start()
    while pending_mail(app):
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    worker.stop()
    thread.join(timeout=30)
    return total, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    args = parser.parse_args()

    port = free_port()
    smtp = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        cwd=ROOT,
    )
    admin = None
    with tempfile.TemporaryDirectory() as scratch:
        if args.sqlite:
            url = f"sqlite:///{scratch}/bench.db"
        else:
            url, admin = fresh_postgres()
        try:
            prepare(url)
            app = create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": url,
                    "SECRET_KEY": SECRET_KEY,
                    "SMTP_URL": f"smtp://127.0.0.1:{port}",
                    "RATELIMIT_ENABLED": False,
                    "REQUEST_LOG": False,
                    "LOG_LEVEL": "WARNING",
                }
            )
            tokens = people(app, args.subscribers)
            print(
                f"{'sqlite' if args.sqlite else 'postgresql'}: median ms over {args.rounds} rounds"
            )
            results = {}
            for label in (args.subscribers, 1):
                if label == 1:
                    clear_subscribers(app)
                times = rounds(app, tokens, args.rounds)
                results[label] = {name: statistics.median(values) for name, values in times.items()}
                if label == args.subscribers:
                    sent, seconds = drain(app)
            for name in ("approval", "submission", "source edit"):
                one, many = results[1][name], results[args.subscribers][name]
                print(
                    f"  {name:12} 1 subscriber {one:7.2f} ms   {args.subscribers} subscribers"
                    f" {many:7.2f} ms   ×{many / one:.2f}"
                )
            print(
                f"worker ({app.config['WORKER_THREADS']} threads): {sent} messages in"
                f" {seconds:.2f} s = {sent / seconds:.0f} messages/s"
            )
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        finally:
            smtp.terminate()
            smtp.wait(timeout=10)
            if admin is not None:
                with admin.connect() as connection:
                    name = url.rsplit("/", 1)[1]
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
