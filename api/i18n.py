"""Locales: parsing and normalising BCP 47 tags, negotiation, fallback chains, CLDR data."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import gettext
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from api.errors import LocaleNotOfferedError, MalformedLocaleError

# BCP 47 tags as the API takes them: language, script, region, variants. ASCII only, and
# spelt out rather than left to IGNORECASE, which lets "K" (the Kelvin sign) pass as a "k".
_LANGUAGE = "[A-Za-z]{2,3}"
_SCRIPT = "[A-Za-z]{4}"
_REGION = "(?:[A-Za-z]{2}|[0-9]{3})"
_VARIANT = "(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3})"
_TAG = re.compile(
    rf"(?P<language>{_LANGUAGE})"
    rf"(?:-(?P<script>{_SCRIPT}))?"
    rf"(?:-(?P<region>{_REGION}))?"
    rf"(?:-{_VARIANT})*"
)
_MAX_TAG_LENGTH = 64

ALL_LOCALES = "*"
# What a locale parameter takes, by kind (see ``LocaleRegistry.pattern``): any well-formed
# tag; a tag served by an offered locale (or also ``*``); an offered locale exactly; an
# offered locale other than the source, exactly.
LOCALE_KINDS = ("well-formed", "offered", "readable", "offered-exact", "target")
CONSOLE_BLUEPRINT = "console"
INTERFACE_LOCALE_KEY = "interface_locale"


class MalformedLocale(ValueError):
    """The text is not a well-formed BCP 47 language tag."""


def normalise_tag(raw: str) -> str:
    """Return the canonical BCP 47 spelling: ``ar_EG`` and ``AR-eg`` become ``ar-EG``."""
    text = raw.replace("_", "-")
    if not text or len(text) > _MAX_TAG_LENGTH or not _TAG.fullmatch(text):
        raise MalformedLocale(raw)
    parts = text.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def _candidates(tag: str) -> list[str]:
    """The tag, then ever shorter forms of it: ``zh-Hant-TW``, ``zh-Hant``, ``zh``."""
    match = _TAG.fullmatch(tag)
    if match is None:
        raise MalformedLocale(tag)
    language, script, region = match["language"].lower(), match["script"], match["region"]
    out = [tag]
    for candidate in (
        "-".join(p for p in (language, script and script.title(), region and region.upper()) if p),
        "-".join(p for p in (language, script and script.title()) if p),
        language,
    ):
        if candidate not in out:
            out.append(candidate)
    return out


def _spelt_any_case(text: str) -> str:
    """``pt-BR`` as a pattern for any case and either separator: ``[pP][tT][-_][bB][rR]``."""
    return "".join(
        f"[{ch.lower()}{ch.upper()}]" if ch.isalpha() else "[-_]" if ch == "-" else re.escape(ch)
        for ch in text
    )


def _taken_for(code: str) -> str:
    """A pattern for every tag that ``LocaleRegistry.resolve`` serves with ``code``.

    ``resolve`` tries the tag, then language-script-region, language-script and language:
    ``ar`` takes ``ar-Latn-EG``; ``pt-BR`` takes ``pt_br-x1234`` but not ``pt-Latn-BR``.
    """
    match = _TAG.fullmatch(code)
    if match is None:
        return _spelt_any_case(code)
    script, region = match["script"], match["region"]
    if match.end("region" if region else "script" if script else "language") < len(code):
        return _spelt_any_case(code)  # with variants: only the code itself
    pattern = _spelt_any_case(match["language"])
    if script:
        pattern += "[-_]" + _spelt_any_case(script)
    elif not region:
        pattern += f"(?:[-_]{_SCRIPT})?"
    pattern += "[-_]" + _spelt_any_case(region) if region else f"(?:[-_]{_REGION})?"
    return pattern + f"(?:[-_]{_VARIANT})*"


def tag_pattern(codes: Iterable[str], *, exact: bool = False, allow_all: bool = False) -> str:
    """A regular expression (ECMA 262 and Python read it alike) for the tags taken for ``codes``.

    ``exact`` takes only the codes themselves (in any case, with ``-`` or ``_``); otherwise
    every tag that resolves to one of them. ``allow_all`` adds ``*``. It documents in the
    OpenAPI document exactly what the server accepts.
    """
    codes = list(codes)
    languages = [code for code in codes if _TAG.fullmatch(code) and "-" not in code]
    if exact or len(languages) < 2:
        alternatives = [_spelt_any_case(code) if exact else _taken_for(code) for code in codes]
    else:
        # Bare languages share everything after the language: one group keeps it short.
        alternatives = [
            "(?:"
            + "|".join(_spelt_any_case(code) for code in languages)
            + ")"
            + _taken_for(languages[0])[len(_spelt_any_case(languages[0])) :],
            *(_taken_for(code) for code in codes if code not in languages),
        ]
    if allow_all:
        alternatives.insert(0, re.escape(ALL_LOCALES))
    return "^(?:" + "|".join(alternatives) + ")$"


WELL_FORMED_PATTERN = f"^{_LANGUAGE}(?:[-_]{_SCRIPT})?(?:[-_]{_REGION})?(?:[-_]{_VARIANT})*$"
MAX_TAG_LENGTH = _MAX_TAG_LENGTH


@dataclass(frozen=True)
class LocaleInfo:
    code: str
    name: str
    native_name: str
    direction: str
    fallback: tuple[str, ...]
    is_source: bool


@dataclass(frozen=True)
class Negotiated:
    """The outcome of locale negotiation for one request.

    ``requested`` is the ``?locale`` value as the client wrote it, or None when the locale
    came from ``Accept-Language`` or the default: a header's spelling never reaches a body,
    so an edge that normalises the header serves what the origin would.
    """

    requested: str | None
    locale: str


class LocaleRegistry:
    """The offered locales and their fallback chains, from configuration."""

    def __init__(
        self,
        offered: Sequence[str],
        *,
        source: str,
        default: str,
        fallbacks: dict[str, list[str]],
    ) -> None:
        self.source = normalise_tag(source)
        self.default = normalise_tag(default)
        codes = [normalise_tag(code) for code in offered]
        for code in (self.source, self.default):
            if code not in codes:
                codes.insert(0, code)
        self.offered: tuple[str, ...] = tuple(dict.fromkeys(codes))
        self._fallbacks = {
            normalise_tag(code): [normalise_tag(c) for c in chain]
            for code, chain in fallbacks.items()
        }
        for code, chain in self._fallbacks.items():
            unknown = [c for c in [code, *chain] if c not in self.offered]
            if unknown:
                raise ValueError(f"Fallback chain names locales not offered: {unknown}")
        self._chains = {code: tuple(self._build_chain(code)) for code in self.offered}
        self._patterns: dict[str, str] = {}
        self._compiled: dict[str, re.Pattern[str]] = {}

    def _build_chain(self, code: str) -> list[str]:
        chain: list[str] = []

        def visit(current: str) -> None:
            if current in chain:
                return
            chain.append(current)
            for nxt in self._fallbacks.get(current, []):
                visit(nxt)
            for shorter in _candidates(current)[1:]:
                if shorter in self.offered:
                    visit(shorter)

        visit(code)
        for last in (self.default, self.source):
            if last in chain:
                chain.remove(last)
            chain.append(last)
        if code in (self.default, self.source):
            chain.remove(code)
            chain.insert(0, code)
        return list(dict.fromkeys(chain))

    def chain(self, code: str) -> tuple[str, ...]:
        """The locale itself followed by every locale it falls back to, ending at the source."""
        return self._chains[code]

    def resolve(self, tag: str) -> str | None:
        """The offered locale for a normalised tag, trying regional and script variants' base."""
        for candidate in _candidates(tag):
            if candidate in self.offered:
                return candidate
        return None

    def negotiate_header(self, header: str | None, max_length: int) -> str | None:
        """The offered locale that best matches an ``Accept-Language`` header, or None."""
        if not header or len(header) > max_length:
            return None
        accept = parse_accept_header(header, LanguageAccept)
        for value, quality in accept:
            if quality <= 0 or value == "*":
                continue
            try:
                tag = normalise_tag(value)
            except MalformedLocale:
                continue
            if (code := self.resolve(tag)) is not None:
                return code
        return None

    @property
    def targets(self) -> tuple[str, ...]:
        """The offered locales that are translated into (all but the source)."""
        return tuple(code for code in self.offered if code != self.source)

    def pattern(self, kind: str) -> str:
        """The pattern of the locale tags a parameter of this kind takes (``LOCALE_KINDS``)."""
        found = self._patterns.get(kind)
        if found is None:
            found = self._patterns[kind] = self._pattern(kind)
        return found

    def _pattern(self, kind: str) -> str:
        if kind == "well-formed":
            return WELL_FORMED_PATTERN
        if kind == "offered":
            return tag_pattern(self.offered)
        if kind == "readable":
            return tag_pattern(self.offered, allow_all=True)
        if kind == "offered-exact":
            return tag_pattern(self.offered, exact=True)
        if kind == "target":
            return tag_pattern(self.targets, exact=True)
        raise ValueError(f"Unknown kind of locale parameter {kind!r}")

    def takes(self, kind: str, value: str) -> bool:
        """Whether a parameter of this kind takes ``value``, as its pattern says."""
        found = self._compiled.get(kind)
        if found is None:
            found = self._compiled[kind] = re.compile(self.pattern(kind)[1:-1])
        return len(value) <= _MAX_TAG_LENGTH and found.fullmatch(value) is not None

    @cached_property
    def infos(self) -> dict[str, LocaleInfo]:
        return {code: self._info(code) for code in self.offered}

    def _info(self, code: str) -> LocaleInfo:
        try:
            cldr = Locale.parse(code, sep="-")
            name = cldr.get_display_name("en") or code
            native = cldr.get_display_name(cldr) or name
            direction = cldr.text_direction
        except (UnknownLocaleError, ValueError):
            name = native = code
            direction = "ltr"
        return LocaleInfo(
            code=code,
            name=name,
            native_name=native,
            direction=direction,
            fallback=self.chain(code)[1:],
            is_source=code == self.source,
        )


