"""URL converters: identifiers in paths have a fixed, safe shape."""

from __future__ import annotations

from werkzeug.routing import BaseConverter


class KeyConverter(BaseConverter):
    """A slug or unit key: ASCII letters, digits, dots, hyphens and underscores."""

    regex = r"[A-Za-z0-9][A-Za-z0-9._\-]{0,199}"
