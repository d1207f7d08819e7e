"""Search over HTTP: published sections matching words, in a reader's locale."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api import i18n
from api.schemas.search import SearchArgs, SearchPageSchema
from api.services.search import query
from api.views import caching
from api.views.common import Blueprint

blp = Blueprint("search", __name__, url_prefix="/api/v1", description="Search.")


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, SearchPageSchema)
    @blp.alt_response(400, "BAD_REQUEST")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Published sections whose text matches, as readers of the locale get them."""
        negotiated = i18n.negotiate(args.get("locale"), allow_all=False)
        found = query.search(args["q"], negotiated.locale, args["page"], args["per_page"])
        caching.public_read(query.tags(negotiated.locale), negotiated=negotiated.requested is None)
        return found
