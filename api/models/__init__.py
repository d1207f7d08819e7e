"""The data model: content, translations, identity and the event log."""

from api.models.audit import Event
from api.models.content import Essay, PublicationStamp, SourceRevision, Unit, content_hash
from api.models.identity import ROLES, ApiToken, User, UserLocale
from api.models.jobs import JOB_STATES, Job
from api.models.translation import STATUSES, Comment, TranslationVersion

__all__ = [
    "ROLES",
    "STATUSES",
    "JOB_STATES",
    "ApiToken",
    "Comment",
    "Essay",
    "Event",
    "Job",
    "PublicationStamp",
    "SourceRevision",
    "TranslationVersion",
    "Unit",
    "User",
    "UserLocale",
    "content_hash",
]
