"""What each person asked to hear of: per locale they work in and per kind, ``off``,
``instant`` or ``daily``; a role's defaults where they chose nothing.

An unsubscribe link carries a signed token (``itsdangerous``, with ``SECRET_KEY`` and a
salt of its own) naming the person and what it turns off: it is no credential for anything
else, and no mail holds an API token or a password link of anyone but its recipient.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeSerializer

from api import i18n
from api.database import transaction
from api.errors import Forbidden, NotFound, Unprocessable
from api.extensions import db
from api.models import NOTIFICATION_KINDS, NOTIFICATION_MODES, NotificationSetting, User

SOURCE_CHANGED, REVIEWED, WAITING = KINDS = NOTIFICATION_KINDS
MODES = NOTIFICATION_MODES

# Translators hear of their reviews at once and of new text once a day; reviewers hear of
# waiting work once a day too. Admins work in every locale: they hear of nothing unless
# they ask, or every change would mail them.
DEFAULTS: dict[str, dict[str, str]] = {
    "translator": {SOURCE_CHANGED: "daily", REVIEWED: "instant", WAITING: "off"},
    "reviewer": {SOURCE_CHANGED: "daily", REVIEWED: "instant", WAITING: "daily"},
    "admin": {SOURCE_CHANGED: "off", REVIEWED: "off", WAITING: "off"},
}

Settings = dict[str, dict[str, str]]  # locale -> kind -> mode


def locales_of(user: User) -> list[str]:
    """The locales a person's settings cover: those they work in (every target for admins)."""
    if user.role == "admin":
        return list(i18n.registry().targets)
    return i18n.ordered(user.locales)


def of(user: User) -> Settings:
    """A person's settings in every locale they work in, their role's defaults filled in."""
    chosen = {
        (row.locale, row.kind): row.mode
        for row in db.session.scalars(
            sa.select(NotificationSetting).where(NotificationSetting.user_id == user.id)
        )
    }
    defaults = DEFAULTS[user.role]
    return {
        locale: {kind: chosen.get((locale, kind), defaults[kind]) for kind in NOTIFICATION_KINDS}
        for locale in locales_of(user)
    }


def _refused(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors={field: [message]})


def _checked(user: User, changes: Mapping[str, Mapping[str, str]]) -> list[tuple[str, str, str]]:
    mine = set(locales_of(user))
    out = []
    for locale, kinds in changes.items():
        if locale not in mine:
            raise Forbidden(gettext("You do not work in %(locale)s.", locale=locale))
        for kind, mode in kinds.items():
            if kind not in NOTIFICATION_KINDS:
                raise _refused(
                    "settings", gettext("Unknown notification kind %(kind)s.", kind=kind)
                )
            if mode not in NOTIFICATION_MODES:
                raise _refused(
                    "settings", gettext("A notification setting is off, instant or daily.")
                )
            out.append((locale, kind, mode))
    return out


def update(user: User, changes: Mapping[str, Mapping[str, str]]) -> Settings:
    """Change some of a person's settings (what ``changes`` names); the rest stay."""
    wanted = _checked(user, changes)
    with transaction() as session:
        _write(session, user.id, wanted)
    return of(user)


def _write(session: Any, user_id: int, wanted: Iterable[tuple[str, str, str]]) -> None:
    for locale, kind, mode in wanted:
        session.merge(NotificationSetting(user_id=user_id, locale=locale, kind=kind, mode=mode))


# --- unsubscribing from a mail ------------------------------------------------------------

DAILY = "daily"  # what a digest's link turns off: every kind its person gets daily
_SALT = "tarjuma.notifications.unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    """What one unsubscribe link turns off: one kind in one locale, or (``kind`` DAILY)
    everything its person gets in the daily digest."""

    user_id: int
    kind: str
    locale: str | None = None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_token(what: Unsubscribe) -> str:
    return str(_serializer().dumps([what.user_id, what.kind, what.locale]))


def read_token(token: str) -> Unsubscribe:
    """What a link's token turns off; 404 for a token this server did not sign."""
    config = current_app.config
    for key in (config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", ())):
        try:
            user_id, kind, locale = URLSafeSerializer(key, salt=_SALT).loads(token)
        except (BadSignature, ValueError, TypeError):
            continue
        return Unsubscribe(int(user_id), str(kind), locale)
    raise NotFound(gettext("This unsubscribe link is not valid."))


def unsubscribe(token: str) -> Unsubscribe:
    """Turn off what the link says (again harmlessly when already off)."""
    what = read_token(token)
    with transaction() as session:
        user = session.get(User, what.user_id)
        if user is None:
            raise NotFound(gettext("This unsubscribe link is not valid."))
        current = of(user)
        if what.kind == DAILY:
            wanted = [
                (locale, kind, "off")
                for locale, kinds in current.items()
                for kind, mode in kinds.items()
                if mode == "daily"
            ]
        else:
            wanted = [(what.locale or "", what.kind, "off")] if what.locale in current else []
        _write(session, user.id, wanted)
    return what
