"""Invitations and password resets: single-use, expiring links that let someone choose a
password.

An admin makes a link; its token is random, shown once (in the URL) and stored as a SHA-256
hash. An invitation names an email, a role and locales, and whoever opens it chooses a name
and a password and has an account; a password reset lets its user choose a new password,
which ends every session they had. A link works once: used, revoked or past its expiry it
answers 410 Gone. With ``SMTP_URL`` set the server mails the link to its person; the admin
is shown it either way, and hands it over when it is not mailed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext

from api.database import lock_for_update, transaction
from api.errors import Conflict, Gone, NotFound, Unprocessable
from api.extensions import db
from api.models import AccountLink, User
from api.models.types import utcnow
from api.services import audit
from api.services.accounts import identity, passwords
from api.services.notify import links

INVITATION = "invitation"
PASSWORD_RESET = "password-reset"  # noqa: S105 - a purpose, not a secret
DEFAULT_DAYS = 7
MAX_DAYS = 30
RESET_DAYS = 1
TOKEN_BYTES = 32


@dataclass(frozen=True)
class IssuedLink:
    token: str
    link: AccountLink
    emailed: bool = False  # a job mails it to its person (the server has SMTP_URL)


def state(link: AccountLink, now: datetime | None = None) -> str:
    """``pending``, ``used``, ``revoked`` or ``expired``."""
    if link.used_at is not None:
        return "used"
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= (now or utcnow()):
        return "expired"
    return "pending"


def _days(expires_in_days: int) -> timedelta:
    if not 1 <= expires_in_days <= MAX_DAYS:
        message = gettext("A link lasts from 1 to %(max)s days.", max=MAX_DAYS)
        raise Unprocessable(message, errors={"expires_in_days": [message]})
    return timedelta(days=expires_in_days)


def _new_link(**fields: object) -> IssuedLink:
    """A new link, mailed to its person when the server sends mail (``notify.links``)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = AccountLink(token_hash=identity.hash_token(token), **fields)
    db.session.add(link)
    db.session.flush()
    return IssuedLink(token=token, link=link, emailed=links.enqueue(link, token))


def invite(
    email: str,
    role: str,
    locales: Sequence[str],
    actor: User | None,
    expires_in_days: int = DEFAULT_DAYS,
) -> IssuedLink:
    """An invitation for ``email`` to join with ``role`` in ``locales`` (admins)."""
    if actor is not None:
        identity.require_admin(actor)
    address = identity.normalise_email(email)
    identity.check_role(role)
    codes = identity.offered_locales(locales)
    now = utcnow()
    expires_at = now + _days(expires_in_days)
    with transaction():
        if identity.email_in_use(address):
            message = gettext("Another account already uses %(email)s.", email=address)
            raise Conflict(message, errors={"email": [message]})
        issued = _new_link(
            purpose=INVITATION,
            email=address,
            role=role,
            locales=codes,
            created_by_id=actor.id if actor else None,
            created_at=now,
            expires_at=expires_at,
        )
        audit.record(
            "invitation.created",
            actor=actor,
            after={
                "invitation_id": issued.link.id,
                "email": address,
                "role": role,
                "locales": codes,
                "expires_at": expires_at.isoformat(),
            },
        )
    return issued


def invitations(actor: User) -> sa.Select[tuple[AccountLink]]:
    """Invitations not revoked, newest first (admins)."""
    identity.require_admin(actor)
    return (
        sa.select(AccountLink)
        .where(AccountLink.purpose == INVITATION, AccountLink.revoked_at.is_(None))
        .order_by(AccountLink.id.desc())
    )


