"""Notifications over HTTP: the caller's settings, their notifications, marking read."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.schemas import PageArgs
from api.schemas.notifications import (
    NotificationPageSchema,
    ReadInSchema,
    ReadSchema,
    SettingsInSchema,
    SettingsSchema,
)
from api.services.notify import inbox, settings
from api.services.paging import paginate
from api.views.common import Blueprint, current_user

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1",
    description=(
        "What the caller hears of, per locale and kind, and what they were told: in the"
        " console, and by email when the server has ``SMTP_URL`` and they have an address."
    ),
)


@blp.route("/me/notifications/settings")
class Settings(MethodView):
    @blp.response(200, SettingsSchema)
    def get(self) -> dict[str, Any]:
        """The caller's settings, their role's defaults filled in."""
        return {"settings": settings.of(current_user())}

    @blp.arguments(SettingsInSchema)
    @blp.response(200, SettingsSchema)
    def put(self, data: dict[str, Any]) -> dict[str, Any]:
        """Change the settings named; a locale the caller does not work in: 403."""
        return {"settings": settings.update(current_user(), data["settings"])}


@blp.route("/me/notifications")
class Notifications(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's notifications, newest first, with how many are unread."""
        user = current_user()
        page = paginate(inbox.listing(user), args["page"], args["per_page"])
        return {**page, "unread": inbox.unread(user.id)}


@blp.route("/me/notifications/read")
class Read(MethodView):
    @blp.arguments(ReadInSchema, required=False)
    @blp.response(200, ReadSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Mark notifications read: ``{"ids": [...]}`` or ``{"all": true}``."""
        user = current_user()
        done = inbox.mark_read(user, data["ids"], every=data["all"])
        return {"read": done, "unread": inbox.unread(user.id)}
