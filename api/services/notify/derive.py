"""Notifications derived from events: who asked to hear of this one, and how.

The deriver runs on every event inside its change's transaction and only collects who is
to be told; just before the transaction commits, one statement writes every notification
the change called for, and one more the jobs that mail them. So a change that tells two
hundred people costs its request two statements, not four hundred, and the mail itself is
the worker's: an approval's own time hardly depends on how many hear of it.

Instant mail is one job per person, kind and locale in each change (an import of twenty
sections is one mail, not twenty); daily notifications wait for their person's digest at
the next ``DIGEST_HOUR``, whose job the first of them writes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from api import i18n
from api.database import before_commit, transaction_state
from api.extensions import db
from api.models import (
    Event,
    Notification,
    NotificationSetting,
    TranslationVersion,
    User,
    UserLocale,
)
from api.models.types import utcnow
from api.services import jobs
from api.services.notify.settings import DEFAULTS, REVIEWED, SOURCE_CHANGED, WAITING

# The events people hear of, by the kind of notification each is.
KIND_OF_ACTION = {
    "source.created": SOURCE_CHANGED,
    "source.edited": SOURCE_CHANGED,
    "source.restored": SOURCE_CHANGED,
    "translation.approved": REVIEWED,
    "translation.rejected": REVIEWED,
    "translation.submitted": WAITING,
}
_PENDING = "notify.pending"
INSTANT_JOB = "notify.mail"
DIGEST_JOB = "notify.digest"

Recipient = tuple[int, str, str]  # user id, locale, mode


def next_digest(moment: datetime, hour: int) -> datetime:
    """The first digest time (``hour`` o'clock UTC) after ``moment``."""
    at = moment.replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at > moment else at + timedelta(days=1)


def _mode(role: str, kind: str, chosen: str | None) -> str:
    return chosen or DEFAULTS[role][kind]


def _granted(kind: str, locales: list[str], roles: tuple[str, ...]) -> list[Recipient]:
    """People of ``roles`` who work in ``locales``, with their setting (or their default)."""
    setting = NotificationSetting
    rows = db.session.execute(
        sa.select(User.id, User.role, UserLocale.locale, setting.mode)
        .join(UserLocale, UserLocale.user_id == User.id)
        .outerjoin(
            setting,
            sa.and_(
                setting.user_id == User.id,
                setting.locale == UserLocale.locale,
                setting.kind == kind,
            ),
        )
        .where(User.is_active, User.role.in_(roles), UserLocale.locale.in_(locales))
    )
    return [(uid, locale, _mode(role, kind, mode)) for uid, role, locale, mode in rows]


def _admins(kind: str, locales: list[str]) -> list[Recipient]:
    """Admins work in every locale and hear only of what they asked for."""
    setting = NotificationSetting
    rows = db.session.execute(
        sa.select(setting.user_id, setting.locale, setting.mode)
        .join(User, User.id == setting.user_id)
        .where(
            User.is_active,
            User.role == "admin",
            setting.kind == kind,
            setting.locale.in_(locales),
            setting.mode != "off",
        )
    )
    return [(uid, locale, mode) for uid, locale, mode in rows]


def _author(event: Event) -> list[Recipient]:
    """The author of the reviewed version, with their setting for its locale."""
    locale = event.locale or ""
    row = db.session.execute(
        sa.select(User.id, User.role, NotificationSetting.mode)
        .join(TranslationVersion, TranslationVersion.author_id == User.id)
        .outerjoin(
            NotificationSetting,
            sa.and_(
                NotificationSetting.user_id == User.id,
                NotificationSetting.locale == locale,
                NotificationSetting.kind == REVIEWED,
            ),
        )
        .where(TranslationVersion.id == event.translation_id, User.is_active)
    ).one_or_none()
    if row is None:
        return []
    return [(row.id, locale, _mode(row.role, REVIEWED, row.mode))]


def recipients(event: Event, kind: str) -> list[Recipient]:
    """Who hears of ``event`` (never its actor), in which locale and how."""
    if kind == REVIEWED:
        found = _author(event)
    else:
        roles: tuple[str, ...]
        if kind == SOURCE_CHANGED:
            locales, roles = list(i18n.registry().targets), ("translator", "reviewer")
        else:
            locales, roles = [event.locale or ""], ("reviewer",)
        found = _granted(kind, locales, roles) + _admins(kind, locales)
    return [
        (uid, locale, mode)
        for uid, locale, mode in found
        if mode != "off" and uid != event.actor_id
    ]


def derive(event: Event) -> None:
    """Collect who hears of ``event``; they are written once, just before the commit."""
    kind = KIND_OF_ACTION.get(event.action)
    if kind is None:
        return
    told = recipients(event, kind)
    if not told:
        return
    pending: list[dict[str, Any]] = transaction_state().setdefault(_PENDING, [])
    for user_id, locale, mode in told:
        pending.append(
            {"user_id": user_id, "event_id": event.id, "kind": kind, "locale": locale, "mode": mode}
        )
    before_commit(_PENDING, _write)


def _write() -> None:
    """The change's notifications in one statement, then the jobs that mail them."""
    rows: list[dict[str, Any]] = transaction_state().pop(_PENDING, [])
    if not rows:
        return
    now = utcnow()
    digest_at = next_digest(now, int(current_app.config["DIGEST_HOUR"]))
    for row in rows:
        row["created_at"] = now
        row["digest_at"] = digest_at if row["mode"] == "daily" else None
    session = db.session
    ids = session.scalars(
        sa.insert(Notification).returning(Notification.id, sort_by_parameter_order=True), rows
    ).all()
    if not current_app.config["SMTP_URL"]:
        return  # the console shows them; nothing is mailed
    users = {row["user_id"] for row in rows}
    reachable = set(
        session.scalars(sa.select(User.id).where(User.id.in_(users), User.email.is_not(None)))
    )
    instant: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    daily: set[int] = set()
    for notification_id, row in zip(ids, rows, strict=True):
        if row["user_id"] not in reachable:
            continue
        if row["mode"] == "instant":
            instant[row["user_id"], row["kind"], row["locale"]].append(notification_id)
        else:
            daily.add(row["user_id"])
    jobs.enqueue_many(
        INSTANT_JOB,
        [({"user": user, "notifications": told}, None) for (user, _, _), told in instant.items()],
    )
    if daily:
        # A digest job exists for whoever had a notification waiting for the same digest.
        waiting = set(
            session.scalars(
                sa.select(Notification.user_id)
                .where(
                    Notification.user_id.in_(daily),
                    Notification.digest_at == digest_at,
                    Notification.mailed_at.is_(None),
                    Notification.id.not_in(ids),
                )
                .distinct()
            )
        )
        jobs.enqueue_many(
            DIGEST_JOB,
            [
                ({"user": user, "at": digest_at.isoformat()}, digest_at)
                for user in sorted(daily - waiting)
            ],
        )
