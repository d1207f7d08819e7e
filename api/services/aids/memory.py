"""The translation memory: sentence pairs from approved translations, found again by meaning.

What is in it follows the workflow's events (``follow``): approving or restoring a version
adds its sentence pairs; a superseded version keeps them (it was approved, and still
translates the text it was made from); unpublishing, rejecting or withdrawing removes
them. Units imported from TMX files sit beside the project's own and rank below them.

Finding: each source sentence is stored once (``MemorySource``) with its folded words
(``MemoryWord``). Candidates for a sentence are the stored sentences sharing its rarest
words, found in SQL by plain equality on the word index (the same on SQLite and
PostgreSQL, whatever the database's collation), then scored by rapidfuzz in Python:
an identical sentence scores 100, others ``fuzz.ratio`` of the folded texts, at most 99.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app
from flask_babel import gettext
from rapidfuzz import fuzz
from sentencex import segment

from api import i18n
from api.errors import Unprocessable
from api.extensions import db
from api.models import (
    Essay,
    Event,
    MemorySource,
    MemoryUnit,
    MemoryWord,
    SourceRevision,
    TranslationVersion,
    Unit,
)
from api.services import effects
from api.services.content import get_essay, get_unit
from api.services.text import collapse_spaces, contains_pattern

ADDS = frozenset({"translation.approved", "translation.restored"})
REMOVES = frozenset({"translation.unpublished", "translation.rejected", "translation.withdrawn"})

MAX_QUERY = 200
MAX_SEGMENT = 2000
RARE_WORDS = 4
CANDIDATES = 30
PER_SEGMENT = 3

_PARAGRAPH = re.compile(r"\n[ \t]*\n+")
_WORD = re.compile(r"\w+")
_SPACE_LIKE = str.maketrans({"\u200c": " ", "\u0640": None})


def fold(text: str) -> str:
    """A text's search form: compatibility forms, case, accents and diacritics folded."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPACE_LIKE))
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(unicodedata.normalize("NFC", kept).casefold().split())


def _words(folded: str) -> list[str]:
    return list(dict.fromkeys(w[:64] for w in _WORD.findall(folded) if len(w) >= 2))


def digest(folded: str) -> str:
    """What a stored text is told apart by."""
    return hashlib.sha256(folded.encode()).hexdigest()


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPH.split(text.strip()) if p.strip()]


def sentences(text: str, locale: str) -> list[str]:
    """The sentences of a Markdown text, paragraph by paragraph (sentencex, per language)."""
    lang = i18n.normalise_tag(locale).split("-")[0]
    out: list[str] = []
    for paragraph in _paragraphs(text):
        out.extend(s for s in (collapse_spaces(s) for s in segment(lang, paragraph)) if s)
    return out


def align(
    source: tuple[str | None, str],
    target: tuple[str | None, str],
    source_locale: str,
    locale: str,
) -> list[tuple[str, str]]:
    """Sentence pairs of a translation: heading to heading, then the body.

    Paragraphs pair in order when both texts have as many; within a paragraph, sentences
    pair when both sides have as many, or else the paragraph is one pair. Texts whose
    paragraphs do not correspond pair whole, when short enough to be useful.
    """
    pairs: list[tuple[str, str]] = []
    if source[0] and target[0] and source[0].strip() and target[0].strip():
        pairs.append((collapse_spaces(source[0]), collapse_spaces(target[0])))
    source_paragraphs, target_paragraphs = _paragraphs(source[1]), _paragraphs(target[1])
    if len(source_paragraphs) != len(target_paragraphs):
        source_paragraphs, target_paragraphs = [source[1]], [target[1]]
    for src, tgt in zip(source_paragraphs, target_paragraphs, strict=True):
        src_sentences, tgt_sentences = sentences(src, source_locale), sentences(tgt, locale)
        if len(src_sentences) == len(tgt_sentences):
            pairs.extend(zip(src_sentences, tgt_sentences, strict=True))
        else:
            pairs.append((collapse_spaces(src), collapse_spaces(tgt)))
    return [(s, t) for s, t in pairs if s and t and max(len(s), len(t)) <= MAX_SEGMENT]


def _insert(table: sa.Table) -> Any:
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def stored_source(text: str, locale: str) -> int:
    """The stored source sentence, added with its words when new (safe under races)."""
    folded = fold(text)
    hashed = digest(folded)
    table = MemorySource.__table__
    created = db.session.execute(
        _insert(table)
        .values(locale=locale, text=text, folded=folded, digest=hashed, length=len(folded))
        .on_conflict_do_nothing(index_elements=["locale", "digest"])
        .returning(table.c.id)
    ).scalar()
    if created is not None:
        if words := _words(folded):
            db.session.execute(
                sa.insert(MemoryWord), [{"word": w, "source_id": created} for w in words]
            )
        return int(created)
    return db.session.execute(
        sa.select(MemorySource.id).where(
            MemorySource.locale == locale, MemorySource.digest == hashed
        )
    ).scalar_one()


