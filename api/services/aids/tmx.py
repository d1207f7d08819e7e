"""Translation memory exchange: one locale's memory as a TMX file, and the units of TMX
files added to it (ranked below the project's own, see ``memory``)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext

from api import i18n
from api.database import transaction
from api.errors import Forbidden, Unprocessable
from api.extensions import db
from api.models import MemorySource, MemoryUnit, User
from api.services import audit
from api.services.aids import memory
from api.services.text import collapse_spaces

TMX_MIMETYPE = "application/x-tmx+xml"


def export_tmx(raw_locale: str | None) -> bytes:
    """Every pair of one locale as TMX 1.4 (each distinct pair once)."""
    from translate.storage.tmx import tmxfile

    locale = memory.memory_locale(raw_locale)
    source_locale = i18n.registry().source
    store = tmxfile(sourcelanguage=source_locale, targetlanguage=locale)
    seen: set[tuple[str, str]] = set()
    for source, target in db.session.execute(
        sa.select(MemorySource.text, MemoryUnit.target)
        .join(MemoryUnit, MemoryUnit.source_id == MemorySource.id)
        .where(MemoryUnit.locale == locale, MemorySource.locale == source_locale)
        .order_by(MemoryUnit.imported, MemoryUnit.id)
    ):
        if (source, target) not in seen:
            seen.add((source, target))
            store.addtranslation(source, source_locale, target, locale)
    return bytes(store)


@dataclass(frozen=True)
class ImportReport:
    created: int
    unchanged: int


def _language_of(tag: str | None) -> str | None:
    if not tag:
        return None
    try:
        return i18n.normalise_tag(tag).split("-")[0].lower()
    except i18n.MalformedLocale:
        return tag.lower()


def _tmx_pairs(data: bytes, source_locale: str, locale: str) -> list[tuple[str, str]]:
    from translate.misc.xml_helpers import getXMLlang
    from translate.storage.tmx import tmxfile

    def refuse(message: str) -> Unprocessable:
        return Unprocessable(message, errors={"file": [message]})

    try:
        store = tmxfile.parsestring(data)
    except Exception:
        raise refuse(gettext("The file is not a TMX document.")) from None
    header = store.document.getroot().find("header")
    srclang = header.get("srclang") if header is not None else None
    wanted = {_language_of(source_locale), _language_of(locale)}
    if _language_of(srclang) not in (_language_of(source_locale), "*all*"):
        raise refuse(
            gettext(
                "The file's source language is %(found)s, not %(expected)s.",
                found=srclang or "-",
                expected=source_locale,
            )
        )
    pairs: list[tuple[str, str]] = []
    for unit in store.units:
        texts: dict[str | None, str] = {}
        for node in unit.getlanguageNodes():
            language = _language_of(getXMLlang(node) or node.get("lang"))
            if language not in wanted:
                raise refuse(
                    gettext(
                        "The file has text in %(found)s; this memory pairs %(source)s"
                        " with %(target)s.",
                        found=language or "-",
                        source=source_locale,
                        target=locale,
                    )
                )
            seg = node.find("seg")
            texts[language] = collapse_spaces("".join(seg.itertext())) if seg is not None else ""
        source, target = texts.get(_language_of(source_locale)), texts.get(_language_of(locale))
        if source and target and max(len(source), len(target)) <= memory.MAX_SEGMENT:
            pairs.append((source, target))
    if not pairs:
        raise refuse(gettext("The file has no translation units for this language pair."))
    return pairs


def import_tmx(data: bytes, raw_locale: str | None, actor: User) -> ImportReport:
    """Add a TMX file's units to one locale's memory (admins); all or nothing."""
    if actor.role != "admin":
        raise Forbidden(gettext("Only admins may import into the translation memory."))
    locale = memory.memory_locale(raw_locale)
    source_locale = i18n.registry().source
    pairs = list(dict.fromkeys(_tmx_pairs(data, source_locale, locale)))
    created = unchanged = 0
    with transaction():
        for source, target in pairs:
            source_id = memory.stored_source(source, source_locale)
            exists = db.session.scalar(
                sa.select(MemoryUnit.id).where(
                    MemoryUnit.locale == locale,
                    MemoryUnit.source_id == source_id,
                    MemoryUnit.target_digest == memory.digest(target),
                )
            )
            if exists is not None:
                unchanged += 1
                continue
            db.session.add(
                MemoryUnit(
                    source_id=source_id,
                    locale=locale,
                    target=target,
                    target_folded=memory.fold(target),
                    target_digest=memory.digest(target),
                    translation_id=None,
                    position=0,
                    imported=True,
                )
            )
            created += 1
        audit.record(
            "memory.imported",
            actor=actor,
            locale=locale,
            after={"created": created, "unchanged": unchanged},
        )
    return ImportReport(created, unchanged)
