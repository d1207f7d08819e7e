"""Gettext PO catalogs of essay content: exporting them, importing translators' work, and
loading the shipped translations.

A catalog has one entry per translatable field of every unit, in essay order: ``msgctxt`` is
``<unit key>.<field>``, ``msgid`` the current source text, ``msgstr`` the published
translation. An import turns each changed entry into a submission through the workflow's
own commands, so the quality checks and permission rules are those of the JSON API, and
runs in one transaction: one bad entry and nothing is stored.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polib
import sqlalchemy as sa
from babel import Locale, UnknownLocaleError
from babel.messages.plurals import get_plural
from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from api import i18n
from api.database import transaction
from api.errors import DomainError, Forbidden, MalformedLocaleError, NotFound, Unprocessable
from api.extensions import db
from api.models import Comment, Essay, SourceRevision, TranslationVersion, Unit, User
from api.services.content import get_essay
from api.services.delivery.reading import ESSAY_SCOPE, Stamps, read_stamps
from api.services.outbound import edge
from api.services.text import normalise_text
from api.services.translation import workflow
from api.services.translation.checks import BLOCKING, CheckResult

FIELDS = ("heading", "body")
ESSAY_HEADER = "X-Tarjuma-Essay"
PO_MIMETYPE = "text/x-gettext-translation"
POT_MIMETYPE = "text/x-gettext-translation-template"
DEFAULT_MAX_CATALOG_BYTES = 512 * 1024
# Part of every catalog ETag: a change in how catalogs are written makes old validators stale.
_FORMAT = "1"
_DATE_FORMAT = "%Y-%m-%d %H:%M+0000"
_WRAP = 78
_CHARSET = re.compile(rb'"Content-Type:[^"\n]*charset=([A-Za-z0-9_.:-]+)', re.IGNORECASE)
_POLIB_LINE = re.compile(r"\(line (\d+)\)")


class CatalogError(ValueError):
    """A catalog that cannot be used; ``line`` points at the problem when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class CatalogTooLarge(DomainError):
    status = 413
    slug = "catalog-too-large"
    title = _l("Request too large")


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


# --- export -------------------------------------------------------------------------------


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


def _plural_forms(code: str) -> str:
    try:
        return str(get_plural(code))
    except (UnknownLocaleError, ValueError):
        return "nplurals=2; plural=(n != 1);"


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


def _units(essay_id: int) -> list[Unit]:
    """The essay's units in reading order: the title, then the sections."""
    return list(
        db.session.scalars(
            sa.select(Unit)
            .where(Unit.essay_id == essay_id, Unit.archived_at.is_(None))
            .order_by(Unit.kind.desc(), Unit.position)
        )
    )


def _fields(unit: Unit) -> tuple[str, ...]:
    return FIELDS if unit.heading else ("body",)


def _published(units: list[Unit], locale: str) -> dict[int, TranslationVersion]:
    versions = db.session.scalars(
        sa.select(TranslationVersion).where(
            TranslationVersion.unit_id.in_([u.id for u in units]),
            TranslationVersion.locale == locale,
            TranslationVersion.status == "approved",
        )
    )
    return {version.unit_id: version for version in versions}


def _pending(units: list[Unit], locale: str, author: User) -> dict[int, TranslationVersion]:
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
    units = _units(stamps.essay_id)
    published = _published(units, locale) if locale else {}
    pending = _pending(units, locale, pending_of) if locale and pending_of else {}
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
        for name in _fields(unit):
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


# --- import -------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an upload did: versions created, units unchanged or skipped, and why."""

    created: int = 0
    unchanged: int = 0
    skipped: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    translations: list[int] = field(default_factory=list)


@dataclass
class _Plan:
    """One unit's part of an upload: a submission to make, or why there is none."""

    submission: workflow.Submission | None = None
    lines: dict[str, int | None] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    skipped: bool = False

    def skip(self, key: str, name: str | None, code: str, message: str, line: int | None) -> None:
        self.skipped = True
        self.warnings.append(_warning(key, name, code, message, line))


def _file_problem(error: CatalogError) -> Unprocessable:
    message = str(error)
    shown = gettext("line %(line)s: %(message)s", line=error.line, message=message)
    return Unprocessable(
        message if error.line is None else shown,
        errors={"file": [message if error.line is None else shown]},
        line=error.line,
    )


def _read(data: bytes) -> polib.POFile:
    try:
        return parse_catalog(decode_catalog(data))
    except CatalogError as error:
        raise _file_problem(error) from None