def remember(version: TranslationVersion) -> int:
    """Store an approved version's sentence pairs (again: a version is stored once)."""
    forget(version.id)
    unit = version.unit
    essay = unit.essay
    source = db.session.execute(
        sa.select(SourceRevision).where(
            SourceRevision.unit_id == unit.id,
            SourceRevision.revision == version.source_revision,
        )
    ).scalar_one()
    pairs = align(
        (source.heading, source.body),
        (version.heading, version.body),
        essay.source_locale,
        version.locale,
    )
    rows = [
        {
            "source_id": stored_source(src, essay.source_locale),
            "locale": version.locale,
            "target": tgt,
            "target_folded": fold(tgt),
            "target_digest": digest(tgt),
            "translation_id": version.id,
            "position": position,
            "imported": False,
        }
        for position, (src, tgt) in enumerate(pairs)
    ]
    if rows:
        db.session.execute(sa.insert(MemoryUnit), rows)
    return len(rows)


def forget(translation_id: int) -> None:
    db.session.execute(sa.delete(MemoryUnit).where(MemoryUnit.translation_id == translation_id))


def follow(event: Event) -> None:
    """Keep the memory in step with what has been approved."""
    if event.translation_id is None:
        return
    if event.action in ADDS:
        version = db.session.get(TranslationVersion, event.translation_id)
        if version is not None and version.status == "approved":
            remember(version)
    elif event.action in REMOVES:
        forget(event.translation_id)


def init_app(app: Flask) -> None:
    """The memory follows what is approved (``follow``)."""
    effects.derivers(app).add(follow)


@dataclass
class Suggestion:
    """A stored sentence pair offered for a sentence of the text being translated."""

    segment: str
    source: str
    translation: str
    score: int
    imported: bool
    origin: dict[str, Any]
    position: int = 0
    unit_id: int = 0
    from_locale: str | None = None

    def sort_key(self) -> tuple[Any, ...]:
        return (self.imported, -self.score, self.position, -self.unit_id)


@dataclass(frozen=True)
class _Source:
    id: int
    text: str
    folded: str
    length: int


def score(query: str, folded_query: str, candidate: str, folded_candidate: str) -> int:
    """100 for the same sentence; else the folded texts' similarity, 0–99."""
    if collapse_spaces(query) == collapse_spaces(candidate):
        return 100
    return min(99, round(fuzz.ratio(folded_query, folded_candidate)))


def _retrieve(folded: Sequence[str], source_locale: str) -> list[list[int]]:
    """Per query sentence, the ids of stored sentences sharing its rarest words."""
    words = [_words(f) for f in folded]
    every = sorted({w for ws in words for w in ws})
    frequency: dict[str, int] = {}
    if every:
        frequency = dict(
            db.session.execute(
                sa.select(MemoryWord.word, sa.func.count())
                .where(MemoryWord.word.in_(every))
                .group_by(MemoryWord.word)
            ).all()
        )
    rare = [
        sorted((w for w in ws if frequency.get(w)), key=lambda w: (frequency[w], -len(w), w))[
            :RARE_WORDS
        ]
        for ws in words
    ]
    postings: dict[str, list[int]] = defaultdict(list)
    wanted = sorted({w for ws in rare for w in ws})
    if wanted:
        for word, source_id in db.session.execute(
            sa.select(MemoryWord.word, MemoryWord.source_id).where(MemoryWord.word.in_(wanted))
        ):
            postings[word].append(source_id)
    exact = dict(
        db.session.execute(
            sa.select(MemorySource.digest, MemorySource.id).where(
                MemorySource.locale == source_locale,
                MemorySource.digest.in_({digest(f) for f in folded}),
            )
        ).all()
    )
    chosen: list[list[int]] = []
    for f, ws in zip(folded, rare, strict=True):
        hits = Counter(source_id for w in ws for source_id in postings[w])
        ids = [source_id for source_id, _ in sorted(hits.items(), key=lambda h: (-h[1], h[0]))]
        if (same := exact.get(digest(f))) is not None:
            ids.insert(0, same)
        chosen.append(list(dict.fromkeys(ids))[:CANDIDATES])
    return chosen


