"""Stop PostgreSQL under a worker sending webhooks, start it again, and count what arrived.

Not part of ``make test``: it stops and starts the machine's PostgreSQL cluster
(``pg_ctlcluster``, so it runs as root or postgres), which every other user of that
server would notice. It makes a database ``tarjuma_outage``, a backlog of deliveries to a
local receiver (``--webhooks`` × ``--approvals``), starts one worker, stops the server
with ``-m immediate`` after ``--after`` seconds, starts it again ``--down`` seconds later,
and prints a JSON report: how many deliveries arrived, how many were sent more than once
(the receiver counts every request, by ``webhook-id``), and the state of each delivery.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_delivery import Arrivals, _bin  # noqa: E402 - a sibling script

SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "tarjuma_outage"


def _cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    extra = ["-m", "immediate"] if action == "stop" else []
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, *extra]
    subprocess.run(command, check=True)


def _psql(sql: str) -> None:
    subprocess.run(["psql", f"{SERVER}/postgres", "-qc", sql], check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=20)
    parser.add_argument("--approvals", type=int, default=100)
    parser.add_argument("--after", type=float, default=2.5, help="seconds before the stop")
    parser.add_argument("--down", type=float, default=8.0, help="seconds the server is down")
    options = parser.parse_args(argv)

    import sqlalchemy as sa

    from api import create_app
    from api.extensions import db
    from api.models import Delivery
    from api.services.accounts import identity
    from api.services.outbound import webhooks
    from api.services.translation import workflow

    url = f"{SERVER}/{DATABASE}"
    _psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    _psql(f"CREATE DATABASE {DATABASE}")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "outage-check"}
    env["WEBHOOK_ALLOW_PRIVATE"] = "true"
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([_bin("flask"), "--app", "wsgi", *command], cwd=ROOT, env=env, check=True)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "outage-check",
            "WEBHOOK_ALLOW_PRIVATE": True,
        }
    )
    receiver = Arrivals()
    with app.app_context(), app.test_request_context():
        translator = identity.create_user("outage-translator", "translator", ["ms"])
        admin = identity.create_user("outage-admin", "admin")
        versions = [
            workflow.submit(
                "championing-islamic-nations-security",
                "introduction",
                workflow.Submission("ms", None, f"Keselamatan Ummah ({n})."),
                translator,
            ).id
            for n in range(2)
        ]
        for _ in range(options.webhooks):
            webhooks.create(receiver.url, ["translation.published"], actor=None)
        for n in range(options.approvals):
            workflow.approve(versions[n % 2], admin)
        backlog = set(db.session.scalars(sa.select(Delivery.message_id)))
        db.session.remove()
        db.engine.dispose()

    worker = subprocess.Popen(
        [_bin("flask"), "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    report: dict[str, Any] = {"deliveries": len(backlog)}
    try:
        time.sleep(options.after)
        report["arrived_before_the_stop"] = len(receiver.counts)
        _cluster("stop")
        time.sleep(options.down)
        _cluster("start")
        deadline = time.monotonic() + 120
        while not backlog <= set(receiver.counts) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2)  # let the worker record the last ones
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    report["arrived"] = len(backlog & set(receiver.counts))
    report["sent_more_than_once"] = sum(1 for count in receiver.counts.values() if count > 1)
    with app.app_context():
        states = db.session.execute(
            sa.select(Delivery.state, sa.func.count()).group_by(Delivery.state)
        ).all()
        report["delivery_states"] = dict(states)
        db.session.remove()
        db.engine.dispose()
    print(json.dumps(report, indent=2))
    _psql(f"DROP DATABASE {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    main()
