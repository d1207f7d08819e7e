"""The public reading API: locales, essays and sections, by locale."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.schemas import (
    EssayListArgs,
    EssayListSchema,
    EssaySchema,
    LocaleArgs,
    LocaleProgressSchema,
    LocalesSchema,
    SectionDocumentSchema,
    SourceEditSchema,
)
from api.services import content, edge, progress, reading
from api.views.common import BEARER, current_user, negotiate

blp = Blueprint("reading", __name__, url_prefix="/api/v1", description="Reading content.")

JSON = "application/json; charset=utf-8"
CACHE_CONTROL = "public, max-age=0, must-revalidate"

LOCALE_ARGS = LocaleArgs()
_LOCALE_FIELD = LOCALE_ARGS.fields["locale"]
_LOCALE_MAX = min(m for v in _LOCALE_FIELD.validators if (m := getattr(v, "max", None)))
LOCALE_PARAMETER = {
    "in": "query",
    "name": "locale",
    "required": False,
    "description": _LOCALE_FIELD.metadata["description"],
    "schema": {"type": "string", "maxLength": _LOCALE_MAX},
}


def locale_args() -> dict[str, Any]:
    """``?locale`` as ``LocaleArgs`` reads it.

    The delivery path is hot, so a plain value is taken as it is; only a value the schema
    would refuse goes through it, to be refused with the usual 422 problem.
    """
    value = request.args.get("locale")
    if value is None:
        return {}
    if len(value) <= _LOCALE_MAX:
        return {"locale": value}
    return dict(blp.ARGUMENTS_PARSER.parse(LOCALE_ARGS, location="query"))


def _vary(response: Response) -> Response:
    response.headers["Vary"] = "Accept-Language"
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def serve(slug: str, key: str | None, args: dict[str, Any]) -> Response:
    """A prepared representation: 304 on a matching validator, cached bytes otherwise."""
    negotiated = negotiate(args.get("locale"))
    stamps, etag, ready = reading.representation(slug, negotiated, key)
    if request.if_none_match.contains_weak(etag.strip('"')) or request.if_none_match.star_tag:
        response = Response(status=304)
        response.headers["ETag"] = etag
        return _vary(response)
    item = ready or reading.build(stamps, etag, negotiated, key)
    response = Response(item.body, status=200, content_type=JSON)
    response.headers["ETag"] = item.etag
    response.headers["Content-Language"] = item.content_language
    response.headers[edge.HEADER] = item.tags
    return _vary(response)


@blp.route("/locales")
class Locales(MethodView):
    @blp.response(200, LocalesSchema)
    def get(self) -> dict[str, Any]:
        """Offered locales with their names, direction, fallback chain and progress."""
        edge.tag_lists()
        return progress.locales_document()


@blp.route("/locales/<string:code>/progress")
class LocaleProgress(MethodView):
    @blp.response(200, LocaleProgressSchema)
    def get(self, code: str) -> dict[str, Any]:
        """Progress of one locale, unit by unit."""
        edge.tag_lists()
        return progress.locale_breakdown(code)


@blp.route("/essays")
class Essays(MethodView):
    @blp.arguments(EssayListArgs, location="query")
    @blp.response(200, EssayListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Essays, with their titles in the negotiated locale."""
        negotiated = negotiate(args.get("locale"), allow_all=False)
        edge.tag_lists()
        return reading.essay_list(negotiated, args["page"], args["per_page"])


@blp.route("/essays/<key:slug>")
class EssayResource(MethodView):
    @blp.doc(parameters=[LOCALE_PARAMETER])
    @blp.response(200, EssaySchema, headers={"ETag": {"schema": {"type": "string"}}})
    @blp.alt_response(304, description="Not modified")
    @blp.alt_response(422, "UNPROCESSABLE_ENTITY")
    def get(self, slug: str) -> Response:
        """An essay in one locale, each section in the first locale of the chain that has it."""
        return serve(slug, None, locale_args())


@blp.route("/essays/<key:slug>/sections/<key:key>")
class SectionResource(MethodView):
    @blp.doc(parameters=[LOCALE_PARAMETER])
    @blp.response(200, SectionDocumentSchema)
    @blp.alt_response(304, description="Not modified")
    @blp.alt_response(422, "UNPROCESSABLE_ENTITY")
    def get(self, slug: str, key: str) -> Response:
        """One section (or ``title``) of an essay in one locale."""
        return serve(slug, key, locale_args())

    @blp.arguments(SourceEditSchema)
    @blp.response(200, SectionDocumentSchema)
    @blp.doc(
        security=BEARER,
        parameters=[
            {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}
        ],
    )
    def put(self, data: dict[str, Any], slug: str, key: str) -> Response:
        """Edit the source text (admins); ``If-Match`` must carry the source ETag."""
        actor = current_user()
        unit = content.edit_source(
            slug,
            key,
            data.get("heading"),
            data["body"],
            actor=actor,
            if_match=request.headers.get("If-Match"),
        )
        return serve(slug, key, {"locale": unit.essay.source_locale})
