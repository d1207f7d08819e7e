"""Readers' Markdown as HTML: rendered by markdown-it with raw HTML off, then sanitised by nh3."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_MARKDOWN = MarkdownIt("commonmark", {"html": False})

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "em",
        "strong",
        "a",
        "ul",
        "ol",
        "li",
        "blockquote",
        "code",
        "pre",
        "hr",
        "h3",
        "h4",
        "h5",
        "h6",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def render_markdown(text: str | None) -> Markup:
    """Sanitised HTML for a section's Markdown: the only HTML the console does not escape."""
    html = nh3.clean(
        _MARKDOWN.render(text or ""),
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(html)  # noqa: S704 - nh3 output with a fixed allow-list
