"""Reading a translator's PO catalog back: each changed entry becomes a submission through
the workflow's own commands, so the quality checks and permission rules are those of the
JSON API, and the upload runs in one transaction: one bad entry and nothing is stored."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import polib
from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from api import i18n
from api.database import transaction
from api.errors import DomainError, Forbidden, Unprocessable
from api.models import TranslationVersion, Unit, User
from api.services.content import get_essay
from api.services.text import normalise_text
from api.services.translation import workflow
from api.services.translation.catalogs import (
    ESSAY_HEADER,
    CatalogEntry,
    CatalogError,
    catalog_locale,
    catalog_units,
    decode_catalog,
    entries,
    gettext_code,
    parse_catalog,
    pending_versions,
    published_versions,
    source_revision_for,
    unit_fields,
)
from api.services.translation.checks import BLOCKING, CheckResult


class CatalogTooLarge(DomainError):
    status = 413
    slug = "catalog-too-large"
    title = _l("Request too large")


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
        if unit is None or item.field not in unit_fields(unit):
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
    missing = [name for name in unit_fields(unit) if name not in given]
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
    limit = current_app.config["MAX_CATALOG_BYTES"]
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
    ordered = catalog_units(essay.id)
    grouped = _grouped(po, {unit.key: unit for unit in ordered})
    wanted = [unit.id for unit in ordered if unit.key in grouped]
    report = ImportReport()
    blocking: dict[str, list[str]] = {}
    failed: list[dict[str, Any]] = []
    with transaction():
        locked = {unit_id: workflow._lock_unit(unit_id) for unit_id in sorted(wanted)}
        current = published_versions(list(locked.values()), locale)
        pending = pending_versions(list(locked.values()), locale, actor)
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
