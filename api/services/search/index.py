"""Keeping the search index: in the transaction of every change readers can see.

A deriver on the effects spine notes, for each event of a change that readers see (the
actions of ``changes.FEED_TYPES``), which units and locales it concerns; just before
the commit their documents are read again from what is published, and written only
where the text changed. Search is therefore never behind reading, and a change that
rolls back leaves the index as it was. The same deriver adds the change's locales to
the edge's purge: ``search/<locale>`` (``search`` for a change to a whole essay), the
tags every search response carries for each locale it looked in.

What is indexed is what readers get: the source text, and approved translations in
locales that are live in the essay, of units and essays that are not archived. A
reader's search then decides which of them a reader of a locale is served (see
``api.services.search.query``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask

from api import i18n
from api.database import before_commit, transaction_state
from api.extensions import db
from api.models import (
    Essay,
    EssayLocale,
    Event,
    SearchDocument,
    SearchFallback,
    TranslationVersion,
    Unit,
)
from api.services import effects
from api.services.outbound import changes, edge
from api.services.search import analysis
from api.services.search.plain import plain_text
from api.services.search.store import store

ALL_SEARCHES = "search"
_SCOPES = "search.scopes"
# Actions whose effect on the index goes beyond the event's unit or locale.
_WHOLE_ESSAY = frozenset({"essay.created", "essay.archived"})
_WHOLE_UNIT = frozenset({"source.archived", "source.restored"})

Scope = tuple[int, int | None, str | None]  # essay, unit (None: all), locale (None: all)


def search_tag(locale: str | None) -> str:
    """The edge tag of the searches that look at a locale's text (None: every search)."""
    return ALL_SEARCHES if locale is None else f"{ALL_SEARCHES}/{locale}"


def scope_of(event: Event) -> Scope | None:
    """What of the index an event may change, or None when it changes nothing readers see."""
    if event.essay_id is None or event.action not in changes.FEED_TYPES:
        return None
    if event.action in _WHOLE_ESSAY:
        return (event.essay_id, None, None)
    if event.action in _WHOLE_UNIT:
        return (event.essay_id, event.unit_id, None)
    return (event.essay_id, event.unit_id, event.locale)


def init_app(app: Flask) -> None:
    """The index follows what readers can see (``_derive``), in the change's transaction."""
    effects.derivers(app).add(_derive)


def _derive(event: Event) -> None:
    scope = scope_of(event)
    if scope is None:
        return
    state = transaction_state()
    scopes: dict[Scope, None] | None = state.get(_SCOPES)
    if scopes is None:
        scopes = state[_SCOPES] = {}
        before_commit(_SCOPES, _refresh_noted)
    scopes[scope] = None
    edge.purge_also([search_tag(scope[2])])


def _refresh_noted() -> None:
    scopes: dict[Scope, None] = transaction_state().pop(_SCOPES, {})
    for essay_id, unit_id, locale in scopes:
        refresh(essay_id, unit_id, locale)


@dataclass(frozen=True)
class _Text:
    source: bool
    version: int
    heading: str | None
    body: str


def _published(
    essay_id: int, unit_id: int | None, locale: str | None
) -> dict[tuple[int, str], _Text]:
    """What readers get of the essay's units, by unit and locale (within the scope)."""
    session = db.session
    essay = session.get(Essay, essay_id)
    if essay is None or essay.archived_at is not None:
        return {}
    units = sa.select(Unit).where(Unit.essay_id == essay_id, Unit.archived_at.is_(None))
    if unit_id is not None:
        units = units.where(Unit.id == unit_id)
    found: dict[tuple[int, str], _Text] = {}
    unit_ids = []
    for unit in session.scalars(units):
        unit_ids.append(unit.id)
        if locale in (None, essay.source_locale):
            found[(unit.id, essay.source_locale)] = _Text(
                True, unit.source_revision, unit.heading, unit.body
            )
    if not unit_ids or locale == essay.source_locale:
        return found
    staged = sa.select(EssayLocale.locale).where(
        EssayLocale.essay_id == essay_id, EssayLocale.state == "staged"
    )
    versions = sa.select(TranslationVersion).where(
        TranslationVersion.unit_id.in_(unit_ids),
        TranslationVersion.status == "approved",
        TranslationVersion.locale.not_in(staged),
    )
    if locale is not None:
        versions = versions.where(TranslationVersion.locale == locale)
    for version in session.scalars(versions):
        found[(version.unit_id, version.locale)] = _Text(
            False, version.version, version.heading, version.body
        )
    return found


def _fingerprint(locale: str, heading: str | None, body: str) -> str:
    data = "\x1f".join((analysis.VERSION, locale, heading or "\x00", body))
    return hashlib.sha256(data.encode()).hexdigest()


