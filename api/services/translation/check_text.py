"""What the quality checks read in a text: the visible prose, markup a reader must never
get, numbers as the locale writes them, Markdown elements, brackets and quotes, the script
of the letters and the mark a sentence ends with. Pure functions of text and locale tags.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.numbers import get_decimal_symbol, get_group_symbol
from flask_babel import lazy_gettext as _l

_FENCE = re.compile(r"^[ \t]*+(`{3,}+|~{3,}+)[^\n]*+\n.*?(?:^[ \t]*+\1[ \t]*+$|\Z)", re.M | re.S)
_BACKTICKS = re.compile(r"`+")
_LINK = re.compile(
    r"(!?)\[([^\[\]\n]*)\]\(\s*+(<[^<>\n]*>|(?:[^()\s]|\([^()\s]*\))*+)"
    r"(?:\s++(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*+\)"
)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}):[^<>\s]*>")
_BARE_URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>()]+", re.I)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|[0-9]{1,9}[.)])[ \t]+\S", re.M)
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)", re.M)
_STRONG = re.compile(
    r"\*\*(?=\S)((?:[^*\n]|\*(?!\*))+?)(?<=\S)\*\*"
    r"|(?<!\w)__(?=\S)((?:[^_\n]|_(?!_))+?)(?<=\S)__(?!\w)"
)
_EMPHASIS = re.compile(
    r"\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*|(?<!\w)_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)"
)

_TAG = re.compile(
    r"</?[A-Za-z][A-Za-z0-9-]*"
    r"(?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*"
    r"\s*/?>"
)
_HTML_BLOCK_START = re.compile(r"^ {0,3}</?[A-Za-z][A-Za-z0-9-]*(?=[ \t/>]|$)", re.M)
_RAW_TAG_START = re.compile(
    r"<(?:script|style|iframe|object|embed|svg|math|textarea|noscript|template)(?=[\s/>]|$)",
    re.I,
)
_HTML_SPECIAL = re.compile(r"<!(?:--|\[CDATA\[|[A-Za-z])|<\?")
_LINK_DESTINATION = re.compile(r"\]\(\s*(<[^<>\n]*>|[^\s)]*)")
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*<?([^\s>]*)", re.M)
_UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:")


def present(text: str | None) -> bool:
    return text is not None and not blank(text)


def blank(text: str) -> bool:
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


@functools.cache
def blank_characters() -> str:
    """What the ``empty`` check calls blank, as the inside of a regular expression's class.

    Blank is whitespace and format characters (``Cf``: zero-width spaces, direction marks);
    they live in the Basic Multilingual Plane and planes 1 and 14.
    """
    codes = [
        code
        for plane in (0, 1, 14)
        for code in range(plane * 0x10000, (plane + 1) * 0x10000)
        if blank(chr(code))
    ]
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(chr(low) if low == high else f"{chr(low)}-{chr(high)}" for low, high in ranges)


def _strip_code_spans(text: str) -> tuple[str, int]:
    """The text with each inline code span replaced by a space, and the number of spans.

    A span opens with a run of backticks and closes at the next run of the same length.
    """
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    later: dict[int, list[int]] = {}
    for index in reversed(range(len(runs))):
        later.setdefault(runs[index][1] - runs[index][0], []).append(index)
    pieces: list[str] = []
    position = index = spans = 0
    while index < len(runs):
        start, end = runs[index]
        candidates = later[end - start]
        while candidates and candidates[-1] <= index:
            candidates.pop()
        if not candidates:
            index += 1
            continue
        closing = candidates.pop()
        pieces += [text[position:start], " "]
        position = runs[closing][1]
        index = closing + 1
        spans += 1
    pieces.append(text[position:])
    return "".join(pieces), spans


def prose(text: str) -> str:
    """The visible text: no code, link destinations or URLs."""
    text = _FENCE.sub("\n", text)
    text = _strip_code_spans(text)[0]
    text = _LINK.sub(lambda m: m[2], text)
    text = _AUTOLINK.sub(" ", text)
    return _BARE_URL.sub(" ", text)


def language(tag: str) -> str:
    return re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()


@functools.lru_cache(maxsize=64)
def _babel_locale(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        try:
            return Locale.parse(language(tag))
        except (ValueError, TypeError, UnknownLocaleError):
            return None


def _snippet(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def find_markup(text: str) -> str | None:
    hits: list[tuple[int, str]] = []
    for pattern in (_TAG, _HTML_BLOCK_START, _RAW_TAG_START, _HTML_SPECIAL):
        if m := pattern.search(text):
            hits.append((m.start(), m.group().strip()))
    for pattern in (_LINK_DESTINATION, _REFERENCE_DEFINITION, _AUTOLINK):
        for m in pattern.finditer(text):
            group = 1 if pattern is not _AUTOLINK else 0
            if _unsafe_url(m.group(group)):
                hits.append((m.start(group), m.group(group)))
                break
    if not hits:
        return None
    return _snippet(min(hits, key=lambda hit: (hit[0], -len(hit[1])))[1])


def _unsafe_url(url: str) -> bool:
    decoded = html.unescape(url.strip("<>").replace("\\", ""))
    compact = re.sub(r"[\x00-\x20\x7f]", "", decoded).lower()
    return compact.startswith(_UNSAFE_SCHEMES)


_NUMBER = re.compile(r"\d+(?:[.,\u066b\u066c \u00a0\u2009\u202f]\d+)*")
_SPACES = frozenset(" \u00a0\u2009\u202f")


@dataclass(frozen=True)
class _NumberFormat:
    decimal: frozenset[str]
    group: frozenset[str]


@functools.lru_cache(maxsize=64)
def _number_format(tag: str) -> _NumberFormat:
    decimal, group = ".", ","
    if (loc := _babel_locale(tag)) is not None:
        decimal, group = get_decimal_symbol(loc), get_group_symbol(loc)
    decimals = {"\u066b", decimal}
    groups = {"\u066c", group}
    if group in _SPACES:
        groups |= _SPACES
    if decimal == ",":
        groups.add(".")
        decimals.add(".")
    elif decimal == ".":
        groups.add(",")
    return _NumberFormat(frozenset(decimals), frozenset(groups - {decimal}))


def _digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in text)


def _canonical(integer: str, fraction: str) -> str:
    whole = _digits(integer).lstrip("0") or "0"
    frac = _digits(fraction).rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def numbers(text: str, tag: str) -> list[str]:
    """Numbers in the text, as canonical ASCII strings, in order of appearance."""
    fmt = _number_format(tag)
    found: list[str] = []
    for m in _NUMBER.finditer(text):
        parts = re.split(r"(\D)", m.group())
        integer, fraction = [parts[0]], ""
        for sep, digits in zip(parts[1::2], parts[2::2], strict=True):
            if not fraction and sep in fmt.group and len(digits) == 3 and len(integer[0]) <= 3:
                integer.append(digits)
            elif not fraction and sep in fmt.decimal:
                fraction = digits
            else:
                found.append(_canonical("".join(integer), fraction))
                integer, fraction = [digits], ""
        found.append(_canonical("".join(integer), fraction))
    return found


def difference(first: list[str], second: list[str], limit: int = 10) -> str:
    remaining = Counter(first) - Counter(second)
    out: list[str] = []
    for number in first:
        if remaining[number] > 0:
            remaining[number] -= 1
            out.append(number)
    shown = ", ".join(out[:limit])
    return shown + ", …" if len(out) > limit else shown


MARKDOWN_ELEMENTS = {
    "link": _l("links"),
    "image": _l("images"),
    "emphasis": _l("emphasised passages"),
    "list_item": _l("list items"),
    "code": _l("inline code spans"),
    "heading": _l("headings"),
}


def markdown_counts(text: str) -> dict[str, int]:
    text = _FENCE.sub("\n", text)
    counts = dict.fromkeys(MARKDOWN_ELEMENTS, 0)
    text, counts["code"] = _strip_code_spans(text)
    counts["list_item"] = len(_LIST_ITEM.findall(text))
    counts["heading"] = len(_HEADING.findall(text))
    for m in _LINK.finditer(text):
        counts["image" if m[1] else "link"] += 1
    counts["link"] += sum(1 for _ in _AUTOLINK.finditer(text))
    text = _LINK.sub(lambda m: f" {m[2]} ", text)
    text = _BARE_URL.sub(" ", _AUTOLINK.sub(" ", text))
    text = _LIST_ITEM.sub(lambda m: m.group()[-1], text)
    strong = sum(1 for _ in _STRONG.finditer(text))
    text = _STRONG.sub(lambda m: m[1] if m[1] is not None else m[2], text)
    counts["emphasis"] = strong + sum(1 for _ in _EMPHASIS.finditer(text))
    return counts


_PAIRS = ("()", "[]", "{}", "«»", "“”", "‘’")
_ORDERED_PAIRS = frozenset({"()", "[]", "{}", "«»"})
_LIST_PAREN = re.compile(r"^[ \t]*\w{1,3}\)(?=\s)", re.M)
_INNER_APOSTROPHE = re.compile(r"(?<=\w)[‘’](?=\w)")


def imbalance(text: str) -> dict[str, tuple[int, int]]:
    """Per pair: unmatched closing and opening marks; for ``"``, the count modulo 2."""
    text = _INNER_APOSTROPHE.sub("", _LIST_PAREN.sub("", prose(text)))
    result: dict[str, tuple[int, int]] = {}
    for pair in _PAIRS:
        opening, closing = pair[0], pair[1]
        if pair in _ORDERED_PAIRS:
            depth = unmatched = 0
            for ch in text:
                if ch == opening:
                    depth += 1
                elif ch == closing:
                    if depth:
                        depth -= 1
                    else:
                        unmatched += 1
            result[pair] = (unmatched, depth)
        else:
            balance = text.count(opening) - text.count(closing)
            result[pair] = (max(0, -balance), max(0, balance))
    result['"'] = (0, text.count('"') % 2)
    return result


