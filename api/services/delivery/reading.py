"""What readers get: essays and sections in a locale, prepared once and served as bytes.

A representation depends only on the publication stamps of the locales in its fallback
chain (see ``api.services.publication``). Reading those stamps is one indexed query; the
ETag is derived from them, a matching ``If-None-Match`` needs nothing more, and the
serialized body is kept in a bounded in-process cache keyed by that ETag. Any
publication or source edit changes the stamps, so every worker and every instance
sees the change on its next request without waiting for anything to expire.

The stamps are read by ``StampReader`` on a connection each thread keeps open, in
autocommit (``api.database.HeldConnections``): the read is a single statement that sees
every committed publication, and a request served from the cache (or answered 304) never
checks out a pooled connection, so it pays for no liveness ping, transaction or reset
around that one read.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, json
from sqlalchemy.dialects import postgresql

from api import i18n
from api.database import HeldConnections, Prepared
from api.errors import NotFound
from api.extensions import db
from api.i18n import ALL_LOCALES
from api.models import Essay, EssayLocale, PublicationStamp, TranslationVersion, Unit
from api.services.outbound import edge
from api.services.publication import ESSAY_SCOPE

# Part of every ETag: a change in how bodies are written makes old validators stale.
_FORMAT = "2"


@dataclass(frozen=True)
class Stamps:
    essay_id: int
    slug: str
    source_locale: str
    by_locale: dict[str, int]


@dataclass(frozen=True)
class Representation:
    etag: str
    body: bytes
    content_language: str
    tags: str


class RepresentationCache:
    """A small thread-safe LRU of serialized bodies, keyed by ETag."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Representation] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, etag: str) -> Representation | None:
        with self._lock:
            item = self._items.get(etag)
            if item is not None:
                self._items.move_to_end(etag)
            return item

    def put(self, item: Representation) -> None:
        with self._lock:
            self._items[item.etag] = item
            self._items.move_to_end(item.etag)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _cache() -> RepresentationCache:
    cache = current_app.extensions.get("tarjuma.representations")
    if cache is None:
        cache = RepresentationCache(current_app.config["REPRESENTATION_CACHE_SIZE"])
        current_app.extensions["tarjuma.representations"] = cache
    return cache


def _stamps_select(locale_count: int, dialect: str) -> sa.ClauseElement:
    """The stamps of one scope of an essay, for the given locales and the essay's source.

    Every locale is an index condition, so the read costs the same however many locales
    are offered: PostgreSQL needs the list spelled as an array for that, since it turns
    ``IN`` with a column in it into a filter.
    """
    locales: list[Any] = [sa.bindparam(f"locale_{n}", type_=sa.String) for n in range(locale_count)]
    if dialect == "postgresql":
        wanted = PublicationStamp.locale == sa.any_(
            postgresql.array([*locales, Essay.source_locale])
        )
    else:
        wanted = PublicationStamp.locale.in_([*locales, Essay.source_locale])
    return (
        sa.select(Essay.id, Essay.source_locale, PublicationStamp.locale, PublicationStamp.stamp)
        .select_from(Essay)
        .outerjoin(
            PublicationStamp,
            sa.and_(
                PublicationStamp.essay_id == Essay.id,
                PublicationStamp.scope == sa.bindparam("scope"),
                wanted,
            ),
        )
        .where(Essay.slug == sa.bindparam("slug"), Essay.archived_at.is_(None))
    )


