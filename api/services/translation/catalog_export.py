"""Writing an essay's PO catalog of one locale, or its template, from what is published
(and, for its translator, what waits for review)."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import polib
import sqlalchemy as sa
from babel import UnknownLocaleError
from babel.messages.plurals import get_plural
from flask_babel import force_locale, gettext

from api import i18n
from api.extensions import db
from api.models import Comment, TranslationVersion, Unit, User
from api.services.delivery.reading import ESSAY_SCOPE, Stamps, read_stamps
from api.services.outbound import edge
from api.services.translation import workflow
from api.services.translation.catalogs import (
    ESSAY_HEADER,
    PO_MIMETYPE,
    POT_MIMETYPE,
    catalog_locale,
    catalog_units,
    gettext_code,
    pending_versions,
    published_versions,
    unit_fields,
)

# Part of every catalog ETag: a change in how catalogs are written makes old validators stale.
_FORMAT = "1"
_DATE_FORMAT = "%Y-%m-%d %H:%M+0000"
_WRAP = 78


@dataclass(frozen=True)
class PreparedCatalog:
    """A catalog about to be served: its essay's stamps, its locale (None: the template)."""

    stamps: Stamps
    locale: str | None
    etag: str

    @property
    def tags(self) -> str:
        """The edge's tags: what changes in its locale or in the source purge it."""
        source = self.stamps.source_locale
        codes = (self.locale, source) if self.locale else (source,)
        return edge.representation_tags(self.stamps.essay_id, ESSAY_SCOPE, codes)


@dataclass(frozen=True)
class CatalogDocument:
    body: bytes
    filename: str
    mimetype: str


def _latest_comment_id(essay_id: int, locale: str) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.max(Comment.id))
            .join(TranslationVersion, Comment.translation_id == TranslationVersion.id)
            .join(Unit, TranslationVersion.unit_id == Unit.id)
            .where(
                Unit.essay_id == essay_id,
                TranslationVersion.locale == locale,
                TranslationVersion.status == "approved",
            )
        )
        or 0
    )


def prepare(slug: str, raw_locale: str | None) -> PreparedCatalog:
    """Resolve the essay and locale and derive the ETag, without building the catalog.

    The catalog depends on the publications in its locale and in the source locale (their
    stamps), and on the reviewers' comments on what is published, nothing else.
    """
    stamps = read_stamps(slug, ESSAY_SCOPE, i18n.registry().offered)
    locale = catalog_locale(raw_locale, stamps.source_locale) if raw_locale is not None else None
    codes = (locale, stamps.source_locale) if locale else (stamps.source_locale,)
    parts = [
        _FORMAT,
        str(stamps.essay_id),
        locale or "",
        ",".join(f"{code}={stamps.by_locale.get(code, 0)}" for code in codes),
        str(_latest_comment_id(stamps.essay_id, locale)) if locale else "",
    ]
    etag = '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40] + '"'
    return PreparedCatalog(stamps, locale, etag)


def _reviewer_comments(versions: list[TranslationVersion]) -> dict[int, str]:
    """The latest comment on each version by someone other than its author."""
    authors = {version.id: version.author_id for version in versions}
    rows = db.session.execute(
        sa.select(Comment.translation_id, Comment.author_id, Comment.body)
        .where(Comment.translation_id.in_(list(authors)))
        .order_by(Comment.id)
    )
    latest = {}
    for row in rows:
        if row.author_id is None or row.author_id != authors[row.translation_id]:
            latest[row.translation_id] = row.body
    return latest


