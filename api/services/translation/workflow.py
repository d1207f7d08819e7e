"""The translation workflow: submit, check, review, publish, roll back.

Every command validates first, then runs in one transaction (``api.database.transaction``):
the version's new state, the superseded version, the publication stamp and the events
commit together or not at all. What may follow what is the ``TRANSITIONS`` table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import format_datetime, format_decimal, gettext, lazy_gettext

from api import i18n
from api.database import lock_for_update, transaction
from api.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unprocessable
from api.extensions import db
from api.models import Comment, Essay, SourceRevision, TranslationVersion, Unit, User
from api.models.types import utcnow
from api.services import audit, publication
from api.services.aids import glossary
from api.services.content import get_essay, get_unit
from api.services.text import normalise_text
from api.services.translation.checks import CheckInput, CheckResult, refuse_blocking, run_checks
from api.services.translation.diff import word_diff

TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"approved", "rejected", "withdrawn"}),
    "approved": frozenset({"superseded", "unpublished"}),
    "superseded": frozenset({"approved"}),
    "unpublished": frozenset({"approved"}),
    "rejected": frozenset(),
    "withdrawn": frozenset(),
}

STATUS_LABELS = {
    "submitted": lazy_gettext("submitted"),
    "approved": lazy_gettext("approved"),
    "rejected": lazy_gettext("rejected"),
    "withdrawn": lazy_gettext("withdrawn"),
    "superseded": lazy_gettext("superseded"),
    "unpublished": lazy_gettext("unpublished"),
}


@dataclass(frozen=True)
class Submission:
    locale: str
    heading: str | None
    body: str
    source_revision: int | None = None
    note: str | None = None


def _ensure_transition(version: TranslationVersion, target: str) -> None:
    if target not in TRANSITIONS[version.status]:
        raise Conflict(
            gettext(
                "Version %(version)s has been %(status)s since %(date)s;"
                " it cannot become %(target)s.",
                version=format_decimal(version.version),
                status=STATUS_LABELS[version.status],
                date=format_datetime(version.updated_at, "medium"),
                target=STATUS_LABELS[target],
            ),
            current_status=version.status,
        )


@dataclass(frozen=True)
class Move:
    """What becoming a status does besides the status itself.

    ``publishes``: the text readers get changes, so the unit's stamps are bumped (otherwise
    only the essay's revision is touched); ``reviewed``: the actor is recorded as reviewer.
    """

    action: str
    publishes: bool = False
    reviewed: bool = False


MOVES: dict[str, Move] = {
    "approved": Move("translation.approved", publishes=True, reviewed=True),
    "rejected": Move("translation.rejected", reviewed=True),
    "withdrawn": Move("translation.withdrawn"),
    "superseded": Move("translation.superseded"),
    "unpublished": Move("translation.unpublished", publishes=True, reviewed=True),
}
# Approving a version that was published before brings it back, and says so.
RESTORED = "translation.restored"


def _move(
    version: TranslationVersion,
    target: str,
    actor: User | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    comment: str | None = None,
) -> None:
    """Change a version's status as the state table allows: stamps, event and comment.

    ``before`` and ``after`` add to the event's two sides; ``comment`` is kept on the
    version as a comment of the actor's.
    """
    previous = version.status
    _ensure_transition(version, target)
    move = MOVES[target]
    now = utcnow()
    if move.reviewed:
        version.reviewed_at = now
        version.reviewer_id = actor.id if actor else None
    if target == "approved":
        version.approved_at = now
    # Last: the database checks that an approved version has its time.
    version.status = target
    db.session.flush()
    if move.publishes:
        publication.bump(version.unit.essay_id, version.locale, version.unit.key)
    else:
        publication.touch(version.unit.essay_id)
    restored = target == "approved" and previous in ("superseded", "unpublished")
    audit.record(
        RESTORED if restored else move.action,
        actor=actor,
        translation=version,
        before={"status": previous, **(before or {})},
        after={"status": target, **(after or {})},
    )
    if comment:
        _add_comment(version, actor, comment)


def _reason(text: str | None, message: str) -> str:
    """A required reason, stripped; ``message`` says what needs one when it is missing."""
    if not text or not text.strip():
        raise Unprocessable(message, errors={"reason": [message]})
    return text.strip()


def translatable_locale(raw: str, essay: Essay) -> str:
    """An offered target locale, exactly as offered; the source locale is not a target."""
    try:
        tag = i18n.normalise_tag(raw)
    except i18n.MalformedLocale:
        raise Unprocessable(
            gettext("Locale %(code)s is malformed.", code=raw),
            errors={"locale": [gettext("Locale %(code)s is malformed.", code=raw)]},
        ) from None
    if tag not in i18n.registry().offered:
        message = gettext("Locale %(code)s is not offered.", code=tag)
        raise Unprocessable(
            message,
            errors={"locale": [message]},
            available_locales=list(i18n.registry().offered),
        )
    if tag == essay.source_locale:
        message = gettext("The source locale is edited as source, not translated.")
        raise Unprocessable(message, errors={"locale": [message]})
    return tag


def ensure_may_work_in(actor: User, locale: str) -> None:
    if not actor.may_work_in(locale):
        raise Forbidden(gettext("You may not work in locale %(code)s.", code=locale))


def source_text(unit_id: int, revision: int) -> SourceRevision:
    """The source text of one revision of a unit (every revision is kept)."""
    found = db.session.scalar(
        sa.select(SourceRevision).where(
            SourceRevision.unit_id == unit_id, SourceRevision.revision == revision
        )
    )
    if found is None:
        raise NotFound(gettext("There is no source revision %(revision)s.", revision=revision))
    return found


def _check(
    unit: Unit, source: SourceRevision, locale: str, heading: str | None, body: str
) -> list[CheckResult]:
    return run_checks(
        CheckInput(
            locale=locale,
            source_locale=unit.essay.source_locale,
            source_heading=source.heading,
            source_body=source.body,
            heading=heading,
            body=body,
            max_length=current_app.config["MAX_TRANSLATION_LENGTH"],
            glossary=glossary.entries(locale),
        )
    )


def _lock_unit(unit_id: int) -> Unit:
    return db.session.execute(
        lock_for_update(sa.select(Unit).where(Unit.id == unit_id)).execution_options(
            populate_existing=True
        )
    ).scalar_one()


@dataclass(frozen=True)
class _Text:
    heading: str | None
    body: str
    source_revision: int


def _normalised(unit: Unit, data: Submission) -> _Text:
    """The submission in the form it is stored: a known source revision, normalised text."""
    revision = data.source_revision if data.source_revision is not None else unit.source_revision
    if revision < 1 or revision > unit.source_revision:
        message = gettext(
            "Source revision %(revision)s does not exist; the current one is %(current)s.",
            revision=revision,
            current=unit.source_revision,
        )
        raise Unprocessable(message, errors={"source_revision": [message]})
    heading = normalise_text(data.heading) if data.heading is not None else None
    if heading is not None and unit.heading is None and not heading.strip():
        heading = None
    return _Text(heading, normalise_text(data.body), revision)


def own_pending(unit_id: int, locale: str, author: User) -> TranslationVersion | None:
    """The author's newest version of a unit still waiting for review in a locale."""
    return db.session.scalar(
        sa.select(TranslationVersion)
        .where(
            TranslationVersion.unit_id == unit_id,
            TranslationVersion.locale == locale,
            TranslationVersion.author_id == author.id,
            TranslationVersion.status == "submitted",
        )
        .order_by(TranslationVersion.version.desc())
        .limit(1)
    )


