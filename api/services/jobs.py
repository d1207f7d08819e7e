"""The outbox and its worker: work written with a change, done after it commits.

A job is a row written in the same transaction as the change that calls for it, so a crash
anywhere loses nothing: either the change and its jobs committed, or neither did. A worker
claims due jobs in one transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's
write lock elsewhere) and holds them under a lease while their handlers run outside any
transaction, each on its own thread; then one transaction per job records the outcome,
with whatever the handler asked to write beside it. A worker that dies mid-job leaves the
lease to run out, and the job is claimed again: delivery is at least once, and several
workers never run one job at the same time in normal operation.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app

from api import observability
from api.database import transaction
from api.extensions import db
from api.models import Job
from api.models.jobs import JOB_STATES
from api.models.types import utcnow

log = logging.getLogger(__name__)

Retry = Callable[[int], float | None]


def no_retry(_attempts: int) -> float | None:
    return None


@dataclass(frozen=True)
class Claim:
    """A job as the worker that claimed it holds it: what a handler is given."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int  # this attempt included
    lease_until: datetime  # after this another worker may take the job over
    request_id: str | None = None  # the request that called for it: its log records say so


@dataclass(frozen=True)
class Outcome:
    """A handler's result, for handlers with a record of their own to keep.

    ``record(session)`` runs in the transaction that records the job's outcome, so the
    handler's log and the job's state commit together; ``error`` makes it a failed
    attempt (retried on the kind's schedule) without raising; ``retry=False`` fails the
    job at once, for an error that trying again cannot mend.
    """

    record: Callable[[so.Session], None] | None = None
    error: str | None = None
    retry: bool = True


JobHandler = Callable[[Claim], Outcome | None]


@dataclass(frozen=True)
class Handler:
    fn: JobHandler
    retry: Retry
    lease: float


DEFAULT_LEASE = 60.0
EXTENSION = "tarjuma.job_handlers"


class Handlers:
    """An app's job handlers, by kind: what its workers can run."""

    def __init__(self) -> None:
        self._by_kind: dict[str, Handler] = {}

    def add(
        self, kind: str, fn: JobHandler, *, retry: Retry = no_retry, lease: float = DEFAULT_LEASE
    ) -> None:
        """Run ``fn(claim)`` for jobs of ``kind``.

        Returning marks the job done (or returns an ``Outcome``); raising is a failed
        attempt, tried again after ``retry(attempts)`` seconds, or marked failed when that
        is None. ``lease`` is how long a worker may hold the job before another may take
        it over.
        """
        if kind in self._by_kind:
            raise ValueError(f"jobs of kind {kind!r} have a handler already")
        self._by_kind[kind] = Handler(fn, retry, lease)

    @contextmanager
    def added(
        self, kind: str, fn: JobHandler, *, retry: Retry = no_retry, lease: float = DEFAULT_LEASE
    ) -> Iterator[None]:
        """Inside the block, jobs of ``kind`` go to ``fn``, instead of their own handler
        if they have one (for tests)."""
        before = self._by_kind.get(kind)
        self._by_kind[kind] = Handler(fn, retry, lease)
        try:
            yield
        finally:
            if before is None:
                self._by_kind.pop(kind, None)
            else:
                self._by_kind[kind] = before

    def get(self, kind: str) -> Handler | None:
        return self._by_kind.get(kind)

    def kinds(self) -> list[str]:
        """The kinds of job a handler is registered for."""
        return sorted(self._by_kind)


def init_app(app: Flask) -> None:
    """Give ``app`` its job handlers, none yet: the areas add theirs (see ``create_app``)."""
    app.extensions[EXTENSION] = Handlers()


def handlers(app: Flask | None = None) -> Handlers:
    """The job handlers of ``app`` (the current app by default)."""
    found: Handlers = (app or current_app).extensions[EXTENSION]
    return found


