"""What each console screen shows, read through the same services as the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from api import i18n
from api.console.forms import (
    ApproveForm,
    PreviewLinkForm,
    RejectForm,
    ReleaseForm,
    UnpublishForm,
)
from api.console.markup import render_markdown
from api.errors import DomainError
from api.services import content, paging
from api.services.aids import glossary, memory
from api.services.delivery import progress, reading, releases
from api.services.search import query as search_query
from api.services.translation import workflow
from api.services.translation.checks import CheckResult
from api.services.translation.diff import word_diff

if TYPE_CHECKING:
    from api.models import Essay, GlossaryTerm, TranslationVersion, Unit, User

STATES = ("approved", "outdated", "submitted", "missing")
REVIEW_PAGE_SIZE = 20


def target_locales(user: User) -> list[str]:
    """The locales the user works in (every offered target locale for admins)."""
    reg = i18n.registry()
    codes = reg.offered if user.role == "admin" else user.locales
    return [code for code in i18n.ordered(codes) if code != reg.source]


def checks_of(version: TranslationVersion) -> list[CheckResult]:
    return [CheckResult.from_dict(item) for item in version.checks or []]


def is_outdated(version: TranslationVersion) -> bool:
    return version.source_hash != version.unit.source_hash


# --- dashboard --------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    state: str
    count: int
    start: float
    width: float


@dataclass(frozen=True)
class LocaleProgress:
    """One locale's units by state (each unit counted once) and what waits for review."""

    code: str
    counts: dict[str, int]
    total: int
    pending: int
    waiting: int | None

    @property
    def segments(self) -> list[Segment]:
        out, start = [], 0.0
        for state in STATES:
            width = 100.0 * self.counts[state] / self.total if self.total else 0.0
            out.append(Segment(state, self.counts[state], round(start, 3), round(width, 3)))
            start += width
        return out

    @property
    def percent(self) -> int:
        done = self.counts["approved"] + self.counts["outdated"]
        return round(100 * done / self.total) if self.total else 0


def locale_progress(user: User, code: str) -> LocaleProgress:
    breakdown = progress.locale_breakdown(code)
    units = breakdown["units"]
    counts = dict.fromkeys(STATES, 0)
    for unit in units:
        counts[unit["state"]] += 1
    waiting = None
    if user.may_review:
        waiting = paging.count(workflow.review_queue(user, code, "submitted"))
    pending = sum(1 for unit in units if unit["submitted"])
    return LocaleProgress(code, counts, len(units), pending, waiting)


def dashboard(user: User) -> dict[str, Any]:
    ui = i18n.message_locale()
    essays = reading.essay_list(i18n.Negotiated(ui, ui), 1, 100)["items"]
    return {
        "essays": essays,
        "locales": [locale_progress(user, code) for code in target_locales(user)],
        "own": workflow.own_versions(user),
        "staged": releases.staged_everywhere(),
    }


# --- translation editor -----------------------------------------------------------------


def _ordered_units(essay: Essay) -> list[Unit]:
    return sorted(essay.units, key=lambda u: (u.kind != "title", u.position))


def working_locale(user: User, essay: Essay, raw: str) -> str:
    code = workflow.translatable_locale(raw, essay)
    workflow.ensure_may_work_in(user, code)
    return code


def unit_list(user: User, slug: str, raw_locale: str) -> dict[str, Any]:
    essay = content.get_essay(slug)
    code = working_locale(user, essay, raw_locale)
    states = {
        item["key"]: item
        for item in progress.locale_breakdown(code)["units"]
        if item["essay"] == essay.slug
    }
    release = releases.locale_state(essay.slug, code)
    return {
        "essay": essay,
        "locale": code,
        "units": [(unit, states.get(unit.key)) for unit in _ordered_units(essay)],
        "release": release,
        "may_send_preview": user.may_review and user.may_work_in(code),
        "may_release": user.role == "admin",
        "preview_form": PreviewLinkForm(formdata=None),
        "release_form": ReleaseForm(
            formdata=None, state="live" if release["state"] == "staged" else "staged"
        ),
    }