def already_there(unit: Unit, data: Submission, actor: User | None) -> TranslationVersion | None:
    """The actor's pending version or the published one when ``data`` says the same.

    The same means the same heading and body once normalised, made from the same source
    or an older one: the same text confirmed against a newer, different source is news.
    Called inside the caller's transaction, with the unit locked.
    """
    text = _normalised(unit, data)
    candidates = [own_pending(unit.id, data.locale, actor) if actor else None]
    candidates.append(published_version(unit.id, data.locale))
    for found in candidates:
        if found is None or (found.heading, found.body) != (text.heading, text.body):
            continue
        if text.source_revision <= found.source_revision:
            return found
        if source_text(unit.id, text.source_revision).content_hash == found.source_hash:
            return found
    return None


def _create_version(unit: Unit, data: Submission, actor: User | None) -> TranslationVersion:
    """Validate and store a submitted version (inside the caller's transaction)."""
    text = _normalised(unit, data)
    revision, heading, body = text.source_revision, text.heading, text.body
    source = source_text(unit.id, revision)
    results = _check(unit, source, data.locale, heading, body)
    refuse_blocking(results)
    number = (
        db.session.scalar(
            sa.select(sa.func.max(TranslationVersion.version)).where(
                TranslationVersion.unit_id == unit.id,
                TranslationVersion.locale == data.locale,
            )
        )
        or 0
    ) + 1
    version = TranslationVersion(
        unit=unit,
        locale=data.locale,
        version=number,
        heading=heading,
        body=body,
        status="submitted",
        source_revision=revision,
        source_hash=source.content_hash,
        author_id=actor.id if actor else None,
        note=data.note or None,
        checks=[r.to_dict() for r in results],
    )
    db.session.add(version)
    db.session.flush()
    publication.touch(unit.essay_id)
    audit.record(
        "translation.submitted",
        actor=actor,
        translation=version,
        after={"status": "submitted", "version": number, "source_revision": revision},
    )
    return version


