"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
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
        head = script.get_current_head()
        if current != head:
            return {"status": "unavailable", "database": "ok", "migration": current}, 503
        return {"status": "ok", "database": "ok", "migration": current}