@dataclass
class VersionView:
    version: TranslationVersion
    checks: list[CheckResult]
    outdated: bool
    may_withdraw: bool
    may_restore: bool
    may_unpublish: bool = False
    unpublish: UnpublishForm | None = None


@dataclass
class EditorPage:
    essay: Essay
    unit: Unit
    locale: str
    published: TranslationVersion | None
    published_outdated: bool
    source_change: dict[str, Any] | None
    versions: list[VersionView]
    previous: Unit | None
    next: Unit | None
    submitted: VersionView | None = None
    fallback: dict[str, Any] | None = None
    staged: bool = False
    suggestions: list[memory.Suggestion] | None = None
    terms: list[GlossaryTerm] | None = None
    related: list[memory.Related] | None = None
    pending: TranslationVersion | None = None


SHOWN_SUGGESTIONS = 8


def editor(
    user: User,
    slug: str,
    raw_locale: str,
    key: str,
    submitted: int | None = None,
    unpublish_forms: dict[int, UnpublishForm] | None = None,
) -> EditorPage:
    essay = content.get_essay(slug)
    code = working_locale(user, essay, raw_locale)
    unit = content.get_unit(essay, key)
    published = workflow.published_version(unit.id, code)
    published_outdated = published is not None and is_outdated(published)
    source_change = None
    if published is not None and published_outdated:
        old = workflow.source_text(unit.id, published.source_revision)
        source_change = {
            "revision": old.revision,
            "heading": word_diff(old.heading, unit.heading),
            "body": word_diff(old.body, unit.body),
        }
    reviews_here = user.may_review and user.may_work_in(code)
    versions = [
        VersionView(
            version=v,
            checks=checks_of(v),
            outdated=is_outdated(v),
            may_withdraw=v.status == "submitted" and v.author_id == user.id,
            may_restore=v.status in ("superseded", "unpublished") and reviews_here,
            may_unpublish=v.status == "approved" and reviews_here,
            unpublish=(unpublish_forms or {}).get(v.id) or UnpublishForm(prefix=f"unpublish-{v.id}")
            if v.status == "approved" and reviews_here
            else None,
        )
        for v in workflow.versions(slug, key, code)
    ]
    units = _ordered_units(essay)
    index = next(i for i, u in enumerate(units) if u.id == unit.id)
    return EditorPage(
        essay=essay,
        unit=unit,
        locale=code,
        published=published,
        published_outdated=published_outdated,
        source_change=source_change,
        versions=versions,
        previous=units[index - 1] if index > 0 else None,
        next=units[index + 1] if index + 1 < len(units) else None,
        submitted=next((v for v in versions if v.version.id == submitted), None),
        fallback=None if published else _served_instead(slug, code, key),
        staged=code in releases.staged_locales(essay.id),
        suggestions=memory.memory_matches(essay, unit, code)[:SHOWN_SUGGESTIONS],
        related=memory.related_texts(unit, code),
        pending=workflow.own_pending(unit.id, code, user),
        terms=glossary.terms_in(f"{unit.heading or ''}\n\n{unit.body}", essay.source_locale, code),
    )


def _served_instead(slug: str, code: str, key: str) -> dict[str, Any] | None:
    """What readers of ``code`` get for a unit that has no published translation yet."""
    document, _ = reading.document(slug, i18n.Negotiated(code, code), key)
    return document if document["locale"] != code else None


# --- review -----------------------------------------------------------------------------


@dataclass
class ReviewEntry:
    item: workflow.ReviewItem
    checks: list[CheckResult]
    outdated: bool
    own: bool
    approve: ApproveForm
    reject: RejectForm


def review_forms(version_id: int) -> tuple[ApproveForm, RejectForm]:
    return (
        ApproveForm(prefix=f"approve-{version_id}"),
        RejectForm(prefix=f"reject-{version_id}"),
    )


