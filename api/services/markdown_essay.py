"""Parse a Markdown essay into translatable units.

The shape is fixed by the content we publish: the H1 is the title, text before the
first H2 is the introduction, each H2 opens a section keyed by its slugified heading,
and a closing paragraph opening with "In conclusion" becomes its own ``conclusion``
unit with no heading. Markdown inside a section is kept as Markdown.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import ftfy

TITLE_KEY = "title"
INTRODUCTION_KEY = "introduction"
CONCLUSION_KEY = "conclusion"

_H1 = re.compile(r"^#\s+(?P<text>.+?)\s*#*\s*$")
_H2 = re.compile(r"^##\s+(?P<text>.+?)\s*#*\s*$")
_CONCLUSION = re.compile(r"^(in conclusion|to conclude|in summary)\b", re.IGNORECASE)


class EssayFormatError(ValueError):
    """The Markdown does not have the shape of an essay.

    problem: ``no_title`` or ``two_titles``; line: the line (from 1) it was found on.
    """

    def __init__(self, problem: str, line: int, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.line = line


@dataclass(frozen=True)
class ParsedUnit:
    key: str
    kind: str  # "title" or "section"
    heading: str | None
    body: str
    line: int = 0  # where the unit starts in the Markdown, from 1 (0: not from a line)


@dataclass(frozen=True)
class ParsedEssay:
    title: str
    units: list[ParsedUnit]


def slugify(text: str) -> str:
    """A URL-safe key: ASCII letters and digits joined by hyphens."""
    normalized = unicodedata.normalize("NFKD", text.replace("ı", "i"))
    ascii_text = normalized.encode("ascii", "ignore").decode("ascii").lower()
    ascii_text = re.sub(r"['’]", "", ascii_text)
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def repair_text(text: str) -> str:
    """Undo encoding damage (mojibake) without touching typographic quotes."""
    return ftfy.fix_text(text, uncurl_quotes=False, normalization="NFC")


def _paragraphs(lines: list[str]) -> list[str]:
    text = "\n".join(lines).strip()
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()] if text else []


def parse_essay(markdown: str) -> ParsedEssay:
    """Split repaired Markdown into the title, introduction, sections and conclusion."""
    lines = repair_text(markdown).replace("\r\n", "\n").split("\n")
    title: str | None = None
    title_line = 0
    blocks: list[tuple[str | None, int, list[str]]] = [(None, 1, [])]
    in_fence = False
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence and (m := _H1.match(line)):
            if title is not None:
                raise EssayFormatError(
                    "two_titles",
                    number,
                    f"Line {number} is a second title; the first is on line {title_line}.",
                )
            title, title_line = m["text"], number
            continue
        if not in_fence and (m := _H2.match(line)):
            blocks.append((m["text"], number, []))
            continue
        blocks[-1][2].append(line)
    if title is None:
        raise EssayFormatError("no_title", 1, "The essay has no H1 title.")

    units = [ParsedUnit(TITLE_KEY, "title", None, title, title_line)]
    intro = _paragraphs(blocks[0][2])
    sections = [(heading, number, _paragraphs(body)) for heading, number, body in blocks[1:]]

    conclusion: str | None = None
    if sections and sections[-1][2] and _CONCLUSION.match(sections[-1][2][-1]):
        conclusion = sections[-1][2].pop()
    elif not sections and intro and len(intro) > 1 and _CONCLUSION.match(intro[-1]):
        conclusion = intro.pop()

    if intro:
        units.append(
            ParsedUnit(INTRODUCTION_KEY, "section", None, "\n\n".join(intro), title_line + 1)
        )
    seen = {TITLE_KEY, INTRODUCTION_KEY, CONCLUSION_KEY}
    for heading, number, paragraphs in sections:
        heading = heading or ""
        key = base = slugify(heading) or "section"
        suffix = 2
        while key in seen:
            key, suffix = f"{base}-{suffix}", suffix + 1
        seen.add(key)
        units.append(ParsedUnit(key, "section", heading, "\n\n".join(paragraphs), number))
    if conclusion:
        last = sections[-1][1] if sections else title_line + 1
        units.append(ParsedUnit(CONCLUSION_KEY, "section", None, conclusion, last))
    return ParsedEssay(title=title, units=units)