class StampReader:
    """Reads publication stamps on the connections each thread keeps open
    (``api.database.HeldConnections``): one statement per number of locales, compiled once.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.connections = HeldConnections(engine)
        self._dialect = engine.dialect.name
        self._statements: dict[int, Prepared] = {}

    def read(self, slug: str, scope: str, locales: Sequence[str]) -> list[Any]:
        """Rows of (essay id, source locale, stamp locale, stamp): one indexed query."""
        named = {"slug": slug, "scope": scope}
        named.update((f"locale_{n}", code) for n, code in enumerate(locales))
        return self.connections.read(self._statement(len(locales)), named)

    def _statement(self, locale_count: int) -> Prepared:
        found = self._statements.get(locale_count)
        if found is None:
            statement = _stamps_select(locale_count, self._dialect)
            found = self._statements[locale_count] = self.connections.prepare(statement)
        return found


def _reader() -> StampReader:
    reader = current_app.extensions.get("tarjuma.stamps")
    if reader is None:
        reader = StampReader(db.engine)
        current_app.extensions["tarjuma.stamps"] = reader
    return reader


def read_stamps(slug: str, scope: str, chain: Sequence[str]) -> Stamps:
    """The stamps a representation in ``chain`` depends on, read outside any transaction."""
    rows = _reader().read(slug, scope, chain)
    if not rows:
        raise NotFound(_essay_not_found(slug))
    by_locale = {row[2]: row[3] for row in rows if row[2] is not None}
    if scope != ESSAY_SCOPE and not by_locale:
        raise NotFound(_section_not_found(scope))
    return Stamps(rows[0][0], slug, rows[0][1], by_locale)


def _essay_not_found(slug: str) -> str:
    from flask_babel import gettext

    return gettext("There is no essay %(slug)s.", slug=slug)


def _section_not_found(key: str) -> str:
    from flask_babel import gettext

    return gettext("This essay has no section %(key)s.", key=key)


def _chain_for(locale: str) -> tuple[str, ...]:
    reg = i18n.registry()
    return reg.offered if locale == ALL_LOCALES else reg.chain(locale)


def etag_for(stamps: Stamps, scope: str, negotiated: i18n.Negotiated) -> str:
    """A strong validator for one representation, from the stamps it depends on."""
    chain = _chain_for(negotiated.locale)
    parts = [
        _FORMAT,
        str(stamps.essay_id),
        scope,
        # None (the locale came from the header or the default) is no tag a client can write.
        "-" if negotiated.requested is None else negotiated.requested,
        negotiated.locale,
        ",".join(chain),
        ",".join(
            f"{code}={stamps.by_locale.get(code, 0)}"
            for code in i18n.served_order(chain, stamps.source_locale)
        ),
    ]
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40] + '"'


def representation(
    slug: str, negotiated: i18n.Negotiated, key: str | None = None
) -> tuple[Stamps, str, Representation | None]:
    """The stamps and ETag, and the cached body if one is ready (None when not yet built)."""
    scope = key if key is not None else ESSAY_SCOPE
    stamps = read_stamps(slug, scope, _chain_for(negotiated.locale))
    etag = etag_for(stamps, scope, negotiated)
    return stamps, etag, _cache().get(etag)


def build(
    stamps: Stamps, etag: str, negotiated: i18n.Negotiated, key: str | None
) -> Representation:
    """Serialize the representation named by ``etag`` and keep it for the next reader."""
    if key is None:
        document, languages = essay_document(stamps, negotiated)
    else:
        document, languages = section_document(stamps, negotiated, key)
    scope = key if key is not None else ESSAY_SCOPE
    dependencies = i18n.served_order(_chain_for(negotiated.locale), stamps.source_locale)
    item = Representation(
        etag=etag,
        body=json.dumps(document, ensure_ascii=False).encode(),
        content_language=", ".join(languages),
        tags=edge.representation_tags(stamps.essay_id, scope, dependencies),
    )
    if delay := current_app.config["READ_BUILD_DELAY"]:
        # Tests hold a reader's fetch in flight across a change with this.
        time.sleep(delay)
    _cache().put(item)
    return item


def document(
    slug: str, negotiated: i18n.Negotiated, key: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The document readers get, decoded, and the codes of its ``Content-Language``."""
    stamps, etag, ready = representation(slug, negotiated, key)
    item = ready or build(stamps, etag, negotiated, key)
    return json.loads(item.body), [code for code in item.content_language.split(", ") if code]


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


# What a reader is served of a version (and a preview of a draft), read without the rest
# of its row.
SERVED_COLUMNS = (
    TranslationVersion.unit_id,
    TranslationVersion.locale,
    TranslationVersion.heading,
    TranslationVersion.body,
    TranslationVersion.version,
    TranslationVersion.source_hash,
    TranslationVersion.approved_at,
)


