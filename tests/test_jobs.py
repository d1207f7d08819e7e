"""The spine: effects derived from events, and the outbox the worker drains."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from api import create_app
from api.config import ConfigError, read
from api.database import after_commit, before_commit, transaction
from api.extensions import db
from api.models import Event, Job
from api.models.types import utcnow
from api.services import audit, effects, jobs
from api.services.delivery import releases
from api.services.outbound import changes, webhooks
from tests.conftest import ROOT, _config


@pytest.fixture
def handled(app: Flask) -> Iterator[list[tuple[str, Any]]]:
    """Handlers for the test kinds, recording what they were given."""
    seen: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def ok(job: jobs.Claim) -> None:
        with lock:
            seen.append(("ok", job.payload["n"]))

    def flaky(job: jobs.Claim) -> None:
        with lock:
            seen.append(("flaky", job.attempts))
        if job.attempts < 3:
            raise ConnectionError("receiver down")

    def broken(job: jobs.Claim) -> None:
        raise ValueError("never works")

    known = jobs.handlers(app)
    with (
        known.added("test.ok", ok),
        known.added("test.flaky", flaky, retry=lambda attempts: 0.0),
        known.added("test.broken", broken, retry=lambda attempts: 0.0 if attempts < 2 else None),
    ):
        yield seen


@pytest.fixture
def derived(app: Flask) -> Iterator[list[str]]:
    """A deriver that writes a job for every event and notes what ran after commit."""
    notes: list[str] = []

    def enqueue_for(event: Event) -> None:
        jobs.enqueue("test.ok", {"n": event.id}, event_id=event.id)
        before_commit("summary", lambda: notes.append("before"))
        after_commit(lambda: notes.append(f"after {event.action}"))

    with effects.derivers(app).added(enqueue_for):
        yield notes


def test_each_event_meets_the_feed_webhooks_the_edge_the_memory_notifications_search(
    app: Flask,
) -> None:
    assert effects.derivers(app).names() == [
        "api.services.outbound.changes.append",
        "api.services.outbound.webhooks._derive",
        "api.services.outbound.edge._derive",
        "api.services.aids.memory.follow",
        "api.services.notify.derive.derive",
        "api.services.search.index._derive",
    ]
    assert jobs.handlers(app).kinds() == [
        "edge.purge",
        "notify.digest",
        "notify.link",
        "notify.mail",
        "release",
        "webhook.deliver",
    ]


def test_an_app_can_do_without_one_of_its_derivers(app: Flask, tmp_path: Path) -> None:
    """What the search benchmark's app without the index does; other apps keep theirs."""
    other = create_app(_config(f"sqlite:///{tmp_path / 'other.db'}"))
    name = "api.services.search.index._derive"
    effects.derivers(other).remove(name)
    assert name not in effects.derivers(other).names()
    assert name in effects.derivers(app).names()
    kept = [other_name for other_name in effects.derivers(app).names() if other_name != name]
    assert effects.derivers(other).names() == kept
    with pytest.raises(ValueError, match="not a deriver"):
        effects.derivers(other).remove(name)


def test_webhooks_cannot_be_registered_before_the_feed_they_read() -> None:
    """Webhooks send the feed item of a public event: without it they would drop it."""
    bare = Flask(__name__)
    effects.init_app(bare)
    jobs.init_app(bare)
    with pytest.raises(RuntimeError, match="changes.append"):
        webhooks.init_app(bare)
    changes.init_app(bare)
    webhooks.init_app(bare)
    assert effects.derivers(bare).names() == [
        "api.services.outbound.changes.append",
        "api.services.outbound.webhooks._derive",
    ]
    with pytest.raises(ValueError, match="a deriver already"):
        changes.init_app(bare)
    releases.init_app(bare)
    with pytest.raises(ValueError, match="handler already"):
        releases.init_app(bare)


def test_what_a_test_adds_is_its_apps_alone_and_ends_with_the_block(
    app: Flask, tmp_path: Path
) -> None:
    def ok(job: jobs.Claim) -> None:
        pass

    def note(event: Event) -> None:
        pass

    other = create_app(_config(f"sqlite:///{tmp_path / 'other.db'}"))
    with jobs.handlers(app).added("test.ok", ok), effects.derivers(app).added(note):
        assert "test.ok" in jobs.handlers(app).kinds()
        assert "test.ok" not in jobs.handlers(other).kinds()
        assert note in effects.derivers(app) and note not in effects.derivers(other)
        # Swapping a kind's handler gives its own back afterwards.
        with jobs.handlers(app).added("webhook.deliver", ok):
            assert jobs.handlers(app).get("webhook.deliver").fn is ok
        assert jobs.handlers(app).get("webhook.deliver").fn is webhooks.send
    assert "test.ok" not in jobs.handlers(app).kinds()
    assert note not in effects.derivers(app)


