"""Progress badges: the share of units published in a locale, as a small SVG image.

The label is the locale's own name (العربية, Türkçe) and the figure is formatted in that
locale (٪ and digits as CLDR writes them). Right-to-left locales get a mirrored badge with
the text marked right-to-left, so it reads naturally in either direction. Everything
written into the SVG is escaped.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from babel import Locale
from babel.numbers import format_percent
from flask_babel import gettext

from api import i18n
from api.errors import NotFound
from api.services.content import get_essay
from api.services.delivery import progress, releases
from api.services.outbound import edge

LABEL_COLOUR = "#555"


@dataclass(frozen=True)
class Badge:
    svg: bytes
    etag: str
    tags: str = edge.LIST_TAGS


def _locale(raw: str) -> str:
    registry = i18n.registry()
    try:
        code = i18n.normalise_tag(raw)
        resolved = code if code in registry.offered else registry.resolve(code)
    except i18n.MalformedLocale:
        resolved = None
    if resolved is None:
        raise NotFound(gettext("Locale %(code)s is not offered.", code=raw[:64]))
    return resolved


def _colour(percent: float) -> str:
    if percent >= 100:
        return "#2e7d32"
    if percent >= 75:
        return "#558b2f"
    if percent >= 40:
        return "#f9a825"
    return "#c62828"


def _width(text: str) -> int:
    """A width estimate for 11px Verdana-like text: wide letters count more."""
    width = 0.0
    for ch in text:
        if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 8.5 if unicodedata.east_asian_width(ch) in ("W", "F") else 6.8
    return int(width) + 12


def render(code: str, percent: float) -> Badge:
    """The badge of a locale at a percentage."""
    info = i18n.registry().infos[code]
    label = info.native_name
    value = format_percent(percent / 100, locale=Locale.parse(code.replace("-", "_")))
    rtl = info.direction == "rtl"
    label_width, value_width = _width(label), _width(value)
    total = label_width + value_width
    label_x, value_x = (value_width, 0) if rtl else (0, label_width)
    direction = ' direction="rtl" unicode-bidi="embed"' if rtl else ""
    title = f"{label}: {value}"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20"'
        f' role="img" aria-label={quoteattr(title)} xml:lang={quoteattr(code)}>'
        f"<title>{escape(title)}</title>"
        f'<rect x="{label_x}" width="{label_width}" height="20" fill="{LABEL_COLOUR}"/>'
        f'<rect x="{value_x}" width="{value_width}" height="20" fill="{_colour(percent)}"/>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,'
        'Noto Sans,Noto Naskh Arabic,sans-serif" font-size="11">'
        f'<text x="{label_x + label_width / 2:g}" y="14"{direction}>{escape(label)}</text>'
        f'<text x="{value_x + value_width / 2:g}" y="14"{direction}>{escape(value)}</text>'
        "</g></svg>"
    ).encode()
    return Badge(svg, f'"{hashlib.sha256(svg).hexdigest()[:32]}"')


def locale_badge(raw: str) -> Badge:
    code = _locale(raw)
    for entry in progress.locales_document()["locales"]:
        if entry["code"] == code:
            return render(code, entry["progress"]["percent"])
    raise NotFound(gettext("Locale %(code)s is not offered.", code=code))


def essay_badge(slug: str, code: str) -> Badge:
    """The badge of one essay in an offered locale (negotiated by the caller): the same
    share of current units as the essay's locales report."""
    essay = get_essay(slug)
    percent = releases.locale_state(slug, code)["progress"]["percent"]
    badge = render(code, percent)
    tags = edge.representation_tags(essay.id, "", [code])
    return Badge(badge.svg, badge.etag, tags)
