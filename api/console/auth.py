"""Console sessions: signing in with an API token, and checking the token on every request.

A session does what its token may: a personal token's scopes bound the console as they
bound the API (``api.security.permit``, called by the console's guard).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import current_app, session

from api import security
from api.i18n import INTERFACE_LOCALE_KEY
from api.services.accounts import identity

if TYPE_CHECKING:
    from api.models import ApiToken, User

USER_KEY = "console_user"
TOKEN_KEY = "console_token"  # noqa: S105 - the token's id, never the token
SINCE_KEY = "console_since"


def sign_in(token: str) -> User:
    """Check the token as the API does and start a fresh session for its user."""
    record = security.credential("Bearer " + token.strip())
    user = record.user
    interface = session.get(INTERFACE_LOCALE_KEY)
    session.clear()
    if interface:
        session[INTERFACE_LOCALE_KEY] = interface
    session.permanent = False
    session[USER_KEY] = user.id
    session[TOKEN_KEY] = record.id
    session[SINCE_KEY] = int(time.time())
    return user


def sign_out() -> None:
    """Forget who is signed in; the chosen interface language stays."""
    for key in (USER_KEY, TOKEN_KEY, SINCE_KEY, "csrf_token"):
        session.pop(key, None)


def session_token_id() -> int | None:
    """The id of the token this session was opened with."""
    token_id = session.get(TOKEN_KEY)
    return token_id if isinstance(token_id, int) else None


def signed_in() -> ApiToken | None:
    """The session's token while it is live and unexpired, its user active and the session
    young; its ``user`` is who is signed in."""
    user_id, token_id, since = (session.get(k) for k in (USER_KEY, TOKEN_KEY, SINCE_KEY))
    if not (isinstance(user_id, int) and isinstance(token_id, int) and isinstance(since, int)):
        return None
    lifetime = current_app.config["CONSOLE_SESSION_LIFETIME"].total_seconds()
    token = None if time.time() - since > lifetime else identity.live_token(token_id, user_id)
    if token is None:
        sign_out()
    return token
