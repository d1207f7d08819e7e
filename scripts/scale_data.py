"""Grow a seeded Tarjuma database to benchmark size: 50 locales, 100 essays, 3 versions each.

Run against a database that ``flask db upgrade`` and ``flask seed`` have prepared::

    DATABASE_URL=postgresql://postgres@127.0.0.1/tarjuma_bench python scripts/scale_data.py

The shipped essay keeps what readers get in its shipped locales (so the same requests can
be compared on both data sets): there it only gains rejected, withdrawn and submitted
versions. Every other essay, unit and locale gets a superseded, an approved and a submitted
version, with the publication stamps and events the workflow would have written. Rows go
in with bulk inserts, in one transaction. Serve the result with ``TARJUMA_LOCALES`` set to
``",".join(LOCALES)`` so that all 50 locales are offered.

``--locales shipped`` keeps to the 8 shipped locales (``SHIPPED_LOCALES``), or name them
(``--locales ar,fr``), for a data set the shipped app serves as it is. ``--translated``
gives every copy's approved versions the text the shipped essay publishes in that locale,
where it has one, instead of the source marked with the locale, so that a copy reads (and
is searched) like the shipped essay.
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import create_app  # noqa: E402
from api.extensions import db  # noqa: E402
from api.models import (  # noqa: E402
    Essay,
    EssayLocale,
    Event,
    PublicationStamp,
    SourceRevision,
    TranslationVersion,
    Unit,
    User,
)

SHIPPED_SLUG = "championing-islamic-nations-security"
SHIPPED_LOCALES = ["en", "ar", "fa", "fr", "id", "ms", "tr", "ur"]
EXTRA_LOCALES = (
    "de es it pt nl sv da nb fi pl cs sk hu ro bg el ru uk he hi bn pa gu ta te ml kn mr"
    " th vi zh ja ko sw ha so am ps az uz kk ka"
).split()
LOCALES = SHIPPED_LOCALES + EXTRA_LOCALES
BATCH = 5000


@dataclass(frozen=True)
class Scale:
    essays: int = 100
    versions: int = 3
    locales: Sequence[str] = tuple(LOCALES)
    translated: bool = False  # copies approve the shipped essay's published text


@dataclass
class Counts:
    essays: int = 0
    units: int = 0
    versions: int = 0
    stamps: int = 0
    events: int = 0


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, BATCH)):
        yield batch


def _insert(table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    for batch in _batches(rows):
        db.session.execute(sa.insert(table), batch)
        count += len(batch)
    return count


def _user(name: str, role: str) -> int:
    found = db.session.scalar(sa.select(User.id).where(User.name == name))
    if found is not None:
        return found
    return db.session.execute(
        sa.insert(User).values(name=name, role=role, is_active=True).returning(User.id)
    ).scalar_one()


def _copy_essays(template: Essay, units: list[Unit], count: int, now: datetime) -> list[int]:
    """Essays ``scaled-essay-001`` and on, each with the template's units and source text."""
    slugs = [f"scaled-essay-{n:03d}" for n in range(1, count)]
    existing = set(db.session.scalars(sa.select(Essay.slug).where(Essay.slug.in_(slugs))))
    if existing:
        raise SystemExit(f"The database is already scaled ({len(existing)} scaled essays).")
    essay_ids = list(
        db.session.scalars(
            sa.insert(Essay).returning(Essay.id, sort_by_parameter_order=True),
            [
                {"slug": slug, "source_locale": template.source_locale, "revision": 1}
                | {"created_at": now, "updated_at": now}
                for slug in slugs
            ],
        )
    )
    unit_rows = [
        {
            "essay_id": essay_id,
            "key": unit.key,
            "kind": unit.kind,
            "position": unit.position,
            "heading": unit.heading,
            "body": unit.body,
            "source_revision": 1,
            "source_hash": unit.source_hash,
            "source_changed_at": now,
        }
        for essay_id in essay_ids
        for unit in units
    ]
    _insert(Unit.__table__, unit_rows)
    new_units = db.session.execute(
        sa.select(Unit.id, Unit.heading, Unit.body, Unit.source_hash).where(
            Unit.essay_id.in_(essay_ids)
        )
    ).all()
    _insert(
        SourceRevision.__table__,
        (
            {
                "unit_id": unit.id,
                "revision": 1,
                "heading": unit.heading,
                "body": unit.body,
                "content_hash": unit.source_hash,
                "created_at": now,
            }
            for unit in new_units
        ),
    )
    return essay_ids


