"""Console routes for notifications: the list (with marking read) and the settings.

The rules live in ``api.services.notify``; the unread count in every page's header comes
from the console's context processor."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from api import i18n
from api.console import console
from api.console.views import SEE_OTHER, Page, current_user
from api.errors import DomainError
from api.services.notify import inbox, settings
from api.services.notify.describe import describe
from api.services.paging import paginate

KIND_LABELS = {
    "source.changed": lazy_gettext("New or changed text to translate"),
    "translation.reviewed": lazy_gettext("My work approved or rejected"),
    "review.waiting": lazy_gettext("Work waiting for my review"),
}
MODE_LABELS = {
    "off": lazy_gettext("Off"),
    "instant": lazy_gettext("At once"),
    "daily": lazy_gettext("In a daily digest"),
}


@console.route("/notifications", methods=["GET", "POST"])
def notifications() -> Page:
    """The user's notifications, newest first; mark one, or all, read."""
    user = current_user()
    if request.method == "POST":
        ids = [int(raw) for raw in request.form.getlist("id") if raw.isdigit()]
        inbox.mark_read(user, ids, every=request.form.get("all") == "1")
        return redirect(url_for("console.notifications", page=request.args.get("page")), SEE_OTHER)
    page_number = request.args.get("page", 1, type=int) or 1
    page = paginate(inbox.listing(user), max(page_number, 1), 20)
    items = list(zip(page["items"], describe(page["items"], i18n.message_locale()), strict=True))
    return render_template("console/notifications.html", page=page, items=items)


def render_settings(error: DomainError | None = None, status: int = 200) -> tuple[str, int]:
    html = render_template(
        "console/notification_settings.html",
        settings=settings.of(current_user()),
        kinds=settings.KINDS,
        modes=settings.MODES,
        kind_labels=KIND_LABELS,
        mode_labels=MODE_LABELS,
        error=error,
    )
    return html, status


@console.route("/notifications/settings", methods=["GET", "POST"])
def notification_settings() -> Page:
    """What the user hears of, per locale and kind: off, at once or in a daily digest."""
    if request.method == "GET":
        return render_settings()
    changes: dict[str, dict[str, str]] = {}
    for name, mode in request.form.items():
        locale, _, kind = name.partition(":")
        if kind:
            changes.setdefault(locale, {})[kind] = mode
    try:
        settings.update(current_user(), changes)
    except DomainError as error:
        return render_settings(error, error.status)
    flash(gettext("Your notification settings are saved."), "success")
    return redirect(url_for("console.notification_settings"), SEE_OTHER)
