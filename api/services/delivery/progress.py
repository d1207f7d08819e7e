"""Translation progress per locale, consistent with what readers are served."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from api import i18n
from api.errors import NotFound
from api.extensions import db
from api.models import Essay, EssayLocale, TranslationVersion, Unit


def current_units() -> sa.ColumnElement[bool]:
    """Units readers can get: neither they nor their essay archived."""
    return sa.and_(
        Unit.archived_at.is_(None),
        Unit.essay_id.in_(sa.select(Essay.id).where(Essay.archived_at.is_(None))),
    )


def _unit_states(locale: str | None = None) -> list[Any]:
    """Per unit and locale: whether a version is published, its freshness, and what waits."""
    approved = sa.func.sum(sa.case((TranslationVersion.status == "approved", 1), else_=0))
    outdated = sa.func.sum(
        sa.case(
            (
                sa.and_(
                    TranslationVersion.status == "approved",
                    TranslationVersion.source_hash != Unit.source_hash,
                ),
                1,
            ),
            else_=0,
        )
    )
    submitted = sa.func.sum(sa.case((TranslationVersion.status == "submitted", 1), else_=0))
    published_version = sa.func.max(
        sa.case((TranslationVersion.status == "approved", TranslationVersion.version))
    )
    statement = (
        sa.select(
            TranslationVersion.unit_id,
            TranslationVersion.locale,
            approved.label("approved"),
            outdated.label("outdated"),
            submitted.label("submitted"),
            published_version.label("published_version"),
        )
        .join(Unit, Unit.id == TranslationVersion.unit_id)
        .where(TranslationVersion.status.in_(("approved", "submitted")), current_units())
        .group_by(TranslationVersion.unit_id, TranslationVersion.locale)
    )
    if locale is not None:
        statement = statement.where(TranslationVersion.locale == locale)
    return list(db.session.execute(statement))


def figures(total: int, approved: int, outdated: int, submitted: int) -> dict[str, Any]:
    return {
        "total": total,
        "approved": approved,
        "outdated": outdated,
        "submitted": submitted,
        "missing": total - approved,
        "percent": round(100.0 * approved / total, 1) if total else 0.0,
    }


def per_locale(essay_id: int | None = None) -> dict[str, tuple[int, int, int]]:
    """(approved, outdated, units with a submission) per locale, counted in the database.

    Over every current unit, or one essay's.
    """
    approved = TranslationVersion.status == "approved"
    statement = (
        sa.select(
            TranslationVersion.locale,
            sa.func.sum(sa.case((approved, 1), else_=0)),
            sa.func.sum(
                sa.case(
                    (sa.and_(approved, TranslationVersion.source_hash != Unit.source_hash), 1),
                    else_=0,
                )
            ),
            sa.func.count(
                sa.distinct(
                    sa.case((TranslationVersion.status == "submitted", TranslationVersion.unit_id))
                )
            ),
        )
        .join(Unit, Unit.id == TranslationVersion.unit_id)
        .where(TranslationVersion.status.in_(("approved", "submitted")), current_units())
        .group_by(TranslationVersion.locale)
    )
    if essay_id is not None:
        statement = statement.where(Unit.essay_id == essay_id)
    rows = db.session.execute(statement)
    return {locale: (int(a or 0), int(o or 0), int(s or 0)) for locale, a, o, s in rows}


def locales_document() -> dict[str, Any]:
    """Offered locales with CLDR names and progress.

    Progress changes only with an essay's workflow state, and every such change raises
    that essay's revision under its row lock; so the sum of the revisions grows with each
    committed change, in commit order. The document is kept per process and rebuilt when
    the sum moves: one small read on most requests, whatever the number of versions.
    """
    essays, revisions = db.session.execute(
        sa.select(sa.func.count(Essay.id), sa.func.sum(Essay.revision))
    ).one()
    marker = (essays, revisions)
    cached = current_app.extensions.get("tarjuma.locales_document")
    if cached is not None and cached[0] == marker:
        return cached[1]
    document = _build_locales_document()
    current_app.extensions["tarjuma.locales_document"] = (marker, document)
    return document


def _build_locales_document() -> dict[str, Any]:
    reg = i18n.registry()
    total = db.session.scalar(sa.select(sa.func.count(Unit.id)).where(current_units())) or 0
    counts = per_locale()
    slugs = list(
        db.session.scalars(
            sa.select(Essay.slug).where(Essay.archived_at.is_(None)).order_by(Essay.slug)
        )
    )
    staged: dict[str, set[str]] = {}
    for slug, code in db.session.execute(
        sa.select(Essay.slug, EssayLocale.locale)
        .join(Essay, Essay.id == EssayLocale.essay_id)
        .where(EssayLocale.state == "staged", Essay.archived_at.is_(None))
    ):
        staged.setdefault(code, set()).add(slug)
    locales = []
    for code, info in reg.infos.items():
        approved, outdated, submitted = counts.get(code, (0, 0, 0))
        if info.is_source:
            approved, outdated, submitted = total, 0, 0
        locales.append(
            {
                "code": code,
                "name": info.name,
                "native_name": info.native_name,
                "direction": info.direction,
                "fallback": list(info.fallback),
                "is_source": info.is_source,
                "progress": figures(total, approved, outdated, submitted),
                "states": {
                    slug: "staged" if slug in staged.get(code, ()) else "live" for slug in slugs
                },
            }
        )
    return {"default": reg.default, "source": reg.source, "locales": locales}


def locale_breakdown(raw: str) -> dict[str, Any]:
    reg = i18n.registry()
    try:
        code = i18n.normalise_tag(raw)
    except i18n.MalformedLocale:
        code = raw
    if code not in reg.offered:
        raise NotFound(gettext("Locale %(code)s is not offered.", code=raw))
    states = {row.unit_id: row for row in _unit_states(code)}
    # Every unit is listed, so the whole table is read anyway: archived ones are skipped
    # here rather than by a condition the plan would have to scan for.
    units = [
        row
        for row in db.session.execute(
            sa.select(
                Unit.id,
                Unit.key,
                Unit.kind,
                Essay.slug,
                Unit.archived_at,
                Essay.archived_at.label("essay_archived_at"),
            )
            .join(Essay, Essay.id == Unit.essay_id)
            .order_by(Essay.slug, Unit.kind.desc(), Unit.position)
        )
        if row.archived_at is None and row.essay_archived_at is None
    ]
    items = []
    totals = [0, 0, 0]
    for unit in units:
        row = states.get(unit.id)
        if code == reg.source:
            state, version, waiting = "approved", None, 0
        else:
            waiting = int(row.submitted or 0) if row else 0
            version = row.published_version if row else None
            if row and row.approved:
                state = "outdated" if row.outdated else "approved"
            else:
                state = "submitted" if waiting else "missing"
        totals[0] += state in ("approved", "outdated")
        totals[1] += state == "outdated"
        totals[2] += waiting > 0
        items.append(
            {
                "essay": unit.slug,
                "key": unit.key,
                "kind": unit.kind,
                "state": state,
                "published_version": version,
                "submitted": waiting,
            }
        )
    return {
        "locale": code,
        "progress": figures(len(units), *totals),
        "units": items,
    }
