"""Public reads: one rule for their validators, caching headers and edge tags.

Every public GET either builds its own strong ``ETag`` from what it depends on (essays,
sections, catalogs, badges and the change feed, whose bodies are costly or large) and
answers ``If-None-Match`` itself, or leaves it to this module, which takes a strong
``ETag`` from the bytes of the body (lists, locales, progress: small documents). Either
way a view marks its response with ``public_read``, naming the edge tags a change purges
it with and whether its body depends on ``Accept-Language``; one hook adds the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, g, request

from api.services.outbound import edge

# Shared caches may keep a copy but must ask first; the edge keeps it until a purge.
CACHE_CONTROL = "public, max-age=0, must-revalidate"
LANGUAGE = "Accept-Language"
# The edge asks for the tags on each of its fetches; a client talking to the app directly
# gets none. Nothing is secret in them: the header only keeps responses lean.
TAGS_HEADER = "xkey"
WANT_TAGS_HEADER = "xkey-want"


@dataclass(frozen=True)
class PublicRead:
    tags: str
    negotiated: bool


def public_read(tags: str = edge.LIST_TAGS, *, negotiated: bool = False) -> None:
    """Mark this request's response as a public read.

    ``tags`` are what the edge purges it with; ``negotiated`` says that its body depends
    on ``Accept-Language`` (a locale chosen without ``?locale``).
    """
    g.public_read = PublicRead(tags, negotiated)


def not_modified(etag: str) -> bool:
    """True when the request's ``If-None-Match`` names ``etag`` (quoted or not; compared
    weakly, as RFC 9110 says for this header) or is ``*``: answer 304."""
    wanted = request.if_none_match
    return wanted.star_tag or wanted.contains_weak(etag.strip('"'))


def _public_headers(response: Response, read: PublicRead) -> Response:
    """The headers every public representation carries: Cache-Control, Vary and, on the
    representation itself (not a 304), the edge's tags."""
    headers = response.headers
    headers.setdefault("Cache-Control", CACHE_CONTROL)
    if read.negotiated:
        # The header itself, not ``response.vary``: that parses and writes back a set.
        vary = headers.get("Vary")
        headers["Vary"] = f"{vary}, {LANGUAGE}" if vary else LANGUAGE
    if response.status_code != 304 and WANT_TAGS_HEADER in request.headers:
        headers[TAGS_HEADER] = read.tags
    return response


def _after_request(response: Response) -> Response:
    read: PublicRead | None = g.pop("public_read", None)
    # 201: a created essay answers with its representation, as a read of it would.
    if read is None or response.status_code not in (200, 201, 304):
        return response
    if response.status_code == 200 and "ETag" not in response.headers:
        response.add_etag()  # strong: a hash of the bytes sent
        response.make_conditional(request)
    return _public_headers(response, read)


def init_app(app: Flask) -> None:
    app.after_request(_after_request)