_EXPANSION_FROM_ENGLISH = {
    "en": 1.0,
    "ar": 0.95,
    "fa": 1.0,
    "fr": 1.2,
    "id": 1.15,
    "ms": 1.2,
    "tr": 1.05,
    "ur": 1.1,
}


def expansion(tag: str) -> float:
    return _EXPANSION_FROM_ENGLISH.get(language(tag), 1.0)


_SCRIPT_WORDS: dict[str, tuple[str, ...]] = {
    "Arab": ("ARABIC",),
    "Latn": ("LATIN",),
    "Cyrl": ("CYRILLIC",),
    "Grek": ("GREEK",),
    "Hebr": ("HEBREW",),
    "Deva": ("DEVANAGARI",),
    "Beng": ("BENGALI",),
    "Orya": ("ORIYA",),
    "Hans": ("CJK",),
    "Hant": ("CJK",),
    "Hani": ("CJK",),
    "Jpan": ("CJK", "HIRAGANA", "KATAKANA"),
    "Kore": ("HANGUL", "CJK"),
}


@functools.lru_cache(maxsize=64)
def expected_script(tag: str) -> str | None:
    subtags = [s for s in re.split(r"[-_]", tag.strip()) if s]
    if not subtags:
        return None
    for sub in subtags[1:]:
        if len(sub) == 4 and sub.isalpha():
            return sub.title()
    likely: Mapping[str, str] = get_global("likely_subtags")
    primary = subtags[0].lower()
    keys = [f"{primary}_{sub.upper()}" for sub in subtags[1:2]] + [primary]
    for key in keys:
        if key in likely:
            parts = likely[key].split("_")
            return parts[1] if len(parts) > 1 and len(parts[1]) == 4 else None
    return None


@functools.lru_cache(maxsize=64)
def script_words(script: str) -> tuple[str, ...]:
    if script in _SCRIPT_WORDS:
        return _SCRIPT_WORDS[script]
    name = Locale("en").scripts.get(script, "")
    return (name.upper(),) if name and " " not in name else ()


def letter_script(ch: str) -> str:
    words = unicodedata.name(ch, "").split()
    if words and words[0] in ("FULLWIDTH", "HALFWIDTH"):
        words = words[1:]
    return words[0] if words else ""


_MARK_CLASSES = {
    "?": "?؟？⸮",
    ".": ".۔。।…",
    ",": ",،、",
    ";": ";؛",
    "!": "!！",
    ":": ":：",
}
MARK_CLASS = {mark: name for name, marks in _MARK_CLASSES.items() for mark in marks}
_TRAILING_CLOSERS = "\"'”’»›)]}*_~\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069"


def end_mark(text: str) -> str:
    stripped = prose(text)
    while (shorter := stripped.rstrip().rstrip(_TRAILING_CLOSERS)) != stripped:
        stripped = shorter
    last = stripped[-1:] if stripped else ""
    return last if last in MARK_CLASS else ""
