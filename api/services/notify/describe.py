"""What a notification says, in the language in force: a sentence, a link into the
console, and for a rejection its reason. Mail and the console's list say the same."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext

from api import i18n
from api.extensions import db
from api.models import Essay, Event, Notification, Unit
from api.services.notify.settings import REVIEWED, SOURCE_CHANGED


@dataclass(frozen=True)
class Item:
    """One notification as a mail tells it: a sentence, a reason (rejections) and a link."""

    essay: str
    locale: str
    text: str
    link: str
    reason: str | None = None


def _titles(essay_ids: set[int]) -> dict[int, str]:
    rows = db.session.execute(
        sa.select(Unit.essay_id, Unit.body, Essay.slug)
        .join(Essay, Essay.id == Unit.essay_id)
        .where(Unit.essay_id.in_(essay_ids), Unit.kind == "title")
    )
    return {essay_id: body.strip() or slug for essay_id, body, slug in rows}


def _item(note: Notification, titles: dict[int, str], language: str) -> Item:
    event: Event = note.event
    essay = titles.get(event.essay_id or 0, event.essay_slug or "")
    unit = event.unit
    section = (unit.heading or unit.key) if unit is not None else ""
    values = {
        "essay": essay,
        "section": section,
        "language": i18n.display_name(note.locale, language),
    }
    slug, key = event.essay_slug or "", event.unit_key or ""
    if note.kind == SOURCE_CHANGED:
        text = gettext(
            "“%(essay)s” has new or changed text to translate into %(language)s: %(section)s.",
            **values,
        )
        link = url_for("console.units", slug=slug, locale=note.locale, _external=True)
        return Item(essay, note.locale, text, link)
    if note.kind == REVIEWED:
        link = url_for("console.editor", slug=slug, locale=note.locale, key=key, _external=True)
        if event.action == "translation.rejected":
            text = gettext(
                "Your translation of %(section)s in “%(essay)s” into %(language)s was rejected.",
                **values,
            )
            reason = (event.after or {}).get("reason")
            why = gettext("Reason: %(reason)s", reason=reason) if reason else None
            return Item(essay, note.locale, text, link, why)
        text = gettext(
            "Your translation of %(section)s in “%(essay)s” into %(language)s was approved.",
            **values,
        )
        return Item(essay, note.locale, text, link)
    text = gettext(
        "A translation of %(section)s in “%(essay)s” into %(language)s waits for your review.",
        **values,
    )
    return Item(essay, note.locale, text, url_for("console.review", _external=True))


def describe(notes: Sequence[Notification], language: str) -> list[Item]:
    """The items of ``notes``, with absolute links (mail is read far from the server)."""
    titles = _titles({note.event.essay_id for note in notes if note.event.essay_id})
    return [_item(note, titles, language) for note in notes]
