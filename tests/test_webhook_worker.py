"""The real worker process: a killed worker loses nothing, a slow receiver holds up nobody."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from standardwebhooks.webhooks import Webhook as Verifier

from api.extensions import db
from api.models import Delivery, Job
from api.models.types import utcnow
from tests.conftest import ROOT, Person
from tests.receiver import Receiver
from tests.test_webhooks import create, publish_ms


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_RETRY_SCHEDULE": "1,1,1"}


@contextmanager
def worker(
    app: Flask, log: Path | None = None, **environ: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``flask worker`` on the app's database; its output in ``log`` when given."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_RETRY_SCHEDULE": "1,1,1",
        "WORKER_POLL_INTERVAL": "0.05",
        "WORKER_THREADS": "4",
        **environ,
    }
    with log.open("wb") if log is not None else open(os.devnull, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def state_of(app: Flask, delivery_id: int) -> str:
    with app.app_context():
        state = db.session.scalar(sa.select(Delivery.state).where(Delivery.id == delivery_id))
        db.session.remove()
        return str(state)


def wait_state(app: Flask, delivery_id: int, state: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while state_of(app, delivery_id) != state:
        assert time.monotonic() < deadline, f"delivery {delivery_id} never became {state}"
        time.sleep(0.05)


def test_killed_mid_delivery_the_worker_delivers_after_restart_and_slow_holds_none(
    app: Flask, people: dict[str, Person]
) -> None:
    client = app.test_client()
    with Receiver() as slow, Receiver() as fast:
        slow.hold.set()  # the slow receiver keeps the request open until released
        slow_hook = create(client, people["admin"], slow.url).get_json()
        fast_hook = create(client, people["admin"], fast.url).get_json()
        publish_ms(client, people)
        with app.app_context():
            deliveries = {d.webhook_id: d.id for d in db.session.scalars(sa.select(Delivery)).all()}
            db.session.remove()
        slow_id, fast_id = deliveries[slow_hook["id"]], deliveries[fast_hook["id"]]

        with worker(app) as first:
            slow.wait_for(1)
            # the fast receiver is served while the slow one still holds its request
            wait_state(app, fast_id, "succeeded")
            assert not slow.release.is_set() and state_of(app, slow_id) == "pending"
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        slow.hold.clear()
        slow.release.set()

        with app.app_context():
            job = db.session.scalar(
                sa.select(Job).where(Job.payload["delivery"].as_integer() == slow_id)
            )
            assert job is not None and job.state == "running", "claimed by the dead worker"
            # Let the dead worker's lease run out now instead of after its minute.
            job.lease_until = utcnow() - timedelta(seconds=1)
            db.session.commit()
            db.session.remove()

        with worker(app):
            slow.wait_for(2)
            wait_state(app, slow_id, "succeeded")

    first_try, second_try = slow.requests
    assert first_try.headers["webhook-id"] == second_try.headers["webhook-id"]
    assert first_try.body == second_try.body
    Verifier(slow_hook["secret"]).verify(second_try.body, second_try.headers)
    assert len(fast.requests) == 1, "the fast delivery was not sent twice"
    Verifier(fast_hook["secret"]).verify(fast.requests[0].body, fast.requests[0].headers)


def test_two_workers_send_each_delivery_once(app: Flask, people: dict[str, Person]) -> None:
    client = app.test_client()
    with Receiver(delay=0.05) as receiver:
        for _ in range(10):
            create(client, people["admin"], receiver.url)
        publish_ms(client, people)
        publish_ms(client, people, "Teks kedua yang diterbitkan.")
        publish_ms(client, people, "Teks ketiga yang diterbitkan.")
        with app.app_context():
            ids = list(db.session.scalars(sa.select(Delivery.id)))
            db.session.remove()
        assert len(ids) == 30
        with worker(app), worker(app):
            receiver.wait_for(30)
            for delivery_id in ids:
                wait_state(app, delivery_id, "succeeded")
        sent = [item.headers["webhook-id"] for item in receiver.requests]
    assert len(sent) == len(set(sent)) == 30


def test_the_worker_fails_a_refused_delivery_at_once_and_the_webhook_shows_it(
    app: Flask, people: dict[str, Person]
) -> None:
    """Retrying cannot mend a refused address: one attempt, then the reason, no 27 hours."""
    client = app.test_client()
    with Receiver() as receiver:
        hook = create(client, people["admin"], receiver.url).get_json()
        publish_ms(client, people)
        with app.app_context():
            delivery_id = db.session.scalars(sa.select(Delivery.id)).one()
            db.session.remove()
        with worker(app, WEBHOOK_ALLOW_PRIVATE="false", WEBHOOK_RETRY_SCHEDULE="300"):
            wait_state(app, delivery_id, "failed")
        assert receiver.requests == []
    with app.app_context():
        delivery = db.session.get(Delivery, delivery_id)
        job = db.session.scalars(sa.select(Job).where(Job.kind == "webhook.deliver")).one()
        assert delivery is not None and delivery.attempts == 1
        assert job.state == "failed" and job.attempts == 1
        db.session.remove()
    health = client.get(f"/api/v1/webhooks/{hook['id']}", headers=people["admin"].headers)
    assert health.get_json()["consecutive_failures"] == 1
    assert "WEBHOOK_ALLOW_PRIVATE" in health.get_json()["last_failure"]["reason"]


# --- stopping: the jobs under way finish, for a while ---------------------------------------


def wait_logged(log: Path, text: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"the worker never logged {text!r}"
        time.sleep(0.05)


def job_of(app: Flask, delivery_id: int) -> tuple[str, int]:
    with app.app_context():
        job = db.session.scalars(
            sa.select(Job).where(Job.payload["delivery"].as_integer() == delivery_id)
        ).one()
        db.session.remove()
        return job.state, job.attempts


def test_a_stopped_worker_finishes_the_delivery_under_way_and_claims_no_more(
    app: Flask, people: dict[str, Person], tmp_path: Path
) -> None:
    client = app.test_client()
    log = tmp_path / "worker.log"
    with Receiver() as receiver:
        receiver.hold.set()
        create(client, people["admin"], receiver.url)
        create(client, people["admin"], receiver.url)
        publish_ms(client, people)
        with app.app_context():
            ids = list(db.session.scalars(sa.select(Delivery.id)))
            db.session.remove()
        assert len(ids) == 2
        with worker(app, log, WORKER_THREADS="1") as process:
            receiver.wait_for(1)
            process.send_signal(signal.SIGTERM)
            wait_logged(log, "stopping: 1 job(s) under way")
            receiver.release.set()  # the receiver answers only now
            assert process.wait(timeout=20) == 0, log.read_text()
        assert len(receiver.requests) == 1
    states = {delivery_id: state_of(app, delivery_id) for delivery_id in ids}
    assert sorted(states.values()) == ["pending", "succeeded"]
    jobs = {state: job_of(app, delivery_id) for delivery_id, state in states.items()}
    assert jobs == {"succeeded": ("done", 1), "pending": ("pending", 0)}, "never claimed"
    assert "unfinished" not in log.read_text()


@pytest.mark.parametrize(
    ("stop_timeout", "signals"),
    [("1", 1), ("300", 2)],
    ids=["after WORKER_STOP_TIMEOUT", "at a second signal"],
)
def test_a_stopped_worker_leaves_an_unfinished_delivery_to_its_lease(
    app: Flask, people: dict[str, Person], tmp_path: Path, stop_timeout: str, signals: int
) -> None:
    client = app.test_client()
    log = tmp_path / "worker.log"
    with Receiver() as receiver:
        receiver.hold.set()
        create(client, people["admin"], receiver.url)
        publish_ms(client, people)
        with app.app_context():
            delivery_id = db.session.scalars(sa.select(Delivery.id)).one()
            db.session.remove()
        with worker(app, log, WORKER_STOP_TIMEOUT=stop_timeout) as process:
            receiver.wait_for(1)
            process.send_signal(signal.SIGTERM)
            wait_logged(log, "stopping: 1 job(s) under way")
            if signals == 2:
                process.send_signal(signal.SIGTERM)
            # The receiver still holds the request: only the timeout, or the second signal
            # (long before 300 s), ends the worker.
            assert process.wait(timeout=20) == 0, log.read_text()
        assert "stopped with 1 job(s) unfinished" in log.read_text()
        assert state_of(app, delivery_id) == "pending"
        assert job_of(app, delivery_id) == ("running", 1), "still claimed, under its lease"

        with app.app_context():
            job = db.session.scalars(sa.select(Job)).one()
            job.lease_until = utcnow() - timedelta(seconds=1)  # as if the minute had passed
            db.session.commit()
            db.session.remove()
        receiver.release.set()
        with worker(app):
            wait_state(app, delivery_id, "succeeded")
        assert len(receiver.requests) == 2, "sent again, not lost"
    assert job_of(app, delivery_id) == ("done", 2)