def _check_header(po: polib.POFile, slug: str, locale: str) -> None:
    raw = (po.metadata.get("Language") or "").strip()
    try:
        language = i18n.normalise_tag(raw) if raw else None
    except i18n.MalformedLocale:
        language = None
    if language != locale:
        message = (
            gettext("The catalog has no Language header; it must say %(code)s.", code=locale)
            if not raw
            else gettext(
                "The catalog is in %(found)s, not in %(code)s.",
                found=raw,
                code=gettext_code(locale),
            )
        )
        raise Unprocessable(message, errors={"Language": [message]}, language=raw or None)
    essay = (po.metadata.get(ESSAY_HEADER) or "").strip()
    if essay and essay != slug:
        message = gettext("The catalog belongs to the essay %(other)s.", other=essay)
        raise Unprocessable(message, errors={ESSAY_HEADER: [message]})


def _grouped(po: polib.POFile, units: dict[str, Unit]) -> dict[str, dict[str, CatalogEntry]]:
    """The entries by unit and field; 422 for unknown or repeated contexts, naming the lines."""
    try:
        items = entries(po)
    except CatalogError as error:
        raise Unprocessable(str(error), errors={"file": [str(error)]}, line=error.line) from None
    grouped: dict[str, dict[str, CatalogEntry]] = defaultdict(dict)
    problems: list[tuple[int | None, str, str]] = []
    for item in items:
        context = f"{item.key}.{item.field}"
        unit = units.get(item.key)
        if unit is None or item.field not in _fields(unit):
            problems.append(
                (
                    item.line,
                    context,
                    gettext(
                        "Unknown context %(context)s on line %(line)s.",
                        context=context,
                        line=item.line,
                    ),
                )
            )
        elif item.field in grouped[item.key]:
            problems.append(
                (
                    item.line,
                    context,
                    gettext(
                        "Context %(context)s appears again on line %(line)s.",
                        context=context,
                        line=item.line,
                    ),
                )
            )
        else:
            grouped[item.key][item.field] = item
    if problems:
        line, context, message = problems[0]
        raise Unprocessable(
            message, errors={"file": [p[2] for p in problems]}, line=line, context=context
        )
    return grouped


def _warning(
    key: str, name: str | None, code: str, message: str, line: int | None
) -> dict[str, Any]:
    return {"key": key, "field": name, "code": code, "message": message, "line": line}


def _plan(
    unit: Unit,
    fields: dict[str, CatalogEntry],
    locale: str,
    published: TranslationVersion | None,
    pending: TranslationVersion | None = None,
) -> _Plan:
    """Decide what one unit's entries ask for: a submission, nothing, or a skip and why.

    A fuzzy entry holding the uploader's ``pending`` text (as a ``?pending=true`` export
    writes it) is that text kept, not a translation left out.
    """
    plan = _Plan(lines={name: item.line for name, item in fields.items()})
    given: dict[str, CatalogEntry] = {}
    kept_pending: dict[str, CatalogEntry] = {}
    for name, item in fields.items():
        if item.fuzzy and item.msgstr and _holds(pending, name, item):
            kept_pending[name] = item
        elif item.fuzzy and item.msgstr:
            plan.skip(
                unit.key,
                name,
                "fuzzy",
                gettext(
                    "%(context)s on line %(line)s is marked fuzzy and was left out.",
                    context=f"{unit.key}.{name}",
                    line=item.line,
                ),
                item.line,
            )
        elif item.msgstr and not item.fuzzy:
            given[name] = item
    if not given:
        return plan
    given = kept_pending | given
    first = next(iter(given.values()))
    texts = {name: normalise_text(item.msgstr) for name, item in given.items()}
    msgids = {name: item.msgid for name, item in given.items()}
    missing = [name for name in _fields(unit) if name not in given]
    if missing:
        kept = {name: (getattr(published, name) if published else None) or "" for name in missing}
        if published is None or not all(kept.values()):
            name = next(n for n in missing if not kept[n])
            plan.skip(
                unit.key,
                name,
                "missing_field",
                gettext(
                    "%(key)s has no %(field)s translation in the catalog and none is"
                    " published; the unit was skipped.",
                    key=unit.key,
                    field=name,
                ),
                first.line,
            )
            return plan
        kept_from = workflow.source_text(unit.id, published.source_revision)
        for name in missing:
            texts[name] = kept[name]
            msgids[name] = getattr(kept_from, name) or ""
    revision = source_revision_for(unit, msgids)
    if revision is None:
        _skip_unknown_source(plan, unit, given)
        return plan
    heading = texts.get("heading") if unit.heading else None
    if published is not None and not _changes(unit, published, heading, texts["body"], revision):
        return plan
    notes = "\n".join(item.comment for item in given.values() if item.comment).strip()
    plan.submission = workflow.Submission(
        locale, heading, texts["body"], revision, notes[:5000] or None
    )
    if revision < unit.source_revision:
        plan.warnings.append(
            _warning(
                unit.key,
                None,
                "outdated",
                gettext(
                    "%(key)s was translated from source revision %(old)s; the current one is"
                    " %(current)s, so the new version is outdated.",
                    key=unit.key,
                    old=revision,
                    current=unit.source_revision,
                ),
                first.line,
            )
        )
    return plan


