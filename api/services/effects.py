"""What follows a change: one spine from the event a change writes to everything after it.

Every change records its event with ``audit.record`` inside the writer's transaction. The
derivers registered here turn that event into whatever else must happen, so that no service
calls a feed writer, a webhook sender or a cache purge by hand:

- inside the same transaction, rows that commit with the change or not at all (a feed
  position, webhook deliveries, an outbox job for the edge's purge);
- ``before_commit``: once per transaction and key, just before it commits, for work that
  sums up several events (one purge for a bulk review, however many events it wrote);
- ``after_commit``: once the change is durable, in the writer's request, before its
  response (the edge's purge is tried there; the outbox job is its safety net).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from api.extensions import db

if TYPE_CHECKING:
    from api.models import Event

log = logging.getLogger(__name__)

Deriver = Callable[["Event"], None]
_derivers: list[Deriver] = []

_STATE = "effects.state"
_BEFORE = "effects.before_commit"
_AFTER = "effects.after_commit"


def deriver(fn: Deriver) -> Deriver:
    """Register ``fn(event)``: called for every recorded event, inside its transaction."""
    _derivers.append(fn)
    return fn


def derive(event: Event) -> None:
    """Run every deriver on a freshly recorded (and flushed) event."""
    for fn in _derivers:
        fn(event)


def state() -> dict[str, Any]:
    """Scratch space that lives as long as the current transaction (for derivers)."""
    return db.session().info.setdefault(_STATE, {})


def before_commit(key: str, fn: Callable[[], None]) -> None:
    """Run ``fn`` once, just before the current transaction commits (inside it)."""
    db.session().info.setdefault(_BEFORE, {}).setdefault(key, fn)


def after_commit(fn: Callable[[], None]) -> None:
    """Run ``fn`` once the current transaction has committed; dropped on rollback."""
    db.session().info.setdefault(_AFTER, []).append(fn)


def run_before_commit() -> None:
    """Called by ``transaction()`` before it commits; a failure aborts the change."""
    info = db.session().info
    while pending := info.pop(_BEFORE, None):
        for fn in pending.values():
            fn()


def run_after_commit() -> None:
    """Called by ``transaction()`` after it committed.

    The change is durable by now, so a failing callback is logged and never turns the
    writer's success into an error: whatever it did must also be safe in the outbox.
    """
    info = db.session().info
    info.pop(_STATE, None)
    callbacks = info.pop(_AFTER, [])
    for fn in callbacks:
        try:
            fn()
        except Exception:
            log.exception("after-commit effect %r failed", fn)


def discard() -> None:
    """Forget everything the rolled-back transaction asked for."""
    info = db.session().info
    for key in (_STATE, _BEFORE, _AFTER):
        info.pop(key, None)
