"""The glossary: key terms and their allowed and forbidden renderings, per locale."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from flask_babel import gettext

from api import i18n
from api.database import transaction
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.extensions import db
from api.models import GlossaryTerm, User
from api.services import audit
from api.services.aids import wordforms
from api.services.text import collapse_spaces, contains_pattern
from api.services.translation.checks import GlossaryEntry

MAX_RENDERINGS = 20
MAX_TEXT = 200


@dataclass(frozen=True)
class TermData:
    term: str
    locale: str
    translations: list[str]
    forbidden: list[str]
    note: str | None = None


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors={field: [message]})


def target_locale(raw: str) -> str:
    """An offered locale other than the source locale, or a 422 problem."""
    try:
        tag = i18n.normalise_tag(raw)
    except i18n.MalformedLocale:
        raise _invalid("locale", gettext("Locale %(code)s is malformed.", code=raw)) from None
    registry = i18n.registry()
    if tag not in registry.offered or tag == registry.source:
        raise Unprocessable(
            gettext("Locale %(code)s is not offered.", code=tag),
            errors={"locale": [gettext("Locale %(code)s is not offered.", code=tag)]},
            available_locales=target_locales(),
        )
    return tag


def target_locales() -> list[str]:
    """The locales a glossary can be kept for: every offered one but the source."""
    registry = i18n.registry()
    return [code for code in registry.offered if code != registry.source]


def _renderings(field: str, values: Iterable[str], locale: str) -> list[str]:
    cleaned = list(dict.fromkeys(collapse_spaces(v) for v in values if collapse_spaces(v)))
    if len(cleaned) > MAX_RENDERINGS:
        raise _invalid(field, gettext("At most %(max)s renderings.", max=MAX_RENDERINGS))
    for value in cleaned:
        if len(value) > MAX_TEXT or not wordforms.tokens(value, locale):
            raise _invalid(field, gettext("%(value)s is not a rendering.", value=value[:40]))
    return cleaned


def validate(data: TermData) -> TermData:
    """The term cleaned up, or a 422 problem naming the fields at fault."""
    locale = target_locale(data.locale)
    term = collapse_spaces(data.term)
    if not term or len(term) > MAX_TEXT or not wordforms.tokens(term, i18n.registry().source):
        raise _invalid("term", gettext("A glossary term needs a word or more."))
    translations = _renderings("translations", data.translations, locale)
    if not translations:
        raise _invalid("translations", gettext("A glossary term needs at least one rendering."))
    forbidden = _renderings("forbidden", data.forbidden, locale)
    if overlap := set(translations) & set(forbidden):
        raise _invalid(
            "forbidden",
            gettext("%(value)s is both allowed and forbidden.", value=sorted(overlap)[0]),
        )
    note = collapse_spaces(data.note) if data.note else None
    return TermData(term, locale, translations, forbidden, note or None)


def may_edit(actor: User, locale: str) -> bool:
    """Reviewers and admins keep the glossary of the locales they work in."""
    return actor.may_review and actor.may_work_in(locale)


def _ensure_may_edit(actor: User, locale: str) -> None:
    if not actor.may_review:
        raise Forbidden(gettext("Only reviewers and admins may edit the glossary."))
    if not actor.may_work_in(locale):
        raise Forbidden(gettext("You may not work in locale %(code)s.", code=locale))


def _duplicate(term: str, locale: str, exclude: int | None = None) -> None:
    statement = sa.select(GlossaryTerm.id).where(
        GlossaryTerm.locale == locale, GlossaryTerm.term == term
    )
    if exclude is not None:
        statement = statement.where(GlossaryTerm.id != exclude)
    if db.session.scalar(statement) is not None:
        raise Conflict(
            gettext("The glossary already has %(term)s in %(code)s.", term=term, code=locale)
        )


def _snapshot(entry: GlossaryTerm) -> dict[str, Any]:
    return {
        "id": entry.id,
        "term": entry.term,
        "translations": list(entry.translations),
        "forbidden": list(entry.forbidden),
        "note": entry.note,
    }


def get(term_id: int) -> GlossaryTerm:
    entry = db.session.get(GlossaryTerm, term_id)
    if entry is None:
        raise NotFound(gettext("There is no glossary term %(id)s.", id=term_id))
    return entry


def query(locale: str | None, text: str | None) -> sa.Select[tuple[GlossaryTerm]]:
    """Terms, by locale and term, optionally of one locale or containing some text."""
    statement = sa.select(GlossaryTerm).order_by(
        GlossaryTerm.locale, sa.func.lower(GlossaryTerm.term), GlossaryTerm.id
    )
    if locale:
        statement = statement.where(GlossaryTerm.locale == target_locale(locale))
    if text and (needle := collapse_spaces(text)):
        statement = statement.where(
            sa.func.lower(GlossaryTerm.term).like(contains_pattern(needle.lower()), escape="\\")
        )
    return statement


def terms(locale: str) -> list[GlossaryTerm]:
    """Every term of one locale, by term."""
    return list(db.session.scalars(query(locale, None)))


def create(data: TermData, actor: User) -> GlossaryTerm:
    """Add a term in one locale (reviewers of that locale, admins)."""
    data = validate(data)
    _ensure_may_edit(actor, data.locale)
    with transaction():
        _duplicate(data.term, data.locale)
        entry = GlossaryTerm(
            term=data.term,
            locale=data.locale,
            translations=data.translations,
            forbidden=data.forbidden,
            note=data.note,
        )
        db.session.add(entry)
        db.session.flush()
        audit.record("glossary.created", actor=actor, locale=entry.locale, after=_snapshot(entry))
    return entry


def update(term_id: int, data: TermData, actor: User) -> GlossaryTerm:
    """Replace a term's text, renderings and note (its locale stays)."""
    entry = get(term_id)
    _ensure_may_edit(actor, entry.locale)
    data = validate(TermData(data.term, entry.locale, data.translations, data.forbidden, data.note))
    with transaction():
        entry = get(term_id)
        _duplicate(data.term, entry.locale, exclude=entry.id)
        before = _snapshot(entry)
        entry.term = data.term
        entry.translations = data.translations
        entry.forbidden = data.forbidden
        entry.note = data.note
        db.session.flush()
        audit.record(
            "glossary.updated",
            actor=actor,
            locale=entry.locale,
            before=before,
            after=_snapshot(entry),
        )
    return entry


