"""The public change feed: what readers can see changing, in commit order, without gaps.

Every event passes through ``append`` (an effects deriver, inside the writer's
transaction). The events readers can see get the next feed position from the one
``feed_counter`` row, raised under its lock: the lock is held until the writer commits,
so positions are handed out in commit order, and a writer that rolls back gives its
position back. A consumer that resumes after the last position it saw therefore never
skips an item, however many writers commit at once (a sequence would not do: a
transaction that took id 11 can commit after the one that took id 12).

``FEED_TYPES`` is the one table from event actions to feed types. An action missing
from it never reaches the feed (submissions, comments, tokens…).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext

from api.database import transaction_state
from api.errors import InvalidInput
from api.extensions import db
from api.models import (
    Change,
    Essay,
    EssayLocale,
    Event,
    FeedCounter,
    SourceRevision,
    TranslationVersion,
    Unit,
)
from api.services import effects

CURSOR = re.compile(r"^c_([0-9a-f]{16})$")
START = "c_0000000000000000"


@dataclass(frozen=True)
class FeedType:
    """How an event action shows in the feed.

    name: the feed type.
    text: where the item's heading and body come from (``translation``: the version's
        published text, ``source``: the unit's source text, None: no text).
    every_locale: the change concerns every locale, so every locale filter keeps it.
    extra: fields the item adds (``archived: true`` for a section taken out of an essay).
    """

    name: str
    text: str | None = None
    every_locale: bool = False
    extra: tuple[tuple[str, Any], ...] = ()


FEED_TYPES: dict[str, FeedType] = {
    "translation.approved": FeedType("translation.published", text="translation"),
    "translation.restored": FeedType("translation.published", text="translation"),
    "translation.unpublished": FeedType("translation.unpublished"),
    "source.created": FeedType("source.updated", text="source", every_locale=True),
    "source.edited": FeedType("source.updated", text="source", every_locale=True),
    "source.restored": FeedType("source.updated", text="source", every_locale=True),
    "source.archived": FeedType("source.updated", every_locale=True, extra=(("archived", True),)),
    "essay.created": FeedType("essay.created", every_locale=True),
    "essay.archived": FeedType("essay.archived", every_locale=True),
    "locale.released": FeedType("locale.released"),
    "locale.staged": FeedType("locale.staged"),
}

PUBLIC_TYPES: tuple[str, ...] = tuple(dict.fromkeys(t.name for t in FEED_TYPES.values()))


def _not_staged(event: Event) -> bool:
    """A staged locale's publications stay out until its release (one ``locale.released``)."""
    if not event.action.startswith("translation.") or event.essay_id is None:
        return True
    staged = db.session.scalar(
        sa.select(EssayLocale.state).where(
            EssayLocale.essay_id == event.essay_id,
            EssayLocale.locale == event.locale,
            EssayLocale.state == "staged",
        )
    )
    return staged is None


# Whether an event's change is visible to readers right now. Features that hide changes
# add a predicate here.
VISIBILITY: list[Callable[[Event], bool]] = [_not_staged]

_ITEMS = "changes.items"  # the items of this transaction's events, for later derivers


def format_cursor(position: int) -> str:
    return f"c_{position:016x}"


def item_of(change: Change) -> dict[str, Any]:
    """A feed item as readers get it."""
    return {
        "cursor": format_cursor(change.position),
        "at": change.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "type": change.type,
        **change.data,
    }


def item_for(event: Event) -> dict[str, Any] | None:
    """The feed item ``event`` became in this transaction, if it is public."""
    items: dict[int, dict[str, Any]] = transaction_state().get(_ITEMS, {})
    return items.get(event.id)


def describe(event: Event, text: str | None = None) -> dict[str, Any]:
    """The essay, unit, locale, version, revision and text an event concerns."""
    session = db.session
    data: dict[str, Any] = {
        "essay": None,
        "unit": None,
        "locale": event.locale,
        "version": None,
        "revision": None,
        "heading": None,
        "body": None,
    }
    if event.translation_id is not None:
        version = session.get(TranslationVersion, event.translation_id)
        if version is not None:
            data["version"] = version.version
            if text == "translation":
                data["heading"], data["body"] = version.heading, version.body
    if event.unit_id is not None:
        unit = session.get(Unit, event.unit_id)
        if unit is not None:
            data["unit"] = unit.key
            if text == "source":
                revision = (event.after or {}).get("revision", unit.source_revision)
                source = session.scalar(
                    sa.select(SourceRevision).where(
                        SourceRevision.unit_id == unit.id, SourceRevision.revision == revision
                    )
                )
                data["version"] = revision
                if source is not None:
                    data["heading"], data["body"] = source.heading, source.body
    if event.essay_id is not None:
        row = session.execute(
            sa.select(Essay.slug, Essay.revision).where(Essay.id == event.essay_id)
        ).one_or_none()
        if row is not None:
            data["essay"], data["revision"] = row.slug, row.revision
    return data