def _holds(version: TranslationVersion | None, name: str, item: CatalogEntry) -> bool:
    """Whether the entry's translation is ``version``'s text of that field."""
    return version is not None and normalise_text(item.msgstr) == getattr(version, name)


def _changes(
    unit: Unit, published: TranslationVersion, heading: str | None, body: str, revision: int
) -> bool:
    """New text, or the published text confirmed against a newer source than it was made from."""
    if (heading, body) != (published.heading if unit.heading else None, published.body):
        return True
    if revision <= published.source_revision:
        return False
    return workflow.source_text(unit.id, revision).content_hash != published.source_hash


def _known_source(unit: Unit, item: CatalogEntry) -> bool:
    return source_revision_for(unit, {item.field: item.msgid}) is not None


def _skip_unknown_source(plan: _Plan, unit: Unit, given: dict[str, CatalogEntry]) -> None:
    unknown = [item for item in given.values() if not _known_source(unit, item)]
    if unknown:
        item = unknown[0]
        plan.skip(
            unit.key,
            item.field,
            "unknown_source",
            gettext(
                "The msgid of %(context)s on line %(line)s is no source text of it, old or new;"
                " the unit was skipped.",
                context=f"{unit.key}.{item.field}",
                line=item.line,
            ),
            item.line,
        )
        return
    plan.skip(
        unit.key,
        None,
        "unknown_source",
        gettext(
            "The entries of %(key)s translate different source revisions; the unit was skipped.",
            key=unit.key,
        ),
        next(iter(given.values())).line,
    )


def _check_warnings(
    key: str, version: TranslationVersion, lines: dict[str, int | None]
) -> list[dict[str, Any]]:
    out = []
    for stored in version.checks or []:
        result = CheckResult.from_dict(stored)
        if result.severity != BLOCKING:
            line = lines.get(result.field or "body")
            warning = _warning(key, result.field, result.code, result.message, line)
            out.append(warning | {"translation": version.id})
    return out


def import_catalog(
    slug: str, raw_locale: str, data: bytes, actor: User, *, approve: bool = False
) -> ImportReport:
    """Submit the changed entries of a translator's catalog, all in one transaction.

    With ``approve`` a reviewer also publishes each new version, under the usual review
    rules (a deployment that forbids self-review refuses it: the uploader is the author).
    """
    essay = get_essay(slug)
    locale = catalog_locale(raw_locale, essay.source_locale)
    if not actor.is_active:
        raise Forbidden(gettext("This account is disabled."))
    workflow.ensure_may_work_in(actor, locale)
    if approve and not actor.may_review:
        raise Forbidden(gettext("Only reviewers and admins may review translations."))
    limit = current_app.config.get("MAX_CATALOG_BYTES", DEFAULT_MAX_CATALOG_BYTES)
    if len(data) > limit:
        raise CatalogTooLarge(
            gettext(
                "A catalog may have at most %(limit)s bytes; this one has %(size)s.",
                limit=limit,
                size=len(data),
            ),
            limit=limit,
        )
    po = _read(data)
    _check_header(po, slug, locale)
    ordered = _units(essay.id)
    grouped = _grouped(po, {unit.key: unit for unit in ordered})
    wanted = [unit.id for unit in ordered if unit.key in grouped]
    report = ImportReport()
    blocking: dict[str, list[str]] = {}
    failed: list[dict[str, Any]] = []
    with transaction():
        locked = {unit_id: workflow._lock_unit(unit_id) for unit_id in sorted(wanted)}
        current = _published(list(locked.values()), locale)
        pending = _pending(list(locked.values()), locale, actor)
        for unit_id in wanted:
            unit = locked[unit_id]
            plan = _plan(
                unit, grouped[unit.key], locale, current.get(unit_id), pending.get(unit_id)
            )
            report.warnings.extend(plan.warnings)
            if plan.submission is None:
                if plan.skipped:
                    report.skipped += 1
                else:
                    report.unchanged += 1
                continue
            if workflow.already_there(unit, plan.submission, actor) is not None:
                report.unchanged += 1
                continue
            try:
                version = workflow._create_version(unit, plan.submission, actor)
            except Unprocessable as error:
                for name, messages in (error.extensions.get("errors") or {}).items():
                    blocking.setdefault(f"{unit.key}.{name}", []).extend(messages)
                    failed.append({"key": unit.key, "field": name, "line": plan.lines.get(name)})
                continue
            if approve:
                workflow._reviewable(version.id, actor)
                workflow._publish(version, actor, None)
            report.created += 1
            report.translations.append(version.id)
            report.warnings.extend(_check_warnings(unit.key, version, plan.lines))
        if blocking:
            raise Unprocessable(
                gettext(
                    "The translation of %(key)s did not pass the quality checks.",
                    key=failed[0]["key"],
                ),
                errors=blocking,
                key=failed[0]["key"],
                line=failed[0]["line"],
                failed=failed,
            )
    return report
