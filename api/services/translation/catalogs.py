"""Gettext PO catalogs of essay content: the format, what a catalog holds, and loading the
shipped translations. ``catalog_export`` writes catalogs, ``catalog_import`` reads
translators' work back.

A catalog has one entry per translatable field of every unit, in essay order: ``msgctxt`` is
``<unit key>.<field>``, ``msgid`` the current source text, ``msgstr`` the published
translation.
"""

from __future__ import annotations

import codecs
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polib
import sqlalchemy as sa
from babel import Locale, UnknownLocaleError
from flask_babel import gettext

from api import i18n
from api.database import transaction
from api.errors import MalformedLocaleError, NotFound
from api.extensions import db
from api.models import Essay, SourceRevision, TranslationVersion, Unit, User
from api.services.translation import workflow

FIELDS = ("heading", "body")
ESSAY_HEADER = "X-Tarjuma-Essay"
PO_MIMETYPE = "text/x-gettext-translation"
POT_MIMETYPE = "text/x-gettext-translation-template"
_CHARSET = re.compile(rb'"Content-Type:[^"\n]*charset=([A-Za-z0-9_.:-]+)', re.IGNORECASE)
_POLIB_LINE = re.compile(r"\(line (\d+)\)")


class CatalogError(ValueError):
    """A catalog that cannot be used; ``line`` points at the problem when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class CatalogEntry:
    key: str
    field: str
    msgid: str
    msgstr: str
    fuzzy: bool
    line: int | None
    comment: str = ""


@dataclass
class LoadReport:
    locale: str
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


# --- reading PO text ----------------------------------------------------------------------


def _parse_lines(text: str) -> polib.POFile:
    """Parse PO text whose lines end at ``\\n`` only, as GNU gettext reads them.

    ``polib.pofile`` splits text with ``str.splitlines``, which also breaks at U+2028, U+0085
    and other separators that may stand unescaped inside a string, and it opens a one-line
    text as a file when a file of that name exists. Handing its parser the lines avoids both.
    """
    parser = polib._POFileParser("", encoding="utf-8", check_for_duplicates=True)
    parser.fhandle = text.split("\n")
    try:
        return parser.parse()
    except (OSError, ValueError) as error:
        found = _POLIB_LINE.search(str(error))
        line = int(found.group(1)) if found else parser.current_line or None
        raise CatalogError(_polib_reason(str(error)), line) from None


def _polib_reason(message: str) -> str:
    """polib's complaint, in words the caller's locale has."""
    if "unescaped double quote" in message:
        return gettext("A double quote inside a string is not escaped.")
    if "already exists" in message:
        return gettext("An entry with this context and msgid appears twice.")
    if "Syntax error" in message:
        return gettext("This line is not valid PO syntax.")
    return message


def parse_catalog(text: str) -> polib.POFile:
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise CatalogError(gettext("The catalog contains a NUL character."), line)
    return _parse_lines(text.removeprefix("\ufeff"))


def decode_catalog(data: bytes) -> str:
    """The text of an uploaded catalog, in the charset its header declares (UTF-8 if none)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    match = _CHARSET.search(data.split(b"\n\n", 1)[0])
    name = match.group(1).decode("ascii") if match else "utf-8"
    if name.upper() == "CHARSET":
        name = "utf-8"
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        line = data.count(b"\n", 0, match.start()) + 1 if match else None
        raise CatalogError(gettext("Unknown charset %(charset)s.", charset=name), line) from None
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CatalogError(
            gettext("The text is not valid %(charset)s.", charset=name), line
        ) from None


def entries(po: polib.POFile) -> list[CatalogEntry]:
    """The content entries of a catalog: ``msgctxt`` is ``<unit key>.<field>``."""
    out = []
    for entry in po:
        if entry.obsolete:
            continue
        key, dot, name = (entry.msgctxt or "").rpartition(".")
        if not dot or not key or name not in FIELDS:
            raise CatalogError(
                gettext(
                    "Unknown context %(context)s on line %(line)s.",
                    context=entry.msgctxt or "",
                    line=entry.linenum,
                ),
                entry.linenum,
            )
        if entry.msgid_plural or entry.msgstr_plural:
            raise CatalogError(
                gettext(
                    "The entry on line %(line)s has plural forms; essay text has none.",
                    line=entry.linenum,
                ),
                entry.linenum,
            )
        out.append(
            CatalogEntry(
                key,
                name,
                entry.msgid,
                entry.msgstr,
                "fuzzy" in entry.flags,
                entry.linenum,
                entry.tcomment or "",
            )
        )
    return out