def _sources(ids: Iterable[int], source_locale: str, locale: str) -> dict[int, _Source]:
    """The stored sentences among ``ids`` that have a unit in the locale."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    has_unit = (
        sa.select(MemoryUnit.id)
        .where(MemoryUnit.source_id == MemorySource.id, MemoryUnit.locale == locale)
        .exists()
    )
    rows = db.session.execute(
        sa.select(
            MemorySource.id, MemorySource.text, MemorySource.folded, MemorySource.length
        ).where(MemorySource.id.in_(wanted), MemorySource.locale == source_locale, has_unit)
    )
    return {row.id: _Source(row.id, row.text, row.folded, row.length) for row in rows}


def _renderings(ids: Iterable[int], locale: str) -> dict[int, list[Any]]:
    """Each source's distinct renderings in the locale, with the newest unit of each."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    newest = db.session.scalars(
        sa.select(sa.func.max(MemoryUnit.id))
        .where(MemoryUnit.locale == locale, MemoryUnit.source_id.in_(wanted))
        .group_by(MemoryUnit.source_id, MemoryUnit.target_digest, MemoryUnit.imported)
    ).all()
    # Two plain queries: the planner cannot tell how few rows the grouping leaves.
    rows = db.session.execute(
        sa.select(
            MemoryUnit.source_id,
            MemoryUnit.id.label("unit_id"),
            MemoryUnit.target,
            MemoryUnit.imported,
            TranslationVersion.version,
            Unit.key,
            Essay.slug,
        )
        .outerjoin(TranslationVersion, TranslationVersion.id == MemoryUnit.translation_id)
        .outerjoin(Unit, Unit.id == TranslationVersion.unit_id)
        .outerjoin(Essay, Essay.id == Unit.essay_id)
        .where(MemoryUnit.id.in_(sorted(newest)))
    ).all()
    found: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        found[row.source_id].append(
            (
                row.target,
                bool(row.imported),
                row.unit_id,
                {
                    "essay": row.slug,
                    "unit": row.key,
                    "version": row.version,
                    "imported": bool(row.imported),
                },
            )
        )
    return found


def min_score() -> int:
    return int(current_app.config["TM_MIN_SCORE"])


def match(queries: Sequence[str], source_locale: str, locale: str) -> list[Suggestion]:
    """The best stored pairs for each sentence, own units before imported ones."""
    minimum = min_score()
    folded = [fold(q) for q in queries]
    chosen = _retrieve(folded, source_locale)
    sources = _sources((i for ids in chosen for i in ids), source_locale, locale)
    scored: list[list[tuple[int, _Source]]] = []
    for query, folded_query, ids in zip(queries, folded, chosen, strict=True):
        kept: list[tuple[int, _Source]] = []
        for source in (sources[i] for i in ids if i in sources):
            shorter, longer = sorted((len(folded_query), source.length))
            # fuzz.ratio is at most 200 * shorter / (shorter + longer).
            if 400 * shorter < (2 * minimum - 1) * (shorter + longer):
                continue
            value = score(query, folded_query, source.text, source.folded)
            if value >= minimum:
                kept.append((value, source))
        kept.sort(key=lambda k: (-k[0], k[1].id))
        scored.append(kept[: 2 * PER_SEGMENT])
    renderings = _renderings((s.id for kept in scored for _, s in kept), locale)
    results: list[Suggestion] = []
    for position, (query, kept) in enumerate(zip(queries, scored, strict=True)):
        best: dict[tuple[str, str], Suggestion] = {}
        for value, source in kept:
            for target, imported, unit_id, origin in renderings.get(source.id, []):
                suggestion = Suggestion(
                    segment=query,
                    source=source.text,
                    translation=target,
                    score=value,
                    imported=imported,
                    origin=origin,
                    position=position,
                    unit_id=unit_id,
                )
                key = (source.text, target)
                if key not in best or suggestion.sort_key() < best[key].sort_key():
                    best[key] = suggestion
        results.extend(sorted(best.values(), key=Suggestion.sort_key)[:PER_SEGMENT])
    return sorted(results, key=Suggestion.sort_key)


def memory_locale(raw: str | None) -> str:
    """A target locale for the memory, or a 422 problem."""
    from api.services.aids.glossary import target_locale

    if not raw:
        message = gettext("Name the locale with ?locale=.")
        raise Unprocessable(message, errors={"locale": [message]})
    return target_locale(raw)


def memory_matches(essay: Essay, unit: Unit, locale: str) -> list[Suggestion]:
    """Memory matches for each sentence of a unit's current source text."""
    queries: list[str] = []
    if unit.heading and unit.heading.strip():
        queries.append(collapse_spaces(unit.heading))
    queries.extend(sentences(unit.body, essay.source_locale))
    return match(list(dict.fromkeys(queries)), essay.source_locale, locale)


def related_locales(locale: str) -> list[str]:
    """Locales whose approved text helps a translator of ``locale``: its fallback chain,
    then the related locales the deployment names (``RELATED_LOCALES``)."""
    registry = i18n.registry()
    chain = list(registry.chain(locale)[1:])
    chain += current_app.config["RELATED_LOCALES"].get(locale, [])
    wanted = (c for c in chain if c in registry.offered and c not in (locale, registry.source))
    return list(dict.fromkeys(wanted))