def review(
    user: User,
    locale: str | None,
    page: int,
    forms: dict[int, tuple[ApproveForm, RejectForm]] | None = None,
) -> dict[str, Any]:
    statement = workflow.review_queue(user, locale, "submitted")
    listing = paging.paginate(statement, page, REVIEW_PAGE_SIZE, prepare=workflow.review_items)
    entries = []
    for item in listing["items"]:
        approve, reject = (forms or {}).get(item.id) or review_forms(item.id)
        entries.append(
            ReviewEntry(
                item=item,
                checks=checks_of(item.translation),
                outdated=item.source_diff is not None,
                own=item.author_id == user.id,
                approve=approve,
                reject=reject,
            )
        )
    codes = target_locales(user)
    return {
        "locale": locale,
        "page": page,
        "pages": max(1, -(-listing["total"] // REVIEW_PAGE_SIZE)),
        "total": listing["total"],
        "entries": entries,
        "filters": [
            (code, paging.count(workflow.review_queue(user, code, "submitted"))) for code in codes
        ],
    }


# --- reader's preview -------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewSection:
    key: str
    heading: str | None
    html: Any
    locale: str
    direction: str
    fallback: bool
    outdated: bool
    status: str | None = None


def reader(document: dict[str, Any]) -> dict[str, Any]:
    """What the reader's template needs from an essay document (served, or a preview)."""
    sections = [
        PreviewSection(
            key=s["key"],
            heading=s["heading"],
            html=render_markdown(s["body"]),
            locale=s["locale"],
            direction=i18n.direction_of(s["locale"]),
            fallback=s["fallback"],
            outdated=s["outdated"],
            status=s.get("status"),
        )
        for s in document["sections"]
    ]
    return {
        "document": document,
        "locale": document["locale"],
        "sections": sections,
        "title_direction": i18n.direction_of(document["title_locale"]),
    }


def preview(slug: str, raw_locale: str) -> dict[str, Any]:
    """The essay exactly as the API serves it to a reader asking for ``raw_locale``."""
    negotiated = i18n.negotiate(raw_locale, allow_all=False)
    document, languages = reading.document(slug, negotiated)
    return {**reader(document), "languages": languages}


@dataclass
class GlossaryPage:
    locale: str | None
    locales: list[str]
    terms: list[GlossaryTerm]
    editable: set[str]


def glossary_page(user: User, raw_locale: str | None) -> GlossaryPage:
    """The glossary of one of the user's locales (every target locale for admins)."""
    targets = glossary.target_locales()
    locales = [code for code in targets if user.may_work_in(code)]
    locale = glossary.target_locale(raw_locale) if raw_locale else None
    if locale is None and locales:
        locale = locales[0]
    terms = glossary.terms(locale) if locale else []
    editable = {code for code in targets if glossary.may_edit(user, code)}
    return GlossaryPage(locale, locales or targets, terms, editable)


# --- search -----------------------------------------------------------------------------

SEARCH_PAGE_SIZE = 50


@dataclass(frozen=True)
class Found:
    """One section a search found, its snippet cut into plain and highlighted pieces."""

    essay: str
    unit: str
    locale: str
    heading: str | None
    pieces: list[tuple[str, bool]]
    editable: bool


@dataclass
class SearchPage:
    locale: str
    locales: list[str]
    q: str
    found: list[Found]
    total: int
    error: str | None


def _pieces(snippet: str, highlights: list[list[int]]) -> list[tuple[str, bool]]:
    pieces, at = [], 0
    for start, end in highlights:
        if start > at:
            pieces.append((snippet[at:start], False))
        pieces.append((snippet[start:end], True))
        at = end
    if at < len(snippet):
        pieces.append((snippet[at:], False))
    return pieces


def search_page(user: User, raw_locale: str | None, q: str) -> SearchPage:
    """A search as readers of one of the user's locales (or of the source) would run it."""
    source = i18n.registry().source
    locales = [*target_locales(user), source]
    locale = raw_locale if raw_locale in locales else locales[0]
    page = SearchPage(locale, locales, q, [], 0, None)
    if not q:
        return page
    try:
        result = search_query.search(q, locale, 1, SEARCH_PAGE_SIZE)
    except DomainError as error:
        page.error = str(error.detail or error.title)
        return page
    page.total = result["total"]
    page.found = [
        Found(
            essay=item["essay"],
            unit=item["unit"],
            locale=item["locale"],
            heading=item["heading"],
            pieces=_pieces(item["snippet"], item["highlights"]),
            editable=locale != source and user.may_work_in(locale),
        )
        for item in result["items"]
    ]
    return page
