"""What essay text may contain, and the one form in which it is stored.

Every text is served as JSON and exported in PO catalogs, so it must mean the same through
both. Line breaks are stored as ``\\n`` alone, and a text neither begins nor ends with
one: ``msgfmt --check`` refuses an entry whose translation and source differ there. Tabs
and line breaks are the only C0 control characters a text may hold (the ``control``
check refuses the others): GNU gettext writes them as escapes such as ``\\a`` that other
PO readers take for a backslash and a letter, so a catalog passed through ``msgcat``
would no longer say what was published.
"""

from __future__ import annotations

import re
import unicodedata

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f]")
# The same characters as a text arrives, before ``normalise_text``: a carriage return is
# taken there, as a line break (the inside of a regular expression's class).
REFUSED_ON_INPUT = "\x00-\x08\x0b\x0c\x0e-\x1f"
_LINE_BREAK = re.compile(r"\r\n?")


def normalise_text(text: str) -> str:
    """The text with ``\\r\\n`` and ``\\r`` as ``\\n``, and no line break at either end."""
    return _LINE_BREAK.sub("\n", text).strip("\n")


def collapse_spaces(text: str) -> str:
    """The text in NFC with every run of white space as one space, none at either end."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def contains_pattern(text: str) -> str:
    """A LIKE pattern (with ``\\`` as its escape) for values containing ``text``."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
