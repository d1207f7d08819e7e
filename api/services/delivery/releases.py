"""Per-locale releases: a locale of an essay is ``live`` or ``staged``.

Approvals in a staged locale are kept, and shown in the console, but readers get the rest
of their fallback chain (``api.services.delivery.reading`` leaves staged versions out). Releasing
or staging changes every affected representation in one transaction: one state change,
one revision stamped on each unit that has an approved version, one event. A change may be
scheduled: the row keeps the schedule and a ``release`` job carries it to the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext, lazy_gettext

from api import i18n
from api.database import lock_for_update, transaction
from api.errors import Conflict, Forbidden, Unprocessable
from api.extensions import db
from api.models import Essay, EssayLocale, TranslationVersion, Unit, User
from api.models.types import utcnow
from api.services import audit, jobs, publication
from api.services.content import get_essay, offered_locale
from api.services.delivery import progress

JOB_KIND = "release"

STATE_LABELS = {"live": lazy_gettext("live"), "staged": lazy_gettext("staged")}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def staged_locales(essay_id: int) -> set[str]:
    return set(
        db.session.scalars(
            sa.select(EssayLocale.locale).where(
                EssayLocale.essay_id == essay_id, EssayLocale.state == "staged"
            )
        )
    )


def staged_everywhere() -> set[tuple[str, str]]:
    """Every (essay slug, locale) whose locale is staged: translated, not yet released."""
    return {
        (slug, code)
        for slug, code in db.session.execute(
            sa.select(Essay.slug, EssayLocale.locale)
            .join(EssayLocale, EssayLocale.essay_id == Essay.id)
            .where(EssayLocale.state == "staged")
        )
    }


def _entry(
    essay: Essay, code: str, row: EssayLocale | None, total: int, counts: Any
) -> dict[str, Any]:
    is_source = code == essay.source_locale
    approved, outdated, submitted = (total, 0, 0) if is_source else counts.get(code, (0, 0, 0))
    return {
        "code": code,
        "state": row.state if row else "live",
        "is_source": is_source,
        "scheduled": (
            {"state": row.scheduled_state, "at": _iso(row.scheduled_at)}
            if row and row.scheduled_state
            else None
        ),
        "progress": progress.figures(total, approved, outdated, submitted),
    }


def locale_states(slug: str) -> dict[str, Any]:
    """Each offered locale's release state and progress in one essay."""
    essay = get_essay(slug)
    rows = {
        row.locale: row
        for row in db.session.scalars(
            sa.select(EssayLocale).where(EssayLocale.essay_id == essay.id)
        )
    }
    total = (
        db.session.scalar(
            sa.select(sa.func.count(Unit.id)).where(
                Unit.essay_id == essay.id, Unit.archived_at.is_(None)
            )
        )
        or 0
    )
    counts = progress.per_locale(essay.id)
    return {
        "essay": essay.slug,
        "source_locale": essay.source_locale,
        "locales": [
            _entry(essay, code, rows.get(code), total, counts) for code in i18n.registry().offered
        ],
    }


def locale_state(slug: str, raw_locale: str) -> dict[str, Any]:
    code = offered_locale(raw_locale)
    return next(item for item in locale_states(slug)["locales"] if item["code"] == code)


