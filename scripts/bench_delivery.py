"""Measure the change feed and webhook delivery (not part of ``make test``).

``python scripts/bench_delivery.py`` (``--database postgresql://…`` for PostgreSQL; the
default is a fresh SQLite file) migrates and seeds a fresh database, then:

1. **latency**: starts one worker (``flask worker``, default settings) and a local receiver,
   makes ``--changes`` approvals one after another, and measures from each approval's
   return (its commit) to the receiver's request for it: p50, p99, max;
2. **throughput**: with the worker stopped, makes approvals for ``--webhooks`` webhooks
   (``--bulk`` deliveries), starts one worker and measures deliveries a second from the
   first request to the last;
3. **feed**: serves the app with gunicorn (``gunicorn.conf.py``) and loads the first page
   of 100 items of ``/api/v1/changes`` with wrk: pages a second;
4. **workers**: one worker against two, on backlogs for a receiver that answers after
   ``--receiver-delay-ms`` (as a real one does, over a network): deliveries a second of
   each, rounds alternating, and any delivery that arrived twice (``worker_scaling``, also
   part of ``make bench``).

It prints a JSON report; ``docs/benchmark.md`` keeps the figures.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench import percentile  # noqa: E402

SLUG = "championing-islamic-nations-security"
MALAY = "Memajukan keselamatan Negara Islam amat penting untuk memperkukuh Ummah."


class Arrivals:
    """A local receiver that answers 204, ``delay`` seconds after a request came, noting
    when each ``webhook-id`` first arrived and how many times it came."""

    def __init__(self, delay: float = 0.0) -> None:
        self.times: dict[str, float] = {}
        self.counts: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.times.setdefault(self.headers["webhook-id"], time.time())
                    receiver.counts[self.headers["webhook-id"]] += 1
                if delay:
                    time.sleep(delay)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait(self, ids: set[str], timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not ids <= set(self.times):
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(ids - set(self.times))} deliveries never arrived")
            time.sleep(0.01)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else name


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [_bin("flask"), "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def _bare_sender(receiver: Arrivals, count: int, threads: int) -> float:
    """Requests a second for ``threads`` threads posting signed bodies, with no database."""
    from datetime import UTC, datetime

    from api.services.outbound import client as outbound
    from api.services.outbound import webhooks

    body = b'{"type":"translation.published","timestamp":"2026-12-05T00:00:00Z","data":{}}'
    secret = webhooks.new_secret()
    jobs = iter(range(count))
    lock = threading.Lock()

    def send() -> None:
        while True:
            with lock:
                n = next(jobs, None)
            if n is None:
                return
            message = f"msg_bare_{n}"
            headers = webhooks.signed_headers([secret], message, body, datetime.now(UTC))
            outbound.post(
                receiver.url, body, headers, timeout=10, allow_private=True, max_body=2048
            )

    started = time.monotonic()
    workers = [threading.Thread(target=send) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return count / (time.monotonic() - started)


WORKER_COUNTS = (1, 2)
WORKER_START = 6.0  # seconds for the workers to start before the backlog falls due


def people(slug: str) -> tuple[Any, list[int]]:
    """An admin, and two Malay versions of the essay's introduction that approving in turn
    publishes, rolls back and restores: a change each time. Inside an app and a request."""
    from api.errors import NotFound
    from api.services.accounts import identity
    from api.services.translation import workflow

    names = {
        "bench-delivery-translator": ("translator", ["ms"]),
        "bench-delivery-admin": ("admin", []),
    }
    for name, (role, locales) in names.items():
        try:
            identity.get_user(name)
        except NotFound:
            identity.create_user(name, role, locales)
    translator = identity.get_user("bench-delivery-translator")
    versions = [
        workflow.submit(
            slug, "introduction", workflow.Submission("ms", None, f"{MALAY} ({n})"), translator
        ).id
        for n in range(2)
    ]
    return identity.get_user("bench-delivery-admin"), versions


def worker_scaling(
    env: dict[str, str],
    admin: Any,
    versions: list[int],
    *,
    delay: float,
    deliveries: int,
    hooks: int = 50,
    rounds: int = 2,
) -> dict[str, Any]:
    """Deliveries a second of one worker and of two, on backlogs of ``deliveries`` for
    ``hooks`` webhooks of a receiver answering after ``delay`` seconds; inside an app and
    a request on ``env``'s database.

    Each backlog is made with no worker running and held back (its jobs' ``run_at`` moved
    ``WORKER_START`` seconds ahead) while the workers start, so that every worker meets
    it from the first job; the rate is from the first arrival to the last. Rounds
    alternate 1, 2, 1, 2 so that both meet the same machine.
    """
    import sqlalchemy as sa

    from api.extensions import db
    from api.models import Delivery, Job
    from api.models.types import utcnow
    from api.services.outbound import webhooks
    from api.services.translation import workflow

    receiver = Arrivals(delay)
    made = [
        webhooks.create(receiver.url, ["translation.published"], actor=None) for _ in range(hooks)
    ]
    ids = [created.webhook.id for created in made]
    per_second: dict[int, list[float]] = {count: [] for count in WORKER_COUNTS}
    approved = 0
    for _ in range(rounds):
        for count in WORKER_COUNTS:
            for _ in range(max(1, deliveries // hooks)):
                workflow.approve(versions[approved % 2], admin)
                approved += 1
            backlog = set(
                db.session.scalars(
                    sa.select(Delivery.message_id).where(
                        Delivery.state == "pending", Delivery.webhook_id.in_(ids)
                    )
                )
            )
            due = utcnow() + timedelta(seconds=WORKER_START)
            db.session.execute(sa.update(Job).where(Job.state == "pending").values(run_at=due))
            db.session.commit()
            workers = [_worker(env) for _ in range(count)]
            receiver.wait(backlog)
            for worker in workers:
                _stop(worker)
            arrivals = sorted(receiver.times[m] for m in backlog)
            per_second[count].append((len(arrivals) - 1) / (arrivals[-1] - arrivals[0]))
    retried = db.session.scalar(
        sa.select(sa.func.count()).where(Delivery.webhook_id.in_(ids), Delivery.attempts > 1)
    )
    for webhook_id in ids:
        webhooks.delete(webhook_id, None)
    receiver.server.shutdown()
    one, two = (statistics.median(per_second[count]) for count in WORKER_COUNTS)
    return {
        "receiver_delay_ms": round(delay * 1000),
        "deliveries_per_backlog": len(backlog),
        "threads_per_worker": int(env.get("WORKER_THREADS", "4")),
        "per_second": {str(c): [round(x, 1) for x in v] for c, v in per_second.items()},
        "one_worker": round(one, 1),
        "two_workers": round(two, 1),
        "ratio": round(two / one, 2),
        "arrived_twice": sum(n - 1 for n in receiver.counts.values() if n > 1),
        "retried": retried,
    }


def worker_scaling_on(env: dict[str, str], delay: float, deliveries: int) -> dict[str, Any]:
    """``worker_scaling`` on the migrated and seeded database of ``env`` (``make bench``'s)."""
    from api import create_app

    env = {**env, "WEBHOOK_ALLOW_PRIVATE": "true"}
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "SECRET_KEY": env["SECRET_KEY"],
            "WEBHOOK_ALLOW_PRIVATE": True,
        }
    )
    with app.app_context(), app.test_request_context():
        admin, versions = people(SLUG)
        return worker_scaling(env, admin, versions, delay=delay, deliveries=deliveries)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="DATABASE_URL (default: a fresh SQLite file)")
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--webhooks", type=int, default=50)
    parser.add_argument("--bulk", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--receiver-delay-ms", type=float, default=30, help="the receiver's answer, workers run"
    )
    parser.add_argument(
        "--scaling-deliveries", type=int, default=1000, help="a backlog, workers run"
    )
    options = parser.parse_args(argv)

    import sqlalchemy as sa

    from api import create_app
    from api.extensions import db
    from api.models import Delivery, Webhook
    from api.services.outbound import webhooks
    from api.services.translation import workflow

    tmp = Path(tempfile.mkdtemp(prefix="tarjuma-delivery-"))
    url = options.database or f"sqlite:///{tmp / 'bench.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "RATELIMIT_ENABLED": "false",
    }
    subprocess.run([_bin("flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True)
    subprocess.run([_bin("flask"), "--app", "wsgi", "seed"], cwd=ROOT, env=env, check=True)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret",
            "WEBHOOK_ALLOW_PRIVATE": True,
        }
    )
    receiver = Arrivals()
    report: dict[str, Any] = {"database": sa.make_url(url).get_backend_name()}

    with app.app_context(), app.test_request_context():
        admin, versions = people(SLUG)
        webhooks.create(receiver.url, ["translation.published"], actor=None)

        def approve(n: int) -> tuple[str, float]:
            workflow.approve(versions[n % 2], admin)
            committed = time.time()
            message = db.session.scalar(
                sa.select(Delivery.message_id).order_by(Delivery.id.desc()).limit(1)
            )
            return str(message), committed

        # 1. latency, commit to the receiver's request, one worker
        worker = _worker(env)
        time.sleep(3)
        commits: dict[str, float] = {}
        for n in range(options.changes):
            message, committed = approve(n)
            commits[message] = committed
            time.sleep(0.02)
        receiver.wait(set(commits))
        _stop(worker)
        latencies = [(receiver.times[m] - t) * 1000 for m, t in commits.items()]
        report["latency_ms"] = {
            "count": len(latencies),
            "p50": round(statistics.median(latencies), 1),
            "p99": round(percentile(latencies, 0.99), 1),
            "max": round(max(latencies), 1),
        }

        # 2. deliveries a second, one worker, a backlog of bulk deliveries
        for _ in range(options.webhooks - 1):
            webhooks.create(receiver.url, ["translation.published"], actor=None)
        backlog: set[str] = set()
        for n in range(max(1, options.bulk // options.webhooks)):
            workflow.approve(versions[n % 2], admin)
        backlog = set(
            db.session.scalars(sa.select(Delivery.message_id).where(Delivery.state == "pending"))
        )
        worker = _worker(env)
        receiver.wait(backlog)
        _stop(worker)
        arrivals = sorted(receiver.times[m] for m in backlog)
        per_second = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        # The baseline: the same requests from as many threads, without the database.
        baseline = _bare_sender(receiver, len(backlog), threads=app.config["WORKER_THREADS"])
        report["throughput"] = {
            "deliveries": len(backlog),
            "per_second": round(per_second, 1),
            "baseline_per_second": round(baseline, 1),
            "ratio_to_baseline": round(per_second / baseline, 2),
        }

        # 4. one worker against two, for a receiver that takes its time to answer
        for webhook_id in db.session.scalars(sa.select(Webhook.id)).all():
            webhooks.delete(webhook_id, None)
        report["workers"] = worker_scaling(
            env,
            admin,
            versions,
            delay=options.receiver_delay_ms / 1000,
            deliveries=options.scaling_deliveries,
        )

    # 3. feed pages of 100 items a second through gunicorn
    port = _free_port()
    server = subprocess.Popen(
        [_bin("gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env={**env, "PORT": str(port), "HOST": "127.0.0.1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    feed = f"http://127.0.0.1:{port}/api/v1/changes?per_page=100"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(feed) as response:  # noqa: S310 - loopback
                    page = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.1)
        report["feed_items_on_first_page"] = len(page["items"])
        if shutil.which("wrk"):
            done = subprocess.run(
                ["wrk", "-t1", "-c16", f"-d{options.seconds}s", feed],
                capture_output=True,
                text=True,
                check=True,
            )
            line = next(x for x in done.stdout.splitlines() if x.startswith("Requests/sec"))
            report["feed_pages_per_second"] = float(line.split()[1])
    finally:
        server.terminate()
        server.wait(timeout=30)
    report["cpus"] = os.cpu_count()
    print(json.dumps(report, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
