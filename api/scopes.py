"""Which scope each endpoint needs: one table, for the API and the console alike.

A personal token carries scopes (``api.models.SCOPES``), never beyond its user's role:

- ``read``: every read behind a token: drafts, histories, the review queue, previews,
  pending catalogs, the memory, the glossary, the event log, webhooks, one's own tokens;
- ``translate``: submissions, withdrawals, comments and catalog uploads;
- ``review``: approvals, rejections, unpublishing and releases, and the reviewers' other
  work: preview links and the glossary;
- ``admin``: the rest: authoring essays, webhooks, TMX imports, and making or revoking
  tokens (so a token can never make one that does more than it).

The one authentication hook (``api.security.permit``) looks the request's endpoint and
method up here; a token made on the command line carries its user's whole role, and only
the services' role rules apply to it. An endpoint missing from the table needs ``admin``,
so a new one refuses narrow tokens until it is listed; a test checks that every route is.
The OpenAPI document's ``security`` comes from here too (``ScopePlugin``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from apispec import BasePlugin
from marshmallow import fields

READ_METHODS = {"GET": "GET", "HEAD": "GET"}
TRUE = frozenset(str(value) for value in fields.Boolean.truthy)


@dataclass(frozen=True)
class Need:
    """What a request to one endpoint and method needs of a token.

    scopes: every one of these.
    public: it also answers without a token (a token, if the view asks for one, is checked).
    when_true: a query parameter that, when true, needs one scope more.
    """

    scopes: tuple[str, ...] = ()
    public: bool = False
    when_true: tuple[str, str] | None = None

    def missing(self, granted: frozenset[str], args: Mapping[str, str]) -> str | None:
        """The first scope this request needs that ``granted`` lacks; None when it has all."""
        for scope in self.scopes:
            if scope not in granted:
                return scope
        if self.when_true is not None:
            name, scope = self.when_true
            if scope not in granted and args.get(name) in TRUE:
                return scope
        return None


OPEN = Need(public=True)
READ = Need(("read",))
READ_IF_TOKEN = Need(("read",), public=True)
TRANSLATE = Need(("translate",))
REVIEW = Need(("review",))
ADMIN = Need(("admin",))
UNLISTED = ADMIN

ENDPOINTS: dict[str, dict[str, Need]] = {
    # Probes, the document, metrics and static files.
    "operations.Health": {"GET": OPEN},
    "operations.Ready": {"GET": OPEN},
    "api-docs.openapi_json": {"GET": OPEN},
    "docs.page": {"GET": OPEN},
    "docs.static": {"GET": OPEN},
    "docs.swagger_ui": {"GET": OPEN},
    "metrics": {"GET": OPEN},
    "static": {"GET": OPEN},
    # Reading, and authoring the source (admins).
    "reading.Locales": {"GET": OPEN},
    "reading.LocaleProgress": {"GET": OPEN},
    "reading.Essays": {"GET": OPEN, "POST": ADMIN},
    "reading.EssayResource": {"GET": READ_IF_TOKEN, "PUT": ADMIN, "DELETE": ADMIN},
    "reading.SectionResource": {"GET": OPEN, "PUT": ADMIN},
    "search.Search": {"GET": OPEN},
    "accounts.Invitations": {"GET": ADMIN, "POST": ADMIN},
    "accounts.InvitationResource": {"DELETE": ADMIN},
    "accounts.Users": {"GET": ADMIN},
    "accounts.UserResource": {"PATCH": ADMIN},
    "accounts.PasswordReset": {"POST": ADMIN},
    # The workflow.
    "workflow.Me": {"GET": READ},
    "workflow.Translations": {"GET": READ, "POST": TRANSLATE},
    "workflow.TranslationResource": {"GET": READ},
    "workflow.Withdraw": {"POST": TRANSLATE},
    "workflow.Comments": {"POST": TRANSLATE},
    "workflow.Approve": {"POST": REVIEW},
    "workflow.Reject": {"POST": REVIEW},
    "workflow.Unpublish": {"POST": REVIEW},
    "workflow.Reviews": {"GET": READ},
    "workflow.BulkReview": {"POST": REVIEW},
    "workflow.Events": {"GET": READ},
    # Preview links and releases.
    "releases.PreviewLinks": {"POST": REVIEW},
    "releases.PreviewLinkResource": {"DELETE": REVIEW},
    "releases.EssayLocales": {"GET": OPEN},
    "releases.EssayLocaleResource": {"PUT": REVIEW},
    # Catalogs: an upload that also approves needs ``review`` too.
    "catalogs.CatalogTemplate": {"GET": OPEN},
    "catalogs.Catalog": {
        "GET": READ_IF_TOKEN,
        "POST": Need(("translate",), when_true=("approve", "review")),
    },
    # The change feed and webhooks.
    "delivery.Changes": {"GET": OPEN},
    "delivery.Webhooks": {"GET": READ, "POST": ADMIN},
    "delivery.WebhookResource": {"GET": READ, "PATCH": ADMIN, "DELETE": ADMIN},
    "delivery.RotateSecret": {"POST": ADMIN},
    "delivery.Deliveries": {"GET": READ},
    "delivery.Redeliver": {"POST": ADMIN},
    # Translators' aids.
    "aids.Suggestions": {"GET": READ},
    "aids.Concordance": {"GET": READ},
    "aids.MemoryTmx": {"GET": READ, "POST": ADMIN},
    "aids.Glossary": {"GET": READ, "POST": REVIEW},
    "aids.GlossaryTermResource": {"GET": READ, "PUT": REVIEW, "DELETE": REVIEW},
    "aids.LocaleBadge": {"GET": OPEN},
    "aids.EssayBadge": {"GET": OPEN},
    # One's own tokens.
    "tokens.Tokens": {"GET": READ, "POST": ADMIN},
    "tokens.TokenResource": {"DELETE": ADMIN},
    # One's own notifications: reading them and choosing what to hear of is a read's work.
    "notifications.Settings": {"GET": READ, "PUT": READ},
    "notifications.Notifications": {"GET": READ},
    "notifications.Read": {"POST": READ},
    # Preview links' page, for anyone holding one; a mail's unsubscribe link, whose signed
    # token names what it turns off and nothing else.
    "shared.preview_link": {"GET": OPEN},
    "shared.unsubscribe": {"GET": OPEN, "POST": OPEN},
    # The console: the same work as the API, the same scopes.
    "console.static": {"GET": OPEN},
    "console.sign_in": {"GET": OPEN, "POST": OPEN},
    "console.sign_out": {"POST": OPEN},
    "console.set_locale": {"POST": OPEN},
    "console.dashboard": {"GET": READ},
    "console.units": {"GET": READ},
    "console.editor": {"GET": READ, "POST": TRANSLATE},
    "console.withdraw": {"POST": TRANSLATE},
    "console.unpublish": {"POST": REVIEW},
    "console.send_preview": {"POST": REVIEW},
    "console.release": {"POST": REVIEW},
    "console.review": {"GET": READ},
    "console.approve": {"POST": REVIEW},
    "console.reject": {"POST": REVIEW},
    "console.bulk": {"POST": REVIEW},
    "console.preview": {"GET": READ},
    "console.glossary_terms": {"GET": READ, "POST": REVIEW},
    "console.glossary_term": {"GET": READ, "POST": REVIEW},
    "console.search": {"GET": READ},
    "console.tokens": {"GET": READ, "POST": ADMIN},
    "console.notifications": {"GET": READ, "POST": READ},
    "console.notification_settings": {"GET": READ, "POST": READ},
    # People and accounts: links open without a session (the link is the credential);
    # managing people is admins' work; ending one's own sessions is always allowed.
    "console.join": {"GET": OPEN, "POST": OPEN},
    "console.new_password": {"GET": OPEN, "POST": OPEN},
    "console.account": {"GET": READ},
    "console.sign_out_everywhere": {"POST": READ},
    "console.people": {"GET": ADMIN},
    "console.invite": {"POST": ADMIN},
    "console.revoke_invitation": {"POST": ADMIN},
    "console.person": {"GET": ADMIN, "POST": ADMIN},
    "console.password_reset": {"POST": ADMIN},
    "console.revoke_token": {"POST": ADMIN},
}


def need(endpoint: str | None, method: str) -> Need:
    """What a request needs; an endpoint or method missing from the table needs ``admin``."""
    rules = ENDPOINTS.get(endpoint or "")
    if rules is None:
        return UNLISTED
    return rules.get(READ_METHODS.get(method, method), UNLISTED)


class ScopePlugin(BasePlugin):
    """States each operation's ``security`` in the OpenAPI document from the table.

    An operation behind a token names the ``bearer`` scheme with the scopes it needs; one
    that also answers without a token offers no security as the first choice.
    """

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        rule = kwargs.get("rule")
        if rule is None:
            return
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict):
                continue
            found = need(rule.endpoint, method.upper())
            if not found.scopes:
                operation.pop("security", None)
                continue
            bearer = {"bearer": list(found.scopes)}
            operation["security"] = [{}, bearer] if found.public else [bearer]
            if found.when_true is not None:
                name, scope = found.when_true
                note = f"With ``{name}=true`` the token needs the ``{scope}`` scope too."
                operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
