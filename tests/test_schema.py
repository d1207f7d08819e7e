"""The migrations build exactly the schema the models describe, constraints included."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from api.extensions import db
from api.models import TranslationVersion
from tests.conftest import schema_differences


def test_migrated_database_matches_the_models(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        assert schema_differences(connection) == []


def test_the_database_refuses_an_unknown_status(app: Flask) -> None:
    with app.app_context():
        version = db.session.scalars(sa.select(TranslationVersion)).first()
        assert version is not None
        version.status = "unpublished"
        db.session.commit()
        version.status = "hidden"
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
