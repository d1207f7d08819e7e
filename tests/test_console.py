"""The translators' console over the Flask test client, with CSRF protection switched on."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.extensions import db
from api.models import SourceRevision, TranslationVersion, Unit
from api.models.types import utcnow
from api.services.accounts import identity
from tests.conftest import SLUG, Person, make_person
from tests.test_workflow import INTRO, MALAY_HEADED, MALAY_INTRO

TRANSLATE = f"/console/translate/{SLUG}"
EDIT_MS_INTRO = f"{TRANSLATE}/ms/introduction"
EDIT_MS_HEADED = f"{TRANSLATE}/ms/strategic-alliances-and-diplomacy"
PREVIEW = f"/console/preview/{SLUG}"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def csrf_token(client: FlaskClient, path: str = "/console/sign-in") -> str:
    found = _CSRF.search(client.get(path, follow_redirects=True).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None) -> TestResponse:
    """POST a console form the way a browser does: with the page's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})})


def sign_in(client: FlaskClient, person: Person) -> FlaskClient:
    response = post(client, "/console/sign-in", {"token": person.token})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def console_submit(client: FlaskClient, path: str = EDIT_MS_INTRO, **fields: Any) -> TestResponse:
    data = {"body": MALAY_INTRO, "source_revision": "1", **fields}
    return post(client, path, data)


def submitted_id(response: TestResponse) -> int:
    found = re.search(r"submitted=(\d+)", response.headers["Location"])
    assert found, response.headers.get("Location")
    return int(found.group(1))


def versions(app: Flask, key: str = "introduction", locale: str = "ms") -> list[Any]:
    with app.app_context():
        return list(
            db.session.execute(
                sa.select(TranslationVersion.id, TranslationVersion.status)
                .join(Unit)
                .where(Unit.key == key, TranslationVersion.locale == locale)
                .order_by(TranslationVersion.id)
            )
        )


def served_locale(client: FlaskClient, key: str = "introduction", locale: str = "ms") -> str:
    essay = client.get(f"/api/v1/essays/{SLUG}", query_string={"locale": locale}).get_json()
    return next(s["locale"] for s in essay["sections"] if s["key"] == key)


# --- signing in and out -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/console/",
        f"{TRANSLATE}/ms",
        EDIT_MS_INTRO,
        "/console/review?locale=ms",
        f"{PREVIEW}/ms",
        "/console/search?q=ummah",
    ],
)
def test_pages_require_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/sign-in?next=")


def test_sign_in_with_a_bad_token_fails(client: FlaskClient, people: dict[str, Person]) -> None:
    response = post(client, "/console/sign-in", {"token": "tj_not-a-real-token"})
    assert response.status_code == 401
    page = html(response)
    assert "The token is not valid, or has been revoked." in page
    assert 'aria-invalid="true"' in page
    assert client.get("/console/").status_code == 302


def test_sign_in_sign_out(client: FlaskClient, people: dict[str, Person]) -> None:
    response = post(client, "/console/sign-in", {"token": people["translator"].token})
    assert response.status_code == 303 and response.headers["Location"] == "/console/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires" not in cookie
    dashboard = client.get("/console/")
    assert dashboard.status_code == 200 and "tariq" in html(dashboard)
    response = post(client, "/console/sign-out")
    assert response.status_code == 303
    assert client.get("/console/").status_code == 302


