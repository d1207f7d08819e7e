"""The data model: content, translations, identity and the event log."""

from api.models.aids import GlossaryTerm, MemorySource, MemoryUnit, MemoryWord
from api.models.audit import Event
from api.models.content import Essay, PublicationStamp, SourceRevision, Unit, content_hash
from api.models.identity import ROLES, ApiToken, User, UserLocale
from api.models.translation import STATUSES, Comment, TranslationVersion

__all__ = [
    "ROLES",
    "STATUSES",
    "ApiToken",
    "Comment",
    "Essay",
    "Event",
    "GlossaryTerm",
    "MemorySource",
    "MemoryUnit",
    "MemoryWord",
    "PublicationStamp",
    "SourceRevision",
    "TranslationVersion",
    "Unit",
    "User",
    "UserLocale",
    "content_hash",
]
