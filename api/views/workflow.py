"""The translation workflow over HTTP: submissions, review, comments, events, identity."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_babel import gettext

from api.errors import Forbidden, problem_body
from api.models import TranslationVersion
from api.schemas import MeSchema
from api.schemas.workflow import (
    BULK_BODY,
    ApproveSchema,
    BulkOutSchema,
    BulkSchema,
    CommentInSchema,
    CommentSchema,
    EventArgs,
    EventPageSchema,
    HistoryArgs,
    RejectSchema,
    ReviewArgs,
    ReviewPageSchema,
    SubmissionSchema,
    SubmittedSchema,
    TranslationDetailSchema,
    TranslationPageSchema,
    TranslationSchema,
    UnpublishSchema,
)
from api.services import audit
from api.services.paging import paginate
from api.services.translation import workflow
from api.views.common import Blueprint, current_user

blp = Blueprint(
    "workflow",
    __name__,
    url_prefix="/api/v1",
    description=(
        "Submitting, reviewing and publishing translations. The essay title is a unit like"
        " the sections: address it with the section key ``title`` (it has no heading)."
    ),
)


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self) -> dict[str, Any]:
        """Who the token belongs to: name, roles and locales."""
        user = current_user()
        return {"name": user.name, "roles": [user.role], "locales": user.locales}


@blp.route("/essays/<key:slug>/sections/<key:key>/translations")
class Translations(MethodView):
    @blp.arguments(HistoryArgs, location="query")
    @blp.response(200, TranslationPageSchema)
    def get(self, args: dict[str, Any], slug: str, key: str) -> dict[str, Any]:
        """Every version of a section (``title`` for the title), newest first."""
        current_user()
        statement = workflow.history(slug, key, args.get("locale"))
        return paginate(statement, args["page"], args["per_page"])

    @blp.arguments(SubmissionSchema)
    @blp.response(
        201,
        SubmittedSchema,
        description="A new version, waiting for review.",
        headers={"Location": {"schema": {"type": "string"}}},
    )
    @blp.alt_response(
        200,
        schema=SubmittedSchema,
        description=(
            "Nothing new: the text is the same as your pending version or the published one,"
            " which comes back with ``unchanged`` true."
        ),
    )
    def post(self, data: dict[str, Any], slug: str, key: str) -> Any:
        """Submit a translation of a section (``title`` for the title) for review."""
        submitted = workflow.submit(
            slug,
            key,
            workflow.Submission(
                locale=data["locale"],
                heading=data.get("heading"),
                body=data["body"],
                source_revision=data.get("source_revision"),
                note=data.get("note"),
            ),
            current_user(),
        )
        location = url_for("workflow.TranslationResource", version_id=submitted.id)
        if submitted.unchanged:
            return submitted, 200, {"Content-Location": location}
        return submitted, 201, {"Location": location}


@blp.route("/translations/<int(max=2147483647):version_id>")
class TranslationResource(MethodView):
    @blp.response(200, TranslationDetailSchema)
    def get(self, version_id: int) -> TranslationVersion:
        """One version with its comments and review events."""
        current_user()
        return workflow.version_with_events(version_id)


@blp.route("/translations/<int(max=2147483647):version_id>/withdraw")
class Withdraw(MethodView):
    @blp.response(200, TranslationSchema)
    def post(self, version_id: int) -> TranslationVersion:
        """The author takes back a submitted version."""
        return workflow.withdraw(version_id, current_user())


@blp.route("/translations/<int(max=2147483647):version_id>/approve")
class Approve(MethodView):
    @blp.arguments(ApproveSchema)
    @blp.response(200, TranslationSchema)
    def post(self, data: dict[str, Any], version_id: int) -> TranslationVersion:
        """Publish a submitted version, or restore a superseded one (rollback)."""
        return workflow.approve(version_id, current_user(), data.get("comment"))


@blp.route("/translations/<int(max=2147483647):version_id>/reject")
class Reject(MethodView):
    @blp.arguments(RejectSchema)
    @blp.response(200, TranslationSchema)
    def post(self, data: dict[str, Any], version_id: int) -> TranslationVersion:
        """Refuse a submitted version, with a required reason."""
        return workflow.reject(version_id, current_user(), data["reason"])


@blp.route("/translations/<int(max=2147483647):version_id>/unpublish")
class Unpublish(MethodView):
    @blp.arguments(UnpublishSchema)
    @blp.response(200, TranslationSchema)
    def post(self, data: dict[str, Any], version_id: int) -> TranslationVersion:
        """Take a published version down (reviewers of its locale, admins); a reason is needed."""
        return workflow.unpublish(version_id, current_user(), data["reason"])


@blp.route("/translations/<int(max=2147483647):version_id>/comments")
class Comments(MethodView):
    @blp.arguments(CommentInSchema)
    @blp.response(201, CommentSchema)
    def post(self, data: dict[str, Any], version_id: int) -> Any:
        """Comment on a version (its author, or a reviewer of its locale)."""
        return workflow.add_comment(version_id, current_user(), data["body"])


@blp.route("/reviews")
class Reviews(MethodView):
    @blp.arguments(ReviewArgs, location="query")
    @blp.response(200, ReviewPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The review queue for the caller's locales, with source, published text and diff."""
        statement = workflow.review_queue(current_user(), args.get("locale"), args["status"])
        return paginate(statement, args["page"], args["per_page"], prepare=workflow.review_items)


@blp.route("/reviews/bulk")
class BulkReview(MethodView):
    @blp.arguments(BulkSchema)
    @blp.response(200, BulkOutSchema)
    @blp.doc(requestBody=BULK_BODY)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Approve or reject several versions; each follows the usual rules, reported per id."""
        text = data.get("comment") if data["action"] == "approve" else data.get("reason")
        outcomes = workflow.bulk(data["ids"], current_user(), data["action"], text)
        return {
            "results": [
                {
                    "id": o.id,
                    "status": o.status,
                    "translation": o.translation,
                    "problem": problem_body(o.problem) if o.problem else None,
                }
                for o in outcomes
            ]
        }


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(EventArgs, location="query")
    @blp.response(200, EventPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The event log, newest first (reviewers; admins see changes to people too)."""
        user = current_user()
        if not user.may_review:
            raise Forbidden(gettext("Only reviewers and admins may read the event log."))
        filters = {k: args.get(k) for k in ("locale", "unit", "user", "action", "since", "until")}
        statement = audit.query(accounts=user.role == "admin", **filters)
        return paginate(statement, args["page"], args["per_page"])