def _locked_row(essay: Essay, code: str) -> EssayLocale:
    """The locale's row, created live if missing; the essay's row lock serialises writers."""
    db.session.execute(lock_for_update(sa.select(Essay.id).where(Essay.id == essay.id)))
    row = db.session.execute(
        lock_for_update(
            sa.select(EssayLocale).where(
                EssayLocale.essay_id == essay.id, EssayLocale.locale == code
            )
        ).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        row = EssayLocale(essay_id=essay.id, locale=code, state="live")
        db.session.add(row)
        db.session.flush()
    return row


def _already(code: str, state: str) -> Conflict:
    if state == "live":
        message = gettext("Locale %(code)s is already live in this essay.", code=code)
    else:
        message = gettext("Locale %(code)s is already staged in this essay.", code=code)
    return Conflict(message, current_state=state)


def _apply(essay: Essay, row: EssayLocale, state: str, actor: User | None, scheduled: bool) -> None:
    """Change the state and make every affected representation fresh, with one event."""
    keys = list(
        db.session.scalars(
            sa.select(Unit.key)
            .join(TranslationVersion, TranslationVersion.unit_id == Unit.id)
            .where(
                Unit.essay_id == essay.id,
                Unit.archived_at.is_(None),
                TranslationVersion.locale == row.locale,
                TranslationVersion.status == "approved",
            )
            .order_by(Unit.kind.desc(), Unit.position)
        )
    )
    before = row.state
    row.state = state
    row.scheduled_state = row.scheduled_at = None
    db.session.flush()
    publication.bump_many(essay.id, row.locale, keys)
    audit.record(
        "locale.released" if state == "live" else "locale.staged",
        actor=actor,
        essay=essay,
        locale=row.locale,
        before={"state": before},
        after={"state": state, "units": keys, "scheduled": scheduled},
    )


def _unschedule(essay: Essay, row: EssayLocale, actor: User) -> None:
    """Cancel a pending scheduled change; its job finds the row changed and does nothing."""
    before = {"scheduled_state": row.scheduled_state, "at": _iso(row.scheduled_at)}
    row.scheduled_state = row.scheduled_at = None
    db.session.flush()
    audit.record(
        "locale.unscheduled",
        actor=actor,
        essay=essay,
        locale=row.locale,
        before=before,
        after={"state": row.state},
    )


@dataclass(frozen=True)
class StateChange:
    """What a request for a locale's state did, and the locale's state after it.

    outcome: ``applied`` (now), ``scheduled`` (for later) or ``unscheduled`` (the state
        asked for was the locale's own, and its pending change is cancelled).
    """

    outcome: str
    locale: dict[str, Any]


def set_state(
    slug: str, raw_locale: str, state: str, at: datetime | None, actor: User
) -> StateChange:
    """Release or stage a locale of an essay now, or schedule it for ``at``."""
    if actor.role != "admin":
        raise Forbidden(gettext("Only admins may release or stage a locale."))
    essay = get_essay(slug)
    code = offered_locale(raw_locale)
    if code == essay.source_locale:
        message = gettext("The source locale is always live.")
        raise Unprocessable(message, errors={"locale": [message]})
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    with transaction():
        row = _locked_row(essay, code)
        if row.state == state:
            if at is not None or row.scheduled_state is None:
                raise _already(code, state)
            # Asking for the state it is in, now: keep it so, and drop the pending change.
            _unschedule(essay, row, actor)
            return StateChange("unscheduled", locale_state(slug, code))
        if at is None or at <= utcnow():
            _apply(essay, row, state, actor, scheduled=False)
            outcome = "applied"
        else:
            outcome = "scheduled"
            row.scheduled_state, row.scheduled_at = state, at
            db.session.flush()
            audit.record(
                "locale.scheduled",
                actor=actor,
                essay=essay,
                locale=code,
                before={"state": row.state},
                after={"scheduled_state": state, "at": _iso(at)},
            )
            jobs.enqueue(
                JOB_KIND,
                {
                    "essay_id": essay.id,
                    "locale": code,
                    "state": state,
                    "at": _iso(at),
                    "actor_id": actor.id,
                },
                run_at=at,
            )
    return StateChange(outcome, locale_state(slug, code))


def _retry(attempts: int) -> float | None:
    return 1.0 if attempts < 5 else None


def run_scheduled(job: jobs.Claim) -> None:
    """Apply a scheduled change, unless a later request replaced or already made it."""
    payload = job.payload
    with transaction():
        essay = db.session.get(Essay, payload["essay_id"])
        if essay is None:
            return
        row = _locked_row(essay, payload["locale"])
        if row.scheduled_state != payload["state"] or _iso(row.scheduled_at) != payload["at"]:
            return
        if row.state == payload["state"]:
            row.scheduled_state = row.scheduled_at = None
            return
        actor = db.session.get(User, payload["actor_id"]) if payload.get("actor_id") else None
        _apply(essay, row, payload["state"], actor, scheduled=True)


def init_app(app: Flask) -> None:
    """Scheduled releases and stagings, carried out by the worker."""
    jobs.handlers(app).add(JOB_KIND, run_scheduled, retry=_retry)
