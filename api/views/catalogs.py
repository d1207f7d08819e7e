"""PO catalogs over HTTP: an essay's catalog for translators' own tools, and its upload."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from api.errors import DomainError
from api.schemas.catalogs import (
    CatalogExportArgs,
    CatalogImportSchema,
    CatalogProblemSchema,
    CatalogUploadArgs,
)
from api.services.translation import catalog_export, catalog_import, catalogs
from api.views import caching
from api.views.common import Blueprint, current_user, file_upload_body, uploaded_file

blp = Blueprint(
    "catalogs",
    __name__,
    url_prefix="/api/v1",
    description=(
        "An essay as gettext PO catalogs, for translators' own tools (Poedit, Lokalize,"
        " msgmerge). One entry per translatable field: ``msgctxt`` is ``<section key>.heading``"
        " or ``<section key>.body`` (the title is ``title.body``), ``msgid`` the current source"
        " text, ``msgstr`` the published translation. Entries translated from an older source"
        " text are ``#, fuzzy`` with the old text as ``#| msgid``."
    ),
)

RAW_TYPES = (catalogs.PO_MIMETYPE, "application/octet-stream")
PROBLEM = "application/problem+json"
LOCALE_PARAMETER = {
    "in": "path",
    "name": "locale",
    "description": "A translated locale, spelt ``ar``, ``pt-BR`` or ``pt_BR``.",
    "schema": {"$ref": "#/components/schemas/TargetLocale"},
}
DOWNLOAD_HEADERS = {
    "ETag": {"schema": {"type": "string"}},
    "Content-Disposition": {"schema": {"type": "string"}},
}
UPLOAD_BODY = file_upload_body(
    "A PO file: as the multipart field ``file``, or as the whole body. At most"
    " ``MAX_CATALOG_BYTES`` (512 KiB by default).",
    {
        catalogs.PO_MIMETYPE: {"schema": {"type": "string"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
)


class UnsupportedCatalogType(DomainError):
    status = 415
    slug = "unsupported-media-type"
    title = _l("Unsupported media type")


def _download(document: catalog_export.CatalogDocument) -> Response:
    response = Response(document.body, content_type=f"{document.mimetype}; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response


def _serve(prepared: catalog_export.PreparedCatalog) -> Response:
    """The catalog, or 304 when the client's copy is current."""
    caching.public_read(prepared.tags)
    if caching.not_modified(prepared.etag):
        response = Response(status=304)
    else:
        response = _download(catalog_export.render(prepared))
    response.headers["ETag"] = prepared.etag
    return response


def _serve_private(document: catalog_export.CatalogDocument) -> Response:
    """A catalog with one translator's pending work: for them alone, never stored."""
    response = _download(document)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _uploaded() -> bytes:
    """The uploaded file's bytes: the multipart field ``file``, or a raw PO body."""
    return uploaded_file(
        RAW_TYPES,
        gettext("Send the catalog in the multipart field %(name)s.", name="file"),
        UnsupportedCatalogType(
            gettext(
                "Send the catalog as %(types)s.",
                types=", ".join(("multipart/form-data", *RAW_TYPES)),
            )
        ),
    )


@blp.route("/essays/<key:slug>/catalogs/template.pot")
class CatalogTemplate(MethodView):
    @blp.response(
        200,
        {"type": "string"},
        content_type=catalogs.POT_MIMETYPE,
        description="The template: every source text, with empty translations.",
        headers=DOWNLOAD_HEADERS,
    )
    @blp.alt_response(304, description="Not modified")
    @blp.alt_response(
        404, schema=CatalogProblemSchema, content_type=PROBLEM, description="Unknown essay."
    )
    def get(self, slug: str) -> Response:
        """The essay's catalog template (``.pot``), to start a new language from."""
        return _serve(catalog_export.prepare(slug, None))


@blp.route(
    "/essays/<key:slug>/catalogs/<string:locale>.po",
    parameters=[LOCALE_PARAMETER],
)
class Catalog(MethodView):
    @blp.arguments(CatalogExportArgs, location="query")
    @blp.response(
        200,
        {"type": "string"},
        content_type=catalogs.PO_MIMETYPE,
        description="The catalog; ``msgfmt --check`` accepts it.",
        headers=DOWNLOAD_HEADERS,
    )
    @blp.alt_response(304, description="Not modified")
    @blp.alt_response(
        401,
        schema=CatalogProblemSchema,
        content_type=PROBLEM,
        description="``pending=true`` without a valid token.",
    )
    @blp.alt_response(
        400,
        schema=CatalogProblemSchema,
        content_type=PROBLEM,
        description="The locale is malformed.",
    )
    @blp.alt_response(
        404,
        schema=CatalogProblemSchema,
        content_type=PROBLEM,
        description=(
            "Unknown essay, or a locale that is not offered or is the source locale"
            " (``available_locales`` lists those with a catalog)."
        ),
    )
    def get(self, args: dict[str, Any], slug: str, locale: str) -> Response:
        """An essay's catalog in one locale, with the published translations (public)."""
        if args["pending"]:
            return _serve_private(catalog_export.export(slug, locale, current_user()))
        return _serve(catalog_export.prepare(slug, locale))

    @blp.arguments(CatalogUploadArgs, location="query")
    @blp.response(200, CatalogImportSchema, description="Nothing new: no version was created.")
    @blp.alt_response(201, schema=CatalogImportSchema, description="Versions were submitted.")
    @blp.alt_response(
        401, schema=CatalogProblemSchema, content_type=PROBLEM, description="No valid token."
    )
    @blp.alt_response(
        403,
        schema=CatalogProblemSchema,
        content_type=PROBLEM,
        description="Not the caller's locale, or an approval the review rules refuse.",
    )
    @blp.alt_response(
        413,
        schema=CatalogProblemSchema,
        content_type=PROBLEM,
        description="Larger than ``MAX_CATALOG_BYTES``.",
    )
    @blp.alt_response(
        415, schema=CatalogProblemSchema, content_type=PROBLEM, description="Not a PO upload."
    )
    @blp.alt_response(
        422,
        schema=CatalogProblemSchema,
        content_type=PROBLEM,
        description=(
            "Nothing was stored: the file does not parse, its ``Language`` is not the URL's"
            " locale, it names an unknown context, or an entry fails a blocking quality check."
            " ``errors`` and ``line`` point at the problem."
        ),
    )
    @blp.doc(requestBody=UPLOAD_BODY)
    def post(self, args: dict[str, Any], slug: str, locale: str) -> Any:
        """Submit a translator's catalog: one submission per changed section, all or nothing."""
        actor = current_user()
        report = catalog_import.import_catalog(
            slug, locale, _uploaded(), actor, approve=args["approve"]
        )
        return report, 201 if report.created else 200