def _published(unit_ids: list[int], locales: tuple[str, ...]) -> dict[tuple[int, str], Any]:
    """The approved versions readers are served: none from a locale staged for the essay."""
    if not unit_ids:
        return {}
    staged = (
        sa.select(EssayLocale.essay_id)
        .where(
            EssayLocale.essay_id == Unit.essay_id,
            EssayLocale.locale == TranslationVersion.locale,
            EssayLocale.state == "staged",
        )
        .exists()
    )
    rows = db.session.execute(
        sa.select(*SERVED_COLUMNS)
        .join(Unit, Unit.id == TranslationVersion.unit_id)
        .where(
            TranslationVersion.unit_id.in_(unit_ids),
            TranslationVersion.locale.in_(locales),
            TranslationVersion.status == "approved",
            ~staged,
        )
    ).all()
    return {(row.unit_id, row.locale): row for row in rows}


def _units(essay_id: int, key: str | None = None) -> list[Unit]:
    query = sa.select(Unit).where(Unit.essay_id == essay_id, Unit.archived_at.is_(None))
    if key is not None:
        query = query.where(Unit.key == key)
    return list(db.session.scalars(query.order_by(Unit.kind.desc(), Unit.position)))


def _source_text(unit: Unit) -> dict[str, Any]:
    return {
        "heading": unit.heading,
        "body": unit.body,
        "version": unit.source_revision,
        "outdated": False,
        "approved_at": _iso(unit.source_changed_at),
    }


def _text_in(
    unit: Unit, locale: str, source: str, published: dict[tuple[int, str], Any]
) -> dict[str, Any] | None:
    """The approved text of a unit in one locale (the source text in the source locale)."""
    if locale == source:
        return _source_text(unit)
    row = published.get((unit.id, locale))
    if row is None:
        return None
    return {
        "heading": row.heading if unit.heading is not None else None,
        "body": row.body,
        "version": row.version,
        "outdated": row.source_hash != unit.source_hash,
        "approved_at": _iso(row.approved_at),
    }


def _served(
    unit: Unit, chain: tuple[str, ...], source: str, published: dict[tuple[int, str], Any]
) -> tuple[str, dict[str, Any]]:
    for code in chain:
        text = _text_in(unit, code, source, published)
        if text is not None:
            return code, text
    return source, _source_text(unit)


def _section_json(
    unit: Unit,
    negotiated: i18n.Negotiated,
    chain: tuple[str, ...],
    source: str,
    published: dict[tuple[int, str], Any],
) -> tuple[dict[str, Any], str]:
    code, text = _served(unit, chain, source, published)
    return {
        "key": unit.key,
        "position": unit.position,
        "heading": text["heading"],
        "body": text["body"],
        "locale": code,
        "direction": i18n.direction_of(code),
        "fallback": code != negotiated.locale,
        "outdated": text["outdated"],
        "version": text["version"],
        "approved_at": text["approved_at"],
        "source_revision": unit.source_revision,
    }, code


def _all_locales_json(
    unit: Unit, source: str, published: dict[tuple[int, str], Any]
) -> tuple[dict[str, Any], list[str]]:
    translations = {}
    for code in i18n.registry().offered:
        text = _text_in(unit, code, source, published)
        if text is not None:
            translations[code] = text
    return {
        "key": unit.key,
        "position": unit.position,
        "source_revision": unit.source_revision,
        "translations": translations,
    }, list(translations)


def _locale_fields(negotiated: i18n.Negotiated) -> dict[str, Any]:
    """What the essay and the section documents both say about the request's locale."""
    return {
        "requested_locale": negotiated.requested,
        "negotiated_locale": negotiated.locale,
    }


def _revision(stamps: Stamps, chain: tuple[str, ...]) -> int:
    return max((stamps.by_locale.get(code, 0) for code in chain), default=0)


