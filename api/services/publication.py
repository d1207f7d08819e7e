"""Publication stamps: what makes a reader's representation fresh or stale."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from api.extensions import db
from api.models import Essay, PublicationStamp

ESSAY_SCOPE = ""


def touch(essay_id: int) -> int:
    """Raise the essay's revision: some workflow state of it changed.

    The update takes the essay's row lock, so revisions follow commit order, and the sum
    of all essays' revisions grows with every committed change (see ``progress``).
    """
    return db.session.execute(
        sa.update(Essay)
        .where(Essay.id == essay_id)
        .values(revision=Essay.revision + 1)
        .returning(Essay.revision)
    ).scalar_one()


def bump(essay_id: int, locale: str, unit_key: str) -> int:
    """Record that the published text of ``unit_key`` in ``locale`` changed.

    Raises the essay's revision (which also serialises concurrent publications of one
    essay on its row) and stamps both the unit's and the essay's scope with it.
    """
    return bump_many(essay_id, locale, (unit_key,))


def bump_many(essay_id: int, locale: str, unit_keys: Iterable[str]) -> int:
    """Record that the published text of several units in ``locale`` changed at once.

    One revision for all of them (a release is one change), stamped on the essay's scope
    and on each unit's.
    """
    session = db.session
    revision = touch(essay_id)
    for scope in dict.fromkeys((ESSAY_SCOPE, *unit_keys)):
        stamp = session.get(PublicationStamp, (essay_id, scope, locale))
        if stamp is None:
            session.add(
                PublicationStamp(essay_id=essay_id, scope=scope, locale=locale, stamp=revision)
            )
        else:
            stamp.stamp = revision
    session.flush()
    return revision
