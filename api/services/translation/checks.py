"""Quality checks run on every translation submission and again on approval.

Each check is registered with a stable code, a severity and a lazily translated message
template that uses named placeholders only. A result keeps the code and its parameters, so
it can be stored as JSON and its message rendered later in each reader's locale.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from babel import Locale
from babel.numbers import format_decimal
from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from api.errors import Unprocessable
from api.services.aids import wordforms
from api.services.text import CONTROL_CHARACTERS, collapse_spaces
from api.services.translation.check_text import (
    MARK_CLASS,
    MARKDOWN_ELEMENTS,
    blank,
    difference,
    end_mark,
    expansion,
    expected_script,
    find_markup,
    imbalance,
    language,
    letter_script,
    markdown_counts,
    numbers,
    present,
    prose,
    script_words,
)

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


def _fields(data: CheckInput) -> Iterator[tuple[str, str, str]]:
    """``(field, source, translation)`` for each field present on both sides."""
    if (
        data.source_heading is not None
        and data.heading is not None
        and present(data.source_heading)
        and present(data.heading)
    ):
        yield "heading", data.source_heading, data.heading
    if present(data.body):
        yield "body", data.source_body, data.body


@check("empty", BLOCKING, _l("This field is empty."))
def _check_empty(data: CheckInput) -> Iterator[Finding]:
    """The body, or a heading the source has, is empty or whitespace only."""
    if present(data.source_heading) and data.heading is not None and blank(data.heading):
        yield "heading", {}
    if blank(data.body):
        yield "body", {}


@check(
    "heading_missing",
    BLOCKING,
    _l("The source has a heading, so the translation needs one too."),
)
def _check_heading_missing(data: CheckInput) -> Iterator[Finding]:
    if present(data.source_heading) and data.heading is None:
        yield "heading", {}


@check(
    "heading_extra",
    BLOCKING,
    _l("The source has no heading, so the translation must not have one."),
)
def _check_heading_extra(data: CheckInput) -> Iterator[Finding]:
    if not present(data.source_heading) and present(data.heading):
        yield "heading", {}


@check(
    "markup",
    BLOCKING,
    _l("HTML, scripts and javascript: links are not allowed: %(markup)s"),
)
def _check_markup(data: CheckInput) -> Iterator[Finding]:
    for where, text in (("heading", data.heading), ("body", data.body)):
        if text is not None and (found := find_markup(text)) is not None:
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
    if language(data.locale) == language(data.source_locale):
        return
    for where, source, text in _fields(data):
        if any(ch.isalpha() for ch in source) and collapse_spaces(source) == collapse_spaces(text):
            yield where, {}


@check(
    "numbers",
    WARNING,
    _l("The numbers differ from the source: %(missing)s missing, %(extra)s extra."),
    display=_labels(missing={"": _l("none")}, extra={"": _l("none")}),
)
def _check_numbers(data: CheckInput) -> Iterator[Finding]:
    for where, source, text in _fields(data):
        expected = numbers(prose(source), data.source_locale)
        actual = numbers(prose(text), data.locale)
        if Counter(expected) != Counter(actual):
            yield (
                where,
                {
                    "missing": difference(expected, actual),
                    "extra": difference(actual, expected),
                },
            )


@check(
    "markdown",
    WARNING,
    _l(
        "Different number of %(element)s: %(count)s in the translation, "
        "%(source_count)s in the source."
    ),
    display=_labels(element=MARKDOWN_ELEMENTS),
)
def _check_markdown(data: CheckInput) -> Iterator[Finding]:
    for where, source, text in _fields(data):
        expected, actual = markdown_counts(source), markdown_counts(text)
        for element in MARKDOWN_ELEMENTS:
            if expected[element] != actual[element]:
                yield (
                    where,
                    {
                        "element": element,
                        "count": actual[element],
                        "source_count": expected[element],
                    },
                )


@check("brackets", WARNING, _l("Unbalanced brackets or quotes: %(pair)s"))
def _check_brackets(data: CheckInput) -> Iterator[Finding]:
    for where, source, text in _fields(data):
        expected, actual = imbalance(source), imbalance(text)
        for pair, state in actual.items():
            if state != (0, 0) and state != expected[pair]:
                yield where, {"pair": pair}


_MIN_SOURCE_LENGTH = 20


@check(
    "length_ratio",
    WARNING,
    _l(
        "The translation is %(percent)s%% of the length of the source; "
        "about %(expected)s%% is usual for this language."
    ),
)
def _check_length_ratio(data: CheckInput) -> Iterator[Finding]:
    expected = expansion(data.locale) / expansion(data.source_locale)
    for where, source, text in _fields(data):
        source_length = len(collapse_spaces(source))
        if source_length < _MIN_SOURCE_LENGTH:
            continue
        ratio = len(collapse_spaces(text)) / source_length
        if ratio < 0.5 * expected or ratio > 2.0 * expected:
            yield where, {"percent": round(ratio * 100), "expected": round(expected * 100)}


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
    script = expected_script(data.locale)
    words = script_words(script) if script else ()
    if not script or not words:
        return
    for where, _source, text in _fields(data):
        letters = [ch for ch in prose(text) if unicodedata.category(ch).startswith("L")]
        if not letters:
            continue
        share = sum(1 for ch in letters if letter_script(ch) in words) / len(letters)
        if share < 0.5:
            yield where, {"script": script, "percent": int(share * 100)}


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
        expected, actual = end_mark(source), end_mark(text)
        if MARK_CLASS.get(expected) != MARK_CLASS.get(actual):
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
        source_words = wordforms.word_forms(prose(source), data.source_locale)
        text_words: list[frozenset[str]] | None = None
        for entry in data.glossary:
            if not wordforms.find(entry.term, source_words, data.source_locale):
                continue
            if text_words is None:
                text_words = wordforms.word_forms(prose(text), data.locale)
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