def _jobs(app: Flask) -> list[Job]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(Job).order_by(Job.id)))
        db.session.expunge_all()
        return found


def test_an_events_effects_commit_with_it_and_run_after_it(app: Flask, derived: list[str]) -> None:
    with app.app_context():
        before = len(_jobs(app))
        with transaction():
            audit.record("comment.added", actor=None, after={"text": "one"})
            audit.record("comment.added", actor=None, after={"text": "two"})
            assert derived == [], "nothing runs before the commit"
        assert derived == ["before", "after comment.added", "after comment.added"]
        made = _jobs(app)[before:]
        events = db.session.scalars(sa.select(Event).order_by(Event.id.desc()).limit(2)).all()
        assert sorted(j.event_id for j in made) == sorted(e.id for e in events)


def test_a_rolled_back_change_leaves_no_effect(app: Flask, derived: list[str]) -> None:
    with app.app_context():
        before = len(_jobs(app))
        with pytest.raises(RuntimeError), transaction():
            audit.record("comment.added", actor=None, after={"text": "lost"})
            raise RuntimeError("the change fails after its event")
        assert len(_jobs(app)) == before
        assert derived == []
        with transaction():
            audit.record("comment.added", actor=None, after={"text": "kept"})
        assert derived == ["before", "after comment.added"], "nothing left over from the rollback"


def test_a_failing_after_commit_effect_does_not_undo_the_change(app: Flask) -> None:
    def boom() -> None:
        raise RuntimeError("edge unreachable")

    with app.app_context():
        with transaction():
            event = audit.record("comment.added", actor=None, after={"text": "x"})
            after_commit(boom)
        assert db.session.get(Event, event.id) is not None


def test_due_jobs_run_once_and_future_ones_wait(app: Flask, handled: list[Any]) -> None:
    with app.app_context():
        with transaction():
            jobs.enqueue("test.ok", {"n": 1})
            later = jobs.enqueue("test.ok", {"n": 2}, run_at=utcnow() + timedelta(hours=1))
        assert jobs.run_due() == 1
        assert jobs.run_due() == 0
        assert handled == [("ok", 1)]
        assert db.session.get(Job, later.id).state == "pending"


def test_failed_attempts_are_retried_on_schedule_then_given_up(
    app: Flask, handled: list[Any]
) -> None:
    with app.app_context():
        with transaction():
            flaky = jobs.enqueue("test.flaky", {}).id
            broken = jobs.enqueue("test.broken", {}).id
        for _ in range(4):
            jobs.run_due()
        assert [a for kind, a in handled if kind == "flaky"] == [1, 2, 3]
        done, failed = db.session.get(Job, flaky), db.session.get(Job, broken)
        assert (done.state, done.attempts, done.last_error) == ("done", 3, None)
        assert (failed.state, failed.attempts) == ("failed", 2)
        assert failed.last_error == "ValueError: never works"


def _lapse_lease(job_id: int) -> None:
    """As if the worker holding the job had died long enough ago."""
    with transaction() as session:
        session.get(Job, job_id).lease_until = utcnow() - timedelta(seconds=1)


def test_a_job_whose_worker_died_is_taken_over_after_its_lease(
    app: Flask, handled: list[Any]
) -> None:
    with app.app_context():
        with transaction():
            job_id = jobs.enqueue("test.ok", {"n": 7}).id
        # A worker claims it, then dies.
        assert [claimed.id for claimed in jobs.claim(10)] == [job_id]
        assert jobs.run_due() == 0, "the lease keeps others off"
        _lapse_lease(job_id)
        assert jobs.run_due() == 1
        job = db.session.get(Job, job_id)
        assert (job.state, job.attempts) == ("done", 2)
        assert handled == [("ok", 7)]


def test_concurrent_workers_run_each_job_exactly_once(app: Flask, handled: list[Any]) -> None:
    count = 60
    with app.app_context():
        with transaction():
            for n in range(count):
                jobs.enqueue("test.ok", {"n": n})
    barrier = threading.Barrier(4)

    def work() -> None:
        with app.app_context():
            barrier.wait()
            while jobs.run_due(limit=3):
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(n for _, n in handled) == list(range(count))
    assert {job.state for job in _jobs(app)} == {"done"}


def test_a_taken_over_job_is_recorded_by_its_new_worker_only(
    app: Flask, handled: list[Any]
) -> None:
    with app.app_context():
        with transaction():
            job_id = jobs.enqueue("test.ok", {"n": 8}).id
        [first] = jobs.claim(10)
        _lapse_lease(job_id)
        [second] = jobs.claim(10)  # another worker takes the lapsed job over
        assert (first.attempts, second.attempts) == (1, 2)
        late = jobs.attempt(first)
        with transaction() as session:
            assert jobs.finish(session, first, jobs.Outcome(error="too late")) is False
            assert jobs.finish(session, first, late) is False
        job = db.session.get(Job, job_id)
        assert (job.state, job.attempts, job.last_error) == ("running", 2, None)
        assert jobs.run_job(second) is True
        db.session.refresh(job)
        assert (job.state, job.attempts) == ("done", 2)


