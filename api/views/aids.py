"""Translators' aids over HTTP: memory suggestions, concordance, TMX, glossary, badges."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_babel import gettext

from api import i18n
from api.errors import DomainError, Unprocessable
from api.models import GlossaryTerm
from api.schemas.aids import (
    BadgeArgs,
    ConcordanceArgs,
    ConcordancePageSchema,
    GlossaryArgs,
    GlossaryInSchema,
    GlossaryPageSchema,
    GlossaryTermSchema,
    GlossaryUpdateSchema,
    MemoryLocaleArgs,
    SuggestionListSchema,
    TmxImportSchema,
)
from api.services.aids import glossary, memory, tmx
from api.services.delivery import badges
from api.services.paging import paginate
from api.views import caching
from api.views.common import Blueprint, current_user, file_upload_body, uploaded_file

blp = Blueprint(
    "aids",
    __name__,
    url_prefix="/api/v1",
    description=(
        "Translators' aids: a sentence-level translation memory of approved translations,"
        " the glossary of key terms per locale, and progress badges."
    ),
)

TMX_TYPES = (tmx.TMX_MIMETYPE, "application/xml", "text/xml", "application/octet-stream")
SVG = "image/svg+xml; charset=utf-8"
TMX_BODY = file_upload_body(
    "A TMX 1.4 file pairing the source language with the locale.",
    {kind: {"schema": {"type": "string"}} for kind in TMX_TYPES},
)


class UnsupportedTmxType(DomainError):
    status = 415
    slug = "unsupported-media-type"
    title = Unprocessable.title


def _tmx_upload() -> bytes:
    return uploaded_file(
        TMX_TYPES,
        gettext("Send the file in the multipart field %(name)s.", name="file"),
        UnsupportedTmxType(
            gettext(
                "Send the file as %(types)s.",
                types=", ".join(("multipart/form-data", *TMX_TYPES)),
            )
        ),
    )


@blp.route("/essays/<key:slug>/sections/<key:key>/suggestions")
class Suggestions(MethodView):
    @blp.arguments(MemoryLocaleArgs, location="query")
    @blp.response(200, SuggestionListSchema)
    def get(self, args: dict[str, Any], slug: str, key: str) -> dict[str, Any]:
        """Memory matches for each sentence of a section, best first (scores 0–100)."""
        current_user()
        found = memory.suggestions(slug, key, args["locale"])
        return {"items": memory.texts(found), "min_score": memory.min_score()}


@blp.route("/memory")
class Concordance(MethodView):
    @blp.arguments(ConcordanceArgs, location="query")
    @blp.response(200, ConcordancePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Stored sentence pairs whose source or translation contains the text."""
        current_user()
        statement = memory.concordance(args["q"], args["locale"])
        return paginate(statement, args["page"], args["per_page"], prepare=memory.concordance_items)


@blp.route("/memory.tmx")
class MemoryTmx(MethodView):
    @blp.arguments(MemoryLocaleArgs, location="query")
    @blp.response(200, {"type": "string"}, content_type=tmx.TMX_MIMETYPE)
    def get(self, args: dict[str, Any]) -> Response:
        """One locale's memory as TMX 1.4."""
        current_user()
        body = tmx.export_tmx(args["locale"])
        response = Response(body, content_type=f"{tmx.TMX_MIMETYPE}; charset=utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="memory.tmx"'
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @blp.arguments(MemoryLocaleArgs, location="query")
    @blp.response(200, TmxImportSchema)
    @blp.doc(requestBody=TMX_BODY)
    def post(self, args: dict[str, Any]) -> tmx.ImportReport:
        """Import a TMX file into one locale's memory (admins); it ranks below own units."""
        actor = current_user()
        return tmx.import_tmx(_tmx_upload(), args["locale"], actor)


@blp.route("/glossary")
class Glossary(MethodView):
    @blp.arguments(GlossaryArgs, location="query")
    @blp.response(200, GlossaryPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Glossary terms, optionally of one locale or containing some text."""
        current_user()
        statement = glossary.query(args.get("locale"), args.get("q"))
        return paginate(statement, args["page"], args["per_page"])

    @blp.arguments(GlossaryInSchema)
    @blp.response(201, GlossaryTermSchema)
    def post(self, data: dict[str, Any]) -> GlossaryTerm:
        """Add a term with its renderings in one locale (reviewers, admins)."""
        return glossary.create(_term(data, data["locale"]), current_user())


def _term(data: dict[str, Any], locale: str) -> glossary.TermData:
    return glossary.TermData(
        term=data["term"],
        locale=locale,
        translations=data["translations"],
        forbidden=data.get("forbidden") or [],
        note=data.get("note"),
    )


@blp.route("/glossary/<int(max=2147483647):term_id>")
class GlossaryTermResource(MethodView):
    @blp.response(200, GlossaryTermSchema)
    def get(self, term_id: int) -> GlossaryTerm:
        """One glossary term."""
        current_user()
        return glossary.get(term_id)

    @blp.arguments(GlossaryUpdateSchema)
    @blp.response(200, GlossaryTermSchema)
    def put(self, data: dict[str, Any], term_id: int) -> GlossaryTerm:
        """Replace a term's text, renderings and note (reviewers, admins)."""
        return glossary.update(term_id, _term(data, ""), current_user())

    @blp.response(204)
    def delete(self, term_id: int) -> None:
        """Remove a term (reviewers, admins)."""
        glossary.delete(term_id, current_user())


def _badge(badge: badges.Badge) -> Response:
    caching.public_read(badge.tags)
    if caching.not_modified(badge.etag):
        response = Response(status=304)
    else:
        response = Response(badge.svg, content_type=SVG)
    response.headers["ETag"] = badge.etag
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


BADGE_RESPONSE = {
    "content_type": "image/svg+xml",
    "headers": {"ETag": {"schema": {"type": "string"}}},
}


@blp.route(
    "/locales/<string:code>/badge.svg",
    parameters=[
        {
            "in": "path",
            "name": "code",
            "description": "A locale served by an offered one (``ar``, ``ar-EG``).",
            "schema": {"$ref": "#/components/schemas/ServedLocale"},
        }
    ],
)
class LocaleBadge(MethodView):
    @blp.response(200, {"type": "string"}, **BADGE_RESPONSE)
    @blp.alt_response(304, description="Not modified")
    def get(self, code: str) -> Response:
        """A badge with the share of every essay's units published in a locale (public)."""
        return _badge(badges.locale_badge(code))


@blp.route("/essays/<key:slug>/badge.svg")
class EssayBadge(MethodView):
    @blp.arguments(BadgeArgs, location="query")
    @blp.response(200, {"type": "string"}, **BADGE_RESPONSE)
    @blp.alt_response(304, description="Not modified")
    def get(self, args: dict[str, Any], slug: str) -> Response:
        """A badge with the share of one essay's units published in a locale (public)."""
        negotiated = i18n.negotiate(args["locale"], allow_all=False)
        return _badge(badges.essay_badge(slug, negotiated.locale))
