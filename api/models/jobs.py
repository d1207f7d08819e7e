"""The outbox: work that must happen after a change commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from api.extensions import db
from api.models.types import UTCDateTime, one_of, utcnow

JOB_STATES = ("pending", "running", "done", "failed")


class Job(db.Model):  # type: ignore[name-defined]
    """One piece of work for the worker, written in the transaction that calls for it.

    kind: names the handler that does it (``webhook``, ``purge``, ``release``…).
    payload: what the handler needs, as JSON.
    state: ``pending`` (waiting for ``run_at``), ``running`` (claimed by a worker until
        ``lease_until``; a worker that dies leaves it to be claimed again once the lease
        ends), ``done`` or ``failed`` (its retries ran out).
    attempts: how many times a handler has run it; ``last_error`` says why the last failed.
    event_id: the event that called for it, when there is one.
    request_id: the ``X-Request-Id`` of the request that called for it, when there is one;
        the worker's log records of the job carry it.
    """

    __tablename__ = "jobs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    state: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    run_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    lease_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    event_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("events.id", ondelete="SET NULL")
    )
    request_id: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint(one_of("state", JOB_STATES), name="state_known"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The worker's claim: due jobs in order of their time.
        sa.Index("ix_jobs_state_run_at", "state", "run_at"),
    )