def test_a_handlers_record_commits_with_its_job_or_not_at_all(app: Flask) -> None:
    """The worker's turn records many outcomes at once; a record that fails costs no other
    its own, and its job stays claimed until the lease lapses."""
    written: list[int] = []

    def record(n: int) -> Any:
        def write(session: Any) -> None:
            if n == 2:
                raise RuntimeError("the handler's record is broken")
            session.add(Event(action="comment.added", after={"text": f"record {n}"}))
            written.append(n)

        return write

    recorded = jobs.handlers(app).added(
        "test.recorded", lambda job: jobs.Outcome(record=record(job.payload["n"]))
    )
    with recorded, app.app_context():
        with transaction():
            ids = [jobs.enqueue("test.recorded", {"n": n}).id for n in range(4)]
        claimed = jobs.claim(10)
        finished = [(job, jobs.attempt(job)) for job in claimed]
        claimed, unrecorded = jobs.record_and_claim(finished, idle=0)
        assert claimed is None, "a failed turn"
        assert [job.payload["n"] for job, _ in unrecorded] == [2], "to try again"
        states = {job.id: job.state for job in _jobs(app) if job.id in ids}
        assert states == dict(zip(ids, ["done", "done", "running", "done"], strict=True))
        texts = db.session.scalars(
            sa.select(Event.after).where(Event.action == "comment.added")
        ).all()
        assert sorted(t["text"] for t in texts if t["text"].startswith("record")) == [
            "record 0",
            "record 1",
            "record 3",
        ]


def test_a_slow_job_holds_up_one_thread_and_no_other_job(app: Flask, handled: list[Any]) -> None:
    release = threading.Event()

    def slow(job: jobs.Claim) -> None:
        assert release.wait(30), "never released"

    with jobs.handlers(app).added("test.slow", slow):
        worker = jobs.Worker(app, threads=2, poll=0.02)
        runner = threading.Thread(target=worker.run)
        try:
            with app.app_context():
                with transaction():
                    slow_id = jobs.enqueue("test.slow", {}).id
                    for n in range(20):
                        jobs.enqueue("test.ok", {"n": n})
            runner.start()
            deadline = time.monotonic() + 30
            while len(handled) < 20 and time.monotonic() < deadline:
                release.wait(0.05)
            assert sorted(n for _, n in handled) == list(range(20)), "the others ran meanwhile"
            with app.app_context():
                assert db.session.get(Job, slow_id).state == "running"
                db.session.remove()
            worker.stop()
            release.set()
            runner.join(timeout=30)
            assert not runner.is_alive()
            states = {job.id: job.state for job in _jobs(app)}
            assert states[slow_id] == "done", "stopping finishes and records the job under way"
            assert set(states.values()) == {"done"}
        finally:
            release.set()
            worker.stop()


def test_a_worker_that_cannot_reach_its_database_waits_twice_as_long_each_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each failed turn is logged with the wait before the next, doubling up to a cap."""
    with socket.socket() as refusing:
        refusing.bind(("127.0.0.1", 0))  # bound but never listening: connections are refused
        port = refusing.getsockname()[1]
        down = create_app(_config(f"postgresql+psycopg://tarjuma@127.0.0.1:{port}/tarjuma"))
        worker = jobs.Worker(down, threads=1, poll=0.01)
        worker.MAX_BACKOFF = 0.08
        caplog.set_level(logging.WARNING, logger=jobs.__name__)

        def waits() -> list[float]:
            return [record.retry_in for record in caplog.records if hasattr(record, "retry_in")]

        runner = threading.Thread(target=worker.run)
        runner.start()
        try:
            deadline = time.monotonic() + 30
            while len(waits()) < 5 and time.monotonic() < deadline:
                worker.stopping.wait(0.01)
        finally:
            worker.stop()
            runner.join(timeout=10)
    assert not runner.is_alive()
    assert waits()[:5] == pytest.approx([0.02, 0.04, 0.08, 0.08, 0.08])


def test_a_bad_stop_timeout_stops_the_process_naming_it() -> None:
    for bad in ("soon", "0", "-5"):
        with pytest.raises(ConfigError, match="WORKER_STOP_TIMEOUT"):
            read({"WORKER_STOP_TIMEOUT": bad})
    assert read({})["WORKER_STOP_TIMEOUT"] == 30
    assert read({"WORKER_STOP_TIMEOUT": "2.5"})["WORKER_STOP_TIMEOUT"] == 2.5


def test_an_outcome_the_database_missed_is_recorded_once_it_is_back(
    app: Flask, handled: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blip between a job's run and its record: the job is not run a second time."""
    with app.app_context():
        with transaction():
            job_id = jobs.enqueue("test.ok", {"n": 5}).id
    real_finish, calls = jobs.finish, []

    def blip(session: Any, job: jobs.Claim, outcome: jobs.Outcome) -> bool:
        calls.append(job.id)
        if len(calls) <= 2:  # the turn's transaction, then the one-by-one attempt
            raise ConnectionError("server closed the connection unexpectedly")
        return real_finish(session, job, outcome)

    monkeypatch.setattr(jobs, "finish", blip)
    worker = jobs.Worker(app, threads=1, poll=0.01)
    runner = threading.Thread(target=worker.run)
    runner.start()
    deadline = time.monotonic() + 20
    state = "pending"
    while state != "done" and time.monotonic() < deadline:
        worker.stopping.wait(0.05)
        with app.app_context():
            state = db.session.get(Job, job_id).state
            db.session.remove()
    worker.stop()
    runner.join(timeout=10)
    assert state == "done" and len(calls) == 3
    assert handled == [("ok", 5)], "run once"
    with app.app_context():
        assert db.session.get(Job, job_id).attempts == 1


