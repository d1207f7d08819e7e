"""Quality checks run on every translation submission and again on approval.

Each check is registered with a stable code, a severity and a lazily translated message
template that uses named placeholders only. A result keeps the code and its parameters, so
it can be stored as JSON and its message rendered later in each reader's locale.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from api.errors import Unprocessable
from api.services.aids import wordforms
from api.services.text import CONTROL_CHARACTERS, collapse_spaces

__all__ = [
    "BLOCKING",
    "CHECKS",
    "WARNING",
    "Check",
    "CheckInput",
    "CheckResult",
    "GlossaryEntry",
    "check",
    "refuse_blocking",
    "run_checks",
]

BLOCKING = "error"
WARNING = "warning"

Params = dict[str, str | int]
Finding = tuple[str | None, Params]
Display = Callable[[Mapping[str, str | int]], dict[str, Any]]


@dataclass(frozen=True)
class GlossaryEntry:
    """A glossary term (in the source language) and its renderings in the target locale."""

    term: str
    translations: tuple[str, ...]
    forbidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckInput:
    """A translation of one unit, with the source it translates and the locale's glossary."""

    locale: str
    source_locale: str
    source_heading: str | None
    source_body: str
    heading: str | None
    body: str
    max_length: int = 20000
    glossary: tuple[GlossaryEntry, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    """One problem found by a check; the message is rendered on access."""

    code: str
    severity: str
    field: str | None
    params: dict[str, str | int]

    @property
    def message(self) -> str:
        spec = CHECKS.get(self.code)
        if spec is None:
            return self.code
        return spec.render(self.params)

    def to_dict(self, *, with_message: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "field": self.field,
            "params": dict(self.params),
        }
        if with_message:
            data["message"] = self.message
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        code = str(data["code"])
        severity = data.get("severity")
        if severity is None and code in CHECKS:
            severity = CHECKS[code].severity
        return cls(
            code=code,
            severity=str(severity or WARNING),
            field=data.get("field"),
            params=dict(data.get("params") or {}),
        )


CheckFunction = Callable[[CheckInput], Iterable[Finding]]
CheckRunner = Callable[[CheckInput], list[CheckResult]]


@dataclass(frozen=True)
class Check:
    """A registered check: its runner, severity and message template."""

    code: str
    severity: str
    message: LazyString | str
    func: CheckRunner
    display: Display | None = None

    @property
    def msgid(self) -> str:
        return _msgid(self.message)

    def render(self, params: Mapping[str, str | int]) -> str:
        """The message in the current locale, or untranslated outside a Babel app."""
        shown = dict(self.display(params) if self.display else params)
        loc = _display_locale()
        values = _Defaulting(
            {k: format_decimal(v, locale=loc) if _is_int(v) else v for k, v in shown.items()}
        )
        try:
            return _translate(self.msgid) % values
        except (TypeError, ValueError):
            return self.msgid % values


CHECKS: dict[str, Check] = {}


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _msgid(text: LazyString | str) -> str:
    if isinstance(text, LazyString):
        return str(text._args[0])
    return str(text)


def _translate(msgid: str) -> str:
    try:
        return str(gettext(msgid))
    except Exception:
        return msgid


def _display_locale() -> Locale:
    try:
        loc = get_locale()
    except Exception:
        loc = None
    return loc if isinstance(loc, Locale) else Locale("en")


def _labels(**maps: Mapping[str, LazyString]) -> Display:
    """A display hook showing some parameter values as translated labels."""

    def display(params: Mapping[str, str | int]) -> dict[str, Any]:
        shown: dict[str, Any] = dict(params)
        for name, labels in maps.items():
            value = shown.get(name)
            if isinstance(value, str) and value in labels:
                shown[name] = _translate(_msgid(labels[value]))
        return shown

    return display


def check(
    code: str,
    severity: str,
    message: LazyString | str,
    *,
    display: Display | None = None,
) -> Callable[[CheckFunction], CheckRunner]:
    """Register a check whose function yields ``(field, params)`` findings."""
    if severity not in (BLOCKING, WARNING):
        raise ValueError(f"Unknown severity {severity!r} for check {code!r}.")

    def register(func: CheckFunction) -> CheckRunner:
        if code in CHECKS:
            raise ValueError(f"A check with code {code!r} is already registered.")

        @functools.wraps(func)
        def run(data: CheckInput) -> list[CheckResult]:
            return [
                CheckResult(code, severity, where, dict(params)) for where, params in func(data)
            ]

        CHECKS[code] = Check(code, severity, message, run, display)
        return run

    return register


def run_checks(data: CheckInput) -> list[CheckResult]:
    """Run every registered check, in registry order."""
    results: list[CheckResult] = []
    for spec in CHECKS.values():
        results.extend(spec.func(data))
    return results


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


def _present(text: str | None) -> bool:
    return text is not None and not _blank(text)


def _blank(text: str) -> bool:
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


@functools.cache
def blank_characters() -> str:
    """What the ``empty`` check calls blank, as the inside of a regular expression's class.

    Blank is whitespace and format characters (``Cf``: zero-width spaces, direction marks);
    they live in the Basic Multilingual Plane and planes 1 and 14.
    """
    blank = [
        code
        for plane in (0, 1, 14)
        for code in range(plane * 0x10000, (plane + 1) * 0x10000)
        if _blank(chr(code))
    ]
    ranges: list[tuple[int, int]] = []
    for code in blank:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(chr(low) if low == high else f"{chr(low)}-{chr(high)}" for low, high in ranges)


def _fields(data: CheckInput) -> Iterator[tuple[str, str, str]]:
    """``(field, source, translation)`` for each field present on both sides."""
    if (
        data.source_heading is not None
        and data.heading is not None
        and _present(data.source_heading)
        and _present(data.heading)
    ):
        yield "heading", data.source_heading, data.heading
    if _present(data.body):
        yield "body", data.source_body, data.body


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


def _prose(text: str) -> str:
    """The visible text: no code, link destinations or URLs."""
    text = _FENCE.sub("\n", text)
    text = _strip_code_spans(text)[0]
    text = _LINK.sub(lambda m: m[2], text)
    text = _AUTOLINK.sub(" ", text)
    return _BARE_URL.sub(" ", text)


def _language(tag: str) -> str:
    return re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()


@functools.lru_cache(maxsize=64)
def _babel_locale(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        try:
            return Locale.parse(_language(tag))
        except (ValueError, TypeError, UnknownLocaleError):
            return None


def _snippet(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _find_markup(text: str) -> str | None:
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


@check("empty", BLOCKING, _l("This field is empty."))
def _check_empty(data: CheckInput) -> Iterator[Finding]:
    """The body, or a heading the source has, is empty or whitespace only."""
    if _present(data.source_heading) and data.heading is not None and _blank(data.heading):
        yield "heading", {}
    if _blank(data.body):
        yield "body", {}


@check(
    "heading_missing",
    BLOCKING,
    _l("The source has a heading, so the translation needs one too."),
)
def _check_heading_missing(data: CheckInput) -> Iterator[Finding]:
    if _present(data.source_heading) and data.heading is None:
        yield "heading", {}


@check(
    "heading_extra",
    BLOCKING,
    _l("The source has no heading, so the translation must not have one."),
)
def _check_heading_extra(data: CheckInput) -> Iterator[Finding]:
    if not _present(data.source_heading) and _present(data.heading):
        yield "heading", {}


@check(
    "markup",
    BLOCKING,
    _l("HTML, scripts and javascript: links are not allowed: %(markup)s"),
)
def _check_markup(data: CheckInput) -> Iterator[Finding]:
    for where, text in (("heading", data.heading), ("body", data.body)):
        if text is not None and (found := _find_markup(text)) is not None:
            yield where, {"markup": found}


@check(
    "too_long",
    BLOCKING,
    _l("The translation is %(length)s characters long; the limit is %(limit)s."),
)
def _check_too_long(data: CheckInput) -> Iterator[Finding]:
    length = len(data.heading or "") + len(data.body)
    if length > data.max_length:
        yield None, {"length": length, "limit": data.max_length}


@check(
    "control",
    BLOCKING,
    _l(
        "The text contains the control character %(character)s; tabs and line breaks are"
        " the only ones allowed."
    ),
)
def _check_control(data: CheckInput) -> Iterator[Finding]:
    for where, text in (("heading", data.heading), ("body", data.body)):
        if text is not None and (found := CONTROL_CHARACTERS.search(text)):
            yield where, {"character": f"U+{ord(found.group()):04X}"}


@check("identical", WARNING, _l("The translation is identical to the source."))
def _check_identical(data: CheckInput) -> Iterator[Finding]:
    if _language(data.locale) == _language(data.source_locale):
        return
    for where, source, text in _fields(data):
        if any(ch.isalpha() for ch in source) and collapse_spaces(source) == collapse_spaces(text):
            yield where, {}


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


def _numbers(text: str, tag: str) -> list[str]:
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


def _difference(first: list[str], second: list[str], limit: int = 10) -> str:
    remaining = Counter(first) - Counter(second)
    out: list[str] = []
    for number in first:
        if remaining[number] > 0:
            remaining[number] -= 1
            out.append(number)
    shown = ", ".join(out[:limit])
    return shown + ", …" if len(out) > limit else shown


@check(
    "numbers",
    WARNING,
    _l("The numbers differ from the source: %(missing)s missing, %(extra)s extra."),
    display=_labels(missing={"": _l("none")}, extra={"": _l("none")}),
)
def _check_numbers(data: CheckInput) -> Iterator[Finding]:
    for where, source, text in _fields(data):
        expected = _numbers(_prose(source), data.source_locale)
        actual = _numbers(_prose(text), data.locale)
        if Counter(expected) != Counter(actual):
            yield (
                where,
                {
                    "missing": _difference(expected, actual),
                    "extra": _difference(actual, expected),
                },
            )


_MARKDOWN_ELEMENTS = {
    "link": _l("links"),
    "image": _l("images"),
    "emphasis": _l("emphasised passages"),
    "list_item": _l("list items"),
    "code": _l("inline code spans"),
    "heading": _l("headings"),
}


def _markdown_counts(text: str) -> dict[str, int]:
    text = _FENCE.sub("\n", text)
    counts = dict.fromkeys(_MARKDOWN_ELEMENTS, 0)
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


@check(
    "markdown",
    WARNING,
    _l(
        "Different number of %(element)s: %(count)s in the translation, "
        "%(source_count)s in the source."
    ),
    display=_labels(element=_MARKDOWN_ELEMENTS),
)
def _check_markdown(data: CheckInput) -> Iterator[Finding]:
    for where, source, text in _fields(data):
        expected, actual = _markdown_counts(source), _markdown_counts(text)
        for element in _MARKDOWN_ELEMENTS:
            if expected[element] != actual[element]:
                yield (
                    where,
                    {
                        "element": element,
                        "count": actual[element],
                        "source_count": expected[element],
                    },
                )


_PAIRS = ("()", "[]", "{}", "«»", "“”", "‘’")
_ORDERED_PAIRS = frozenset({"()", "[]", "{}", "«»"})
_LIST_PAREN = re.compile(r"^[ \t]*\w{1,3}\)(?=\s)", re.M)
_INNER_APOSTROPHE = re.compile(r"(?<=\w)[‘’](?=\w)")


def _imbalance(text: str) -> dict[str, tuple[int, int]]:
    """Per pair: unmatched closing and opening marks; for ``"``, the count modulo 2."""
    text = _INNER_APOSTROPHE.sub("", _LIST_PAREN.sub("", _prose(text)))
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


@check("brackets", WARNING, _l("Unbalanced brackets or quotes: %(pair)s"))
def _check_brackets(data: CheckInput) -> Iterator[Finding]:
    for where, source, text in _fields(data):
        expected, actual = _imbalance(source), _imbalance(text)
        for pair, state in actual.items():
            if state != (0, 0) and state != expected[pair]:
                yield where, {"pair": pair}


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
_MIN_SOURCE_LENGTH = 20


def _expansion(tag: str) -> float:
    return _EXPANSION_FROM_ENGLISH.get(_language(tag), 1.0)


@check(
    "length_ratio",
    WARNING,
    _l(
        "The translation is %(percent)s%% of the length of the source; "
        "about %(expected)s%% is usual for this language."
    ),
)
def _check_length_ratio(data: CheckInput) -> Iterator[Finding]:
    expected = _expansion(data.locale) / _expansion(data.source_locale)
    for where, source, text in _fields(data):
        source_length = len(collapse_spaces(source))
        if source_length < _MIN_SOURCE_LENGTH:
            continue
        ratio = len(collapse_spaces(text)) / source_length
        if ratio < 0.5 * expected or ratio > 2.0 * expected:
            yield where, {"percent": round(ratio * 100), "expected": round(expected * 100)}


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
def _expected_script(tag: str) -> str | None:
    subtags = [s for s in re.split(r"[-_]", tag.strip()) if s]
    if not subtags:
        return None
    for sub in subtags[1:]:
        if len(sub) == 4 and sub.isalpha():
            return sub.title()
    likely: Mapping[str, str] = get_global("likely_subtags")
    language = subtags[0].lower()
    keys = [f"{language}_{sub.upper()}" for sub in subtags[1:2]] + [language]
    for key in keys:
        if key in likely:
            parts = likely[key].split("_")
            return parts[1] if len(parts) > 1 and len(parts[1]) == 4 else None
    return None


@functools.lru_cache(maxsize=64)
def _script_words(script: str) -> tuple[str, ...]:
    if script in _SCRIPT_WORDS:
        return _SCRIPT_WORDS[script]
    name = Locale("en").scripts.get(script, "")
    return (name.upper(),) if name and " " not in name else ()


def _letter_script(ch: str) -> str:
    words = unicodedata.name(ch, "").split()
    if words and words[0] in ("FULLWIDTH", "HALFWIDTH"):
        words = words[1:]
    return words[0] if words else ""


def _script_names(params: Mapping[str, str | int]) -> dict[str, Any]:
    shown: dict[str, Any] = dict(params)
    code = shown.get("script")
    if isinstance(code, str):
        shown["script"] = _display_locale().scripts.get(code, code)
    return shown


@check(
    "script",
    WARNING,
    _l("Only %(percent)s%% of the letters are in the %(script)s script expected here."),
    display=_script_names,
)
def _check_script(data: CheckInput) -> Iterator[Finding]:
    script = _expected_script(data.locale)
    words = _script_words(script) if script else ()
    if not script or not words:
        return
    for where, _source, text in _fields(data):
        letters = [ch for ch in _prose(text) if unicodedata.category(ch).startswith("L")]
        if not letters:
            continue
        share = sum(1 for ch in letters if _letter_script(ch) in words) / len(letters)
        if share < 0.5:
            yield where, {"script": script, "percent": int(share * 100)}


_MARK_CLASSES = {
    "?": "?؟？⸮",
    ".": ".۔。।…",
    ",": ",،、",
    ";": ";؛",
    "!": "!！",
    ":": ":：",
}
_MARK_CLASS = {mark: name for name, marks in _MARK_CLASSES.items() for mark in marks}
_TRAILING_CLOSERS = "\"'”’»›)]}*_~\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069"


def _end_mark(text: str) -> str:
    stripped = _prose(text)
    while (shorter := stripped.rstrip().rstrip(_TRAILING_CLOSERS)) != stripped:
        stripped = shorter
    last = stripped[-1:] if stripped else ""
    return last if last in _MARK_CLASS else ""


@check(
    "punctuation",
    WARNING,
    _l("The text should end like the source (%(source_mark)s) but ends with %(mark)s."),
    display=_labels(
        mark={"": _l("no punctuation mark")},
        source_mark={"": _l("no punctuation mark")},
    ),
)
def _check_punctuation(data: CheckInput) -> Iterator[Finding]:
    for where, source, text in _fields(data):
        expected, actual = _end_mark(source), _end_mark(text)
        if _MARK_CLASS.get(expected) != _MARK_CLASS.get(actual):
            yield where, {"mark": actual, "source_mark": expected}


@check(
    "glossary",
    WARNING,
    _l("The glossary renders %(term)s as %(expected)s; this translation has %(found)s."),
    display=_labels(found={"": _l("none of them")}),
)
def _check_glossary(data: CheckInput) -> Iterator[Finding]:
    """A source term whose translation uses none of its renderings, or a forbidden one."""
    if not data.glossary:
        return
    for where, source, text in _fields(data):
        source_words = wordforms.word_forms(_prose(source), data.source_locale)
        text_words: list[frozenset[str]] | None = None
        for entry in data.glossary:
            if not wordforms.find(entry.term, source_words, data.source_locale):
                continue
            if text_words is None:
                text_words = wordforms.word_forms(_prose(text), data.locale)
            found = next(
                (f for f in entry.forbidden if wordforms.find(f, text_words, data.locale)), None
            )
            if found is None and any(
                wordforms.find(t, text_words, data.locale) for t in entry.translations
            ):
                continue
            yield (
                where,
                {
                    "term": entry.term,
                    "expected": " / ".join(entry.translations),
                    "found": found or "",
                },
            )


def refuse_blocking(results: Iterable[CheckResult]) -> None:
    """422 with per-field messages when any check blocks."""
    errors: dict[str, list[str]] = {}
    blocking = [r for r in results if r.severity == BLOCKING]
    for result in blocking:
        errors.setdefault(result.field or "body", []).append(result.message)
    if blocking:
        raise Unprocessable(
            ngettext(
                "%(num)d quality check blocked this translation.",
                "%(num)d quality checks blocked this translation.",
                len(blocking),
            ),
            errors=errors,
            checks=[r.to_dict() | {"message": r.message} for r in blocking],
        )
