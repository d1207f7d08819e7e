"""Essay Markdown as the plain text search indexes and cuts snippets from."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

_MARKDOWN = MarkdownIt("commonmark", {"html": False})
_BREAKS = frozenset({"softbreak", "hardbreak"})


def plain_text(markdown: str) -> str:
    """The words a reader sees, one line per paragraph or list item; no markup, no URLs."""
    lines = []
    for token in _MARKDOWN.parse(markdown):
        if token.type == "inline":
            line = " ".join(_inline_text(token.children or []).split())
            if line:
                lines.append(line)
    return "\n".join(lines)


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in _BREAKS:
            parts.append(" ")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
    return "".join(parts)
