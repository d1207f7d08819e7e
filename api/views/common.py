"""Helpers shared by the views: the caller, locale negotiation, paging, JSON bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import g, request
from flask_babel import gettext

from api import i18n
from api.errors import LocaleNotOfferedError, MalformedLocaleError
from api.extensions import db
from api.models import User
from api.services import identity
from api.services.reading import ALL_LOCALES

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def current_user() -> User:
    """The authenticated caller; 401 problem when there is none."""
    user = g.get("user")
    if user is None:
        user = identity.authenticate(request.headers.get("Authorization"))
        g.user = user
    return user


def negotiate(query_value: str | None, allow_all: bool = True) -> i18n.Negotiated:
    """The request's locale, or a 400 problem for a malformed or unoffered ``?locale``."""
    if allow_all and query_value == ALL_LOCALES:
        return i18n.Negotiated(requested=ALL_LOCALES, locale=ALL_LOCALES)
    try:
        return i18n.negotiate_request(query_value)
    except i18n.MalformedLocale:
        raise MalformedLocaleError(
            gettext("%(code)s is not a well-formed locale code.", code=query_value),
            available_locales=list(i18n.registry().offered),
        ) from None
    except i18n.LocaleNotOffered as error:
        raise LocaleNotOfferedError(
            gettext("Locale %(code)s is not offered.", code=error.tag),
            available_locales=list(i18n.registry().offered),
        ) from None


def paginate(
    statement: sa.Select[Any],
    page: int,
    per_page: int,
    prepare: Callable[[list[Any]], list[Any]] | None = None,
) -> dict[str, Any]:
    """One page of a select statement in the contract's list shape.

    ``prepare`` turns the page's rows into items, all at once, so that it can load what
    the items need in a few queries for the whole page.
    """
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = list(
        db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).unique()
    )
    items = prepare(rows) if prepare else rows
    return {"items": items, "page": page, "per_page": per_page, "total": total or 0}
