"""Source content: importing essays and editing their source text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from werkzeug.http import parse_etags

from api import i18n
from api.database import lock_for_update, transaction
from api.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Unprocessable,
)
from api.extensions import db
from api.i18n import Negotiated
from api.models import Essay, SourceRevision, Unit, User, content_hash
from api.models.types import utcnow
from api.services import audit, publication
from api.services.delivery.reading import ESSAY_SCOPE, etag_for, read_stamps
from api.services.markdown_essay import (
    EssayFormatError,
    ParsedEssay,
    ParsedUnit,
    parse_essay,
    slugify,
)
from api.services.text import REFUSED_ON_INPUT, normalise_text
from api.services.translation.checks import CheckInput, refuse_blocking, run_checks

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,199}")


@dataclass
class ImportReport:
    slug: str
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)

    @property
    def touched(self) -> bool:
        return bool(self.created or self.changed or self.archived)


def get_essay(slug: str) -> Essay:
    essay = db.session.scalar(
        sa.select(Essay).where(Essay.slug == slug, Essay.archived_at.is_(None))
    )
    if essay is None:
        raise NotFound(gettext("There is no essay %(slug)s.", slug=slug))
    return essay


def offered_locale(raw: str) -> str:
    """An offered locale code, exactly as offered, or 404."""
    try:
        code = i18n.normalise_tag(raw)
    except i18n.MalformedLocale:
        code = None
    if code is None or code not in i18n.registry().offered:
        raise NotFound(gettext("Locale %(code)s is not offered.", code=raw))
    return code


def get_unit(essay: Essay, key: str) -> Unit:
    unit = db.session.scalar(
        sa.select(Unit).where(
            Unit.essay_id == essay.id, Unit.key == key, Unit.archived_at.is_(None)
        )
    )
    if unit is None:
        raise NotFound(gettext("This essay has no section %(key)s.", key=key))
    return unit


def _new_revision(unit: Unit, heading: str | None, body: str, author: User | None) -> None:
    unit.heading, unit.body = heading, body
    unit.source_hash = content_hash(heading, body)
    unit.source_changed_at = utcnow()
    unit.revisions.append(
        SourceRevision(
            revision=unit.source_revision,
            heading=heading,
            body=body,
            content_hash=unit.source_hash,
            author_id=author.id if author else None,
        )
    )


def import_markdown(path: Path, slug: str | None = None, source_locale: str = "en") -> ImportReport:
    """Import (or re-import) a Markdown essay; only changed units get a new source revision."""
    parsed = parse_essay(path.read_text(encoding="utf-8"))
    return import_parsed(parsed, slug or path.stem, source_locale)


def _new_essay(
    slug: str,
    source_locale: str,
    *,
    actor: User | None,
    after: dict[str, Any],
    locale: str | None = None,
) -> Essay:
    """A new essay, with its ``essay.created`` event (inside the caller's transaction)."""
    essay = Essay(slug=slug, source_locale=source_locale, revision=1)
    db.session.add(essay)
    db.session.flush()
    audit.record("essay.created", actor=actor, essay=essay, locale=locale, after=after)
    return essay


def import_parsed(parsed: ParsedEssay, slug: str, source_locale: str) -> ImportReport:
    """Import parsed Markdown; units the file no longer has are kept as they are."""
    with transaction() as session:
        essay = session.scalar(lock_for_update(sa.select(Essay).where(Essay.slug == slug)))
        if essay is None:
            essay = _new_essay(
                slug,
                source_locale,
                actor=None,
                after={"slug": slug, "source_locale": source_locale, "origin": "import"},
            )
        return _import_units(essay, parsed, actor=None, origin="import", archive_missing=False)


def _import_units(
    essay: Essay, parsed: ParsedEssay, *, actor: User | None, origin: str, archive_missing: bool
) -> ImportReport:
    """Bring the essay's units in line with ``parsed`` (inside the caller's transaction).

    Only units whose text changed get a new source revision; with ``archive_missing``,
    units the Markdown no longer has are archived (their translations are kept, not
    served) and come back if a later import has them again.
    """
    report = ImportReport(slug=essay.slug)
    existing = {unit.key: unit for unit in essay.units}
    positions = {"title": 0, "section": 0}
    for parsed_unit in parsed.units:
        position = positions[parsed_unit.kind]
        positions[parsed_unit.kind] += 1
        unit = existing.pop(parsed_unit.key, None)
        _import_unit(essay, parsed_unit, unit, position, report, actor=actor, origin=origin)
    gone = sorted(key for key, unit in existing.items() if unit.archived_at is None)
    if archive_missing:
        _archive_units(essay, [existing[key] for key in gone], report, actor=actor, origin=origin)
    else:
        report.missing = gone
    return report


def _import_unit(
    essay: Essay,
    parsed_unit: ParsedUnit,
    unit: Unit | None,
    position: int,
    report: ImportReport,
    *,
    actor: User | None,
    origin: str,
) -> None:
    """One unit of an import: created, edited, restored from the archive, or left as it is."""
    before: dict[str, Any] | None = None
    if unit is None:
        unit = Unit(
            key=parsed_unit.key,
            kind=parsed_unit.kind,
            position=position,
            source_revision=1,
        )
        essay.units.append(unit)
        _new_revision(unit, parsed_unit.heading, parsed_unit.body, actor)
        db.session.flush()
        report.created.append(unit.key)
        action = "source.created"
    elif unit.source_hash != content_hash(parsed_unit.heading, parsed_unit.body):
        before = {
            "revision": unit.source_revision,
            "heading": unit.heading,
            "body": unit.body,
        }
        unit.source_revision += 1
        _new_revision(unit, parsed_unit.heading, parsed_unit.body, actor)
        report.changed.append(unit.key)
        action = "source.edited"
    elif unit.archived_at is not None:
        before = {"archived": True}
        report.changed.append(unit.key)
        action = "source.restored"
    else:
        report.unchanged.append(unit.key)
        unit.position = position
        return
    unit.position = position
    unit.archived_at = None
    db.session.flush()
    publication.bump(essay.id, essay.source_locale, unit.key)
    audit.record(
        action,
        actor=actor,
        essay=essay,
        unit=unit,
        locale=essay.source_locale,
        before=before,
        after={
            "revision": unit.source_revision,
            "heading": unit.heading,
            "body": unit.body,
            "origin": origin,
        },
    )


def _archive_units(
    essay: Essay, units: list[Unit], report: ImportReport, *, actor: User | None, origin: str
) -> None:
    """Archive the units an import no longer has."""
    now = utcnow()
    for unit in units:
        unit.archived_at = now
        db.session.flush()
        publication.bump(essay.id, essay.source_locale, unit.key)
        audit.record(
            "source.archived",
            actor=actor,
            essay=essay,
            unit=unit,
            locale=essay.source_locale,
            before={"revision": unit.source_revision},
            after={"archived": True, "origin": origin},
        )
        report.archived.append(unit.key)


# --- authoring over HTTP --------------------------------------------------------------------


# What the ``control`` check refuses in a translation is refused in a source too.
_REFUSED_CHARACTER = re.compile(f"[{REFUSED_ON_INPUT}]")


def _refuse(message: str, line: int | None = None, field_name: str = "body") -> Unprocessable:
    return Unprocessable(message, errors={field_name: [message]}, line=line)


def parse_upload(data: bytes) -> ParsedEssay:
    """Markdown sent by an admin, parsed and repaired as the shipped import does, or 422."""
    limit = current_app.config["MAX_ESSAY_BYTES"]
    if len(data) > limit:
        raise _refuse(
            gettext(
                "The essay is %(size)s bytes long; the limit is %(limit)s bytes.",
                size=len(data),
                limit=limit,
            )
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _refuse(gettext("Line %(line)s is not valid UTF-8 text.", line=line), line) from None
    if found := _REFUSED_CHARACTER.search(text):
        line = text.count("\n", 0, found.start()) + 1
        raise _refuse(
            gettext(
                "Line %(line)s contains the control character %(character)s; tabs and line"
                " breaks are the only ones allowed.",
                line=line,
                character=f"U+{ord(found.group()):04X}",
            ),
            line,
        )
    try:
        parsed = parse_essay(text)
    except EssayFormatError as error:
        if error.problem == "two_titles":
            message = gettext(
                "Line %(line)s is a second title (a line starting with “# ”); an essay has"
                " one title. Use “## ” for a section heading.",
                line=error.line,
            )
        else:
            message = gettext(
                "The essay has no title: its first heading must be a line starting with “# ”."
            )
        raise _refuse(message, error.line) from None
    sections = [unit for unit in parsed.units if unit.kind == "section"]
    most = current_app.config["MAX_ESSAY_SECTIONS"]
    if len(sections) > most:
        line = sections[most].line
        raise _refuse(
            gettext(
                "Line %(line)s opens section %(number)s; an essay has at most %(limit)s sections.",
                line=line,
                number=most + 1,
                limit=most,
            ),
            line,
        )
    longest = current_app.config["MAX_TRANSLATION_LENGTH"]
    for unit in parsed.units:
        if len(unit.body) > longest:
            raise _refuse(
                gettext(
                    "The section on line %(line)s is %(length)s characters long; the limit is"
                    " %(limit)s.",
                    line=unit.line,
                    length=len(unit.body),
                    limit=longest,
                ),
                unit.line,
            )
    return parsed


def _ensure_admin(actor: User) -> None:
    if actor.role != "admin":
        raise Forbidden(gettext("Only admins may create, edit or archive essays."))


def create_essay(data: bytes, slug: str | None, actor: User) -> Essay:
    """A new essay from Markdown; its slug is ``slug`` or made from the title."""
    _ensure_admin(actor)
    parsed = parse_upload(data)
    slug = slug if slug is not None else slugify(parsed.title)[:200].strip("-")
    if not _SLUG.fullmatch(slug):
        raise _refuse(
            gettext(
                "A slug is 1 to 200 ASCII letters, digits, dots, hyphens or underscores,"
                " starting with a letter or digit."
            ),
            field_name="slug",
        )
    source_locale = current_app.config["SOURCE_LOCALE"]
    with transaction() as session:
        if session.scalar(sa.select(Essay.id).where(Essay.slug == slug)) is not None:
            raise Conflict(gettext("An essay with the slug %(slug)s already exists.", slug=slug))
        essay = _new_essay(
            slug,
            source_locale,
            actor=actor,
            locale=source_locale,
            after={"slug": slug, "title": parsed.title, "units": [u.key for u in parsed.units]},
        )
        _import_units(essay, parsed, actor=actor, origin="api", archive_missing=False)
    return essay


def _source_etags(slug: str, scope: str, source_locale: str) -> list[str]:
    """The ETags of a read in the source locale, asked for by ``?locale`` or by default.

    They change only with the source.
    """
    stamps = read_stamps(slug, scope, (source_locale,))
    return [
        etag_for(stamps, scope, Negotiated(requested=requested, locale=source_locale))
        for requested in (source_locale, None)
    ]


def essay_source_etags(slug: str, source_locale: str) -> list[str]:
    """The ETags of the essay read in its source locale."""
    return _source_etags(slug, ESSAY_SCOPE, source_locale)


def _check_if_match(if_match: str | None, current: list[str]) -> None:
    matches = parse_etags(if_match)
    if not (matches.star_tag or any(matches.contains(etag.strip('"')) for etag in current)):
        raise PreconditionFailed(
            gettext("The source changed since you read it. Fetch it again and retry.")
        )


def reimport_essay(slug: str, data: bytes, *, actor: User, if_match: str | None) -> ImportReport:
    """Replace an essay's source with new Markdown: only changed units get new revisions."""
    _ensure_admin(actor)
    if not if_match:
        raise PreconditionRequired(
            gettext("Send If-Match with the ETag of the essay in its source locale.")
        )
    parsed = parse_upload(data)
    with transaction() as session:
        essay = session.scalar(
            lock_for_update(sa.select(Essay).where(Essay.slug == slug, Essay.archived_at.is_(None)))
        )
        if essay is None:
            raise NotFound(gettext("There is no essay %(slug)s.", slug=slug))
        _check_if_match(if_match, essay_source_etags(slug, essay.source_locale))
        return _import_units(essay, parsed, actor=actor, origin="api", archive_missing=True)


def archive_essay(slug: str, actor: User) -> None:
    """Archive an essay: readers get 404, everything about it is kept."""
    _ensure_admin(actor)
    with transaction() as session:
        essay = session.scalar(
            lock_for_update(sa.select(Essay).where(Essay.slug == slug, Essay.archived_at.is_(None)))
        )
        if essay is None:
            raise NotFound(gettext("There is no essay %(slug)s.", slug=slug))
        essay.archived_at = utcnow()
        session.flush()
        publication.touch(essay.id)
        audit.record(
            "essay.archived",
            actor=actor,
            essay=essay,
            locale=essay.source_locale,
            before={"archived": False},
            after={"archived": True},
        )


def source_etags(slug: str, key: str, source_locale: str) -> list[str]:
    """The ETags of a section read in the source locale."""
    return _source_etags(slug, key, source_locale)


def edit_source(
    slug: str, key: str, heading: str | None, body: str, *, actor: User, if_match: str | None
) -> Unit:
    """An admin's edit of a unit's source text: a new source revision, the old one kept."""
    if actor.role != "admin":
        raise Forbidden(gettext("Only admins may edit the source text."))
    heading = normalise_text(heading) if heading is not None else None
    body = normalise_text(body)
    if not if_match:
        raise PreconditionRequired(
            gettext("Send If-Match with the ETag of the section in the source locale.")
        )
    with transaction() as session:
        essay = get_essay(slug)
        unit = session.scalar(
            lock_for_update(sa.select(Unit).where(Unit.essay_id == essay.id, Unit.key == key))
        )
        if unit is None:
            raise NotFound(gettext("This essay has no section %(key)s.", key=key))
        _check_if_match(if_match, source_etags(slug, key, essay.source_locale))
        results = [
            r
            for r in run_checks(
                CheckInput(
                    locale=essay.source_locale,
                    source_locale=essay.source_locale,
                    source_heading=unit.heading,
                    source_body=unit.body,
                    heading=heading,
                    body=body,
                    max_length=current_app.config["MAX_TRANSLATION_LENGTH"],
                )
            )
            if r.severity == "error"
            and r.code
            in {"empty", "control", "markup", "too_long", "heading_missing", "heading_extra"}
        ]
        refuse_blocking(results)
        if content_hash(heading, body) == unit.source_hash:
            return unit
        before = {"revision": unit.source_revision, "heading": unit.heading, "body": unit.body}
        unit.source_revision += 1
        _new_revision(unit, heading, body, actor)
        session.flush()
        publication.bump(essay.id, essay.source_locale, unit.key)
        audit.record(
            "source.edited",
            actor=actor,
            essay=essay,
            unit=unit,
            locale=essay.source_locale,
            before=before,
            after={"revision": unit.source_revision, "heading": heading, "body": body},
        )
    return unit
