"""Pages of a select statement, in the list shape every face of the API uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from api.extensions import db


def count(statement: sa.Select[Any]) -> int:
    """How many rows the statement selects."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    )
    return total or 0


def paginate(
    statement: sa.Select[Any],
    page: int,
    per_page: int,
    prepare: Callable[[list[Any]], list[Any]] | None = None,
) -> dict[str, Any]:
    """One page of a select statement: ``{"items", "page", "per_page", "total"}``.

    ``prepare`` turns the page's rows into items, all at once, so that it can load what
    the items need in a few queries for the whole page.
    """
    rows = list(
        db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).unique()
    )
    items = prepare(rows) if prepare else rows
    return {"items": items, "page": page, "per_page": per_page, "total": count(statement)}
