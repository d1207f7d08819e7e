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
   of 100 items of ``/api/v1/changes`` with wrk: pages a second.

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MALAY = "Memajukan keselamatan Negara Islam amat penting untuk memperkukuh Ummah."


class Arrivals:
    """A local receiver that answers 204, noting when each ``webhook-id`` first arrived
    and how many times it came."""

    def __init__(self) -> None:
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


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="DATABASE_URL (default: a fresh SQLite file)")
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--webhooks", type=int, default=50)
    parser.add_argument("--bulk", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    options = parser.parse_args(argv)

    import sqlalchemy as sa

    from api import create_app
    from api.extensions import db
    from api.models import Delivery
    from api.services.accounts import identity
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
        identity.create_user("bench-translator", "translator", ["ms"])
        identity.create_user("bench-admin", "admin")
        translator = identity.get_user("bench-translator")
        admin = identity.get_user("bench-admin")
        slug = "championing-islamic-nations-security"
        versions = [
            workflow.submit(
                slug, "introduction", workflow.Submission("ms", None, f"{MALAY} ({n})"), translator
            ).id
            for n in range(2)
        ]
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
