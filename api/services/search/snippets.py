"""Snippets: the stretch of a text where a query's words are, with their offsets."""

from __future__ import annotations

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
    if len(text) <= length:
        begin, end = 0, len(text)
    elif not hits:
        begin, end = 0, _end(tokens, 0, length)
    else:
        begin, end = max(
            (_window(tokens, hit, length) for hit in hits),
            key=lambda span: _worth(span, hits),
        )
    prefix = ELLIPSIS if begin > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    snippet = prefix + text[begin:end].replace("\n", " ") + suffix
    shift = len(prefix) - begin
    inside = [hit for hit in hits if begin <= hit.start and hit.end <= end]
    highlights = [[hit.start + shift, hit.end + shift] for hit in inside]
    return snippet, highlights


def _window(tokens: Sequence[Token], hit: Token, length: int) -> tuple[int, int]:
    """The stretch that starts a little before ``hit``, at a word's start."""
    earliest = hit.start - length // _LEAD
    begin = next((t.start for t in tokens if t.start >= earliest), hit.start)
    if begin == tokens[0].start:
        begin = 0
    return begin, _end(tokens, begin, length)


def _end(tokens: Sequence[Token], begin: int, length: int) -> int:
    """The end of the last word that ends within ``length`` characters of ``begin``."""
    end = begin
    for token in tokens:
        if token.end > begin + length:
            break
        end = max(end, token.end)
    return end


def _worth(span: tuple[int, int], hits: Sequence[Token]) -> tuple[int, int, int]:
    begin, end = span
    inside = [hit for hit in hits if begin <= hit.start and hit.end <= end]
    terms = {hit.terms[0] for hit in inside}
    return len(terms), len(inside), -begin