def revoke_invitation(invitation_id: int, actor: User | None) -> None:
    """Take back an invitation: its link answers 410 from now on (admins)."""
    if actor is not None:
        identity.require_admin(actor)
    with transaction() as session:
        link = session.scalar(
            lock_for_update(
                sa.select(AccountLink).where(
                    AccountLink.id == invitation_id,
                    AccountLink.purpose == INVITATION,
                    AccountLink.revoked_at.is_(None),
                )
            )
        )
        if link is None:
            raise NotFound(gettext("There is no invitation %(id)s.", id=invitation_id))
        if link.used_at is not None:
            raise Conflict(
                gettext(
                    "This invitation has been accepted already; deactivate the account instead."
                )
            )
        link.revoked_at = utcnow()
        audit.record(
            "invitation.revoked",
            actor=actor,
            before={"invitation_id": link.id, "email": link.email, "role": link.role},
        )


def password_reset(name: str, actor: User | None, expires_in_days: int = RESET_DAYS) -> IssuedLink:
    """A link with which ``name`` chooses a new password (admins); older ones stop working."""
    if actor is not None:
        identity.require_admin(actor)
    now = utcnow()
    expires_at = now + _days(expires_in_days)
    with transaction() as session:
        user = identity.get_user(name)
        if not user.is_active:
            raise Conflict(gettext("%(name)s is deactivated: reactivate them first.", name=name))
        session.execute(
            sa.update(AccountLink)
            .where(
                AccountLink.purpose == PASSWORD_RESET,
                AccountLink.user_id == user.id,
                AccountLink.used_at.is_(None),
                AccountLink.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        issued = _new_link(
            purpose=PASSWORD_RESET,
            user_id=user.id,
            created_by_id=actor.id if actor else None,
            created_at=now,
            expires_at=expires_at,
        )
        audit.record(
            "password_reset.created",
            actor=actor,
            after={
                "name": user.name,
                "link_id": issued.link.id,
                "expires_at": expires_at.isoformat(),
            },
        )
    return issued


# --- opening a link ---------------------------------------------------------------------


def _find(token: str, purpose: str, locked: bool = False) -> AccountLink:
    statement = sa.select(AccountLink).where(
        AccountLink.token_hash == identity.hash_token(token), AccountLink.purpose == purpose
    )
    link = db.session.scalar(lock_for_update(statement) if locked else statement)
    if link is None:
        raise NotFound(gettext("This link does not exist. Check that it was copied whole."))
    found = state(link)
    if found == "used":
        raise Gone(gettext("This link has been used already. Each link works once."))
    if found == "revoked":
        raise Gone(gettext("This link has been withdrawn. Ask an admin for a new one."))
    if found == "expired":
        raise Gone(gettext("This link has expired. Ask an admin for a new one."))
    if link.purpose == PASSWORD_RESET and (link.user is None or not link.user.is_active):
        raise Gone(gettext("This link has been withdrawn. Ask an admin for a new one."))
    return link


def open_link(token: str, purpose: str) -> AccountLink:
    """The link of ``purpose`` a token names, while it can be used; 404 or 410 otherwise."""
    return _find(token, purpose)


def accept_invitation(token: str, name: str, password: str) -> User:
    """The invitee's new account, with the name and password they chose."""
    _find(token, INVITATION)
    identity.check_name(name)
    passwords.check_new(password, name)
    password_hash = passwords.hash_password(password)
    with transaction():
        link = _find(token, INVITATION, locked=True)
        user = identity.create_user(
            name, link.role or "translator", link.locales, link.email, password_hash
        )
        link.used_at = utcnow()
        link.user_id = user.id
        audit.record(
            "invitation.accepted",
            actor=user,
            after={"invitation_id": link.id, "name": user.name, "email": link.email},
        )
    return user


def reset_password(token: str, password: str) -> User:
    """The user of a reset link, with their new password; their other sessions end."""
    user = _find(token, PASSWORD_RESET).user
    assert user is not None  # noqa: S101 - _find checked it
    passwords.check_new(password, user.name)
    password_hash = passwords.hash_password(password)
    with transaction():
        link = _find(token, PASSWORD_RESET, locked=True)
        user = db.session.get(User, link.user_id)
        assert user is not None  # noqa: S101 - _find checked it
        identity.set_password(user, password_hash)
        link.used_at = utcnow()
        audit.record("user.password_set", actor=user, after={"name": user.name, "link_id": link.id})
    return user