def _next_position() -> int:
    """The next feed position; the counter row stays locked until this transaction ends."""
    return db.session.execute(
        sa.update(FeedCounter)
        .where(FeedCounter.id == 1)
        .values(position=FeedCounter.position + 1)
        .returning(FeedCounter.position)
        .execution_options(synchronize_session=False)
    ).scalar_one()


def append(event: Event) -> None:
    """Give a public event its feed position and its item (in the writer's transaction)."""
    kind = FEED_TYPES.get(event.action)
    if kind is None or not all(visible(event) for visible in VISIBILITY):
        return
    data = describe(event, kind.text) | dict(kind.extra)
    if event.action.startswith("locale."):
        data["units"] = (event.after or {}).get("units", [])
    change = Change(
        position=_next_position(),
        event_id=event.id,
        at=event.at,
        type=kind.name,
        locale=None if kind.every_locale else event.locale,
        data=data,
    )
    db.session.add(change)
    transaction_state().setdefault(_ITEMS, {})[event.id] = item_of(change)


def init_app(app: Flask) -> None:
    """The feed's deriver. Derivers that read an event's item (``item_for``) come after it."""
    effects.derivers(app).add(append)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str
    has_more: bool
    complete: bool  # the page is full: it can never change


def parse_cursor(cursor: str | None) -> int:
    """The position a cursor stands for; 400 for one the server never handed out."""
    if cursor is None or cursor == "":
        return 0
    match = CURSOR.match(cursor)
    if match is None:
        raise InvalidInput(
            gettext("The cursor %(cursor)s is malformed.", cursor=cursor[:40]),
            errors={"cursor": [gettext("Use a cursor from an earlier page, or none.")]},
        )
    position = int(match.group(1), 16)
    handed_out = db.session.scalar(sa.select(FeedCounter.position).where(FeedCounter.id == 1))
    if position > (handed_out or 0):
        raise InvalidInput(
            gettext("The cursor %(cursor)s was never handed out.", cursor=cursor),
            errors={"cursor": [gettext("Use a cursor from an earlier page, or none.")]},
        )
    return position


def read(cursor: str | None, locales: Sequence[str], per_page: int) -> Page:
    """The items after ``cursor``, oldest first; a locale filter keeps every kind of item."""
    after = parse_cursor(cursor)
    statement = sa.select(Change).where(Change.position > after)
    if locales:
        statement = statement.where(sa.or_(Change.locale.in_(locales), Change.locale.is_(None)))
    rows = list(db.session.scalars(statement.order_by(Change.position).limit(per_page + 1)))
    has_more = len(rows) > per_page
    rows = rows[:per_page]
    return Page(
        items=[item_of(row) for row in rows],
        next_cursor=format_cursor(rows[-1].position) if rows else format_cursor(after),
        has_more=has_more,
        complete=len(rows) == per_page,
    )


@dataclass(frozen=True)
class Document:
    body: bytes
    etag: str
    complete: bool


class _FullPages:
    """Serialised full pages, by (cursor, locales, per_page), least recently used first.

    A full page never changes: later changes take later positions. Its cursor stays
    valid too (the counter only grows), so a hit needs neither the database nor JSON.
    """

    def __init__(self) -> None:
        self.pages: OrderedDict[tuple[Any, ...], Document] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Document | None:
        with self.lock:
            document = self.pages.get(key)
            if document is not None:
                self.pages.move_to_end(key)
            return document

    def put(self, key: tuple[Any, ...], document: Document, size: int) -> None:
        with self.lock:
            self.pages[key] = document
            while len(self.pages) > size:
                self.pages.popitem(last=False)


def _full_pages() -> _FullPages:
    """This app's cache of full pages (an app is one database)."""
    pages: _FullPages = current_app.extensions.setdefault("tarjuma.feed_pages", _FullPages())
    return pages


def document(cursor: str | None, locales: Sequence[str], per_page: int) -> Document:
    """A page of the feed as served: its JSON body and ETag (full pages come from memory)."""
    cache = int(current_app.config["FEED_PAGE_CACHE_SIZE"])
    key = (cursor or START, tuple(sorted(locales)), per_page)
    found = _full_pages().get(key) if cache else None
    if found is not None:
        return found
    page = read(cursor, locales, per_page)
    body = json.dumps(
        {"items": page.items, "next_cursor": page.next_cursor, "has_more": page.has_more},
        ensure_ascii=False,
    ).encode()
    made = Document(body, hashlib.sha256(body).hexdigest()[:32], page.complete)
    if page.complete and cache:
        _full_pages().put(key, made, cache)
    return made