def _statuses(shipped: bool, has_published: bool, versions: int) -> list[str]:
    """The statuses of a unit's versions in one locale, oldest first."""
    if shipped:
        tail = ["rejected", "withdrawn", "submitted"]
        return tail[-(versions - 1) :] if has_published else tail[-versions:]
    return (["superseded"] * (versions - 2) + ["approved", "submitted"])[-versions:]


def scale(scale: Scale) -> Counts:
    """Add the scaled essays, versions, stamps and events in one transaction."""
    counts = Counts()
    now = datetime.now(UTC).replace(microsecond=0)
    template = db.session.scalar(sa.select(Essay).where(Essay.slug == SHIPPED_SLUG))
    if template is None:
        raise SystemExit(f"Seed the database first: there is no essay {SHIPPED_SLUG}.")
    units = list(
        db.session.scalars(
            sa.select(Unit).where(Unit.essay_id == template.id).order_by(Unit.kind, Unit.position)
        )
    )
    translator = _user("scale-translator", "translator")
    reviewer = _user("scale-reviewer", "reviewer")
    essay_ids = _copy_essays(template, units, scale.essays, now)
    counts.essays = len(essay_ids)

    latest = {
        (row.unit_id, row.locale): row.latest
        for row in db.session.execute(
            sa.select(
                TranslationVersion.unit_id,
                TranslationVersion.locale,
                sa.func.max(TranslationVersion.version).label("latest"),
            )
            .where(TranslationVersion.unit_id.in_([u.id for u in units]))
            .group_by(TranslationVersion.unit_id, TranslationVersion.locale)
        )
    }
    all_units = db.session.execute(
        sa.select(
            Unit.id, Unit.essay_id, Unit.key, Unit.heading, Unit.body, Unit.source_hash
        ).where(Unit.essay_id.in_([template.id, *essay_ids]))
    ).all()
    counts.units = len(all_units)
    revisions = {
        row.id: row.revision
        for row in db.session.execute(
            sa.select(Essay.id, Essay.revision).where(Essay.id.in_([template.id, *essay_ids]))
        )
    }
    targets = [code for code in scale.locales if code != template.source_locale]
    published = _published(units, targets) if scale.translated else {}

    versions: list[dict[str, Any]] = []
    stamps: dict[tuple[int, str, str], int] = {}
    for unit in all_units:
        shipped = unit.essay_id == template.id
        if not shipped:
            revisions[unit.essay_id] += 1
            for scope in ("", unit.key):
                stamps[(unit.essay_id, scope, template.source_locale)] = revisions[unit.essay_id]
        for code in targets:
            keep = shipped and code in SHIPPED_LOCALES
            first = latest.get((unit.id, code), 0) + 1 if keep else 1
            statuses = _statuses(keep, first > 1, scale.versions)
            text = published.get((unit.key, code))
            for offset, status in enumerate(statuses):
                created = now - timedelta(minutes=len(statuses) - offset, seconds=unit.id % 60)
                approved = created if status in ("approved", "superseded") else None
                heading = f"{unit.heading} ({code})" if unit.heading else None
                body = f"[{code}] {unit.body}"
                if status == "approved" and text is not None:
                    heading, body = text
                versions.append(
                    {
                        "unit_id": unit.id,
                        "locale": code,
                        "version": first + offset,
                        "heading": heading,
                        "body": body,
                        "status": status,
                        "source_revision": 1,
                        "source_hash": unit.source_hash,
                        "author_id": translator,
                        "reviewer_id": reviewer if status != "submitted" else None,
                        "checks": [],
                        "created_at": created,
                        "updated_at": created,
                        "reviewed_at": approved,
                        "approved_at": approved,
                    }
                )
                if status == "approved":
                    revisions[unit.essay_id] += 1
                    for scope in ("", unit.key):
                        stamps[(unit.essay_id, scope, code)] = revisions[unit.essay_id]
    counts.versions = _insert(TranslationVersion.__table__, versions)
    counts.stamps = _insert(
        PublicationStamp.__table__,
        (
            {"essay_id": essay_id, "scope": scope, "locale": code, "stamp": stamp}
            for (essay_id, scope, code), stamp in stamps.items()
        ),
    )
    for essay_id, revision in revisions.items():
        db.session.execute(sa.update(Essay).where(Essay.id == essay_id).values(revision=revision))

    essay_of = {unit.id: unit.essay_id for unit in all_units}
    inserted = db.session.execute(
        sa.select(
            TranslationVersion.id,
            TranslationVersion.unit_id,
            TranslationVersion.locale,
            TranslationVersion.status,
            TranslationVersion.created_at,
        ).where(TranslationVersion.author_id == translator)
    ).all()
    counts.events = _insert(Event.__table__, _events(inserted, essay_of, translator, reviewer))
    return counts


