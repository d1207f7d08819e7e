"""What follows a change, derived from its event (the one spine for after-commit effects).

``audit.record`` hands every event to the registered derivers inside the writer's
transaction, after flush; ``after_commit`` callbacks run once that transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

if TYPE_CHECKING:
    from api.models import Event

Deriver = Callable[["Event"], None]

DERIVERS: list[Deriver] = []
_PENDING = "tarjuma_after_commit"


def deriver(fn: Deriver) -> Deriver:
    """Register ``fn(event)``, called for every event inside the writer's transaction."""
    DERIVERS.append(fn)
    return fn


def derive(event: Event) -> None:
    for fn in DERIVERS:
        fn(event)


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` right after the current transaction commits (dropped on rollback)."""
    from api.extensions import db

    db.session().info.setdefault(_PENDING, []).append(callback)


@sa.event.listens_for(so.Session, "after_commit")
def _run_pending(session: so.Session) -> None:
    for callback in session.info.pop(_PENDING, []):
        callback()


@sa.event.listens_for(so.Session, "after_rollback")
def _drop_pending(session: so.Session) -> None:
    session.info.pop(_PENDING, None)
