"""Source content: importing essays and editing their source text."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext
from werkzeug.http import parse_etags

from api.database import lock_for_update, transaction
from api.errors import Forbidden, NotFound, PreconditionFailed, PreconditionRequired
from api.extensions import db
from api.models import Essay, SourceRevision, Unit, User, content_hash
from api.models.types import utcnow
from api.services import audit, publication
from api.services.markdown_essay import ParsedEssay, parse_essay
from api.services.text import normalise_text


@dataclass
class ImportReport:
    slug: str
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def touched(self) -> bool:
        return bool(self.created or self.changed)


def get_essay(slug: str) -> Essay:
    essay = db.session.scalar(sa.select(Essay).where(Essay.slug == slug))
    if essay is None:
        raise NotFound(gettext("There is no essay %(slug)s.", slug=slug))
    return essay


def get_unit(essay: Essay, key: str) -> Unit:
    unit = db.session.scalar(sa.select(Unit).where(Unit.essay_id == essay.id, Unit.key == key))
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


def import_parsed(parsed: ParsedEssay, slug: str, source_locale: str) -> ImportReport:
    report = ImportReport(slug=slug)
    with transaction() as session:
        essay = session.scalar(lock_for_update(sa.select(Essay).where(Essay.slug == slug)))
        if essay is None:
            essay = Essay(slug=slug, source_locale=source_locale, revision=1)
            session.add(essay)
            session.flush()
        existing = {unit.key: unit for unit in essay.units}
        positions = {"title": 0, "section": 0}
        for parsed_unit in parsed.units:
            position = positions[parsed_unit.kind]
            positions[parsed_unit.kind] += 1
            unit = existing.pop(parsed_unit.key, None)
            new_hash = content_hash(parsed_unit.heading, parsed_unit.body)
            if unit is None:
                unit = Unit(
                    key=parsed_unit.key,
                    kind=parsed_unit.kind,
                    position=position,
                    source_revision=1,
                )
                essay.units.append(unit)
                _new_revision(unit, parsed_unit.heading, parsed_unit.body, None)
                session.flush()
                report.created.append(unit.key)
                action, before = "source.created", None
            elif unit.source_hash != new_hash:
                before = {
                    "revision": unit.source_revision,
                    "heading": unit.heading,
                    "body": unit.body,
                }
                unit.source_revision += 1
                _new_revision(unit, parsed_unit.heading, parsed_unit.body, None)
                report.changed.append(unit.key)
                action = "source.edited"
            else:
                report.unchanged.append(unit.key)
                unit.position = position
                continue
            unit.position = position
            session.flush()
            publication.bump(essay.id, essay.source_locale, unit.key)
            audit.record(
                action,
                actor=None,
                essay=essay,
                unit=unit,
                locale=essay.source_locale,
                before=before,
                after={
                    "revision": unit.source_revision,
                    "heading": unit.heading,
                    "body": unit.body,
                    "origin": "import",
                },
            )
        report.missing = sorted(existing)
    return report


def source_etag(slug: str, key: str, source_locale: str) -> str:
    """The ETag of a section read in the source locale: it changes only with the source."""
    from api.i18n import Negotiated
    from api.services.reading import etag_for, read_stamps

    negotiated = Negotiated(requested=source_locale, locale=source_locale)
    return etag_for(read_stamps(slug, key, (source_locale,)), key, negotiated)


def edit_source(
    slug: str, key: str, heading: str | None, body: str, *, actor: User, if_match: str | None
) -> Unit:
    """An admin's edit of a unit's source text: a new source revision, the old one kept."""
    from api.services.checks import CheckInput, run_checks

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
        current = source_etag(slug, key, essay.source_locale)
        matches = parse_etags(if_match)
        if not (matches.star_tag or matches.contains(current.strip('"'))):
            raise PreconditionFailed(
                gettext("The source changed since you read it. Fetch it again and retry.")
            )
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
                )
            )
            if r.severity == "error"
            and r.code
            in {"empty", "control", "markup", "too_long", "heading_missing", "heading_extra"}
        ]
        from api.services.workflow import refuse_blocking

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
