"""Users, their roles and locales, their credentials, and the links that let people in.

Secrets are stored only as hashes: API tokens and link tokens as SHA-256 (long random
strings), passwords as argon2id (``api.services.accounts.passwords``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from api.extensions import db
from api.models.types import UTCDateTime, one_of, utcnow

ROLES = ("translator", "reviewer", "admin")
# What a personal token may do, each scope a kind of work (``api/scopes.py`` says which
# endpoint needs which); a token never carries a scope its user's role lacks.
SCOPES = ("read", "translate", "review", "admin")
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "translator": ("read", "translate"),
    "reviewer": ("read", "translate", "review"),
    "admin": SCOPES,
}
LINK_PURPOSES = ("invitation", "password-reset")


class User(db.Model):  # type: ignore[name-defined]
    """Someone who translates, reviews or administers.

    role: ``translator`` submits for their locales; ``reviewer`` also approves and
        rejects for them; ``admin`` may do everything, in every locale.
    locales: the locales this user may work in (ignored for admins).
    email: where the user is reached; unique, stored in lower case.
    password_hash: argon2id hash of the console password; None until one is chosen.
    session_epoch: stamped into each console session at sign-in; raising it ends every
        session of the user at once ("sign out everywhere", a new password, deactivation).
    interface_locale: the console language the user last chose; mail to them is written
        in it (None: the first locale they work in that has a catalog, else the default).
    """

    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(16))
    is_active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254), unique=True)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    session_epoch: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    interface_locale: so.Mapped[str | None] = so.mapped_column(sa.String(35))

    locale_grants: so.Mapped[list[UserLocale]] = so.relationship(
        cascade="all, delete-orphan", order_by="UserLocale.locale", lazy="selectin"
    )
    tokens: so.Mapped[list[ApiToken]] = so.relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.CheckConstraint(one_of("role", ROLES), name="role"),)

    @property
    def locales(self) -> list[str]:
        return [grant.locale for grant in self.locale_grants]

    def may_work_in(self, locale: str) -> bool:
        return self.role == "admin" or locale in self.locales

    @property
    def may_review(self) -> bool:
        return self.role in ("reviewer", "admin")


class UserLocale(db.Model):  # type: ignore[name-defined]
    """A locale a user may work in."""

    __tablename__ = "user_locales"

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    locale: so.Mapped[str] = so.mapped_column(sa.String(35), primary_key=True)


class ApiToken(db.Model):  # type: ignore[name-defined]
    """An API token. Only its SHA-256 hash is stored; the token is shown once, at creation.

    prefix: the first characters of the token, to tell tokens apart in listings.
    name: what its owner calls it (personal tokens); None for tokens made on the command line.
    scopes: the scopes it carries, space-separated in ``SCOPES`` order; None for a token
        that may do all its user's role may (made on the command line).
    expires_at: after it the token is refused; None for a token that never expires.
    last_used_at: when it last authenticated, to the minute (not written on every request).
    revoked_at: set when revoked; a revoked token never authenticates again.
    """

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    prefix: so.Mapped[str] = so.mapped_column(sa.String(16))
    name: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    scopes: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    user: so.Mapped[User] = so.relationship(back_populates="tokens")

    @property
    def granted(self) -> frozenset[str] | None:
        """The scopes this token carries; None when it carries its user's whole role."""
        return None if self.scopes is None else frozenset(self.scopes.split())

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()

    @property
    def scope_list(self) -> list[str]:
        """Its scopes as listed to its owner: a role-wide token's are its role's."""
        if self.scopes is None:
            return list(ROLE_SCOPES.get(self.user.role, ()))
        return self.scopes.split()


class AccountLink(db.Model):  # type: ignore[name-defined]
    """A single-use, expiring link that lets its holder choose a password.

    purpose: ``invitation`` makes a new account with the ``email``, ``role`` and
        ``locales`` named here; ``password-reset`` sets a new password for ``user``.
    token_hash: SHA-256 of the random token in the link; the link is shown once.
    user: the account reset, or the account the invitation made once accepted.
    used_at: when the link was used; from then on it answers 410 Gone.
    revoked_at: when an admin took it back; it answers 410 Gone too.
    """

    __tablename__ = "account_links"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    purpose: so.Mapped[str] = so.mapped_column(sa.String(16))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    role: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    locales: so.Mapped[list[Any]] = so.mapped_column(sa.JSON, default=list)
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    user: so.Mapped[User | None] = so.relationship(foreign_keys=[user_id])
    created_by: so.Mapped[User | None] = so.relationship(foreign_keys=[created_by_id])

    __table_args__ = (
        sa.CheckConstraint("purpose IN ('invitation', 'password-reset')", name="purpose"),
        sa.CheckConstraint(
            "role IS NULL OR role IN ('translator', 'reviewer', 'admin')", name="role"
        ),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    )
