"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from flask import current_app
from flask.views import MethodView

from api.extensions import db
from api.schemas import HealthSchema
from api.views.common import Blueprint

blp = Blueprint("operations", __name__, description="Health of the service.")


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, Any]:
        """The process is up."""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="Not ready")
    def get(self) -> Any:
        """The database is reachable and migrated to the newest revision."""
        try:
            with db.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
                current = MigrationContext.configure(connection).get_current_revision()
        except sa.exc.SQLAlchemyError:
            return {"status": "unavailable", "database": "unreachable", "migration": None}, 503
        script = ScriptDirectory(current_app.config["MIGRATIONS_DIR"])
        if current != script.get_current_head() and not _newer_than_this_code(script, current):
            return {"status": "unavailable", "database": "ok", "migration": current}, 503
        return {"status": "ok", "database": "ok", "migration": current}


def _newer_than_this_code(script: ScriptDirectory, revision: str | None) -> bool:
    """A revision this code has never heard of: a newer release's node migrated past it.

    During a rolling deploy the old nodes serve beside the new ones on the migrated
    database, which every migration allows (it only adds what old code ignores; see
    docs/deploy.md), so they stay ready. A database behind this code is not ready.
    """
    if revision is None:
        return False
    try:
        script.get_revision(revision)
    except CommandError:
        return True
    return False