def enqueue(
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    event_id: int | None = None,
) -> Job:
    """Add a job inside the caller's transaction: it exists exactly if the change does.

    The job keeps the id of the request (or job) that enqueued it, for the logs.
    """
    job = Job(
        kind=kind,
        payload=payload,
        run_at=run_at or utcnow(),
        event_id=event_id,
        request_id=observability.current_request_id(),
    )
    db.session.add(job)
    db.session.flush()
    return job


def enqueue_many(
    kind: str, jobs: list[tuple[dict[str, Any], datetime | None]], *, event_id: int | None = None
) -> None:
    """Add several jobs of one kind (payload, run_at or now) in one statement, inside the
    caller's transaction: for a change that calls for many (one mail per person told)."""
    if not jobs:
        return
    now, request_id = utcnow(), observability.current_request_id()
    rows = [
        {
            "kind": kind,
            "payload": payload,
            "state": "pending",
            "run_at": run_at or now,
            "attempts": 0,
            "event_id": event_id,
            "request_id": request_id,
            "created_at": now,
        }
        for payload, run_at in jobs
    ]
    db.session.execute(sa.insert(Job.__table__), rows)


def scheduled_retry(setting: str) -> Retry:
    """A retry schedule read from a setting of comma-separated seconds: the delay before
    each new attempt after ``attempts`` failed ones, then None (give up)."""

    def retry(attempts: int) -> float | None:
        raw = current_app.config[setting]
        delays = [float(part) for part in raw.split(",") if part.strip()]
        return delays[attempts - 1] if 1 <= attempts <= len(delays) else None

    return retry


def _lease(known: Handlers, kind: str) -> float:
    spec = known.get(kind)
    return spec.lease if spec else DEFAULT_LEASE


_jobs = Job.__table__


def _due(now: Any) -> sa.ColumnElement[bool]:
    """Pending jobs whose time has come."""
    return sa.and_(_jobs.c.state == "pending", _jobs.c.run_at <= now)


def _lapsed(now: Any) -> sa.ColumnElement[bool]:
    """Running jobs whose worker's lease has run out: it died, another may take them."""
    return sa.and_(_jobs.c.state == "running", _jobs.c.lease_until < now)