def essay_document(
    stamps: Stamps,
    negotiated: i18n.Negotiated,
    overlay: dict[tuple[int, str], Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The essay as readers get it; ``overlay`` replaces versions (a preview's drafts)."""
    chain = _chain_for(negotiated.locale)
    units = _units(stamps.essay_id)
    published = _published([u.id for u in units], chain) | (overlay or {})
    title_unit = next((u for u in units if u.kind == "title"), None)
    sections = [u for u in units if u.kind == "section"]
    if negotiated.locale == ALL_LOCALES:
        fields, items, languages = _in_every_locale(
            title_unit, sections, stamps.source_locale, published
        )
    else:
        fields, items, languages = _in_chain(
            title_unit, sections, negotiated, chain, stamps.source_locale, published
        )
    document = {
        "slug": stamps.slug,
        **_locale_fields(negotiated),
        **fields,
        "revision": _revision(stamps, chain),
        "sections": items,
    }
    return document, languages


def _in_every_locale(
    title_unit: Unit | None,
    sections: list[Unit],
    source: str,
    published: dict[tuple[int, str], Any],
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """An essay's title fields, sections and languages with every offered locale's text."""
    present: set[str] = set()
    items = []
    for unit in sections:
        item, codes = _all_locales_json(unit, source, published)
        items.append(item)
        present.update(codes)
    titles = (
        _all_locales_json(title_unit, source, published)[0]["translations"] if title_unit else {}
    )
    present.update(titles)
    fields = {
        "locale": ALL_LOCALES,
        "direction": None,
        "source_locale": source,
        "title": title_unit.body if title_unit else None,
        "titles": {code: text["body"] for code, text in titles.items()},
    }
    return fields, items, i18n.ordered(present)


def _in_chain(
    title_unit: Unit | None,
    sections: list[Unit],
    negotiated: i18n.Negotiated,
    chain: tuple[str, ...],
    source: str,
    published: dict[tuple[int, str], Any],
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """An essay's title fields, sections and languages in the first locale of ``chain``
    that has each."""
    title_code, title_text = (
        _served(title_unit, chain, source, published)
        if title_unit
        else (source, {"body": None, "outdated": False})
    )
    present = {title_code}
    items = []
    for unit in sections:
        item, code = _section_json(unit, negotiated, chain, source, published)
        items.append(item)
        present.add(code)
    fields = {
        "locale": negotiated.locale,
        "direction": i18n.direction_of(negotiated.locale),
        "source_locale": source,
        "title": title_text["body"],
        "title_locale": title_code,
        "title_direction": i18n.direction_of(title_code),
        "title_outdated": title_text["outdated"],
    }
    return fields, items, [code for code in chain if code in present]


def section_document(
    stamps: Stamps, negotiated: i18n.Negotiated, key: str
) -> tuple[dict[str, Any], list[str]]:
    chain = _chain_for(negotiated.locale)
    units = _units(stamps.essay_id, key)
    if not units:
        raise NotFound(_section_not_found(key))
    unit = units[0]
    published = _published([unit.id], chain)
    head = {
        "essay": stamps.slug,
        **_locale_fields(negotiated),
        "revision": _revision(stamps, chain),
    }
    if negotiated.locale == ALL_LOCALES:
        item, codes = _all_locales_json(unit, stamps.source_locale, published)
        return {**head, "locale": ALL_LOCALES, **item}, i18n.ordered(codes)
    item, code = _section_json(unit, negotiated, chain, stamps.source_locale, published)
    return {**head, **item}, [code]


def essay_list(negotiated: i18n.Negotiated, page: int, per_page: int) -> dict[str, Any]:
    """Essays with their titles in the negotiated locale (one page of them)."""
    current = Essay.archived_at.is_(None)
    total = db.session.scalar(sa.select(sa.func.count(Essay.id)).where(current)) or 0
    essays = list(
        db.session.scalars(
            sa.select(Essay)
            .where(current)
            .order_by(Essay.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    chain = _chain_for(negotiated.locale)
    units = list(
        db.session.scalars(
            sa.select(Unit)
            .where(Unit.essay_id.in_([e.id for e in essays]), Unit.archived_at.is_(None))
            .order_by(Unit.essay_id, Unit.kind.desc(), Unit.position)
        )
    )
    published = _published([u.id for u in units if u.kind == "title"], chain)
    items = []
    for essay in essays:
        own = [u for u in units if u.essay_id == essay.id]
        title_unit = next((u for u in own if u.kind == "title"), None)
        title_code, title = (
            _served(title_unit, chain, essay.source_locale, published)
            if title_unit
            else (essay.source_locale, {"body": None})
        )
        items.append(
            {
                "slug": essay.slug,
                "title": title["body"],
                "title_locale": title_code,
                "title_direction": i18n.direction_of(title_code),
                "source_locale": essay.source_locale,
                "sections": [u.key for u in own if u.kind == "section"],
            }
        )
    return {"items": items, "page": page, "per_page": per_page, "total": total}
