"""The change feed (public) and webhooks (admins) over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_babel import gettext

from api import i18n
from api.errors import LocaleNotOfferedError, MalformedLocaleError
from api.models import Delivery, Webhook
from api.schemas import PageArgs
from api.schemas.delivery import (
    ChangeArgs,
    ChangePageSchema,
    DeliveryArgs,
    DeliveryPageSchema,
    DeliverySchema,
    SecretRotationSchema,
    WebhookCreatedSchema,
    WebhookInSchema,
    WebhookPageSchema,
    WebhookPatchSchema,
    WebhookSchema,
)
from api.services.outbound import changes, webhooks
from api.services.paging import paginate
from api.views import caching
from api.views.common import Blueprint, current_user

blp = Blueprint(
    "delivery",
    __name__,
    url_prefix="/api/v1",
    description="What changed: the public change feed, and webhooks that push it.",
)

JSON = "application/json; charset=utf-8"
# A full page never changes (later items take later positions); a short one may grow.
FULL_PAGE = "public, max-age=31536000, immutable"
OPEN_PAGE = "public, max-age=0, must-revalidate"


def _feed_locales(raw: list[str]) -> list[str]:
    registry = i18n.registry()
    out = []
    for value in raw:
        try:
            code = i18n.normalise_tag(value)
        except i18n.MalformedLocale:
            raise MalformedLocaleError(
                gettext("%(code)s is not a well-formed locale code.", code=value[:64]),
                available_locales=list(registry.offered),
            ) from None
        if code not in registry.offered:
            raise LocaleNotOfferedError(
                gettext("Locale %(code)s is not offered.", code=code),
                available_locales=list(registry.offered),
            )
        out.append(code)
    return sorted(set(out))


@blp.route("/changes")
class Changes(MethodView):
    @blp.arguments(ChangeArgs, location="query")
    @blp.response(200, ChangePageSchema)
    def get(self, args: dict[str, Any]) -> Response:
        """What readers can see changing, in commit order, from a resumable cursor."""
        caching.public_read()  # every change readers can see purges the lists' tag
        page = changes.document(
            args.get("cursor"),
            _feed_locales(args.get("locale") or []),
            args["per_page"],
        )
        if caching.not_modified(page.etag):
            response = Response(status=304)
        else:
            response = Response(page.body, status=200, content_type=JSON)
        response.set_etag(page.etag)
        response.headers["Cache-Control"] = FULL_PAGE if page.complete else OPEN_PAGE
        return response


@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, WebhookPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Every webhook (admins); secrets are never shown again."""
        return paginate(webhooks.listing(current_user()), args["page"], args["per_page"])

    @blp.arguments(WebhookInSchema)
    @blp.response(201, WebhookCreatedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Subscribe a URL to event types (admins); the response holds the secret, once."""
        created = webhooks.create(
            data["url"],
            data["events"],
            data.get("locales") or [],
            data.get("description"),
            actor=current_user(),
        )
        return _with_secret(created)


def _with_secret(created: webhooks.Created) -> dict[str, Any]:
    fields = WebhookSchema().fields
    return {name: getattr(created.webhook, name) for name in fields} | {"secret": created.secret}


@blp.route("/webhooks/<int(max=2147483647):webhook_id>")
class WebhookResource(MethodView):
    @blp.response(200, WebhookSchema)
    def get(self, webhook_id: int) -> Webhook:
        """One webhook (admins)."""
        return webhooks.get(webhook_id, current_user())

    @blp.arguments(WebhookPatchSchema)
    @blp.response(200, WebhookSchema)
    def patch(self, data: dict[str, Any], webhook_id: int) -> Webhook:
        """Enable or disable a webhook, or change its URL, events or locales (admins)."""
        return webhooks.update(webhook_id, data, current_user())

    @blp.response(204)
    def delete(self, webhook_id: int) -> None:
        """Remove a webhook and its delivery log (admins)."""
        webhooks.delete(webhook_id, current_user())


@blp.route("/webhooks/<int(max=2147483647):webhook_id>/rotate-secret")
class RotateSecret(MethodView):
    @blp.arguments(SecretRotationSchema)
    @blp.response(200, WebhookCreatedSchema)
    def post(self, data: dict[str, Any], webhook_id: int) -> dict[str, Any]:
        """A new signing secret, shown once; the old one signs beside it for a while (admins)."""
        created = webhooks.rotate_secret(
            webhook_id, timedelta(seconds=data["keep_previous_for"]), current_user()
        )
        return _with_secret(created)


@blp.route("/webhooks/<int(max=2147483647):webhook_id>/deliveries")
class Deliveries(MethodView):
    @blp.arguments(DeliveryArgs, location="query")
    @blp.response(200, DeliveryPageSchema)
    def get(self, args: dict[str, Any], webhook_id: int) -> dict[str, Any]:
        """A webhook's deliveries, newest first, each with every attempt (admins)."""
        statement = webhooks.deliveries(webhook_id, current_user(), args.get("state"))
        return paginate(statement, args["page"], args["per_page"])


@blp.route(
    "/webhooks/<int(max=2147483647):webhook_id>/deliveries"
    "/<int(max=2147483647):delivery_id>/redeliver"
)
class Redeliver(MethodView):
    @blp.response(202, DeliverySchema)
    def post(self, webhook_id: int, delivery_id: int) -> Delivery:
        """Send a finished delivery again, same ``webhook-id`` (admins)."""
        return webhooks.redeliver(webhook_id, delivery_id, current_user())