def source_revision_for(unit: Unit, texts: dict[str, str]) -> int | None:
    """The newest source revision whose text matches every field given in ``texts``."""

    def matches(heading: str | None, body: str) -> bool:
        current = {"heading": heading, "body": body}
        return all(current[name] == text for name, text in texts.items())

    if matches(unit.heading, unit.body):
        return unit.source_revision
    revisions = db.session.scalars(
        sa.select(SourceRevision)
        .where(SourceRevision.unit_id == unit.id)
        .order_by(SourceRevision.revision.desc())
    )
    for revision in revisions:
        if matches(revision.heading, revision.body):
            return revision.revision
    return None


def group_by_unit(items: list[CatalogEntry]) -> dict[str, dict[str, CatalogEntry]]:
    grouped: dict[str, dict[str, CatalogEntry]] = defaultdict(dict)
    for item in items:
        grouped[item.key][item.field] = item
    return grouped


# --- what a catalog of an essay holds -------------------------------------------------------


def catalog_locale(raw: str, source_locale: str) -> str:
    """An offered target locale from a URL (``pt-BR``, ``pt_BR``); 400 malformed, 404 other."""
    try:
        tag = i18n.normalise_tag(raw)
    except i18n.MalformedLocale:
        raise MalformedLocaleError(
            gettext("%(code)s is not a well-formed locale code.", code=raw),
            available_locales=_targets(source_locale),
        ) from None
    if tag not in i18n.registry().offered or tag == source_locale:
        raise NotFound(
            gettext("There is no catalog for locale %(code)s.", code=tag),
            available_locales=_targets(source_locale),
        )
    return tag


def _targets(source_locale: str) -> list[str]:
    return [code for code in i18n.registry().offered if code != source_locale]


def gettext_code(locale: str) -> str:
    """The locale as gettext and Babel spell it: ``pt_BR``, ``zh_Hant``."""
    try:
        return str(Locale.parse(locale, sep="-"))
    except (UnknownLocaleError, ValueError):
        return locale.replace("-", "_")


def catalog_units(essay_id: int) -> list[Unit]:
    """The essay's units in reading order: the title, then the sections."""
    return list(
        db.session.scalars(
            sa.select(Unit)
            .where(Unit.essay_id == essay_id, Unit.archived_at.is_(None))
            .order_by(Unit.kind.desc(), Unit.position)
        )
    )


def unit_fields(unit: Unit) -> tuple[str, ...]:
    """The fields of a unit a catalog has entries for: a unit without a heading has none."""
    return FIELDS if unit.heading else ("body",)


def published_versions(units: list[Unit], locale: str) -> dict[int, TranslationVersion]:
    """The published version of each unit that has one in ``locale``."""
    versions = db.session.scalars(
        sa.select(TranslationVersion).where(
            TranslationVersion.unit_id.in_([u.id for u in units]),
            TranslationVersion.locale == locale,
            TranslationVersion.status == "approved",
        )
    )
    return {version.unit_id: version for version in versions}


def pending_versions(units: list[Unit], locale: str, author: User) -> dict[int, TranslationVersion]:
    """The author's newest version of each unit still waiting for review."""
    versions = db.session.scalars(
        sa.select(TranslationVersion)
        .where(
            TranslationVersion.unit_id.in_([u.id for u in units]),
            TranslationVersion.locale == locale,
            TranslationVersion.author_id == author.id,
            TranslationVersion.status == "submitted",
        )
        .order_by(TranslationVersion.version)
    )
    return {version.unit_id: version for version in versions}


# --- shipped catalogs ---------------------------------------------------------------------


def load_published(essay: Essay, locale: str, po: polib.POFile) -> LoadReport:
    """Publish a shipped catalog's translations as approved versions, in one transaction."""
    report = LoadReport(locale=locale)
    grouped = group_by_unit(entries(po))
    with transaction():
        units = {
            u.key: u
            for u in db.session.scalars(
                sa.select(Unit).where(Unit.essay_id == essay.id, Unit.archived_at.is_(None))
            )
        }
        for key, fields in grouped.items():
            unit = units.get(key)
            body = fields.get("body")
            if unit is None or body is None or not body.msgstr or body.fuzzy:
                report.skipped.append(key)
                continue
            heading = fields.get("heading")
            revision = source_revision_for(
                unit, {name: item.msgid for name, item in fields.items()}
            )
            if revision is None or (unit.heading is not None and not (heading and heading.msgstr)):
                report.skipped.append(key)
                continue
            version = workflow.import_published(
                unit, locale, heading.msgstr if heading else None, body.msgstr, revision
            )
            (report.published if version else report.unchanged).append(key)
    return report


def shipped_catalogs(directory: Path, essay: Essay) -> list[tuple[str, Path]]:
    """Shipped content catalogs for an essay: ``<locale>/LC_MESSAGES/<slug>.po`` or ``essay.po``."""
    found = []
    for code in i18n.registry().offered:
        folder = directory / code.replace("-", "_") / "LC_MESSAGES"
        for name in (f"{essay.slug}.po", "essay.po"):
            path = folder / name
            if path.is_file():
                found.append((code, path))
                break
    return found