def refresh(essay_id: int, unit_id: int | None = None, locale: str | None = None) -> int:
    """Bring the documents of an essay (one unit, one locale) in line with what is
    published; inside the caller's transaction. Returns how many documents changed."""
    session = db.session
    wanted = _published(essay_id, unit_id, locale)
    held = sa.select(SearchDocument).where(SearchDocument.essay_id == essay_id)
    if unit_id is not None:
        held = held.where(SearchDocument.unit_id == unit_id)
    if locale is not None:
        held = held.where(SearchDocument.locale == locale)
    existing = {(doc.unit_id, doc.locale): doc for doc in session.scalars(held)}
    changed = 0
    for key, gone in existing.items():
        if key not in wanted:
            session.delete(gone)  # its fallback rows go with it (ON DELETE CASCADE)
            changed += 1
    writer = store()
    for (unit, code), text in wanted.items():
        heading = plain_text(text.heading) if text.heading else None
        body = plain_text(text.body)
        fingerprint = _fingerprint(code, heading, body)
        doc = existing.get((unit, code))
        if doc is not None and doc.fingerprint == fingerprint:
            if doc.version != text.version:
                doc.version = text.version
            continue
        words = analysis.analyzer(code)
        columns = writer.columns(words.tokens(heading or ""), words.tokens(body))
        if doc is None:
            doc = SearchDocument(essay_id=essay_id, unit_id=unit, locale=code)
            session.add(doc)
        doc.source, doc.version = text.source, text.version
        doc.heading, doc.body, doc.fingerprint = heading, body, fingerprint
        for name, value in columns.items():
            setattr(doc, name, value)
        changed += 1
    session.flush()
    _serve_fallbacks(essay_id, unit_id)
    return changed


def _serve_fallbacks(essay_id: int, unit_id: int | None) -> int:
    """Bring the fallback rows of the essay's documents (one unit's) in line with them and
    with the locales' fallback chains: a text written or withdrawn in one locale changes
    what readers of others are served. Returns how many rows changed."""
    session = db.session
    essay = session.get(Essay, essay_id)
    # The documents and the rows that list them, in one statement.
    docs = (
        sa.select(
            SearchDocument.id,
            SearchDocument.unit_id,
            SearchDocument.locale,
            SearchFallback.reader,
        )
        .outerjoin(SearchFallback, SearchFallback.document_id == SearchDocument.id)
        .where(SearchDocument.essay_id == essay_id)
    )
    if unit_id is not None:
        docs = docs.where(SearchDocument.unit_id == unit_id)
    units: dict[int, dict[str, int]] = {}
    existing: set[tuple[str, str, int]] = set()
    for doc_id, unit, code, reader in session.execute(docs):
        units.setdefault(unit, {})[code] = doc_id
        if reader is not None:
            existing.add((reader, code, doc_id))
    wanted: set[tuple[str, str, int]] = set()
    if essay is not None:
        registry = i18n.registry()
        for reader in registry.offered:
            order = i18n.served_order(registry.chain(reader), essay.source_locale)
            for held in units.values():
                code = next((code for code in order if code in held), reader)
                if code != reader:
                    wanted.add((reader, code, held[code]))
    for reader, code, doc_id in existing - wanted:
        session.execute(
            sa.delete(SearchFallback).where(
                SearchFallback.reader == reader,
                SearchFallback.locale == code,
                SearchFallback.document_id == doc_id,
            )
        )
    added = [
        {"reader": reader, "locale": code, "document_id": doc_id}
        for reader, code, doc_id in sorted(wanted - existing)
    ]
    if added:
        session.execute(sa.insert(SearchFallback), added)
    return len(existing - wanted) + len(added)


def serve_fallbacks() -> int:
    """Bring every essay's fallback rows in line with the documents and with the fallback
    chains configured now (after the upgrade that adds them, or a change of
    ``TARJUMA_LOCALES`` or ``TARJUMA_FALLBACKS``); inside the caller's transaction.
    Returns how many rows changed."""
    essay_ids = db.session.scalars(sa.select(Essay.id).order_by(Essay.id)).all()
    return sum(_serve_fallbacks(essay_id, None) for essay_id in essay_ids)


def reindex(essay_ids: Iterable[int] | None = None) -> int:
    """Write every document again from what is published (inside the caller's
    transaction); returns how many documents the index holds afterwards."""
    session = db.session
    if essay_ids is None:
        session.execute(sa.delete(SearchFallback))
        session.execute(sa.delete(SearchDocument))
        essay_ids = list(session.scalars(sa.select(Essay.id).order_by(Essay.id)))
    for essay_id in essay_ids:
        refresh(essay_id)
    store().rebuild()
    return session.scalar(sa.select(sa.func.count()).select_from(SearchDocument)) or 0


def is_empty() -> bool:
    """Whether the index holds nothing while some essay has text to find."""
    session = db.session
    if session.scalar(sa.select(SearchDocument.id).limit(1)) is not None:
        return False
    return session.scalar(sa.select(Unit.id).limit(1)) is not None