@dataclass(frozen=True)
class Related:
    """The approved text of the same unit in a related locale, and the source it renders."""

    locale: str
    version: TranslationVersion
    source: SourceRevision
    outdated: bool


def related_texts(unit: Unit, locale: str) -> list[Related]:
    """The unit's approved text in each of ``locale``'s related locales, in their order."""
    codes = related_locales(locale)
    if not codes:
        return []
    found = {
        v.locale: v
        for v in db.session.scalars(
            sa.select(TranslationVersion).where(
                TranslationVersion.unit_id == unit.id,
                TranslationVersion.locale.in_(codes),
                TranslationVersion.status == "approved",
            )
        )
    }
    revisions = {
        r.revision: r
        for r in db.session.scalars(
            sa.select(SourceRevision).where(
                SourceRevision.unit_id == unit.id,
                SourceRevision.revision.in_({v.source_revision for v in found.values()}),
            )
        )
    }
    return [
        Related(
            code,
            found[code],
            revisions[found[code].source_revision],
            found[code].source_hash != unit.source_hash,
        )
        for code in codes
        if code in found
    ]


def _related_suggestions(unit: Unit, related: list[Related]) -> list[Suggestion]:
    out = []
    for item in related:
        for name in ("heading", "body"):
            current, translation = getattr(unit, name), getattr(item.version, name)
            if not current or not translation:
                continue
            source = getattr(item.source, name) or ""
            out.append(
                Suggestion(
                    segment=current,
                    source=source,
                    translation=translation,
                    score=score(current, fold(current), source, fold(source)),
                    imported=False,
                    origin={
                        "essay": unit.essay.slug,
                        "unit": unit.key,
                        "version": item.version.version,
                        "imported": False,
                    },
                    unit_id=unit.id,
                    from_locale=item.locale,
                )
            )
    return out


def suggestions(slug: str, key: str, raw_locale: str | None) -> list[Suggestion]:
    """Memory matches for each sentence of a section's current source text, then the
    section's approved text in the locale's related locales (``from_locale``)."""
    essay = get_essay(slug)
    unit = get_unit(essay, key)
    locale = memory_locale(raw_locale)
    found = memory_matches(essay, unit, locale)
    return found + _related_suggestions(unit, related_texts(unit, locale))


def concordance(text: str, raw_locale: str | None) -> sa.Select[tuple[MemoryUnit]]:
    """Stored pairs whose source or translation contains the text, own units first."""
    locale = memory_locale(raw_locale)
    needle = fold(text)
    if not needle:
        message = gettext("Search for some text.")
        raise Unprocessable(message, errors={"q": [message]})
    if len(text) > MAX_QUERY:
        message = gettext("Search for at most %(max)s characters.", max=MAX_QUERY)
        raise Unprocessable(message, errors={"q": [message]})
    pattern = contains_pattern(needle)
    return (
        sa.select(MemoryUnit)
        .join(MemorySource, MemorySource.id == MemoryUnit.source_id)
        .options(
            so.contains_eager(MemoryUnit.source),
        )
        .where(
            MemoryUnit.locale == locale,
            sa.or_(
                MemorySource.folded.like(pattern, escape="\\"),
                MemoryUnit.target_folded.like(pattern, escape="\\"),
            ),
        )
        .order_by(MemoryUnit.imported, MemorySource.length, MemoryUnit.id)
    )


def concordance_items(units: list[MemoryUnit]) -> list[dict[str, Any]]:
    """Concordance rows shaped like suggestions, their origins loaded in one query."""
    ids = [u.translation_id for u in units if u.translation_id is not None]
    origins: dict[int, Any] = {}
    if ids:
        origins = {
            row.id: row
            for row in db.session.execute(
                sa.select(TranslationVersion.id, TranslationVersion.version, Unit.key, Essay.slug)
                .join(Unit, Unit.id == TranslationVersion.unit_id)
                .join(Essay, Essay.id == Unit.essay_id)
                .where(TranslationVersion.id.in_(ids))
            )
        }
    items = []
    for unit in units:
        row = origins.get(unit.translation_id) if unit.translation_id is not None else None
        items.append(
            {
                "source": unit.source.text,
                "translation": unit.target,
                "origin": {
                    "essay": row.slug if row else None,
                    "unit": row.key if row else None,
                    "version": row.version if row else None,
                    "imported": unit.imported,
                },
            }
        )
    return items


def texts(items: Iterable[Suggestion]) -> list[dict[str, Any]]:
    return [
        {
            "segment": s.segment,
            "source": s.source,
            "translation": s.translation,
            "score": s.score,
            "origin": s.origin,
            "from_locale": s.from_locale,
        }
        for s in items
    ]
