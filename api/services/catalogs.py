"""Gettext PO catalogs of essay content: reading them, and loading shipped translations."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polib
import sqlalchemy as sa

from api import i18n
from api.database import transaction
from api.extensions import db
from api.models import Essay, SourceRevision, Unit
from api.services import workflow

FIELDS = ("heading", "body")
ESSAY_HEADER = "X-Tarjuma-Essay"


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


@dataclass
class LoadReport:
    locale: str
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def parse_catalog(text: str) -> polib.POFile:
    try:
        return polib.pofile(text, check_for_duplicates=True)
    except (OSError, ValueError) as error:
        line = None
        for token in str(error).replace(",", " ").split():
            if token.isdigit():
                line = int(token)
        raise CatalogError(str(error), line) from None


def entries(po: polib.POFile) -> list[CatalogEntry]:
    """The content entries of a catalog: ``msgctxt`` is ``<unit key>.<field>``."""
    out = []
    for entry in po:
        if entry.obsolete:
            continue
        key, dot, name = (entry.msgctxt or "").rpartition(".")
        if not dot or not key or name not in FIELDS:
            raise CatalogError(f"Unknown context {entry.msgctxt!r}", entry.linenum)
        out.append(
            CatalogEntry(
                key, name, entry.msgid, entry.msgstr, "fuzzy" in entry.flags, entry.linenum
            )
        )
    return out


def source_revision_for(unit: Unit, texts: dict[str, str]) -> int | None:
    """The newest source revision whose text matches the catalog's msgids, if any."""
    if texts.get("heading", unit.heading) == unit.heading and texts.get("body") == unit.body:
        return unit.source_revision
    revisions = db.session.scalars(
        sa.select(SourceRevision)
        .where(SourceRevision.unit_id == unit.id)
        .order_by(SourceRevision.revision.desc())
    )
    for revision in revisions:
        if (
            texts.get("heading", revision.heading) == revision.heading
            and texts.get("body") == revision.body
        ):
            return revision.revision
    return None


def group_by_unit(items: list[CatalogEntry]) -> dict[str, dict[str, CatalogEntry]]:
    grouped: dict[str, dict[str, CatalogEntry]] = defaultdict(dict)
    for item in items:
        grouped[item.key][item.field] = item
    return grouped


def load_published(essay: Essay, locale: str, po: polib.POFile) -> LoadReport:
    """Publish a shipped catalog's translations as approved versions, in one transaction."""
    report = LoadReport(locale=locale)
    grouped = group_by_unit(entries(po))
    with transaction():
        units = {
            u.key: u for u in db.session.scalars(sa.select(Unit).where(Unit.essay_id == essay.id))
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