def registry() -> LocaleRegistry:
    """The current app's locale registry."""
    return current_app.extensions["tarjuma.locales"]


def init_app(app: Flask) -> None:
    config = app.config
    app.extensions["tarjuma.locales"] = LocaleRegistry(
        config["LOCALES"],
        source=config["SOURCE_LOCALE"],
        default=config["DEFAULT_LOCALE"],
        fallbacks=config["FALLBACKS"],
    )


def negotiate_request(query_value: str | None) -> Negotiated:
    """Choose the locale for this request: ``?locale``, then ``Accept-Language``, then default.

    Raises ``MalformedLocale`` or ``LocaleNotOffered`` for a bad ``?locale``.
    """
    reg = registry()
    if query_value is not None:
        tag = normalise_tag(query_value)
        code = reg.resolve(tag)
        if code is None:
            raise LocaleNotOffered(tag)
        return Negotiated(requested=query_value, locale=code)
    max_length = current_app.config["MAX_ACCEPT_LANGUAGE"]
    found = reg.negotiate_header(request.headers.get("Accept-Language"), max_length)
    return Negotiated(requested=None, locale=found or reg.default)


class LocaleNotOffered(LookupError):
    """A well-formed tag that no offered locale serves."""

    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


def negotiate(query_value: str | None, allow_all: bool = True) -> Negotiated:
    """The request's locale, or a 400 problem for a malformed or unoffered ``?locale``.

    ``*`` (every locale at once) is accepted when ``allow_all`` says so.
    """
    if allow_all and query_value == ALL_LOCALES:
        return Negotiated(requested=ALL_LOCALES, locale=ALL_LOCALES)
    try:
        return negotiate_request(query_value)
    except MalformedLocale:
        raise MalformedLocaleError(
            gettext("%(code)s is not a well-formed locale code.", code=query_value),
            available_locales=list(registry().offered),
        ) from None
    except LocaleNotOffered as error:
        raise LocaleNotOfferedError(
            gettext("Locale %(code)s is not offered.", code=error.tag),
            available_locales=list(registry().offered),
        ) from None


