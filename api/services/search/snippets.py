"""Snippets: the stretch of a text where a query's words are, with their offsets."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence, Set

from api.services.search.analysis import Token

ELLIPSIS = "…"
# How far before its first word a snippet starts, as a share of its length.
_LEAD = 4


def cut(
    text: str, tokens: Sequence[Token], wanted: Set[str], length: int
) -> tuple[str, list[list[int]]]:
    """At most about ``length`` characters of ``text`` around the words that hold a
    ``wanted`` term, cut at word boundaries, and the offsets of those words in it.

    The stretch chosen holds the most different query terms, then the most matching
    words, then comes first. An ellipsis marks a cut; line breaks read as spaces.
    """
    hits = [token for token in tokens if not wanted.isdisjoint(token.terms)]
    # The words' starts and ends, both rising (words follow each other), to bisect.
    starts = [token.start for token in tokens]
    ends = [token.end for token in tokens]
    if len(text) <= length:
        begin, end = 0, len(text)
    elif not hits:
        begin, end = 0, _end(ends, 0, length)
    else:
        begin, end = max(
            (_window(starts, ends, hit, length) for hit in hits),
            key=lambda span: _worth(span, hits),
        )
    prefix = ELLIPSIS if begin > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    snippet = prefix + text[begin:end].replace("\n", " ") + suffix
    shift = len(prefix) - begin
    inside = [hit for hit in hits if begin <= hit.start and hit.end <= end]
    highlights = [[hit.start + shift, hit.end + shift] for hit in inside]
    return snippet, highlights


def _window(starts: list[int], ends: list[int], hit: Token, length: int) -> tuple[int, int]:
    """The stretch that starts a little before ``hit``, at a word's start."""
    earliest = hit.start - length // _LEAD
    first = bisect_left(starts, earliest)
    begin = starts[first] if first < len(starts) else hit.start
    if begin == starts[0]:
        begin = 0
    return begin, _end(ends, begin, length)


def _end(ends: list[int], begin: int, length: int) -> int:
    """The end of the last word that ends within ``length`` characters of ``begin``."""
    within = bisect_right(ends, begin + length)
    return max(begin, ends[within - 1]) if within else begin


def _worth(span: tuple[int, int], hits: Sequence[Token]) -> tuple[int, int, int]:
    begin, end = span
    inside = [hit for hit in hits if begin <= hit.start and hit.end <= end]
    terms = {hit.terms[0] for hit in inside}
    return len(terms), len(inside), -begin
