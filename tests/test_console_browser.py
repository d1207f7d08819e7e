"""The console end to end in a real headless Chromium (Debian's package), driven by Playwright.

The app runs in a server thread on the test database. Screenshots of the main screens are
written to ``test-output/screenshots/``; the README shows a copy of them (docs/screenshots/).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import chromium as launch_chromium
from tests.browser import missing as missing_chromium
from tests.conftest import ROOT, SLUG, Person
from tests.test_workflow import MALAY_INTRO

SHOTS = ROOT / "test-output" / "screenshots"
ARABIC_INTRO_EDIT = (
    "إن تعزيز أمن الأمة الإسلامية أمرٌ بالغ الأهمية لتقوية الأمة وضمان سلامة المسلمين في"
    " أنحاء العالم كافة. وتقوم هذه الدعوة على عناصر متعددة، منها التحالفات الاستراتيجية،"
    " والعلاقات الدبلوماسية، والعمل الاستخباري، والتقدم التكنولوجي في مجال الدفاع."
    " فلنتعمق في هذه القضية المهمة."
)

if (_reason := missing_chromium()) is not None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {_reason}", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.multiprocess]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server, viewport={"width": 1200, "height": 860}, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


ARABIC_SAMPLE = "تعزيز أمن الأمة الإسلامية"
# document.fonts.check() answers true for any family that no @font-face declares, installed
# or not; a face loaded from local() is in the set only when the system really has it.
FACE_IS_INSTALLED = """async ([name, sample]) => {
  const face = new FontFace("installed-probe", `local("${name}")`);
  try { await face.load(); } catch { return false; }
  document.fonts.add(face);
  const ready = document.fonts.check('16px "installed-probe"', sample);
  document.fonts.delete(face);
  return ready;
}"""


def rendered_with(page: Page, selector: str) -> set[str]:
    """The font families Chromium drew an element's text with (a text field's too)."""
    session = page.context.new_cdp_session(page)
    try:
        session.send("DOM.enable")
        session.send("CSS.enable")
        root = session.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
        element = session.send(
            "DOM.querySelector", {"nodeId": root["nodeId"], "selector": selector}
        )
        families: set[str] = set()

        def visit(node: dict[str, Any], inside: bool) -> None:
            inside = inside or node["nodeId"] == element["nodeId"]
            if inside and node["nodeType"] == 3 and node["nodeValue"].strip():
                fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node["parentId"]})
                families.update(font["familyName"] for font in fonts["fonts"])
            for child in node.get("children", []) + node.get("shadowRoots", []):
                visit(child, inside)

        visit(root, False)
        return families
    finally:
        session.detach()


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def sign_in_with_keyboard(page: Page, person: Person) -> None:
    """Tab from the top of the page to the token field, type the token, press Enter."""
    page.goto("/console/")
    expect(page).to_have_url("/console/sign-in?next=/console/")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "token":
            break
    else:
        pytest.fail("the token field cannot be reached with the Tab key")
    page.keyboard.type(person.token)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Dashboard")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("Sign in")


def submit(page: Page, locale: str, key: str, body: str) -> None:
    page.goto(f"/console/translate/{SLUG}/{locale}/{key}")
    page.locator("#body").fill(body)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#submitted")).to_contain_text("is waiting for review")


def test_translate_review_and_publish(page: Page, people: dict[str, Person]) -> None:
    page.goto("/console/sign-in")
    shoot(page, "sign-in")
    sign_in_with_keyboard(page, people["translator"])

    submit(page, "ar", "introduction", ARABIC_INTRO_EDIT)
    submit(page, "ms", "introduction", MALAY_INTRO)
    page.goto(f"/console/preview/{SLUG}/ms")
    intro = page.locator("#section-introduction")
    expect(intro.locator(".badge-fallback")).to_have_text("fallback: Indonesian")
    page.goto("/console/")
    expect(page.get_by_role("table")).to_contain_text("Introduction")
    shoot(page, "dashboard")
    sign_out(page)

    sign_in_with_keyboard(page, people["reviewer"])
    page.get_by_role("link", name="Review", exact=True).click()
    arabic = page.locator("article.review-item", has_text="Introduction in Arabic")
    expect(arabic.locator("del").first).to_be_visible()
    expect(arabic.locator("ins").first).to_be_visible()
    shoot(page, "review")
    malay = page.locator("article.review-item", has_text="Introduction in Malay")
    malay.get_by_label("Comment (optional)").fill("Bagus, terima kasih.")
    malay.get_by_role("button", name="Approve and publish").click()
    expect(page.locator(".flash-success")).to_contain_text("is published")
    expect(page.locator("article.review-item", has_text="Introduction in Malay")).to_have_count(0)

    page.goto(f"/console/preview/{SLUG}/ms")
    intro = page.locator("#section-introduction")
    expect(intro).to_have_attribute("lang", "ms")
    expect(intro.locator(".badge-fallback")).to_have_count(0)
    expect(intro).to_contain_text("Memajukan keselamatan Negara Islam")
    expect(page.locator(".badge-fallback").first).to_have_text("fallback: Indonesian")
    shoot(page, "preview-ms")

    page.goto(f"/console/preview/{SLUG}/ur")
    expect(page.locator("article.reader")).to_have_attribute("dir", "rtl")
    expect(page.locator(".badge-fallback")).to_have_count(0)
    shoot(page, "preview-ur")


def test_arabic_interface_is_right_to_left(page: Page, people: dict[str, Person]) -> None:
    sign_in_with_keyboard(page, people["reviewer"])
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    page.goto(f"/console/translate/{SLUG}/ar/strategic-alliances-and-diplomacy")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    body = page.locator("textarea#body")
    expect(body).to_have_attribute("dir", "rtl")
    expect(body).to_have_attribute("lang", "ar")
    expect(page.locator("input#heading")).to_have_attribute("dir", "rtl")
    direction = body.evaluate("element => getComputedStyle(element).direction")
    assert direction == "rtl"
    family = body.evaluate("element => getComputedStyle(element).fontFamily")
    assert family.startswith('"Noto Naskh Arabic"')
    assert page.evaluate(FACE_IS_INSTALLED, ["Noto Naskh Arabic Regular", ARABIC_SAMPLE])
    assert not page.evaluate(FACE_IS_INSTALLED, ["No Such Face Regular", ARABIC_SAMPLE])
    body.fill(ARABIC_SAMPLE)
    assert rendered_with(page, "textarea#body") == {"Noto Naskh Arabic"}
    shoot(page, "editor-ar")


def test_a_preview_link_opens_right_to_left_without_an_account(
    page: Page, browser: Browser, live_server: str, people: dict[str, Person]
) -> None:
    sign_in_with_keyboard(page, people["translator"])
    submit(page, "ar", "introduction", ARABIC_INTRO_EDIT)
    sign_out(page)

    sign_in_with_keyboard(page, people["reviewer"])
    page.goto(f"/console/translate/{SLUG}/ar")
    page.get_by_label("The link works for").select_option(label="one day")
    page.get_by_role("button", name="Send for preview").click()
    link = page.get_by_label("Preview link").input_value()
    assert link.startswith(f"{live_server}/preview/")

    stranger = browser.new_context(viewport={"width": 1000, "height": 860}, locale="en-GB")
    try:
        tab = stranger.new_page()
        response = tab.goto(link)
        assert response is not None and response.status == 200
        reader = tab.locator("article.reader")
        expect(reader).to_have_attribute("dir", "rtl")
        expect(reader).to_have_attribute("lang", "ar")
        assert reader.evaluate("element => getComputedStyle(element).direction") == "rtl"
        intro = tab.locator("#section-introduction")
        expect(intro).to_contain_text("فلنتعمق في هذه القضية المهمة")
        expect(intro.locator(".badge-draft")).to_have_text("draft: waiting for review")
        expect(tab.locator("#section-conclusion .badge-draft")).to_have_count(0)
        shoot(tab, "preview-link-ar")
    finally:
        stranger.close()


def test_the_editor_keeps_pending_text_and_copies_a_related_locale_right_to_left(
    page: Page, people: dict[str, Person]
) -> None:
    sign_in_with_keyboard(page, people["translator"])
    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    # Malay (left to right) in an Arabic interface: Indonesian text copied in one click.
    editor = f"/console/translate/{SLUG}/ms/strategic-alliances-and-diplomacy"
    page.goto(editor)
    related = page.locator("li.related")
    expect(related).to_have_count(1)
    expect(related.locator(".text")).to_have_attribute("lang", "id")
    expect(related.locator(".text")).to_have_attribute("dir", "ltr")
    indonesian = related.locator(".text").inner_text()
    heading = related.locator(".source-heading").inner_text()
    expect(page.locator("textarea#body")).to_have_value("")
    related.locator("button[name=copy_from]").click()
    body = page.locator("textarea#body")
    expect(body).to_have_value(indonesian)
    expect(page.locator("input#heading")).to_have_value(heading)
    expect(body).to_have_attribute("dir", "ltr")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    # Submitted, then opened again: the translator's own pending text is in the editor.
    body.fill(MALAY_INTRO)
    page.locator("#translation-form .actions button").click()
    expect(page.locator("#submitted")).to_be_visible()
    page.goto(editor)
    expect(page.locator("#pending-notice")).to_be_visible()
    expect(page.locator("textarea#body")).to_have_value(MALAY_INTRO)
    expect(page.locator("input#heading")).to_have_value(heading)
    shoot(page, "editor-pending-ar")


def test_an_invitee_joins_and_submits_a_first_translation_right_to_left(
    page: Page, browser: Browser, app: Any, people: dict[str, Person]
) -> None:
    import sqlalchemy as sa

    from api.extensions import db
    from api.models import TranslationVersion
    from api.services.accounts import identity

    sign_in_with_keyboard(page, people["admin"])
    page.get_by_role("link", name="People").click()
    page.get_by_label("Email address", exact=True).fill("nadia@example.org")
    page.get_by_label("Role", exact=True).select_option("translator")
    page.get_by_label("Locales", exact=True).select_option(["ar"])
    page.get_by_role("button", name="Make an invitation link").click()
    link = page.get_by_label("Link", exact=True).input_value()
    assert "/console/join/" in link

    invitee = browser.new_context(viewport={"width": 1000, "height": 860}, locale="ar")
    try:
        tab = invitee.new_page()
        response = tab.goto(link)
        assert response is not None and response.status == 200
        expect(tab.locator("html")).to_have_attribute("dir", "rtl")
        expect(tab.locator("html")).to_have_attribute("lang", "ar")
        tab.locator("#name").fill("nadia")
        tab.locator("#password").fill("ضوء القمر فوق البحر 2026")
        tab.locator("#password_again").fill("ضوء القمر فوق البحر 2026")
        shoot(tab, "join-ar")
        tab.locator("main form button[type=submit]").click()
        expect(tab).to_have_url(link.split("/console/")[0] + "/console/")
        expect(tab.locator("html")).to_have_attribute("dir", "rtl")
        expect(tab.locator(".flash-success")).to_contain_text("nadia")
        expect(tab.locator("p.who")).to_contain_text("nadia")

        tab.goto(link.split("/console/")[0] + f"/console/translate/{SLUG}/ar/introduction")
        expect(tab.locator("html")).to_have_attribute("dir", "rtl")
        tab.locator("textarea#body").fill(ARABIC_INTRO_EDIT)
        tab.locator("#translation-form .actions button").click()
        expect(tab.locator("#submitted")).to_be_visible()
        shoot(tab, "first-translation-ar")

        # The link worked once.
        again = tab.goto(link)
        assert again is not None and again.status == 410
    finally:
        invitee.close()
    with app.app_context():
        nadia = identity.get_user("nadia")
        assert nadia.locales == ["ar"] and nadia.email == "nadia@example.org"
        submitted = db.session.execute(
            sa.select(TranslationVersion.locale, TranslationVersion.status).where(
                TranslationVersion.author_id == nadia.id
            )
        ).all()
        assert [tuple(row) for row in submitted] == [("ar", "submitted")]