def delete(term_id: int, actor: User) -> None:
    entry = get(term_id)
    _ensure_may_edit(actor, entry.locale)
    with transaction():
        entry = get(term_id)
        before = _snapshot(entry)
        db.session.delete(entry)
        audit.record("glossary.deleted", actor=actor, locale=entry.locale, before=before)


def entries(locale: str) -> tuple[GlossaryEntry, ...]:
    """The locale's terms as the ``glossary`` check reads them."""
    return tuple(
        GlossaryEntry(t.term, tuple(t.translations), tuple(t.forbidden))
        for t in db.session.scalars(
            sa.select(GlossaryTerm).where(GlossaryTerm.locale == locale).order_by(GlossaryTerm.id)
        )
    )


def terms_in(text: str, source_locale: str, locale: str) -> list[GlossaryTerm]:
    """The locale's terms that the (source) text uses, inflected or not."""
    words = wordforms.word_forms(text, source_locale)
    return [
        t
        for t in db.session.scalars(
            sa.select(GlossaryTerm)
            .where(GlossaryTerm.locale == locale)
            .order_by(sa.func.lower(GlossaryTerm.term))
        )
        if wordforms.find(t.term, words, source_locale)
    ]


@dataclass(frozen=True)
class LoadReport:
    created: int
    updated: int
    unchanged: int


def load_file(path: Path) -> LoadReport:
    """Load the shipped glossary (YAML): new terms are added, changed ones updated."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    rows: list[TermData] = []
    for item in document:
        for code, spec in (item.get("locales") or {}).items():
            rows.append(
                validate(
                    TermData(
                        term=str(item["term"]),
                        locale=str(code),
                        translations=[str(v) for v in spec.get("translations") or []],
                        forbidden=[str(v) for v in spec.get("forbidden") or []],
                        note=spec.get("note", item.get("note")),
                    )
                )
            )
    created = updated = unchanged = 0
    with transaction():
        for row in rows:
            entry = db.session.scalar(
                sa.select(GlossaryTerm).where(
                    GlossaryTerm.locale == row.locale, GlossaryTerm.term == row.term
                )
            )
            if entry is None:
                db.session.add(
                    GlossaryTerm(
                        term=row.term,
                        locale=row.locale,
                        translations=row.translations,
                        forbidden=row.forbidden,
                        note=row.note,
                    )
                )
                created += 1
            elif (entry.translations, entry.forbidden, entry.note) != (
                row.translations,
                row.forbidden,
                row.note,
            ):
                entry.translations, entry.forbidden, entry.note = (
                    row.translations,
                    row.forbidden,
                    row.note,
                )
                updated += 1
            else:
                unchanged += 1
    return LoadReport(created, updated, unchanged)
