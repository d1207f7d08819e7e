"""Previews: an essay as it would read if the newest submitted versions were approved.

A preview is built for one person on each request and never cached: it is not on the
readers' path (``api.services.delivery.reading`` serves prepared bytes), it only borrows that
module's document builder with the drafts laid over the published versions. Preview links
show the same document to someone without an account, for a limited time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext

from api import i18n
from api.database import transaction
from api.errors import Forbidden, Gone, NotFound, Unprocessable
from api.extensions import db
from api.models import Essay, PreviewLink, TranslationVersion, Unit, User
from api.models.types import utcnow
from api.services import audit
from api.services.accounts.identity import hash_token
from api.services.content import get_essay, offered_locale
from api.services.delivery import reading

MIN_EXPIRY = 60
MAX_EXPIRY = 30 * 24 * 3600


def _drafts(essay_id: int, locale: str) -> dict[tuple[int, str], Any]:
    """Per unit, the newest submitted version in ``locale``, else the approved one.

    Approved versions count here even in a staged locale: a preview shows what a release
    would publish.
    """
    rows = db.session.execute(
        sa.select(*reading.SERVED_COLUMNS, TranslationVersion.status)
        .join(Unit, Unit.id == TranslationVersion.unit_id)
        .where(
            Unit.essay_id == essay_id,
            Unit.archived_at.is_(None),
            TranslationVersion.locale == locale,
            TranslationVersion.status.in_(("submitted", "approved")),
        )
        .order_by(TranslationVersion.unit_id, TranslationVersion.version)
    ).all()
    chosen: dict[tuple[int, str], Any] = {}
    for row in rows:
        held = chosen.get((row.unit_id, locale))
        if row.status == "submitted" or held is None or held.status != "submitted":
            chosen[(row.unit_id, locale)] = row
    return chosen


def document(essay: Essay, locale: str) -> dict[str, Any]:
    """The preview of ``essay`` in ``locale``: each section marked submitted or approved."""
    negotiated = i18n.Negotiated(requested=locale, locale=locale)
    stamps = reading.read_stamps(essay.slug, reading.ESSAY_SCOPE, i18n.registry().chain(locale))
    drafts = _drafts(essay.id, locale) if locale != essay.source_locale else {}
    body, _languages = reading.essay_document(stamps, negotiated, overlay=drafts)
    keys = {
        key: unit_id
        for key, unit_id in db.session.execute(
            sa.select(Unit.key, Unit.id).where(Unit.essay_id == essay.id)
        )
    }

    def status(key: str, served_in: str) -> str:
        row = drafts.get((keys.get(key, 0), locale))
        draft = served_in == locale and row is not None and row.status == "submitted"
        return "submitted" if draft else "approved"

    for section in body["sections"]:
        section["status"] = status(section["key"], section["locale"])
    body["title_status"] = status("title", body["title_locale"])
    body["preview"] = True
    return body


def preview_for(slug: str, locale: str, actor: User) -> dict[str, Any]:
    """The preview for a signed-in person who may work in ``locale``."""
    essay = get_essay(slug)
    if not actor.may_work_in(locale):
        raise Forbidden(gettext("You may not work in locale %(code)s.", code=locale))
    return document(essay, locale)


@dataclass(frozen=True)
class IssuedLink:
    token: str
    link: PreviewLink


def create_link(slug: str, raw_locale: str, expires_in: int, actor: User) -> IssuedLink:
    """A preview link for one essay and locale (reviewers and admins who work in it)."""
    if not actor.may_review:
        raise Forbidden(gettext("Only reviewers and admins may send a preview."))
    essay = get_essay(slug)
    code = offered_locale(raw_locale)
    if not actor.may_work_in(code):
        raise Forbidden(gettext("You may not work in locale %(code)s.", code=code))
    if not MIN_EXPIRY <= expires_in <= MAX_EXPIRY:
        message = gettext(
            "A preview link lasts from %(min)s seconds to %(max)s seconds.",
            min=MIN_EXPIRY,
            max=MAX_EXPIRY,
        )
        raise Unprocessable(message, errors={"expires_in": [message]})
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with transaction():
        link = PreviewLink(
            essay_id=essay.id,
            locale=code,
            token_hash=hash_token(token),
            created_by_id=actor.id,
            created_at=now,
            expires_at=now + timedelta(seconds=expires_in),
        )
        db.session.add(link)
        db.session.flush()
        audit.record(
            "preview_link.created",
            actor=actor,
            essay=essay,
            locale=code,
            after={"id": link.id, "expires_at": _iso(link.expires_at)},
        )
    return IssuedLink(token, link)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _link_not_found() -> NotFound:
    return NotFound(gettext("There is no such preview link, or it was revoked."))


def open_link(token: str) -> tuple[PreviewLink, dict[str, Any]]:
    """What a preview link shows: 404 when unknown or revoked, 410 once expired."""
    if len(token) > 200:
        raise _link_not_found()
    link = db.session.scalar(
        sa.select(PreviewLink).where(PreviewLink.token_hash == hash_token(token))
    )
    if link is None or link.revoked_at is not None:
        raise _link_not_found()
    if link.expires_at <= utcnow():
        raise Gone(gettext("This preview link has expired. Ask for a new one."))
    essay = db.session.get(Essay, link.essay_id)
    if essay is None or essay.archived_at is not None:
        raise _link_not_found()
    if link.locale not in i18n.registry().offered:
        raise _link_not_found()
    return link, document(essay, link.locale)


def revoke_link(link_id: int, actor: User) -> None:
    """Revoke a preview link (reviewers and admins who work in its locale)."""
    link = db.session.get(PreviewLink, link_id)
    if link is None or link.revoked_at is not None:
        raise _link_not_found()
    if not actor.may_review:
        raise Forbidden(gettext("Only reviewers and admins may revoke a preview link."))
    if not actor.may_work_in(link.locale):
        raise Forbidden(gettext("You may not work in locale %(code)s.", code=link.locale))
    with transaction():
        link = db.session.merge(link)
        link.revoked_at = utcnow()
        audit.record(
            "preview_link.revoked",
            actor=actor,
            essay=link.essay,
            locale=link.locale,
            after={"id": link.id},
        )