@dataclass(frozen=True)
class Submitted:
    """What a submission led to: a new version, or the one that already says the same."""

    translation: TranslationVersion
    unchanged: bool

    def __getattr__(self, name: str) -> Any:
        return getattr(self.translation, name)


def submit(slug: str, key: str, data: Submission, actor: User) -> Submitted:
    """A translator's new version of one unit in one locale, unless it says nothing new.

    Text the same as the translator's pending version or as the published one creates
    nothing: the existing version comes back, ``unchanged``.
    """
    essay = get_essay(slug)
    locale = translatable_locale(data.locale, essay)
    ensure_may_work_in(actor, locale)
    data = Submission(locale, data.heading, data.body, data.source_revision, data.note)
    unit_id = get_unit(essay, key).id
    with transaction():
        unit = _lock_unit(unit_id)
        existing = already_there(unit, data, actor)
        if existing is not None:
            return Submitted(existing, unchanged=True)
        version = _create_version(unit, data, actor)
    return Submitted(version, unchanged=False)


def get_version(version_id: int) -> TranslationVersion:
    version = db.session.get(TranslationVersion, version_id)
    if version is None:
        raise NotFound(gettext("There is no translation %(id)s.", id=version_id))
    return version


def version_with_events(version_id: int) -> TranslationVersion:
    """One version with its review events, newest first, as ``events``."""
    version = get_version(version_id)
    version.events = list(db.session.scalars(audit.query(translation_id=version.id)))
    return version


def _publish(version: TranslationVersion, actor: User | None, comment: str | None) -> None:
    """Make ``version`` the published one (inside the caller's transaction, unit locked)."""
    _ensure_transition(version, "approved")
    results = _check(
        version.unit,
        source_text(version.unit_id, version.source_revision),
        version.locale,
        version.heading,
        version.body,
    )
    refuse_blocking(results)
    current = published_version(version.unit_id, version.locale)
    if current is not None:
        _move(current, "superseded", actor, after={"by": version.id})
    version.checks = [r.to_dict() for r in results]
    _move(
        version,
        "approved",
        actor,
        before={"published": current.id if current else None},
        after={"comment": comment},
        comment=comment,
    )


def _reviewable(version_id: int, actor: User) -> TranslationVersion:
    version = get_version(version_id)
    if not actor.may_review:
        raise Forbidden(gettext("Only reviewers and admins may review translations."))
    ensure_may_work_in(actor, version.locale)
    if version.author_id == actor.id and not current_app.config["ALLOW_SELF_REVIEW"]:
        raise Forbidden(gettext("You may not review your own translation."))
    return version


