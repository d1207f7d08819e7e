"""A person's notifications as the console and the API list them: newest first, with how
many are unread, and marking them read."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from api.database import transaction
from api.extensions import db
from api.models import Notification, User
from api.models.types import utcnow


def listing(user: User) -> sa.Select[tuple[Notification]]:
    """Their notifications, newest first."""
    return (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
    )


def unread(user_id: int) -> int:
    """How many of their notifications are unread: one count on an index."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def badge(user_id: int) -> int:
    """The unread count in the console's header. An error page may be shown because the
    database failed: its header then shows none rather than failing in turn."""
    try:
        return unread(user_id)
    except SQLAlchemyError:
        return 0


def mark_read(user: User, ids: Sequence[int] = (), every: bool = False) -> int:
    """Mark some (``ids``), or ``every`` one, of their unread notifications read; how many.

    Ids that are not theirs, or read already, are passed over.
    """
    condition = sa.and_(Notification.user_id == user.id, Notification.read_at.is_(None))
    if not every:
        if not ids:
            return 0
        condition = sa.and_(condition, Notification.id.in_(list(ids)))
    with transaction() as session:
        done = session.execute(
            sa.update(Notification)
            .where(condition)
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]
