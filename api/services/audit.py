"""The event log: recording what happened, and reading it back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from api import i18n
from api.extensions import db
from api.models import Essay, Event, TranslationVersion, Unit, User
from api.services import effects


def record(
    action: str,
    *,
    actor: User | None,
    essay: Essay | None = None,
    unit: Unit | None = None,
    locale: str | None = None,
    translation: TranslationVersion | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Event:
    """Append an event to the log, inside the caller's transaction.

    The event is the one source of everything that follows the change: the derivers of
    ``api.services.effects`` run on it here, in the same transaction.
    """
    if translation is not None:
        unit = unit or translation.unit
        locale = locale or translation.locale
    if unit is not None and essay is None:
        essay = unit.essay
    event = Event(
        action=action,
        actor_id=actor.id if actor else None,
        essay_id=essay.id if essay else None,
        unit_id=unit.id if unit else None,
        locale=locale,
        translation_id=translation.id if translation else None,
        before=before,
        after=after,
    )
    db.session.add(event)
    db.session.flush()
    effects.derive(event)
    return event


# Events about people and their credentials: only admins read them.
ACCOUNT_ACTIONS = ("user.", "invitation.", "password_reset.", "token.")


def query(
    *,
    accounts: bool = True,
    locale: str | None = None,
    unit: str | None = None,
    user: str | None = None,
    action: str | None = None,
    translation_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> sa.Select[tuple[Event]]:
    """Events matching the filters, newest first; without ``accounts``, none about people."""
    statement = (
        sa.select(Event)
        .options(
            so.selectinload(Event.actor),
            so.selectinload(Event.essay),
            so.selectinload(Event.unit),
        )
        .order_by(Event.id.desc())
    )
    if not accounts:
        statement = statement.where(
            sa.not_(sa.or_(*(Event.action.startswith(prefix) for prefix in ACCOUNT_ACTIONS)))
        )
    if locale:
        statement = statement.where(Event.locale == i18n.normalise_tag(locale))
    if unit:
        statement = statement.where(Event.unit_id.in_(sa.select(Unit.id).where(Unit.key == unit)))
    if user:
        statement = statement.where(Event.actor_id.in_(sa.select(User.id).where(User.name == user)))
    if action:
        statement = statement.where(Event.action == action)
    if translation_id is not None:
        statement = statement.where(Event.translation_id == translation_id)
    if since:
        statement = statement.where(Event.at >= since)
    if until:
        statement = statement.where(Event.at < until)
    return statement