def _reload(version_id: int) -> TranslationVersion:
    """The version as committed now (after the unit's lock was taken)."""
    return db.session.execute(
        sa.select(TranslationVersion)
        .where(TranslationVersion.id == version_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def approve(version_id: int, actor: User, comment: str | None = None) -> TranslationVersion:
    """Publish a submitted version, or restore a superseded or unpublished one."""
    unit_id = _reviewable(version_id, actor).unit_id
    with transaction():
        _lock_unit(unit_id)
        version = _reload(version_id)
        _publish(version, actor, comment)
    return version


def reject(version_id: int, actor: User, reason: str) -> TranslationVersion:
    """Refuse a submitted version; the reason is required and kept as a comment."""
    reason = _reason(reason, gettext("A rejection needs a reason."))
    unit_id = _reviewable(version_id, actor).unit_id
    with transaction():
        _lock_unit(unit_id)
        version = _reload(version_id)
        _move(version, "rejected", actor, after={"reason": reason}, comment=reason)
    return version


def unpublish(version_id: int, actor: User, reason: str) -> TranslationVersion:
    """Take a published version down at once; readers fall back along their chain.

    The reason is required and kept as a comment. Approving the version again restores it.
    """
    reason = _reason(reason, gettext("Unpublishing needs a reason."))
    version = get_version(version_id)
    if not actor.may_review:
        raise Forbidden(gettext("Only reviewers and admins may unpublish translations."))
    ensure_may_work_in(actor, version.locale)
    with transaction():
        _lock_unit(version.unit_id)
        version = _reload(version_id)
        _move(version, "unpublished", actor, after={"reason": reason}, comment=reason)
    return version


def withdraw(version_id: int, actor: User) -> TranslationVersion:
    """The author takes back a version nobody has reviewed yet."""
    version = get_version(version_id)
    if version.author_id != actor.id:
        raise Forbidden(gettext("Only the author may withdraw a translation."))
    with transaction():
        _lock_unit(version.unit_id)
        version = _reload(version_id)
        _move(version, "withdrawn", actor)
    return version


def _add_comment(version: TranslationVersion, actor: User | None, body: str) -> Comment:
    comment = Comment(translation=version, author_id=actor.id if actor else None, body=body)
    db.session.add(comment)
    db.session.flush()
    audit.record(
        "comment.added",
        actor=actor,
        translation=version,
        after={"comment_id": comment.id, "body": body},
    )
    return comment


def add_comment(version_id: int, actor: User, body: str) -> Comment:
    """A comment by the version's author or by a reviewer of its locale."""
    if not body or not body.strip():
        message = gettext("A comment needs some text.")
        raise Unprocessable(message, errors={"body": [message]})
    version = get_version(version_id)
    if version.author_id != actor.id and not (
        actor.may_review and actor.may_work_in(version.locale)
    ):
        raise Forbidden(gettext("Only the author and the locale's reviewers may comment."))
    with transaction():
        comment = _add_comment(db.session.merge(version), actor, body.strip())
    return comment


@dataclass(frozen=True)
class BulkOutcome:
    id: int
    status: int
    translation: TranslationVersion | None = None
    problem: DomainError | None = None


def bulk(ids: list[int], actor: User, action: str, text: str | None) -> list[BulkOutcome]:
    """Apply one review action to several versions; each is its own transaction."""
    if action not in ("approve", "reject"):
        raise InvalidInput(gettext("Unknown action %(action)s.", action=action))
    operation: Callable[[int], TranslationVersion]
    if action == "approve":

        def operation(version_id: int) -> TranslationVersion:
            return approve(version_id, actor, text)
    else:
        reason = _reason(text, gettext("A rejection needs a reason."))

        def operation(version_id: int) -> TranslationVersion:
            return reject(version_id, actor, reason)

    outcomes = []
    for version_id in dict.fromkeys(ids):
        try:
            outcomes.append(BulkOutcome(version_id, 200, operation(version_id)))
        except DomainError as error:
            db.session.rollback()
            outcomes.append(BulkOutcome(version_id, error.status, problem=error))
    return outcomes


def history(slug: str, key: str, locale: str | None) -> sa.Select[tuple[TranslationVersion]]:
    """Every version of one unit (in one locale, or all), newest first."""
    essay = get_essay(slug)
    unit = get_unit(essay, key)
    statement = sa.select(TranslationVersion).where(TranslationVersion.unit_id == unit.id)
    if locale:
        statement = statement.where(TranslationVersion.locale == translatable_locale(locale, essay))
    return statement.order_by(TranslationVersion.created_at.desc(), TranslationVersion.id.desc())


def versions(slug: str, key: str, locale: str | None) -> list[TranslationVersion]:
    """``history`` as a list."""
    return list(db.session.scalars(history(slug, key, locale)))


def own_versions(
    author: User, statuses: tuple[str, ...] = ("submitted", "rejected"), limit: int = 50
) -> list[TranslationVersion]:
    """The author's newest versions in these states (by default: what still concerns them)."""
    return list(
        db.session.scalars(
            sa.select(TranslationVersion)
            .options(so.joinedload(TranslationVersion.unit).joinedload(Unit.essay))
            .where(
                TranslationVersion.author_id == author.id,
                TranslationVersion.status.in_(statuses),
            )
            .order_by(TranslationVersion.created_at.desc(), TranslationVersion.id.desc())
            .limit(limit)
        )
    )


def review_queue(actor: User, locale: str | None, status: str | None) -> sa.Select[Any]:
    """Versions waiting for (or past) review in the caller's locales, oldest first."""
    if not actor.may_review:
        raise Forbidden(gettext("Only reviewers and admins may see the review queue."))
    statement = sa.select(TranslationVersion).options(
        so.joinedload(TranslationVersion.unit).joinedload(Unit.essay),
        so.joinedload(TranslationVersion.author),
        so.joinedload(TranslationVersion.reviewer),
        so.selectinload(TranslationVersion.comments).joinedload(Comment.author),
    )
    if status:
        if status not in TRANSITIONS:
            message = gettext("Unknown status %(status)s.", status=status)
            raise Unprocessable(message, errors={"status": [message]})
        statement = statement.where(TranslationVersion.status == status)
    if locale:
        try:
            code = i18n.normalise_tag(locale)
        except i18n.MalformedLocale:
            code = locale
        ensure_may_work_in(actor, code)
        statement = statement.where(TranslationVersion.locale == code)
    elif actor.role != "admin":
        statement = statement.where(TranslationVersion.locale.in_(actor.locales or [""]))
    return statement.order_by(TranslationVersion.created_at, TranslationVersion.id)


@dataclass(frozen=True)
class ReviewItem:
    """A version as a reviewer sees it: beside its source text and the published version."""

    translation: TranslationVersion
    source: dict[str, Any]
    published: dict[str, Any] | None
    diff: dict[str, Any]
    source_diff: dict[str, Any] | None
    changed: bool = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.translation, name)


def _diff(old: Any, new: Any) -> dict[str, Any]:
    return {
        "heading": word_diff(old.heading if old else None, new.heading),
        "body": word_diff(old.body if old else None, new.body),
    }


def review_items(versions: list[TranslationVersion]) -> list[ReviewItem]:
    """Reviewers' views of a page of versions: two queries for the page, not two per item."""
    if not versions:
        return []
    sources = {
        (s.unit_id, s.revision): s
        for s in db.session.scalars(
            sa.select(SourceRevision).where(
                sa.tuple_(SourceRevision.unit_id, SourceRevision.revision).in_(
                    {(v.unit_id, v.source_revision) for v in versions}
                )
            )
        )
    }
    published = {
        (p.unit_id, p.locale): p
        for p in db.session.scalars(
            sa.select(TranslationVersion).where(
                TranslationVersion.unit_id.in_({v.unit_id for v in versions}),
                TranslationVersion.locale.in_({v.locale for v in versions}),
                TranslationVersion.status == "approved",
            )
        )
    }
    return [
        _review_item(
            v, sources[(v.unit_id, v.source_revision)], published.get((v.unit_id, v.locale))
        )
        for v in versions
    ]


def _review_item(
    version: TranslationVersion, source: SourceRevision, published: TranslationVersion | None
) -> ReviewItem:
    unit = version.unit
    outdated = version.source_hash != unit.source_hash
    return ReviewItem(
        translation=version,
        source={
            "revision": version.source_revision,
            "heading": source.heading,
            "body": source.body,
            "current_revision": unit.source_revision,
            "current_heading": unit.heading,
            "current_body": unit.body,
        },
        published=(
            {
                "id": published.id,
                "version": published.version,
                "heading": published.heading,
                "body": published.body,
            }
            if published is not None
            else None
        ),
        diff=_diff(published, version),
        source_diff=_diff(source, unit) if outdated else None,
        changed=published is None
        or published.id == version.id
        or (published.heading, published.body) != (version.heading, version.body),
    )


def published_version(unit_id: int, locale: str) -> TranslationVersion | None:
    return db.session.scalar(
        sa.select(TranslationVersion).where(
            TranslationVersion.unit_id == unit_id,
            TranslationVersion.locale == locale,
            TranslationVersion.status == "approved",
        )
    )


def import_published(
    unit: Unit, locale: str, heading: str | None, body: str, source_revision: int
) -> TranslationVersion | None:
    """Load shipped text as a published version (no actor); unchanged text is left alone."""
    current = published_version(unit.id, locale)
    if current is not None and current.body == body and current.heading == heading:
        return None
    version = _create_version(unit, Submission(locale, heading, body, source_revision, None), None)
    _publish(version, None, None)
    return version