def test_sign_in_returns_to_a_console_page_only(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    for target, expected in [
        ("/console/review", "/console/review"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/api/v1/me", "/console/"),
    ]:
        response = post(
            client, "/console/sign-in", {"token": people["reviewer"].token, "next": target}
        )
        assert response.headers["Location"] == expected


def test_a_revoked_token_ends_the_session(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    assert client.get("/console/").status_code == 200
    with app.app_context():
        identity.revoke_token("tariq")
    assert client.get("/console/").status_code == 302


def test_sessions_expire(app: Flask, client: FlaskClient, people: dict[str, Person]) -> None:
    sign_in(client, people["translator"])
    app.config["CONSOLE_SESSION_LIFETIME"] = timedelta(seconds=-1)
    assert client.get("/console/").status_code == 302


# --- CSRF -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/console/sign-in", {"token": "x"}),
        ("/console/sign-out", {}),
        ("/console/interface-language", {"locale": "ar"}),
        (EDIT_MS_INTRO, {"body": MALAY_INTRO, "source_revision": "1"}),
        ("/console/review/1/approve", {}),
        ("/console/review/bulk", {"ids": "1", "action": "approve"}),
    ],
)
def test_posts_without_a_csrf_token_are_refused(
    app: Flask, client: FlaskClient, people: dict[str, Person], path: str, data: dict[str, str]
) -> None:
    sign_in(client, people["reviewer"])
    before = versions(app)
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "The form has expired" in html(response)
    forged = client.post(path, data={**data, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert versions(app) == before
    assert client.get("/console/").status_code == 200


def test_the_json_api_needs_no_csrf_token(client: FlaskClient, people: dict[str, Person]) -> None:
    response = client.post(
        f"{INTRO}/translations",
        json={"locale": "ms", "body": MALAY_INTRO},
        headers=people["translator"].headers,
    )
    assert response.status_code == 201


# --- screens and permissions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "paths"),
    [
        (
            "translator",
            ["/console/", f"{TRANSLATE}/ar", EDIT_MS_HEADED, EDIT_MS_INTRO, f"{PREVIEW}/ur"],
        ),
        (
            "reviewer",
            ["/console/", "/console/review", "/console/review?locale=ar", f"{TRANSLATE}/ms"],
        ),
        ("admin", ["/console/", "/console/review", f"{TRANSLATE}/fr/title", f"{PREVIEW}/en"]),
        ("translator", ["/console/search", "/console/search?q=الأمة&locale=ar"]),
    ],
)
def test_every_screen_renders(
    client: FlaskClient, people: dict[str, Person], who: str, paths: list[str]
) -> None:
    for key, payload in (("introduction", {"body": MALAY_INTRO}), ("title", {"body": "Tajuk"})):
        client.post(
            f"/api/v1/essays/{SLUG}/sections/{key}/translations",
            json={"locale": "ms", **payload},
            headers=people["translator"].headers,
        )
    sign_in(client, people[who])
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        page = html(response)
        assert '<main id="main"' in page and 'href="#main"' in page
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"
        assert "<script" not in page
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), f"duplicate ids on {path}"
        labelled = set(re.findall(r'<label for="([^"]+)"', page))
        controls = re.findall(
            r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"', page
        )
        assert set(controls) <= labelled, f"controls without a label on {path}"


def test_dashboard_shows_progress_and_what_waits(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    console_submit(client)
    page = html(client.get("/console/"))
    assert "Malay" in page and "Arabic" in page and "French" not in page
    assert "1 in review" in page and "Your versions" in page
    post(client, "/console/sign-out")

    sign_in(client, people["reviewer"])
    page = html(client.get("/console/"))
    assert 'href="/console/review?locale=ms"' in page and "Malay: 1 version" in page

    post(client, "/console/sign-out")
    sign_in(client, people["admin"])
    page = html(client.get("/console/"))
    cards = re.findall(r'<h3 id="locale-([a-z-]+)">', page)
    assert cards == ["ar", "fa", "fr", "id", "ms", "tr", "ur"]


def test_translator_cannot_see_the_review_screen(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    response = client.get("/console/review")
    assert response.status_code == 403
    assert "Only reviewers and admins may see the review queue." in html(response)
    assert 'href="/console/review"' not in html(client.get("/console/"))


def test_translators_work_only_in_their_locales(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    response = client.get(f"{TRANSLATE}/fr/introduction")
    assert response.status_code == 403
    assert "You may not work in locale fr." in html(response)
    response = console_submit(client, f"{TRANSLATE}/fr/introduction")
    assert response.status_code == 403


def test_unknown_things_are_404_pages(client: FlaskClient, people: dict[str, Person]) -> None:
    sign_in(client, people["translator"])
    for path in (f"{TRANSLATE}/ms/no-such-section", "/console/translate/no-such-essay/ms"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.mimetype == "text/html"


# --- translating ------------------------------------------------------------------------


def test_submitting_creates_a_version_visible_through_the_api(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    page = html(client.get(EDIT_MS_INTRO))
    assert 'lang="ms"' in page and "Promoting the security of the Islamic Nation" in page
    assert "readers get the Indonesian text instead" in page

    response = console_submit(client, body=MALAY_INTRO.replace("ini.", "ini pada 2026."))
    assert response.status_code == 303
    version_id = submitted_id(response)
    page = html(client.get(response.headers["Location"]))
    assert "Version 1 is waiting for review" in page
    assert "The numbers differ from the source" in page

    api = client.get(f"/api/v1/translations/{version_id}", headers=people["reviewer"].headers)
    assert api.status_code == 200
    assert api.get_json()["status"] == "submitted" and api.get_json()["author"] == "tariq"


def test_a_blocking_check_is_shown_inline_with_422(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    response = console_submit(client, body="Helo <script>alert(1)</script>")
    assert response.status_code == 422
    page = html(response)
    assert 'class="error-summary"' in page
    assert "HTML, scripts and javascript: links are not allowed" in page
    assert re.search(r'<textarea[^>]*aria-invalid="true"', page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert versions(app) == []


def test_a_section_with_a_heading_needs_one(client: FlaskClient, people: dict[str, Person]) -> None:
    sign_in(client, people["translator"])
    response = console_submit(client, EDIT_MS_HEADED, body=MALAY_HEADED["body"], heading=" ")
    assert response.status_code == 422
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="heading"', html(response))
    response = console_submit(client, EDIT_MS_HEADED, **MALAY_HEADED)
    assert response.status_code == 303


def test_arabic_editor_is_right_to_left(client: FlaskClient, people: dict[str, Person]) -> None:
    sign_in(client, people["translator"])
    page = html(client.get(f"{TRANSLATE}/ar/introduction"))
    assert re.search(r'<textarea[^>]*dir="rtl"[^>]*lang="ar"', page)


def test_the_author_may_withdraw(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    version_id = submitted_id(console_submit(client))
    response = post(client, f"/console/translations/{version_id}/withdraw")
    assert response.status_code == 303
    assert versions(app) == [(version_id, "withdrawn")]
    response = post(client, f"/console/translations/{version_id}/withdraw")
    assert response.status_code == 409
    assert "cannot become" in html(response)


# --- reviewing --------------------------------------------------------------------------


def test_review_shows_diffs_and_approval_publishes(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    version_id = submitted_id(console_submit(client))
    ar = submitted_id(
        console_submit(
            client,
            f"{TRANSLATE}/ar/introduction",
            body="إن تعزيز أمن الأمة الإسلامية أمرٌ بالغ الأهمية حقًا.",
        )
    )
    post(client, "/console/sign-out")

    sign_in(client, people["reviewer"])
    page = html(client.get("/console/review?locale=ar"))
    assert '<html lang="en" dir="ltr">' in page
    assert f'id="version-{ar}"' in page and f'id="version-{version_id}"' not in page
    assert "<del>" in page and "<ins>" in page
    page = html(client.get("/console/review?locale=ms"))
    assert "nothing is published yet" in page

    response = post(
        client, f"/console/review/{version_id}/approve?locale=ms", {"approve-1-comment": "Bagus"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/review?locale=ms&page=1"
    assert served_locale(client) == "ms"


def test_rejection_needs_a_reason(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    version_id = submitted_id(console_submit(client))
    post(client, "/console/sign-out")
    sign_in(client, people["reviewer"])
    response = post(client, f"/console/review/{version_id}/reject", {})
    assert response.status_code == 422
    page = html(response)
    assert "A rejection needs a reason." in page
    assert re.search(
        rf'<textarea[^>]*aria-invalid="true"[^>]*id="reject-{version_id}-reason"', page
    )
    response = post(
        client,
        f"/console/review/{version_id}/reject",
        {f"reject-{version_id}-reason": "Terjemahan terlalu harfiah."},
    )
    assert response.status_code == 303
    assert versions(app) == [(version_id, "rejected")]

    post(client, "/console/sign-out")
    sign_in(client, people["translator"])
    page = html(client.get("/console/"))
    assert "Terjemahan terlalu harfiah." in page and "rejected" in page


def test_reviewers_cannot_approve_their_own_version(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["reviewer"])
    version_id = submitted_id(console_submit(client))
    response = post(client, f"/console/review/{version_id}/approve")
    assert response.status_code == 403
    assert "You may not review your own translation." in html(response)
    assert served_locale(client) == "id"


def test_bulk_approval(app: Flask, client: FlaskClient, people: dict[str, Person]) -> None:
    sign_in(client, people["translator"])
    first = submitted_id(console_submit(client))
    second = submitted_id(console_submit(client, EDIT_MS_HEADED, **MALAY_HEADED))
    post(client, "/console/sign-out")
    sign_in(client, people["reviewer"])

    response = post(client, "/console/review/bulk", {"action": "approve"})
    assert response.status_code == 422 and "Choose at least one version." in html(response)
    ids = [str(first), str(second)]
    response = client.post(
        "/console/review/bulk",
        data={"csrf_token": csrf_token(client), "ids": ids, "action": "reject", "text": ""},
    )
    assert response.status_code == 422 and "A rejection needs a reason." in html(response)

    response = client.post(
        "/console/review/bulk",
        data={
            "csrf_token": csrf_token(client),
            "ids": [str(first), str(second)],
            "action": "approve",
        },
    )
    assert response.status_code == 303
    page = html(client.get(response.headers["Location"]))
    assert "2 versions approved." in page
    assert versions(app) == [(first, "approved")]
    assert versions(app, "strategic-alliances-and-diplomacy") == [(second, "approved")]


def test_rollback_from_a_units_history(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    first = submitted_id(console_submit(client))
    second = submitted_id(console_submit(client, body=MALAY_INTRO + " Sekian."))
    post(client, "/console/sign-out")
    sign_in(client, people["reviewer"])
    for version_id in (first, second):
        assert post(client, f"/console/review/{version_id}/approve").status_code == 303

    page = html(client.get(EDIT_MS_INTRO))
    assert "Publish version 1 again" in page
    response = post(client, f"/console/review/{first}/approve?from=history")
    assert response.status_code == 303 and response.headers["Location"] == EDIT_MS_INTRO
    assert versions(app) == [(first, "approved"), (second, "superseded")]
    response = post(client, f"/console/review/{first}/approve?from=history")
    assert response.status_code == 409
    assert "cannot become" in html(response)


# --- reader's preview -------------------------------------------------------------------


def test_preview_marks_fallbacks(client: FlaskClient, people: dict[str, Person]) -> None:
    sign_in(client, people["translator"])
    sections = client.get(f"/api/v1/essays/{SLUG}").get_json()["sections"]
    page = html(client.get(f"{PREVIEW}/ms"))
    assert page.count("fallback: Indonesian") == len(sections) + 1
    assert 'id="section-introduction" data-locale="id" lang="id" dir="ltr"' in page
    page = html(client.get(f"{PREVIEW}/ur"))
    assert 'data-locale="ur" lang="ur" dir="rtl"' in page and "fallback:" not in page
    assert client.get(f"{PREVIEW}/de").status_code == 400


def test_preview_sanitises_what_it_renders(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    hostile = (
        "Helo <script>alert('x')</script> dunia.\n\n"
        "[klik](javascript:alert(1)) <img src=x onerror=alert(1)> **tebal**"
    )
    with app.app_context():
        unit = db.session.scalar(sa.select(Unit).where(Unit.key == "introduction"))
        source = db.session.scalar(
            sa.select(SourceRevision).where(SourceRevision.unit_id == unit.id)
        )
        db.session.add(
            TranslationVersion(
                unit_id=unit.id,
                locale="ms",
                version=1,
                heading=None,
                body=hostile,
                status="approved",
                source_revision=source.revision,
                source_hash=source.content_hash,
                approved_at=utcnow(),
            )
        )
        db.session.commit()
    sign_in(client, people["translator"])
    page = html(client.get(f"{PREVIEW}/ms"))
    section = page.split('id="section-introduction"', 1)[1].split("</section>", 1)[0]
    assert "<script" not in page and "<img" not in section and 'href="javascript:' not in section
    assert "&lt;script&gt;" in section and "<strong>tebal</strong>" in section
    assert "fallback" not in section


# --- interface language -----------------------------------------------------------------


def test_language_switcher_sets_html_lang_and_dir(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    page = html(client.get("/console/sign-in"))
    assert '<html lang="en" dir="ltr">' in page
    for native in ("العربية", "اردو", "فارسی", "Melayu", "Türkçe", "français"):
        assert native in page
    response = post(
        client, "/console/interface-language", {"locale": "ar", "next": "/console/sign-in"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/console/sign-in"
    assert '<html lang="ar" dir="rtl">' in html(client.get("/console/sign-in"))

    sign_in(client, people["reviewer"])
    assert '<html lang="ar" dir="rtl">' in html(client.get("/console/review?locale=ms"))
    post(client, "/console/sign-out")
    assert '<html lang="ar" dir="rtl">' in html(client.get("/console/sign-in"))
    post(client, "/console/interface-language", {"locale": "xx", "next": "https://evil.example"})
    assert '<html lang="ar" dir="rtl">' in html(client.get("/console/sign-in"))


def test_accept_language_chooses_the_interface_until_the_switcher_does(
    client: FlaskClient,
) -> None:
    page = html(client.get("/console/sign-in", headers={"Accept-Language": "ur, en;q=0.5"}))
    assert '<html lang="ur" dir="rtl">' in page
    post(client, "/console/interface-language", {"locale": "fr"})
    page = html(client.get("/console/sign-in", headers={"Accept-Language": "ur, en;q=0.5"}))
    assert '<html lang="fr" dir="ltr">' in page
    api = client.get("/api/v1/essays/nope", headers={"Accept-Language": "ur"})
    assert api.headers["Content-Language"] == "ur"


def test_the_stylesheet_is_public_and_cacheable(client: FlaskClient) -> None:
    with client.get("/console/static/console.css") as response:
        assert response.status_code == 200 and response.mimetype == "text/css"
        assert "no-store" not in response.headers.get("Cache-Control", "")
        assert "Set-Cookie" not in response.headers


def test_the_api_never_touches_the_console_session(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["translator"])
    response = client.get(f"/api/v1/essays/{SLUG}")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers["Vary"]
    assert client.get("/api/v1/me").status_code == 401


# --- text of the other direction --------------------------------------------------------


def parse(response: TestResponse) -> Any:
    from lxml import html as lxml_html

    return lxml_html.fromstring(response.get_data())


def in_persian(client: FlaskClient) -> FlaskClient:
    post(client, "/console/interface-language", {"locale": "fa", "next": "/console/sign-in"})
    return client


def isolated_in(element: Any) -> tuple[str | None, str | None]:
    """The lang and dir of the <bdi> that holds ``element``'s text, if one does."""
    assert element.tag == "bdi", lxml_tostring(element)
    return element.get("lang"), element.get("dir")


def lxml_tostring(element: Any) -> str:
    from lxml import html as lxml_html

    return str(lxml_html.tostring(element, encoding="unicode"))


def test_english_inside_the_persian_editor_is_isolated(app: Flask, client: FlaskClient) -> None:
    farhad = make_person(app, "farhad", "translator", "fa")
    sign_in(in_persian(client), farhad)
    tree = parse(client.get(f"{TRANSLATE}/fa/conclusion"))
    assert tree.get("lang") == "fa" and tree.get("dir") == "rtl"
    # A <title> takes no markup: Unicode's isolate marks keep the English name apart.
    assert tree.findtext(".//title").startswith("\u2068Conclusion\u2069 · ")

    previous = tree.xpath("//a[@rel='prev']")[0]
    assert previous.text.startswith("قبلی")
    (name,) = previous.xpath("./bdi")
    assert name.text == "Active Participation in International Forums"
    assert isolated_in(name) == ("en", "ltr")

    terms = tree.xpath("//dl[@class='terms']/dt")
    assert {"Islamic Nation", "Ummah"} <= {t.text for t in terms}
    assert {(t.get("lang"), t.get("dir")) for t in terms} == {("en", "ltr")}
    notes = tree.xpath("//dl[@class='terms']//span[@class='note']/bdi")
    assert "The worldwide Muslim polity, not a state; never the name of an armed group." in {
        n.text for n in notes
    }
    # A note may be written in any language: the browser finds its direction (bdi's auto).
    assert {n.get("dir") for n in notes} == {None}
    renderings = tree.xpath("//dl[@class='terms']/dd/span[@lang]")
    assert {(r.get("lang"), r.get("dir")) for r in renderings} == {("fa", "rtl")}

    crumbs = tree.xpath("//nav[@class='breadcrumb']//a[@aria-current='page']/bdi")
    assert [(c.text, c.get("lang"), c.get("dir")) for c in crumbs] == [("Conclusion", "en", "ltr")]
    (who,) = tree.xpath("//p[@class='who']/bdi")
    assert who.text == "farhad"


def test_names_comments_and_units_are_isolated_in_a_persian_review(
    app: Flask, client: FlaskClient
) -> None:
    farhad = make_person(app, "farhad", "translator", "fa")
    parvin = make_person(app, "parvin", "reviewer", "fa")
    api = app.test_client()
    first = submit_fa(api, farhad, "ترجمهٔ نخست.", note="See the glossary.")
    assert (
        api.post(
            f"/api/v1/translations/{first}/reject",
            json={"reason": "Use the glossary (Ummah)."},
            headers=parvin.headers,
        ).status_code
        == 200
    )
    submit_fa(api, farhad, "ترجمهٔ دوم، با امت.", note="Fixed, thanks.")

    sign_in(in_persian(client), parvin)
    tree = parse(client.get("/console/review?locale=fa"))
    (title,) = tree.xpath("//article[contains(@class, 'review-item')]//h2")
    unit, _language = title.xpath("./bdi")
    assert (unit.text, unit.get("lang"), unit.get("dir")) == ("Introduction", "en", "ltr")
    (author,) = tree.xpath("//article//p[@class='meta']/span/bdi")
    assert author.text == "farhad" and author.get("dir") is None
    (note,) = tree.xpath("//article//p[@class='note']/bdi")
    assert note.text == "Fixed, thanks."
    source = tree.xpath("//article//div[contains(@class, 'text')]")
    assert [(s.get("lang"), s.get("dir")) for s in source] == [("en", "ltr"), ("fa", "rtl")]

    page = parse(client.get(f"{TRANSLATE}/fa/introduction"))
    comments = page.xpath("//ul[@class='comments']/li")
    assert [c.xpath("string(./bdi[last()])") for c in comments] == ["Use the glossary (Ummah)."]
    assert comments[0].xpath("./span[@class='label']/bdi")[0].text == "parvin"
    history = page.xpath("//li[@class='history-item']//p[@class='meta']/span/bdi")
    assert {"farhad", "parvin"} <= {h.text for h in history}

    dashboard = parse(client.get("/console/"))
    hidden = dashboard.xpath("//p[@class='essay-links']//span[@class='visually-hidden']/bdi")
    listed = client.get("/api/v1/essays", query_string={"locale": "fa"}).get_json()["items"]
    title = next(e for e in listed if e["slug"] == SLUG)
    assert {h.text for h in hidden} == {title["title"]}
    assert {h.get("lang") for h in hidden} == {title["title_locale"]}


def submit_fa(api: FlaskClient, person: Person, body: str, **extra: Any) -> int:
    response = api.post(
        f"/api/v1/essays/{SLUG}/sections/introduction/translations",
        json={"locale": "fa", "body": body, "source_revision": 1, **extra},
        headers=person.headers,
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def test_the_persian_glossary_marks_english_terms(app: Flask, client: FlaskClient) -> None:
    parvin = make_person(app, "parvin", "reviewer", "fa")
    sign_in(in_persian(client), parvin)
    tree = parse(client.get("/console/glossary?locale=fa"))
    terms = tree.xpath("//table//th[@scope='row']/a/bdi")
    assert "Islamic Nation" in {t.text for t in terms}
    assert {(t.get("lang"), t.get("dir")) for t in terms} == {("en", "ltr")}
    assert tree.xpath("//nav[@class='tabs']//a[@lang]") == []
    (field,) = tree.xpath("//input[@id='term']")
    assert (field.get("lang"), field.get("dir")) == ("en", "ltr")
    link = terms[0].getparent().get("href")
    term = parse(client.get(link))
    (heading,) = term.xpath("//h1/bdi")
    assert (heading.get("lang"), heading.get("dir")) == ("en", "ltr")


def test_a_persian_preview_link_sets_each_sections_direction(
    app: Flask, client: FlaskClient
) -> None:
    parvin = make_person(app, "parvin", "reviewer", "fa")
    farhad = make_person(app, "farhad", "translator", "fa")
    submit_fa(app.test_client(), farhad, "ترجمهٔ پیش‌نمایش.")
    sign_in(in_persian(client), parvin)
    response = post(client, f"{TRANSLATE}/fa/preview-link", {"expires_in": "86400"})
    url = parse(response).xpath("//input[@id='preview-url']")[0].get("value")
    page = app.test_client().get(
        url.replace("http://localhost", ""), headers={"Accept-Language": "fa"}
    )
    tree = parse(page)
    assert (tree.get("lang"), tree.get("dir")) == ("fa", "rtl")
    assert tree.findtext(".//title").endswith("\u2069")
    sections = tree.xpath("//section[contains(@class, 'reader-section')]")
    pairs = {(s.get("lang"), s.get("dir")) for s in sections}
    assert pairs == {("fa", "rtl"), ("en", "ltr")}
    badges = tree.xpath("//section[@lang='en']/p[@class='badges']")
    assert badges and {(b.get("lang"), b.get("dir")) for b in badges} == {("fa", "rtl")}


def test_persian_messages_isolate_the_names_and_terms_they_carry(
    app: Flask, client: FlaskClient
) -> None:
    farhad = make_person(app, "farhad", "translator", "fa")
    parvin = make_person(app, "parvin", "reviewer", "fa")
    version = submit_fa(app.test_client(), farhad, "ترجمهٔ نخست، با امت.")
    in_persian(client)

    response = post(client, "/console/sign-in", {"token": parvin.token})
    flashes = parse(client.get(response.headers["Location"])).xpath(
        "//li[contains(@class, 'flash')]"
    )
    (name,) = flashes[0].xpath("./bdi")
    assert name.text == "parvin" and name.get("lang") is None

    post(client, f"/console/review/{version}/approve", {f"approve-{version}-comment": ""})
    flash = parse(client.get("/console/review?locale=fa")).xpath("//li[contains(@class, 'flash')]")
    (unit,) = flash[0].xpath("./bdi")
    assert (unit.text, unit.get("lang"), unit.get("dir")) == ("Introduction", "en", "ltr")

    response = post(
        client,
        "/console/glossary?locale=fa",
        {"term": "peace & <security>", "translations": "صلح", "note": ""},
    )
    assert response.status_code == 303, html(response)
    page = client.get(response.headers["Location"])
    assert '<bdi lang="en" dir="ltr">peace &amp; &lt;security&gt;</bdi>' in html(page)


LATIN_LETTER = re.compile(r"[A-Za-z]")


def bare_latin_text(tree: Any) -> list[str]:
    """Latin-script text in a right-to-left page that nothing isolates from it.

    Text counts as isolated inside a <bdi>, or an element with its own lang or dir. The
    quality checks' messages are whole sentences composed by the checks themselves, in the
    interface's language, and are left out.
    """
    found = []
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in ("head", "title", "option"):
            continue
        pieces = [element.text] + [child.tail for child in element]
        if not any(piece and LATIN_LETTER.search(piece) for piece in pieces):
            continue
        ancestors = [element, *element.iterancestors()]
        if any(a.tag == "head" or "check" in (a.get("class") or "").split() for a in ancestors):
            continue
        if not any(
            a.tag == "bdi" or (a.tag != "html" and (a.get("lang") or a.get("dir")))
            for a in ancestors
        ):
            found.append(lxml_tostring(element)[:200])
    return found


def test_no_latin_text_is_left_bare_in_persian_pages(app: Flask, client: FlaskClient) -> None:
    farhad = make_person(app, "farhad", "translator", "fa")
    parvin = make_person(app, "parvin", "reviewer", "fa")
    api = app.test_client()
    first = submit_fa(api, farhad, "ترجمهٔ نخست.", note="See the glossary.")
    api.post(
        f"/api/v1/translations/{first}/reject",
        json={"reason": "Use the glossary (Ummah)."},
        headers=parvin.headers,
    )
    submit_fa(api, farhad, "ترجمهٔ دوم، با امت.", note="Fixed, thanks.")
    sign_in(in_persian(client), parvin)
    paths = [
        "/console/",
        f"{TRANSLATE}/fa",
        f"{TRANSLATE}/fa/title",
        f"{TRANSLATE}/fa/introduction",
        f"{TRANSLATE}/fa/conclusion",
        "/console/review?locale=fa",
        "/console/glossary?locale=fa",
        f"{PREVIEW}/fa",
    ]
    for path in paths:
        tree = parse(client.get(path))
        assert tree.get("dir") == "rtl", path
        assert bare_latin_text(tree) == [], path
