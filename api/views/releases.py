"""Preview links and per-locale releases over HTTP."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView

from api.schemas.releases import (
    EssayLocalesSchema,
    LocaleStateInSchema,
    LocaleStateSchema,
    PreviewLinkInSchema,
    PreviewLinkSchema,
)
from api.services.delivery import preview, releases
from api.views import caching
from api.views.common import Blueprint, current_user

blp = Blueprint(
    "releases",
    __name__,
    url_prefix="/api/v1",
    description="Preview links for people without an account, and per-locale releases.",
)


@blp.route("/essays/<key:slug>/preview-links")
class PreviewLinks(MethodView):
    @blp.arguments(PreviewLinkInSchema)
    @blp.response(201, PreviewLinkSchema)
    def post(self, data: dict[str, Any], slug: str) -> dict[str, Any]:
        """A link that shows the preview in one locale to anyone, until it expires."""
        issued = preview.create_link(slug, data["locale"], data["expires_in"], current_user())
        return {
            "id": issued.link.id,
            "url": url_for("shared.preview_link", token=issued.token, _external=True),
            "expires_at": issued.link.expires_at,
        }


@blp.route("/preview-links/<int(max=2147483647):link_id>")
class PreviewLinkResource(MethodView):
    @blp.response(204)
    def delete(self, link_id: int) -> None:
        """Revoke a preview link: it answers 404 from now on."""
        preview.revoke_link(link_id, current_user())


@blp.route("/essays/<key:slug>/locales")
class EssayLocales(MethodView):
    @blp.response(200, EssayLocalesSchema)
    def get(self, slug: str) -> dict[str, Any]:
        """Each locale's release state (live or staged) and progress in one essay."""
        states = releases.locale_states(slug)
        # Any change to the essay purges the lists' tag too; locale-wide ones purge ``all``.
        caching.public_read()
        return states


@blp.route(
    "/essays/<key:slug>/locales/<string:locale>",
    parameters=[
        {
            "in": "path",
            "name": "locale",
            "description": "A translated locale (the source is always live).",
            "schema": {"$ref": "#/components/schemas/TargetLocale"},
        }
    ],
)
class EssayLocaleResource(MethodView):
    @blp.arguments(LocaleStateInSchema)
    @blp.response(200, LocaleStateSchema)
    def put(self, data: dict[str, Any], slug: str, locale: str) -> dict[str, Any]:
        """Release or stage a locale now, or at ``at`` (admins)."""
        return releases.set_state(
            slug, locale, data["state"], data.get("at"), current_user()
        ).locale
