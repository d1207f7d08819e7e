"""The public reading API: locales, essays and sections, by locale."""

from __future__ import annotations

from typing import Any

from flask import Response, json, request, url_for
from flask.views import MethodView
from werkzeug.exceptions import UnsupportedMediaType

from api import i18n
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
from api.schemas.releases import AuthoringArgs, PreviewArgs
from api.security import PREVIEW_ON
from api.services import content
from api.services.delivery import preview, progress, reading
from api.views import caching
from api.views.common import Blueprint, current_user

blp = Blueprint("reading", __name__, url_prefix="/api/v1", description="Reading content.")

JSON = "application/json; charset=utf-8"

LOCALE_ARGS = LocaleArgs()
_LOCALE_FIELD = LOCALE_ARGS.fields["locale"]
_LOCALE_MAX = min(m for v in _LOCALE_FIELD.validators if (m := getattr(v, "max", None)))
LOCALE_PARAMETER = {
    "in": "query",
    "name": "locale",
    "required": False,
    "description": _LOCALE_FIELD.metadata["description"],
    "schema": {"$ref": "#/components/schemas/ReadableLocale"},
}


def locale_args() -> dict[str, Any]:
    """``?locale`` as ``LocaleArgs`` reads it.

    The delivery path is hot, so a plain value is taken as it is; only a value the schema
    would refuse goes through it, to be refused with the usual 400 problem.
    """
    value = request.args.get("locale")
    if value is None:
        return {}
    if len(value) <= _LOCALE_MAX:
        return {"locale": value}
    return dict(blp.ARGUMENTS_PARSER.parse(LOCALE_ARGS, location="query", error_status_code=400))


def serve(slug: str, key: str | None, args: dict[str, Any]) -> Response:
    """A prepared representation: 304 on a matching validator, cached bytes otherwise."""
    negotiated = i18n.negotiate(args.get("locale"))
    # Without ``?locale`` the body depends on ``Accept-Language``; with it, it does not.
    by_header = negotiated.requested is None
    stamps, etag, ready = reading.representation(slug, negotiated, key)
    if caching.not_modified(etag):
        caching.public_read("", negotiated=by_header)
        response = Response(status=304)
        response.headers["ETag"] = etag
        return response
    item = ready or reading.build(stamps, etag, negotiated, key)
    caching.public_read(item.tags, negotiated=by_header)
    response = Response(item.body, status=200, content_type=JSON)
    response.headers["ETag"] = item.etag
    response.headers["Content-Language"] = item.content_language
    return response


@blp.route("/locales")
class Locales(MethodView):
    @blp.response(200, LocalesSchema)
    def get(self) -> dict[str, Any]:
        """Offered locales with their names, direction, fallback chain and progress."""
        caching.public_read()
        return progress.locales_document()


@blp.route(
    "/locales/<string:code>/progress",
    parameters=[
        {
            "in": "path",
            "name": "code",
            "description": "An offered locale.",
            "schema": {"$ref": "#/components/schemas/OfferedLocale"},
        }
    ],
)
class LocaleProgress(MethodView):
    @blp.response(200, LocaleProgressSchema)
    def get(self, code: str) -> dict[str, Any]:
        """Progress of one locale, unit by unit."""
        caching.public_read()
        return progress.locale_breakdown(code)


MARKDOWN = "text/markdown"
MARKDOWN_BODY = {
    "required": True,
    "content": {MARKDOWN: {"schema": {"type": "string"}}},
    "description": (
        "The essay in Markdown: a ``# title``, an introduction, ``##`` sections and an"
        " optional closing paragraph opening with “In conclusion”."
    ),
}
PREVIEW_PARAMETER = {
    "in": "query",
    "name": "preview",
    "required": False,
    "description": PreviewArgs().fields["preview"].metadata["description"],
    "schema": {"type": "boolean"},
}


def markdown_body() -> bytes:
    """The request's Markdown; 415 for any other media type."""
    if request.mimetype != MARKDOWN:
        raise UnsupportedMediaType()
    return request.get_data(cache=False)


def essay_as_written(slug: str, source_locale: str, status: int) -> Response:
    """The answer to a create (201) or a re-import (200): the essay in its source locale."""
    response = serve(slug, None, {"locale": source_locale})
    response.status_code = status
    response.headers["Location"] = url_for("reading.EssayResource", slug=slug)
    return response


def serve_preview(slug: str) -> Response:
    """The preview of an essay: built for the caller, cached nowhere."""
    actor = current_user()
    negotiated = i18n.negotiate(locale_args().get("locale"), allow_all=False)
    document = preview.preview_for(slug, negotiated.locale, actor)
    response = Response(json.dumps(document, ensure_ascii=False), status=200, content_type=JSON)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Vary"] = "Authorization, Accept-Language"
    response.headers["Content-Language"] = negotiated.locale
    return response


@blp.route("/essays")
class Essays(MethodView):
    @blp.arguments(EssayListArgs, location="query")
    @blp.response(200, EssayListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Essays, with their titles in the negotiated locale."""
        negotiated = i18n.negotiate(args.get("locale"), allow_all=False)
        caching.public_read(negotiated=negotiated.requested is None)
        return reading.essay_list(negotiated, args["page"], args["per_page"])

    @blp.arguments(AuthoringArgs, location="query")
    @blp.response(201, EssaySchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.doc(requestBody=MARKDOWN_BODY)
    def post(self, args: dict[str, Any]) -> Response:
        """Create an essay from Markdown (admins), parsed as the shipped essays are."""
        actor = current_user()
        essay = content.create_essay(markdown_body(), args.get("slug"), actor)
        return essay_as_written(essay.slug, essay.source_locale, 201)


@blp.route("/essays/<key:slug>")
class EssayResource(MethodView):
    @blp.doc(parameters=[LOCALE_PARAMETER, PREVIEW_PARAMETER])
    @blp.response(200, EssaySchema, headers={"ETag": {"schema": {"type": "string"}}})
    @blp.alt_response(304, description="Not modified")
    @blp.alt_response(400, "BAD_REQUEST")
    def get(self, slug: str) -> Response:
        """An essay in one locale, each section in the first locale of the chain that has it."""
        if request.args.get("preview") in PREVIEW_ON:
            return serve_preview(slug)
        return serve(slug, None, locale_args())

    @blp.response(200, EssaySchema, headers={"ETag": {"schema": {"type": "string"}}})
    @blp.doc(
        requestBody=MARKDOWN_BODY,
        parameters=[
            {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}
        ],
    )
    def put(self, slug: str) -> Response:
        """Re-import an essay's Markdown (admins); ``If-Match``: the essay's source ETag."""
        actor = current_user()
        content.reimport_essay(
            slug, markdown_body(), actor=actor, if_match=request.headers.get("If-Match")
        )
        return essay_as_written(slug, content.get_essay(slug).source_locale, 200)

    @blp.response(204)
    def delete(self, slug: str) -> None:
        """Archive an essay (admins): readers get 404, its history is kept."""
        content.archive_essay(slug, current_user())


@blp.route("/essays/<key:slug>/sections/<key:key>")
class SectionResource(MethodView):
    @blp.doc(parameters=[LOCALE_PARAMETER])
    @blp.response(200, SectionDocumentSchema)
    @blp.alt_response(304, description="Not modified")
    @blp.alt_response(400, "BAD_REQUEST")
    def get(self, slug: str, key: str) -> Response:
        """One section (or ``title``) of an essay in one locale."""
        return serve(slug, key, locale_args())

    @blp.arguments(SourceEditSchema)
    @blp.response(200, SectionDocumentSchema)
    @blp.doc(
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
