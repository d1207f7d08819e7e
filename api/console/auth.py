"""Console sessions: signing in with a name and password or an API token, and checking the
session on every request.

A session holds the user's id, the time it began, the user's session epoch at that time,
and, when it began with a token, that token's id. It is refused as soon as the user is
deactivated, their epoch moves on (they signed out everywhere, chose a new password, or
were deactivated), its token is revoked or expires, or it grows older than the session
lifetime. Signing in starts a new session: nothing of the old one but the interface
language is kept, the CSRF token included.

A session opened with a token does what that token may: a personal token's scopes bound
the console as they bound the API (``api.security.permit``, called by the console's
guard). A session opened with a password may do all the user's role may.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app, request, session

from api import security
from api.errors import Unauthorized
from api.i18n import INTERFACE_LOCALE_KEY
from api.services.accounts import identity

if TYPE_CHECKING:
    from api.models import ApiToken, User

USER_KEY = "console_user"
TOKEN_KEY = "console_token"  # noqa: S105 - the token's id, never the token
SINCE_KEY = "console_since"
EPOCH_KEY = "console_epoch"


@dataclass(frozen=True)
class Session:
    """Who is signed in, and the token the session was opened with (None: a password)."""

    user: User
    token: ApiToken | None

    @property
    def granted(self) -> frozenset[str] | None:
        """The scopes the session may use; None when it may do all the user's role may."""
        return None if self.token is None else self.token.granted


def start(user: User, token_id: int | None = None) -> None:
    """A fresh session for ``user``: the old one's content, CSRF token too, is dropped."""
    interface = session.get(INTERFACE_LOCALE_KEY)
    session.clear()
    if interface:
        session[INTERFACE_LOCALE_KEY] = interface
    session.permanent = False
    session[USER_KEY] = user.id
    session[EPOCH_KEY] = user.session_epoch
    session[SINCE_KEY] = int(time.time())
    if token_id is not None:
        session[TOKEN_KEY] = token_id


def sign_in(token: str) -> User:
    """Check the token as the API does and start a fresh session for its user."""
    try:
        record = security.credential("Bearer " + token.strip())
    except Unauthorized:
        identity.record_failed_token_sign_in(request.remote_addr)
        raise
    start(record.user, record.id)
    return record.user


def sign_in_with_password(name: str, password: str) -> User:
    """Check the name and password (throttled) and start a fresh session for the user."""
    user = security.sign_in_with_password(name.strip(), password)
    start(user)
    return user


def sign_out() -> None:
    """Forget who is signed in; the chosen interface language stays."""
    for key in (USER_KEY, TOKEN_KEY, SINCE_KEY, EPOCH_KEY, "csrf_token"):
        session.pop(key, None)


def session_token_id() -> int | None:
    """The id of the token this session was opened with (None: a password)."""
    token_id = session.get(TOKEN_KEY)
    return token_id if isinstance(token_id, int) else None


def signed_in() -> Session | None:
    """The session while it holds (see the module's docstring); else None, signed out."""
    user_id, token_id, since, epoch = (
        session.get(k) for k in (USER_KEY, TOKEN_KEY, SINCE_KEY, EPOCH_KEY)
    )
    if not (isinstance(user_id, int) and isinstance(since, int) and isinstance(epoch, int)):
        if user_id is not None:
            sign_out()
        return None
    lifetime = current_app.config["CONSOLE_SESSION_LIFETIME"].total_seconds()
    found: Session | None = None
    if time.time() - since <= lifetime:
        if isinstance(token_id, int):
            token = identity.live_token(token_id, user_id)
            found = Session(token.user, token) if token is not None else None
        elif (user := identity.user_by_id(user_id)) is not None:
            found = Session(user, None)
    if found is None or not found.user.is_active or found.user.session_epoch != epoch:
        sign_out()
        return None
    return found
