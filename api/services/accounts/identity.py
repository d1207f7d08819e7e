"""Users, roles, locales and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext

from api import i18n
from api.database import transaction
from api.errors import Conflict, InvalidInput, NotFound, Unauthorized
from api.extensions import db
from api.models import ROLES, ApiToken, User, UserLocale
from api.models.types import utcnow
from api.services import audit

TOKEN_PREFIX = "tj_"  # noqa: S105 - a marker, not a secret
# A token with limits (scopes, an expiry) starts with its own marker and is hashed apart,
# so that code which knows no limits (an older release beside this one during a rolling
# deploy, or after a rollback) never finds it, and refuses it rather than let it do more.
LIMITED_PREFIX = "tjl_"  # noqa: S105 - a marker, not a secret
_LIMITED_HASH = b"tarjuma limited token\x00"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
# last_used_at is written when it is older than this, so a busy token costs one write a
# minute, not one a request.
LAST_USED_STEP = timedelta(minutes=1)


def hash_token(token: str) -> str:
    """Tokens are long random strings, so one SHA-256 is the right hash: nothing to stretch."""
    if token.startswith(LIMITED_PREFIX):
        return hashlib.sha256(_LIMITED_HASH + token.encode()).hexdigest()
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(limited: bool) -> str:
    return (LIMITED_PREFIX if limited else TOKEN_PREFIX) + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


def _offered_locales(locales: Sequence[str]) -> list[str]:
    reg = i18n.registry()
    out = []
    for raw in locales:
        try:
            code = reg.resolve(i18n.normalise_tag(raw))
        except i18n.MalformedLocale:
            code = None
        if code is None or code != i18n.normalise_tag(raw):
            raise InvalidInput(gettext("Locale %(code)s is not offered.", code=raw))
        out.append(code)
    return list(dict.fromkeys(out))


def create_user(name: str, role: str, locales: Sequence[str] = ()) -> User:
    if not _NAME.match(name):
        raise InvalidInput(
            gettext("A user name is 1 to 80 letters, digits, dots, hyphens or underscores.")
        )
    if role not in ROLES:
        raise InvalidInput(gettext("Unknown role %(role)s.", role=role))
    codes = _offered_locales(locales)
    with transaction() as session:
        if session.scalar(sa.select(User.id).where(User.name == name)) is not None:
            raise Conflict(gettext("A user named %(name)s already exists.", name=name))
        user = User(name=name, role=role, locale_grants=[UserLocale(locale=c) for c in codes])
        session.add(user)
        session.flush()
        audit.record(
            "user.created", actor=None, after={"name": name, "role": role, "locales": codes}
        )
    return user


def get_user(name: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.name == name))
    if user is None:
        raise NotFound(gettext("There is no user %(name)s.", name=name))
    return user


def issue_token(name: str, expires_in_days: int | None = None) -> IssuedToken:
    """A token that may do all the user's role may (the command line's), for good or for
    ``expires_in_days`` days."""
    if expires_in_days is not None and expires_in_days < 1:
        raise InvalidInput(gettext("A token lasts at least one day."))
    expires_at = None if expires_in_days is None else utcnow() + timedelta(days=expires_in_days)
    token = new_token(limited=expires_at is not None)
    with transaction():
        user = get_user(name)
        record = ApiToken(
            user=user, token_hash=hash_token(token), prefix=token[:10], expires_at=expires_at
        )
        db.session.add(record)
        db.session.flush()
        audit.record(
            "token.issued",
            actor=None,
            after={
                "user": user.name,
                "token_id": record.id,
                "prefix": record.prefix,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return IssuedToken(token=token, record=record)


def revoke_token(name_or_id: str) -> list[ApiToken]:
    """Revoke one token by id, or every live token of a user by name."""
    with transaction() as session:
        if name_or_id.isdigit():
            tokens = [t for t in [session.get(ApiToken, int(name_or_id))] if t is not None]
        elif name_or_id.startswith((TOKEN_PREFIX, LIMITED_PREFIX)):
            tokens = list(
                session.scalars(
                    sa.select(ApiToken).where(ApiToken.token_hash == hash_token(name_or_id))
                )
            )
        else:
            tokens = list(get_user(name_or_id).tokens)
        tokens = [t for t in tokens if t.revoked_at is None]
        if not tokens:
            raise NotFound(gettext("No live token matches %(name)s.", name=name_or_id))
        for record in tokens:
            record.revoked_at = utcnow()
            audit.record(
                "token.revoked",
                actor=None,
                before={"user": record.user.name, "token_id": record.id, "prefix": record.prefix},
            )
    return tokens


def authenticate(header: str | None) -> ApiToken:
    """The token behind an ``Authorization: Bearer`` header; 401 for anything else.

    The caller is its ``user``; what it may do, its ``granted`` scopes (``api.security``,
    which then notes the use).
    """
    if not header:
        raise Unauthorized(gettext("Send a token: Authorization: Bearer <token>."))
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise Unauthorized(gettext("The Authorization header must be: Bearer <token>."))
    digest = hash_token(token)
    record = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest))
    if (
        record is None
        or not hmac.compare_digest(record.token_hash, digest)
        or record.revoked_at is not None
        or not record.user.is_active
    ):
        raise Unauthorized(gettext("The token is not valid, or has been revoked."))
    if record.expired:
        raise Unauthorized(gettext("The token has expired."))
    return record


def note_use(record: ApiToken) -> None:
    """Record that a request the token may make was made, at most once a ``LAST_USED_STEP``.

    The row was just read, so a recent ``last_used_at`` costs nothing more; a stale one,
    one conditional update, which other processes seeing the same stale value then skip.
    """
    now = utcnow()
    if record.last_used_at is not None and now - record.last_used_at < LAST_USED_STEP:
        return
    with transaction() as session:
        session.execute(
            sa.update(ApiToken)
            .where(
                ApiToken.id == record.id,
                sa.or_(
                    ApiToken.last_used_at.is_(None),
                    ApiToken.last_used_at < now - LAST_USED_STEP,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )


def live_token(token_id: int, user_id: int) -> ApiToken | None:
    """A token that is still live, unexpired and still theirs, of an active user; else None."""
    record = db.session.get(ApiToken, token_id)
    if (
        record is None
        or record.user_id != user_id
        or record.revoked_at is not None
        or record.expired
        or not record.user.is_active
    ):
        return None
    return record


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.name)))