def test_the_status_shows_each_kind_by_state_with_what_is_overdue(
    app: Flask, handled: list[Any]
) -> None:
    now = utcnow()
    with app.app_context():
        with transaction() as session:
            late = jobs.enqueue("test.ok", {"n": 1}, run_at=now - timedelta(minutes=5))
            jobs.enqueue("test.ok", {"n": 2}, run_at=now + timedelta(hours=1))
            stuck = jobs.enqueue("test.broken", {})
            stuck.state, stuck.lease_until = "running", now - timedelta(seconds=1)
            session.add(Job(kind="test.broken", payload={}, state="failed", finished_at=now))
        mine = {entry.kind: entry for entry in jobs.status() if entry.kind.startswith("test.")}
        ok, broken = mine["test.ok"], mine["test.broken"]
        assert (ok.states["pending"], ok.due, ok.lapsed) == (2, 1, 0)
        assert ok.oldest_due == late.run_at
        assert (broken.states["running"], broken.states["failed"], broken.lapsed) == (1, 1, 1)
        assert (broken.due, broken.oldest_due) == (0, None)
    shown = app.test_cli_runner().invoke(args=["worker", "--status"])
    assert shown.exit_code == 0, shown.output
    [row] = [line.split() for line in shown.output.splitlines() if line.startswith("test.ok ")]
    assert row[1:] == ["2", "0", "0", "0", "1", "0", "300", "s", "ago"]


def test_the_worker_deletes_old_done_jobs_and_keeps_the_rest(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    with app.app_context():
        with transaction() as session:
            for state, age in (
                ("done", 8),
                ("done", 10),
                ("done", 1),
                ("failed", 30),
                ("pending", 30),
            ):
                at = now - timedelta(days=age)
                finished = None if state == "pending" else at
                session.add(
                    Job(
                        kind="test.ok",
                        payload={"age": age},
                        state=state,
                        run_at=at,
                        finished_at=finished,
                    )
                )
        worker = jobs.Worker(app, retention=timedelta(days=7))
        monkeypatch.setattr(jobs, "PRUNE_BATCH", 1)
        worker.prune_when_due()
        assert len(_jobs(app)) == 4, "one batch per idle turn"
        worker.prune_when_due()
        worker.prune_when_due()  # finds none left: done for the hour
        left = {(job.state, job.payload["age"]) for job in _jobs(app)}
        assert left == {("done", 1), ("failed", 30), ("pending", 30)}
        with transaction() as session:
            session.add(
                Job(
                    kind="test.ok",
                    payload={"age": 9},
                    state="done",
                    finished_at=now - timedelta(days=9),
                )
            )
        worker.prune_when_due()
        assert ("done", 9) in {(j.state, j.payload["age"]) for j in _jobs(app)}, "once an hour"


@pytest.mark.multiprocess
def test_the_worker_command_drains_jobs_and_stops_on_sigterm(
    app: Flask, handled: list[Any]
) -> None:
    """A real `flask worker` process: a job with no handler there fails, others wait."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        with transaction():
            job_id = jobs.enqueue("test.unknown", {}).id
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "FLASK_APP": "wsgi",
        "PATH": "/usr/bin:/bin",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "worker", "--threads", "2"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        state = "pending"
        while time.monotonic() < deadline and state != "failed":
            time.sleep(0.1)
            with app.app_context():
                state = db.session.get(Job, job_id).state
                db.session.remove()
        assert state == "failed"
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err
    with app.app_context():
        assert db.session.get(Job, job_id).last_error.startswith("LookupError")