def message_locale() -> str:
    """The locale for the API's own messages, negotiated like content; never raises.

    Console pages use the interface locale chosen with their switcher (kept in the
    session) before ``Accept-Language``.
    """
    reg = registry()
    if not has_request_context():
        return reg.default
    cached = g.get("message_locale")
    if cached:
        return cached
    code: str | None = None
    in_console = request.blueprint == CONSOLE_BLUEPRINT
    # In the console ``?locale`` names the content being worked on, not the interface.
    raw = None if in_console else request.args.get("locale")
    if raw and raw != "*":
        try:
            code = reg.resolve(normalise_tag(raw))
        except MalformedLocale:
            code = None
    if code is None and in_console:
        chosen = session.get(INTERFACE_LOCALE_KEY)
        code = chosen if chosen in reg.offered else None
    if code is None:
        found = reg.negotiate_header(
            request.headers.get("Accept-Language"), current_app.config["MAX_ACCEPT_LANGUAGE"]
        )
        code = found or reg.default
    g.message_locale = code
    return code


def babel_locale() -> str:
    """flask-babel's locale selector: Babel spells locales with underscores."""
    return message_locale().replace("-", "_")


@lru_cache(maxsize=256)
def display_name(code: str, language: str) -> str:
    """A locale's name written in ``language`` (its code when Babel knows no name)."""
    try:
        name = Locale.parse(code, sep="-").get_display_name(Locale.parse(language, sep="-"))
    except (UnknownLocaleError, ValueError):
        return code
    return name or code


def direction_of(code: str) -> str:
    info = registry().infos.get(code)
    return info.direction if info else "ltr"


def served_order(chain: Sequence[str], source: str) -> tuple[str, ...]:
    """The locales a reader whose chain is ``chain`` is served an essay's text from, in
    turn: the chain, then the essay's source."""
    return tuple(chain) if source in chain else (*chain, source)


def ordered(codes: Iterable[str]) -> list[str]:
    """Codes in the registry's offered order."""
    wanted = set(codes)
    return [code for code in registry().offered if code in wanted]