def _comment_text(text: str) -> str:
    """Text fit for a ``#.`` comment: line breaks as ``\\n``, no other control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        " " if ch != "\n" and unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text
    ).strip()


def _describe(unit: Unit, sections: int) -> str:
    if unit.kind == "title":
        return gettext("The essay's title.")
    if unit.heading:
        return gettext(
            "Section %(number)s of %(total)s: %(heading)s",
            number=unit.position + 1,
            total=sections,
            heading=unit.heading,
        )
    return gettext("Section %(number)s of %(total)s", number=unit.position + 1, total=sections)


def _date(value: datetime | None) -> str:
    return value.strftime(_DATE_FORMAT) if value else ""


def render(prepared: PreparedCatalog, pending_of: User | None = None) -> CatalogDocument:
    """The catalog (or, without a locale, the template) as UTF-8 PO text.

    With ``pending_of``, that translator's versions still waiting for review come as fuzzy
    entries naming the version, so the file can be uploaded again as it is.
    """
    stamps, locale = prepared.stamps, prepared.locale
    units = catalog_units(stamps.essay_id)
    published = published_versions(units, locale) if locale else {}
    pending = pending_versions(units, locale, pending_of) if locale and pending_of else {}
    code = gettext_code(locale or stamps.source_locale)
    with force_locale(code):
        po = polib.POFile(wrapwidth=_WRAP)
        po.metadata = _header(stamps, locale, units, published)
        po.header = _header_comment(stamps, locale, units)
        po.extend(_entries(units, published, pending))
    if locale:
        filename, mimetype = f"{stamps.slug}.{code}.po", PO_MIMETYPE
    else:
        filename, mimetype = f"{stamps.slug}.pot", POT_MIMETYPE
    return CatalogDocument(str(po).encode("utf-8"), filename, mimetype)


def export(slug: str, raw_locale: str | None, pending_of: User | None = None) -> CatalogDocument:
    """The catalog of one locale, or the template when ``raw_locale`` is None."""
    return render(prepare(slug, raw_locale), pending_of)


def _header(
    stamps: Stamps, locale: str | None, units: list[Unit], published: dict[int, TranslationVersion]
) -> dict[str, str]:
    created = _date(max((u.source_changed_at for u in units), default=None))
    header = {"Project-Id-Version": f"Tarjuma {stamps.slug}", "POT-Creation-Date": created}
    if locale is None:
        header |= {
            "PO-Revision-Date": "YEAR-MO-DA HO:MI+ZONE",
            "Last-Translator": "FULL NAME <EMAIL@ADDRESS>",
            "Language-Team": "LANGUAGE <LL@li.org>",
            "Language": "",
        }
    else:
        approved = [v.approved_at for v in published.values() if v.approved_at]
        header |= {
            "PO-Revision-Date": _date(max(approved)) if approved else created,
            "Last-Translator": "",
            "Language-Team": i18n.registry().infos[locale].name,
            "Language": gettext_code(locale),
        }
    header |= {
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    if locale is not None:
        header["Plural-Forms"] = _plural_forms(gettext_code(locale))
    header[ESSAY_HEADER] = stamps.slug
    return header


def _plural_forms(code: str) -> str:
    try:
        return str(get_plural(code))
    except (UnknownLocaleError, ValueError):
        return "nplurals=2; plural=(n != 1);"


def _header_comment(stamps: Stamps, locale: str | None, units: list[Unit]) -> str:
    title = next((u.body for u in units if u.kind == "title"), stamps.slug)
    if locale is None:
        return _comment_text(gettext("Translation template of the essay “%(title)s”.", title=title))
    return _comment_text(
        gettext(
            "%(language)s translation of the essay “%(title)s”.",
            language=i18n.registry().infos[locale].native_name,
            title=title,
        )
    )


def _entries(
    units: list[Unit],
    published: dict[int, TranslationVersion],
    pending: dict[int, TranslationVersion] | None = None,
) -> list[polib.POEntry]:
    sections = sum(1 for u in units if u.kind == "section")
    notes = _reviewer_comments(list(published.values()))
    out = []
    for unit in units:
        waiting = (pending or {}).get(unit.id)
        version = waiting or published.get(unit.id)
        previous = None
        if version is not None and version.source_hash != unit.source_hash:
            previous = workflow.source_text(unit.id, version.source_revision)
        about = [_describe(unit, sections)]
        if previous is not None:
            about.append(
                gettext(
                    "The translation was made from source revision %(old)s;"
                    " the source is now at revision %(current)s.",
                    old=previous.revision,
                    current=unit.source_revision,
                )
            )
        if version is not None and version.id in notes:
            about.append(gettext("Reviewer's comment: %(comment)s", comment=notes[version.id]))
        if waiting is not None:
            about.append(
                gettext(
                    "Pending: your version %(version)s, not yet reviewed. To change it, edit"
                    " the entry and remove its fuzzy flag.",
                    version=waiting.version,
                )
            )
        for name in unit_fields(unit):
            source = getattr(unit, name)
            text = (getattr(version, name) if version else None) or ""
            entry = polib.POEntry(
                msgctxt=f"{unit.key}.{name}",
                msgid=source,
                msgstr=text,
                comment=_comment_text("\n".join(about)),
            )
            old = getattr(previous, name) if previous is not None else source
            if text and (old != source or waiting is not None):
                entry.flags.append("fuzzy")
            if text and old != source:
                entry.previous_msgctxt = entry.msgctxt
                if old:
                    entry.previous_msgid = old
            out.append(entry)
    return out
