"""What follows a change: one spine from the event a change writes to everything after it.

Every change records its event with ``audit.record`` inside the writer's transaction. The
derivers registered here turn that event into whatever else must happen, so that no service
calls a feed writer, a webhook sender or a cache purge by hand:

- inside the same transaction, rows that commit with the change or not at all (a feed
  position, webhook deliveries, an outbox job for the edge's purge);
- ``api.database.before_commit``: once per transaction and key, just before it commits,
  for work that sums up several events (one purge for a bulk review, however many events
  it wrote);
- ``api.database.after_commit``: once the change is durable, in the writer's request,
  before its response (the edge's purge is tried there; the outbox job is its safety net).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api.models import Event

Deriver = Callable[["Event"], None]
_derivers: list[Deriver] = []


def deriver(fn: Deriver) -> Deriver:
    """Register ``fn(event)``: called for every recorded event, inside its transaction."""
    _derivers.append(fn)
    return fn


def derive(event: Event) -> None:
    """Run every deriver on a freshly recorded (and flushed) event."""
    for fn in _derivers:
        fn(event)
