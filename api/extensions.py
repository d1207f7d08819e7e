"""Extensions, created unbound and attached to an app in ``create_app``."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
babel = Babel()
api = Api()


def _is_read() -> bool:
    return request.method in ("GET", "HEAD", "OPTIONS")


# The default limit guards writes and sign-ins; reads are cheap and cacheable, and a
# CDN in front of the API would otherwise be limited as one client.
limiter = Limiter(key_func=get_remote_address, default_limits_exempt_when=_is_read)