# The worker's statements, built once: it runs them for every job.
_DUE = (
    sa.select(_jobs.c.id, _jobs.c.kind, _jobs.c.payload, _jobs.c.attempts, _jobs.c.request_id)
    .where(sa.or_(_due(sa.bindparam("now")), _lapsed(sa.bindparam("now"))))
    .order_by(_jobs.c.run_at, _jobs.c.id)
    .limit(sa.bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_TAKE = (
    sa.update(_jobs)
    .where(_jobs.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(state="running", attempts=_jobs.c.attempts + 1, lease_until=sa.bindparam("until"))
)
_SETTLE = (
    sa.update(_jobs)
    .where(
        _jobs.c.id == sa.bindparam("job_id"),
        _jobs.c.state == "running",
        _jobs.c.attempts == sa.bindparam("job_attempts"),
    )
    .values(
        state=sa.bindparam("state"),
        lease_until=None,
        last_error=sa.bindparam("error"),
        run_at=sa.func.coalesce(
            sa.bindparam("retry_at", type_=_jobs.c.run_at.type), _jobs.c.run_at
        ),
        finished_at=sa.bindparam("finished_at"),
    )
    .returning(_jobs.c.id)
)


def claim_in(session: so.Session, limit: int) -> list[Claim]:
    """Inside a transaction: take up to ``limit`` due jobs (pending, or running with a
    lapsed lease) under their kinds' leases."""
    now = utcnow()
    rows = session.execute(_DUE, {"now": now, "limit": limit}).all()
    known = handlers()
    leases = {row.id: now + timedelta(seconds=_lease(known, row.kind)) for row in rows}
    by_lease: dict[datetime, list[int]] = defaultdict(list)
    for job_id, until in leases.items():
        by_lease[until].append(job_id)
    for until, ids in by_lease.items():
        session.execute(_TAKE, {"ids": ids, "until": until})
    return [
        Claim(row.id, row.kind, row.payload, row.attempts + 1, leases[row.id], row.request_id)
        for row in rows
    ]


def claim(limit: int) -> list[Claim]:
    """Take up to ``limit`` due jobs in a transaction of their own."""
    with transaction() as session:
        return claim_in(session, limit)


def attempt(job: Claim) -> Outcome:
    """Run a claimed job's handler, outside any transaction; its failure is the job's.

    What the handler logs, and the jobs it enqueues, carry the request id of the job.
    """
    spec = handlers().get(job.kind)
    token = observability.bind_request_id(job.request_id)
    started = time.perf_counter()
    try:
        try:
            if spec is None:
                raise LookupError(f"no handler for jobs of kind {job.kind!r}")
            outcome = spec.fn(job) or Outcome()
        except Exception as exc:  # a handler's failure is the job's, never the worker's
            outcome = Outcome(error=f"{type(exc).__name__}: {exc}"[:2000])
        fields = {
            "job_id": job.id,
            "kind": job.kind,
            "attempt": job.attempts,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if outcome.error is not None:
            log.warning(
                "job %s (%s) attempt %s failed: %s",
                job.id,
                job.kind,
                job.attempts,
                outcome.error,
                extra=fields,
            )
        else:
            log.info("job %s (%s) attempt %s done", job.id, job.kind, job.attempts, extra=fields)
    finally:
        observability.reset_request_id(token)
    return outcome


def finish(session: so.Session, job: Claim, outcome: Outcome) -> bool:
    """Inside a transaction: the handler's record, then the job's state. False when the
    job is no longer this worker's (its lease lapsed and another took it over)."""
    if outcome.record is not None:
        outcome.record(session)
    spec = handlers().get(job.kind)
    now = utcnow()
    retry_at: datetime | None
    finished_at: datetime | None
    state, retry_at, finished_at = "done", None, now
    if outcome.error is not None:
        delay = spec.retry(job.attempts) if spec and outcome.retry else None
        if delay is None:
            state = "failed"
        else:
            state, retry_at, finished_at = "pending", now + timedelta(seconds=delay), None
    settled = session.execute(
        _SETTLE,
        {
            "job_id": job.id,
            "job_attempts": job.attempts,
            "state": state,
            "error": outcome.error,
            "retry_at": retry_at,
            "finished_at": finished_at,
        },
    )
    return settled.scalar_one_or_none() is not None


def run_job(job: Claim) -> bool:
    """Run one claimed job and record its outcome; True when it is done."""
    outcome = attempt(job)
    with transaction() as session:
        settled = finish(session, job, outcome)
    return settled and outcome.error is None


def run_due(limit: int = 100) -> int:
    """Claim and run the jobs that are due now, one after another; how many ran."""
    claimed = claim(limit)
    for job in claimed:
        run_job(job)
    return len(claimed)


def mark_done(job_id: int) -> None:
    """Close a job whose work was already done in the request (the worker then skips it)."""
    with transaction() as session:
        session.execute(
            sa.update(Job)
            .where(Job.id == job_id, Job.state == "pending")
            .values(state="done", finished_at=utcnow(), attempts=Job.attempts + 1)
        )


@dataclass
class KindStatus:
    """How the jobs of one kind stand, for an operator."""

    kind: str
    states: dict[str, int] = field(default_factory=lambda: dict.fromkeys(JOB_STATES, 0))
    due: int = 0  # pending jobs whose time has come: the worker is behind, or down
    oldest_due: datetime | None = None
    lapsed: int = 0  # running jobs whose lease ran out: their worker died


def status() -> list[KindStatus]:
    """Each kind's jobs by state, with what is overdue."""
    now = utcnow()
    due, lapsed = _due(now), _lapsed(now)
    rows = db.session.execute(
        sa.select(
            Job.kind,
            Job.state,
            sa.func.count(),
            sa.func.count(sa.case((due, 1))),
            sa.func.min(sa.case((due, Job.run_at))),
            sa.func.count(sa.case((lapsed, 1))),
        ).group_by(Job.kind, Job.state)
    ).all()
    kinds: dict[str, KindStatus] = {}
    # One row per kind and state: only the pending row has due jobs, the running one lapsed.
    for kind, state, count, due_count, oldest_due, lapsed_count in rows:
        entry = kinds.setdefault(kind, KindStatus(kind))
        entry.states[state] = count
        entry.due += due_count
        entry.lapsed += lapsed_count
        entry.oldest_due = oldest_due or entry.oldest_due
    return sorted(kinds.values(), key=lambda entry: entry.kind)


PRUNE_BATCH = 1000


def prune(older_than: timedelta, batch: int) -> int:
    """Delete up to ``batch`` jobs done longer ago than ``older_than``; how many went.

    Failed jobs stay until someone looks at them; what a webhook delivery did stays in
    its own log.
    """
    cutoff = utcnow() - older_than
    with transaction() as session:
        old = (
            sa.select(Job.id)
            .where(Job.state == "done", Job.finished_at < cutoff)
            .order_by(Job.id)
            .limit(batch)
        )
        gone = session.execute(
            sa.delete(Job).where(Job.id.in_(old)).execution_options(synchronize_session=False)
        )
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


def record_and_claim(
    finished: list[tuple[Claim, Outcome]], idle: int
) -> tuple[list[Claim] | None, list[tuple[Claim, Outcome]]]:
    """A worker's turn: record what its threads finished and claim jobs for the idle ones,
    in one transaction.

    Returns the jobs claimed (None when the turn failed) and the outcomes that could
    not be recorded, to be tried again next turn.
    """
    try:
        with transaction() as session:
            for job, outcome in finished:
                finish(session, job, outcome)
            return (claim_in(session, idle) if idle else []), []
    except Exception:
        log.exception("the worker's bookkeeping failed; recording jobs one by one")
    # One record that fails must not cost the others theirs; claiming waits a turn.
    unrecorded = []
    for job, outcome in finished:
        try:
            with transaction() as session:
                finish(session, job, outcome)
        except Exception:
            log.exception("recording job %s failed", job.id)
            unrecorded.append((job, outcome))
    return None, unrecorded


class Worker:
    """Threads that run handlers, and one dispatcher that does the worker's bookkeeping.

    Each thread runs one job at a time, so a slow job never holds up the others. The
    dispatcher, in one transaction per turn, records the outcomes the threads finished
    since its last turn and claims as many due jobs as threads are idle: under a backlog,
    the bookkeeping of several jobs shares one commit.

    ``stop()`` ends the claiming; the jobs under way then have ``stop_timeout`` seconds to
    finish and be recorded. ``halt()`` (a second signal) stops at once. A job left
    unfinished either way stays claimed until its lease runs out, then runs again: it is
    never lost.
    """

    PRUNE_EVERY = 3600.0  # seconds between two clear-outs of old done jobs
    MAX_BACKOFF = 5.0  # the longest wait after failed turns (the database is down)

    def __init__(
        self,
        app: Flask,
        *,
        threads: int = 4,
        poll: float = 0.2,
        retention: timedelta | None = None,
        stop_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.threads = threads
        self.poll = poll
        self.retention = retention
        self.stop_timeout = stop_timeout
        self.stopping = threading.Event()  # no more claims
        self.halted = threading.Event()  # no more waiting for the jobs under way either
        self._stop_by = float("inf")
        self._pruned_at: float | None = None
        self._todo: queue.SimpleQueue[Claim | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[Claim, Outcome]] = queue.SimpleQueue()

    def _run(self) -> None:
        while (job := self._todo.get()) is not None:
            outcome = Outcome(error="the worker failed around the job")
            try:
                with self.app.app_context():
                    try:
                        outcome = attempt(job)
                    finally:
                        db.session.remove()
            except Exception:
                log.exception("job %s: the worker failed around it", job.id)
            self._done.put((job, outcome))

    def _turn(
        self, finished: list[tuple[Claim, Outcome]], idle: int
    ) -> tuple[list[Claim] | None, list[tuple[Claim, Outcome]]]:
        with self.app.app_context():
            try:
                return record_and_claim(finished, idle)
            finally:
                db.session.remove()

    def _dispatch(self) -> int:
        """Claim, hand out and record jobs until stopped; how many were left unfinished."""
        busy, more = 0, True  # more: the last claim may have left due jobs behind
        failures = 0  # turns failed in a row: the database may be down, so wait longer
        # Outcomes a failed turn could not record: tried again until their lease ends (then
        # the job is another worker's to run again), so that a short outage of the database
        # makes no job run twice. Stopping does not wait for them.
        unrecorded: list[tuple[Claim, Outcome]] = []
        told = False
        while not (self.stopping.is_set() and busy == 0):
            if self.stopping.is_set():
                if self.halted.is_set() or time.monotonic() >= self._stop_by:
                    return busy
                if not told:
                    log.info(
                        "stopping: %d job(s) under way get up to %g s to finish",
                        busy,
                        self.stop_timeout,
                    )
                    told = True
            now = utcnow()
            finished = [(job, outcome) for job, outcome in unrecorded if job.lease_until > now]
            if busy == self.threads or not more or self.stopping.is_set():
                try:
                    finished.append(self._done.get(timeout=self.poll))
                    busy -= 1
                except queue.Empty:
                    pass
            while True:
                try:
                    finished.append(self._done.get_nowait())
                    busy -= 1
                except queue.Empty:
                    break
            idle = 0 if self.stopping.is_set() else self.threads - busy
            if not (finished or idle):
                unrecorded = []
                continue
            claimed, unrecorded = self._turn(finished, idle)
            if claimed is None:
                failures += 1
                wait = min(self.poll * 2**failures, self.MAX_BACKOFF)
                log.warning(
                    "the worker's turn failed (%d in a row); trying again in %.2f s",
                    failures,
                    wait,
                    extra={"retry_in": wait},
                )
                self.stopping.wait(wait)
                claimed = []
            else:
                failures = 0
            for job in claimed:
                self._todo.put(job)
            busy += len(claimed)
            more = bool(idle) and len(claimed) == idle
            if busy == 0:
                self.prune_when_due()
        return 0

    def prune_when_due(self) -> None:
        """With nothing to do, at most once every ``PRUNE_EVERY`` seconds: delete old done
        jobs, one batch per idle turn, so that new work never waits behind a clear-out."""
        now = time.monotonic()
        if self.retention is None or (
            self._pruned_at is not None and now - self._pruned_at < self.PRUNE_EVERY
        ):
            return
        with self.app.app_context():
            try:
                if prune(self.retention, PRUNE_BATCH) < PRUNE_BATCH:
                    self._pruned_at = now  # all gone: the next clear-out in an hour
            except Exception:
                log.exception("deleting old done jobs failed")
                self._pruned_at = now
            finally:
                db.session.remove()

    def run(self) -> None:
        """Work until ``stop()``; jobs under way are finished and recorded first, for up to
        ``stop_timeout`` seconds, or none of them after ``halt()``."""
        runners = [
            threading.Thread(target=self._run, name=f"worker-{n}", daemon=True)
            for n in range(self.threads)
        ]
        for thread in runners:
            thread.start()
        left = self._dispatch()
        for _ in runners:
            self._todo.put(None)
        if left:
            # Their threads are daemons: they end with the process, their jobs' leases later.
            log.warning(
                "stopped with %d job(s) unfinished: they run again once their lease runs out",
                left,
            )
            return
        for thread in runners:
            while thread.is_alive():
                thread.join(timeout=0.5)

    def stop(self) -> None:
        """Claim no more jobs; those under way get ``stop_timeout`` seconds to finish."""
        if not self.stopping.is_set():
            self._stop_by = time.monotonic() + self.stop_timeout
            self.stopping.set()

    def halt(self) -> None:
        """Stop at once, without waiting for the jobs under way."""
        self.halted.set()
        self.stop()