def _published(units: list[Unit], locales: list[str]) -> dict[tuple[str, str], tuple[Any, str]]:
    """The heading and body the shipped essay publishes, by unit key and locale (approved,
    in a locale that is not staged)."""
    if not units:
        return {}
    staged = sa.select(EssayLocale.locale).where(
        EssayLocale.essay_id == units[0].essay_id, EssayLocale.state == "staged"
    )
    key_of = {unit.id: unit.key for unit in units}
    rows = db.session.execute(
        sa.select(
            TranslationVersion.unit_id,
            TranslationVersion.locale,
            TranslationVersion.heading,
            TranslationVersion.body,
        ).where(
            TranslationVersion.unit_id.in_(key_of),
            TranslationVersion.status == "approved",
            TranslationVersion.locale.in_(locales),
            TranslationVersion.locale.not_in(staged),
        )
    )
    return {(key_of[row.unit_id], row.locale): (row.heading, row.body) for row in rows}


def _locales(text: str) -> list[str]:
    if text == "all":
        return list(LOCALES)
    if text == "shipped":
        return list(SHIPPED_LOCALES)
    chosen = [code.strip() for code in text.split(",") if code.strip()]
    unknown = sorted(set(chosen) - set(LOCALES))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown locales: {', '.join(unknown)}")
    return chosen


def _events(
    versions: Iterable[Any], essay_of: dict[int, int], translator: int, reviewer: int
) -> Iterator[dict[str, Any]]:
    for row in versions:
        common = {
            "essay_id": essay_of[row.unit_id],
            "unit_id": row.unit_id,
            "locale": row.locale,
            "translation_id": row.id,
        }
        yield common | {
            "at": row.created_at,
            "actor_id": translator,
            "action": "translation.submitted",
            "before": None,
            "after": {"status": "submitted"},
        }
        if row.status != "submitted":
            action = {
                "approved": "translation.approved",
                "superseded": "translation.approved",
                "rejected": "translation.rejected",
                "withdrawn": "translation.withdrawn",
            }[row.status]
            yield common | {
                "at": row.created_at + timedelta(seconds=30),
                "actor_id": translator if row.status == "withdrawn" else reviewer,
                "action": action,
                "before": {"status": "submitted"},
                "after": {"status": row.status},
            }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--essays", type=int, default=Scale.essays)
    parser.add_argument("--versions", type=int, default=Scale.versions)
    parser.add_argument(
        "--locales",
        type=_locales,
        default=list(LOCALES),
        help="all (the default: 50), shipped (the 8 shipped ones), or a comma-separated list",
    )
    parser.add_argument(
        "--translated",
        action="store_true",
        help="copies approve the shipped essay's published text (else the marked source)",
    )
    args = parser.parse_args(argv)
    if args.versions < 3:
        parser.error("--versions must be at least 3")
    started = time.perf_counter()
    # Bulk rows only: nothing is signed or sealed, so any key will do when none is given.
    key = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(32)
    offered = list(dict.fromkeys([*SHIPPED_LOCALES, *args.locales]))
    app = create_app({"LOCALES": offered, "RATELIMIT_ENABLED": False, "SECRET_KEY": key})
    with app.app_context():
        chosen = Scale(args.essays, args.versions, tuple(args.locales), args.translated)
        counts = scale(chosen)
        db.session.commit()
        with db.engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))
            connection.commit()
        db.engine.dispose()
    print(
        f"Scaled {os.environ.get('DATABASE_URL', 'the default database')} in"
        f" {time.perf_counter() - started:.1f} s: {counts.essays + 1} essays, {counts.units}"
        f" units, {counts.versions} new versions, {counts.stamps} stamps,"
        f" {counts.events} events, {len(args.locales)} locales"
    )


if __name__ == "__main__":
    main()
