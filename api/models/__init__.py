"""The data model: content, translations, identity and the event log."""

from api.models.aids import GlossaryTerm, MemorySource, MemoryUnit, MemoryWord
from api.models.audit import Event
from api.models.content import Essay, PublicationStamp, SourceRevision, Unit, content_hash
from api.models.delivery import (
    DELIVERY_STATES,
    Change,
    Delivery,
    DeliveryAttempt,
    FeedCounter,
    Webhook,
)
from api.models.identity import (
    LINK_PURPOSES,
    ROLE_SCOPES,
    ROLES,
    SCOPES,
    AccountLink,
    ApiToken,
    User,
    UserLocale,
)
from api.models.jobs import JOB_STATES, Job
from api.models.notifications import (
    NOTIFICATION_KINDS,
    NOTIFICATION_MODES,
    Notification,
    NotificationSetting,
)
from api.models.release import RELEASE_STATES, EssayLocale, PreviewLink
from api.models.search import SearchDocument, SearchFallback
from api.models.translation import STATUSES, Comment, TranslationVersion

__all__ = [
    "DELIVERY_STATES",
    "Change",
    "Delivery",
    "DeliveryAttempt",
    "FeedCounter",
    "Webhook",
    "JOB_STATES",
    "LINK_PURPOSES",
    "RELEASE_STATES",
    "ROLES",
    "ROLE_SCOPES",
    "SCOPES",
    "STATUSES",
    "AccountLink",
    "ApiToken",
    "Comment",
    "Essay",
    "EssayLocale",
    "Event",
    "GlossaryTerm",
    "MemorySource",
    "MemoryUnit",
    "MemoryWord",
    "Job",
    "NOTIFICATION_KINDS",
    "NOTIFICATION_MODES",
    "Notification",
    "NotificationSetting",
    "PreviewLink",
    "PublicationStamp",
    "SearchDocument",
    "SearchFallback",
    "SourceRevision",
    "TranslationVersion",
    "Unit",
    "User",
    "UserLocale",
    "content_hash",
]
