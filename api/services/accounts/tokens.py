"""Personal tokens: each user makes, lists and revokes their own, scoped and expiring.

A personal token carries a name, some of the scopes its user's role allows and an expiry
(90 days unless asked, at most a year). Like every token it is shown once and stored as a
hash (``identity.hash_token``). Making and revoking one are in the event log, with its
id, prefix, name, scopes and expiry, never the token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext

from api.database import transaction
from api.errors import NotFound, Unprocessable
from api.extensions import db
from api.models import ROLE_SCOPES, SCOPES, ApiToken, User
from api.models.types import utcnow
from api.services import audit
from api.services.accounts.identity import IssuedToken, hash_token, new_token

DEFAULT_DAYS = 90
MAX_DAYS = 365
MAX_NAME = 80


def allowed_scopes(user: User) -> tuple[str, ...]:
    """The scopes a token of this user may carry: those of their role."""
    return ROLE_SCOPES.get(user.role, ())


def _refuse(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors={field: [message]})


def _checked_scopes(user: User, scopes: Sequence[str]) -> list[str]:
    chosen = set(scopes)
    if not chosen:
        raise _refuse("scopes", gettext("Choose at least one scope."))
    unknown = sorted(chosen - set(SCOPES))
    if unknown:
        raise _refuse("scopes", gettext("Unknown scope %(scope)s.", scope=unknown[0]))
    beyond = [scope for scope in SCOPES if scope in chosen and scope not in allowed_scopes(user)]
    if beyond:
        raise _refuse(
            "scopes",
            gettext("The %(scope)s scope is beyond what your role may do.", scope=beyond[0]),
        )
    return [scope for scope in SCOPES if scope in chosen]


def create(user: User, name: str, scopes: Sequence[str], expires_in_days: int) -> IssuedToken:
    """A new token of ``user``'s; the token itself is in the result, and nowhere else."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise _refuse("name", gettext("A token's name is 1 to %(max)s characters.", max=MAX_NAME))
    chosen = _checked_scopes(user, scopes)
    if not 1 <= expires_in_days <= MAX_DAYS:
        raise _refuse(
            "expires_in_days",
            gettext("A token lasts 1 to %(max)s days.", max=MAX_DAYS),
        )
    token = new_token(limited=True)
    with transaction() as session:
        record = ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            prefix=token[:10],
            name=name,
            scopes=" ".join(chosen),
            expires_at=utcnow() + timedelta(days=expires_in_days),
        )
        session.add(record)
        session.flush()
        audit.record("token.issued", actor=user, after=_described(user, record))
    return IssuedToken(token=token, record=record)


def _described(user: User, record: ApiToken) -> dict[str, object]:
    """What the event log keeps of a token: never the token or its hash."""
    return {
        "user": user.name,
        "token_id": record.id,
        "prefix": record.prefix,
        "name": record.name,
        "scopes": record.scope_list,
        "expires_at": record.expires_at.isoformat() if record.expires_at else None,
    }


def listing(user: User) -> sa.Select[tuple[ApiToken]]:
    """A user's tokens that are not revoked, expired ones included, newest first."""
    return (
        sa.select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id.desc())
    )


def owned(user: User) -> list[ApiToken]:
    """Every token of ``listing``, for a screen that shows them all."""
    return list(db.session.scalars(listing(user)))


def revoke(user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s own tokens; anyone else's, or a revoked one, is not found."""
    with transaction() as session:
        record = session.get(ApiToken, token_id)
        if record is None or record.user_id != user.id or record.revoked_at is not None:
            raise NotFound(gettext("You have no token %(id)s.", id=token_id))
        record.revoked_at = utcnow()
        audit.record("token.revoked", actor=user, before=_described(user, record))
    return record
