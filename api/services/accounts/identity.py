"""Users, roles, locales and API tokens; who may sign in, and ending their sessions."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext

from api import i18n
from api.database import lock_for_update, transaction
from api.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized, Unprocessable
from api.extensions import db
from api.models import ROLES, ApiToken, User, UserLocale
from api.models.types import utcnow
from api.services import audit
from api.services.accounts import passwords

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
MAX_EMAIL = 254
# An address as people write them: a local part without spaces, controls or "@", then a
# domain name with a top-level label. The OpenAPI document states the same pattern, so it
# is written without classes such as \s that mean other things in other regex dialects.
EMAIL_PATTERN = (
    r"^[^@ \x00-\x1f\x7f]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$"
)
_EMAIL = re.compile(EMAIL_PATTERN)


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


def check_name(name: str) -> None:
    if not _NAME.match(name):
        message = gettext("A user name is 1 to 80 letters, digits, dots, hyphens or underscores.")
        raise InvalidInput(message, errors={"name": [message]})


def check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(gettext("Unknown role %(role)s.", role=role))


def offered_locales(locales: Sequence[str]) -> list[str]:
    """The offered locales named, each once; 400 for one that is not offered."""
    return _offered_locales(locales)


def is_email(text: str) -> bool:
    return len(text) <= MAX_EMAIL and _EMAIL.fullmatch(text) is not None


def normalise_email(raw: str) -> str:
    """An email address as stored (trimmed, lower case); 422 when it is not one."""
    email = raw.strip()
    if is_email(email):
        email = email.lower()  # a few letters lengthen in lower case (İ): checked again
    if not is_email(email):
        message = gettext("This is not a valid email address.")
        raise Unprocessable(message, errors={"email": [message]})
    return email


def email_in_use(email: str, but: User | None = None) -> bool:
    statement = sa.select(User.id).where(User.email == email)
    if but is not None:
        statement = statement.where(User.id != but.id)
    return db.session.scalar(statement) is not None


def _email_taken(email: str) -> Conflict:
    message = gettext("Another account already uses %(email)s.", email=email)
    return Conflict(message, errors={"email": [message]})


def create_user(
    name: str,
    role: str,
    locales: Sequence[str] = (),
    email: str | None = None,
    password_hash: str | None = None,
    actor: User | None = None,
) -> User:
    """A new account. ``password_hash`` is made by ``passwords.hash_password`` beforehand,
    so that the write transaction never waits for argon2."""
    check_name(name)
    check_role(role)
    codes = _offered_locales(locales)
    email = normalise_email(email) if email is not None else None
    with transaction() as session:
        if session.scalar(sa.select(User.id).where(User.name == name)) is not None:
            message = gettext("A user named %(name)s already exists.", name=name)
            raise Conflict(message, errors={"name": [message]})
        if email is not None and email_in_use(email):
            raise _email_taken(email)
        user = User(
            name=name,
            role=role,
            email=email,
            password_hash=password_hash,
            locale_grants=[UserLocale(locale=c) for c in codes],
        )
        session.add(user)
        session.flush()
        audit.record(
            "user.created",
            actor=actor,
            after={"name": name, "role": role, "locales": codes, "email": email},
        )
    return user


def get_user(name: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.name == name))
    if user is None:
        raise NotFound(gettext("There is no user %(name)s.", name=name))
    return user


def set_interface_locale(user: User, code: str) -> None:
    """Remember the console language a user chose: mail to them is written in it."""
    if user.interface_locale == code:
        return
    with transaction():
        user.interface_locale = code


def user_by_id(user_id: int) -> User | None:
    return db.session.get(User, user_id)


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


def users_statement(actor: User) -> sa.Select[tuple[User]]:
    """Everyone with an account, by name (admins)."""
    require_admin(actor)
    return sa.select(User).order_by(User.name)


def require_admin(actor: User) -> None:
    if actor.role != "admin":
        raise Forbidden(gettext("Only admins may manage people."))


# --- changing people --------------------------------------------------------------------

CHANGEABLE = ("role", "locales", "active", "email")


def update_user(name: str, changes: Mapping[str, Any], actor: User | None) -> User:
    """Change a user's role, locales, active state or email; each change is in the log.

    Deactivating someone ends their console sessions and revokes their API tokens in the
    same transaction, so the next request with either is refused. At least one active
    admin always remains.
    """
    if actor is not None:
        require_admin(actor)
    if "role" in changes:
        check_role(changes["role"])
    codes = sorted(_offered_locales(changes["locales"])) if "locales" in changes else None
    email = changes.get("email")
    if email is not None:
        email = normalise_email(email)
    with transaction() as session:
        user = session.scalar(lock_for_update(sa.select(User).where(User.name == name)))
        if user is None:
            raise NotFound(gettext("There is no user %(name)s.", name=name))
        role = changes.get("role", user.role)
        active = changes.get("active", user.is_active)
        if user.role == "admin" and user.is_active and (role != "admin" or not active):
            _keep_an_admin(user)
        if role != user.role:
            _record_change(actor, user, "role", user.role, role)
            user.role = role
        if codes is not None and codes != user.locales:
            _record_change(actor, user, "locales", user.locales, codes)
            user.locale_grants = [UserLocale(locale=c) for c in codes]
        if "email" in changes and email != user.email:
            if email is not None and email_in_use(email, but=user):
                raise _email_taken(email)
            _record_change(actor, user, "email", user.email, email)
            user.email = email
        if active != user.is_active:
            if active:
                audit.record("user.reactivated", actor=actor, after={"name": user.name})
            else:
                _deactivate(user, actor)
            user.is_active = active
        session.flush()
    return user


def _record_change(actor: User | None, user: User, field: str, before: Any, after: Any) -> None:
    """``user.<field>_changed`` in the event log, naming whose it was."""
    audit.record(
        f"user.{field}_changed",
        actor=actor,
        before={"name": user.name, field: before},
        after={"name": user.name, field: after},
    )


def _keep_an_admin(user: User) -> None:
    others = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(
            User.role == "admin", User.is_active.is_(True), User.id != user.id
        )
    )
    if not others:
        raise Conflict(gettext("At least one active admin must remain."))


def _deactivate(user: User, actor: User | None) -> None:
    """End every session and revoke every token of ``user`` (inside the caller's write)."""
    now = utcnow()
    revoked = []
    for token in user.tokens:
        if token.revoked_at is None:
            token.revoked_at = now
            revoked.append(token.id)
            audit.record(
                "token.revoked",
                actor=actor,
                before={"user": user.name, "token_id": token.id, "prefix": token.prefix},
            )
    user.session_epoch += 1
    audit.record(
        "user.deactivated", actor=actor, after={"name": user.name, "tokens_revoked": revoked}
    )


def end_sessions(user_id: int) -> None:
    """Sign a user out everywhere: every console session they have ends at once."""
    with transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            return
        user.session_epoch += 1
        audit.record("user.sessions_ended", actor=user, after={"name": user.name})


def set_password(user: User, password_hash: str) -> None:
    """A new password, inside the caller's write; every session the user had ends."""
    user.password_hash = password_hash
    user.session_epoch += 1


# --- signing in with a password ---------------------------------------------------------


def password_user(name: str, password: str, client: str | None) -> User:
    """The active user ``name`` whose password this is; 401, recorded, for anything else.

    Every failure costs one argon2 check, whether or not the name exists. A hash made with
    other parameters than today's is replaced by one made with them.
    """
    user = db.session.scalar(sa.select(User).where(User.name == name)) if name else None
    stored = user.password_hash if user is not None else None
    matches = passwords.verify(stored, password)
    if user is None or not matches or not user.is_active:
        # Whoever tried is not known: the attempt names the account, it is not its act.
        with transaction():
            audit.record(
                "user.sign_in_failed",
                actor=None,
                after={
                    "name": name[:80],
                    "method": "password",
                    "reason": _failure(user, matches),
                    "client": client,
                },
            )
        raise Unauthorized(gettext("The name or the password is not right."))
    if stored is not None and passwords.needs_rehash(stored):
        fresh = passwords.hash_password(password)
        with transaction() as session:
            session.execute(
                sa.update(User)
                .where(User.id == user.id, User.password_hash == stored)
                .values(password_hash=fresh)
            )
    return user


def _failure(user: User | None, matches: bool) -> str:
    if user is None:
        return "unknown-user"
    if user.password_hash is None:
        return "no-password"
    return "wrong-password" if not matches else "inactive"


def record_failed_token_sign_in(client: str | None) -> None:
    with transaction():
        audit.record(
            "user.sign_in_failed",
            actor=None,
            after={"method": "token", "reason": "invalid-token", "client": client},
        )
