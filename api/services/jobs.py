"""The outbox and its worker: work written with a change, done after it commits.

A job is a row written in the same transaction as the change that calls for it, so a crash
anywhere loses nothing: either the change and its jobs committed, or neither did. Workers
claim due jobs (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's write lock elsewhere),
hold them under a lease while a handler runs outside any transaction, then record the
outcome. A worker that dies mid-job leaves the lease to run out, and the job is claimed
again: delivery is at least once, and several workers never run one job at the same time
in normal operation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from api.database import transaction
from api.extensions import db
from api.models import Job
from api.models.types import utcnow

log = logging.getLogger(__name__)

JobHandler = Callable[[Job], None]
Retry = Callable[[int], float | None]


def no_retry(_attempts: int) -> float | None:
    return None


@dataclass(frozen=True)
class Handler:
    fn: JobHandler
    retry: Retry
    lease: float


_handlers: dict[str, Handler] = {}


def handler(
    kind: str, *, retry: Retry = no_retry, lease: float = 60.0
) -> Callable[[JobHandler], JobHandler]:
    """Register ``fn(job)`` for jobs of ``kind``.

    Returning marks the job done; raising is a failed attempt, tried again after
    ``retry(attempts)`` seconds, or marked failed when that is None. ``lease`` is how long
    a worker may hold the job before another may take it over.
    """

    def register(fn: JobHandler) -> JobHandler:
        _handlers[kind] = Handler(fn, retry, lease)
        return fn

    return register


def enqueue(
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    event_id: int | None = None,
) -> Job:
    """Add a job inside the caller's transaction: it exists exactly if the change does."""
    job = Job(kind=kind, payload=payload, run_at=run_at or utcnow(), event_id=event_id)
    db.session.add(job)
    db.session.flush()
    return job


def _claim(limit: int) -> list[int]:
    """Take up to ``limit`` due jobs (pending, or running with a lapsed lease)."""
    now = utcnow()
    with transaction() as session:
        due = sa.or_(
            sa.and_(Job.state == "pending", Job.run_at <= now),
            sa.and_(Job.state == "running", Job.lease_until < now),
        )
        statement = sa.select(Job).where(due).order_by(Job.run_at, Job.id).limit(limit)
        claimed = list(session.scalars(statement.with_for_update(skip_locked=True)))
        for job in claimed:
            spec = _handlers.get(job.kind)
            job.state = "running"
            job.attempts += 1
            job.lease_until = now + timedelta(seconds=spec.lease if spec else 60.0)
        return [job.id for job in claimed]


def run_job(job_id: int) -> bool:
    """Run one claimed job's handler and record the outcome; True when it is done."""
    job = db.session.get(Job, job_id)
    if job is None:
        return False
    spec = _handlers.get(job.kind)
    error: str | None = None
    try:
        if spec is None:
            raise LookupError(f"no handler for jobs of kind {job.kind!r}")
        spec.fn(job)
    except Exception as exc:  # a handler's failure is the job's, never the worker's
        error = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning("job %s (%s) attempt %s failed: %s", job.id, job.kind, job.attempts, error)
    with transaction() as session:
        job = session.get(Job, job_id, populate_existing=True)
        if job is None or job.state != "running":
            return False
        now = utcnow()
        job.lease_until = None
        job.last_error = error
        if error is None:
            job.state, job.finished_at = "done", now
        elif (delay := spec.retry(job.attempts) if spec else None) is None:
            job.state, job.finished_at = "failed", now
        else:
            job.state, job.run_at = "pending", now + timedelta(seconds=delay)
    return error is None


def run_due(limit: int = 100) -> int:
    """Claim and run the jobs that are due now, one after another; how many ran."""
    ids = _claim(limit)
    for job_id in ids:
        run_job(job_id)
    return len(ids)


def mark_done(job_id: int) -> None:
    """Close a job whose work was already done in the request (the worker then skips it)."""
    with transaction() as session:
        session.execute(
            sa.update(Job)
            .where(Job.id == job_id, Job.state == "pending")
            .values(state="done", finished_at=utcnow(), attempts=Job.attempts + 1)
        )


class Worker:
    """Threads that claim one job at a time, so a slow job never holds up the others."""

    def __init__(self, app: Flask, *, threads: int = 4, poll: float = 0.2) -> None:
        self.app = app
        self.threads = threads
        self.poll = poll
        self.stopping = threading.Event()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            with self.app.app_context():
                try:
                    ran = run_due(limit=1)
                except Exception:
                    log.exception("claiming jobs failed")
                    ran = 0
                finally:
                    db.session.remove()
            if not ran:
                self.stopping.wait(self.poll)

    def run(self) -> None:
        """Work until ``stop()``; jobs under way are finished first."""
        workers = [
            threading.Thread(target=self._loop, name=f"worker-{n}", daemon=True)
            for n in range(self.threads)
        ]
        for thread in workers:
            thread.start()
        while any(thread.is_alive() for thread in workers):
            for thread in workers:
                thread.join(timeout=0.5)

    def stop(self) -> None:
        self.stopping.set()
