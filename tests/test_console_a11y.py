"""The console's accessibility and bidirectional text, checked in Debian's Chromium.

axe-core (shipped by axe-playwright-python) runs its WCAG 2.0 and 2.1 A/AA rules over every
console screen, the preview link's page and the error pages, in a left-to-right (Malay) and a
right-to-left (Persian) interface. One test translates and reviews a section with the keyboard
alone; another checks where Chromium draws English text inside the Persian editor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from tests.conftest import SLUG, Person, make_person
from tests.test_console_browser import browser, sign_in_with_keyboard  # noqa: F401
from tests.test_workflow import MALAY_HEADED, MALAY_INTRO

pytestmark = [pytest.mark.browser, pytest.mark.multiprocess]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()
TRANSLATE = f"/console/translate/{SLUG}"
PERSIAN_INTRO = (
    "ارتقای امنیت ملت اسلامی برای استوار کردن امت و تضمین ایمنی مسلمانان در سراسر جهان"
    " اهمیت بسیار دارد."
)
PERSIAN_HEADED = {
    "heading": "اتحادهای راهبردی و دیپلماسی",
    "body": "ارتقای امنیت ملت اسلامی از مرزهای آن فراتر می‌رود و به عرصهٔ بین‌المللی می‌رسد.",
}
TEXTS = {
    "ms": {"introduction": {"body": MALAY_INTRO}, "headed": MALAY_HEADED},
    "fa": {"introduction": {"body": PERSIAN_INTRO}, "headed": PERSIAN_HEADED},
}
HEADED = "strategic-alliances-and-diplomacy"
# The unit after "Active Participation in International Forums"; its text uses glossary
# terms whose notes are in English.
CONCLUSION = "conclusion"


@dataclass
class Team:
    """People working in one locale, in an interface of the same language."""

    locale: str
    translator: Person
    reviewer: Person
    admin: Person


@pytest.fixture
def teams(app: Flask, people: dict[str, Person]) -> dict[str, Team]:
    return {
        "ms": Team("ms", people["translator"], people["reviewer"], people["admin"]),
        "fa": Team(
            "fa",
            make_person(app, "farhad", "translator", "fa"),
            make_person(app, "parvin", "reviewer", "fa"),
            people["admin"],
        ),
    }


def api(app: Flask, person: Person, path: str, **body: Any) -> dict[str, Any]:
    response = app.test_client().post(path, json=body, headers=person.headers)
    assert response.status_code < 300, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def translate(app: Flask, person: Person, locale: str, key: str, **text: Any) -> int:
    version = api(
        app,
        person,
        f"/api/v1/essays/{SLUG}/sections/{key}/translations",
        locale=locale,
        source_revision=1,
        **text,
    )
    return int(version["id"])


def prepare(app: Flask, team: Team) -> None:
    """A rejected and a waiting introduction, a published and a waiting headed section."""
    texts = TEXTS[team.locale]
    rejected = translate(app, team.translator, team.locale, "introduction", body="x y z.")
    api(app, team.reviewer, f"/api/v1/translations/{rejected}/reject", reason="Too short.")
    translate(app, team.translator, team.locale, "introduction", **texts["introduction"])
    published = translate(
        app, team.translator, team.locale, HEADED, note="First draft.", **texts["headed"]
    )
    api(app, team.reviewer, f"/api/v1/translations/{published}/approve", comment="Good.")
    changed = {**texts["headed"], "body": texts["headed"]["body"] + " " + "(2)"}
    translate(app, team.translator, team.locale, HEADED, **changed)


@pytest.fixture
def interface(browser: Browser, live_server: str) -> Iterator[Any]:  # noqa: F811
    """Tabs whose browser asks for a given interface language, closed after the test."""
    contexts = []

    def open_tab(language: str) -> Page:
        context = browser.new_context(
            base_url=live_server, viewport={"width": 1200, "height": 860}, locale=language
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_tab
    for context in contexts:
        context.close()


def sign_in(page: Page, person: Person) -> None:
    page.goto("/console/sign-in")
    page.locator("#token").fill(person.token)
    page.locator("#token").press("Enter")
    expect(page.locator(".who")).to_contain_text(person.name)


def sign_out(page: Page) -> None:
    page.locator("form[action$='/sign-out'] button").click()
    expect(page.locator("#token")).to_be_visible()


def violations(page: Page) -> list[str]:
    """What axe-core finds against WCAG 2.0/2.1 A and AA, one line per rule and element."""
    results = AXE.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations"],
        },
    )
    found = []
    for rule in results.response["violations"]:
        for node in rule["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            found.append(f"{rule['id']} ({rule['impact']}) at {target}: {rule['help']}")
    return found


class Audit:
    """Runs axe on each screen it is shown and collects what fails, per URL."""

    def __init__(self, page: Page, language: str, direction: str) -> None:
        self.page = page
        self.language = language
        self.direction = direction
        self.failures: dict[str, list[str]] = {}
        self.seen: list[str] = []

    def check(self, name: str) -> None:
        html = self.page.locator("html")
        assert html.get_attribute("lang") == self.language, name
        assert html.get_attribute("dir") == self.direction, name
        assert self.page.locator("h1").count() == 1, name
        found = violations(self.page)
        self.seen.append(name)
        if found:
            self.failures[f"{name} ({self.page.url})"] = found

    def visit(self, name: str, path: str, status: int = 200) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == status, (name, path)
        self.check(name)

    def report(self) -> str:
        lines = [f"axe-core found WCAG A/AA violations in the {self.language} interface:"]
        for where, found in self.failures.items():
            lines.append(f"  {where}")
            lines.extend(f"    - {line}" for line in found)
        return "\n".join(lines)


@pytest.mark.parametrize("language", ["ms", "fa"])
def test_every_screen_passes_axe_wcag_a_and_aa(
    app: Flask, interface: Any, teams: dict[str, Team], language: str
) -> None:
    team = teams[language]
    code = team.locale
    prepare(app, team)
    audit = Audit(interface(language), language, "rtl" if language == "fa" else "ltr")
    page = audit.page

    audit.visit("sign-in", "/console/sign-in")
    page.locator("#token").fill("tj_not-a-token")
    page.locator("#token").press("Enter")
    expect(page.locator(".error-summary")).to_be_visible()
    audit.check("sign-in with an error")

    sign_in(page, team.translator)
    audit.check("dashboard of a translator")
    audit.visit("units", f"{TRANSLATE}/{code}")
    audit.visit("editor", f"{TRANSLATE}/{code}/{CONCLUSION}")
    audit.visit("editor with history", f"{TRANSLATE}/{code}/{HEADED}")
    page.locator("#body").fill("")
    page.locator("#translation-form .actions button").click()
    expect(page.locator(".error-summary")).to_be_visible()
    audit.check("editor with an error")
    page.locator("#body").fill(TEXTS[code]["introduction"]["body"] + " (3)")
    page.locator("#translation-form .actions button").click()
    expect(page.locator("#submitted")).to_be_visible()
    audit.check("editor after submitting")
    audit.visit("glossary", f"/console/glossary?locale={code}")
    audit.visit("preview", f"/console/preview/{SLUG}/{code}")
    audit.visit("not found", f"/console/translate/no-such-essay/{code}", status=404)
    audit.visit("forbidden", f"{TRANSLATE}/fr", status=403)
    audit.visit("tokens", "/console/tokens")
    page.locator("#token-form .actions button").click()
    expect(page.locator(".error-summary")).to_be_visible()
    audit.check("tokens with an error")
    page.locator("#name").fill("Poedit")
    page.locator("#scope-read").check()
    page.locator("#token-form .actions button").click()
    expect(page.locator("#new-token")).to_be_visible()
    audit.check("token made")
    sign_out(page)

    sign_in(page, team.reviewer)
    audit.check("dashboard of a reviewer")
    audit.visit("review", f"/console/review?locale={code}")
    page.locator("form[action*='/reject'] button").first.click()
    expect(page.locator(".error-summary")).to_be_visible()
    audit.check("review with an error")
    audit.visit("editor of a reviewer", f"{TRANSLATE}/{code}/{HEADED}")
    audit.visit("glossary of a reviewer", f"/console/glossary?locale={code}")
    page.locator("table a").first.click()
    expect(page.locator("h1 bdi")).to_be_visible()
    audit.check("glossary term")
    audit.visit("notifications", "/console/notifications")
    audit.visit("notification settings", "/console/notifications/settings")
    audit.visit("units of a reviewer", f"{TRANSLATE}/{code}")
    page.locator(".preview-form button").click()
    expect(page.locator("#preview-url")).to_be_visible()
    audit.check("preview link sent")
    link = page.locator("#preview-url").input_value()
    audit.visit("preview link", link)
    audit.visit("expired or unknown preview link", "/preview/no-such-link", status=404)
    page.goto("/console/")
    sign_out(page)

    sign_in(page, team.admin)
    audit.visit("releases", f"{TRANSLATE}/{code}")
    page.locator(".release-form .actions button").click()
    expect(page.locator(".flash-success")).to_be_visible()
    audit.check("releases after staging")
    audit.visit("dashboard of an admin", "/console/")
    audit.visit("people", "/console/people")
    page.locator("#email").fill(f"new-{code}@example.org")
    page.locator("form[action$='/people/invite'] button").click()
    expect(page.locator("#account-link")).to_be_visible()
    audit.check("invitation link made")
    join = page.locator("#account-link").input_value()
    audit.visit("person", f"/console/people/{team.translator.name}")
    audit.visit("account", "/console/account")
    sign_out(page)

    audit.visit("joining", join)
    page.locator("#name").fill("not a name")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    audit.check("joining with an error")
    audit.visit("unknown link", "/console/join/no-such-link", status=404)

    assert len(audit.seen) == 37
    assert not audit.failures, audit.report()


def test_the_checker_reports_what_it_finds(interface: Any) -> None:
    page = interface("ms")
    page.set_content('<html><body><main><img src="x.png"><a href="/x"></a></main></body></html>')
    rules = {line.split(" ", 1)[0] for line in violations(page)}
    assert {"html-has-lang", "image-alt", "link-name"} <= rules


# --- the keyboard alone -------------------------------------------------------------------


def focused(page: Page) -> dict[str, str]:
    return page.evaluate(
        """() => {
        const e = document.activeElement;
        return {tag: e.tagName.toLowerCase(), id: e.id || "", name: e.name || "",
                href: e.getAttribute("href") || "", text: (e.textContent || "").trim()};
    }"""
    )


def tab_to(page: Page, matches: Any, key: str = "Tab", limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until the focused element is the one wanted."""
    for _ in range(limit):
        page.keyboard.press(key)
        if matches(focused(page)):
            return
    pytest.fail(f"no element reached with {key} matched; focus is on {focused(page)}")


def test_translating_and_reviewing_with_the_keyboard_alone(
    app: Flask, interface: Any, people: dict[str, Person]
) -> None:
    page = interface("en-GB")
    editor = f"{TRANSLATE}/ms/introduction"

    sign_in_with_keyboard(page, people["translator"])
    tab_to(page, lambda e: e["href"] == f"{TRANSLATE}/ms")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{TRANSLATE}/ms")
    tab_to(page, lambda e: e["href"] == editor)
    page.keyboard.press("Enter")
    expect(page).to_have_url(editor)
    tab_to(page, lambda e: e["id"] == "body")
    page.keyboard.type(MALAY_INTRO)
    tab_to(page, lambda e: e["id"] == "note")
    page.keyboard.type("Istilah ikut glosari.")
    # Back from the note to the text, to check the order works both ways, then on to submit.
    tab_to(page, lambda e: e["id"] == "body", key="Shift+Tab")
    tab_to(page, lambda e: e["tag"] == "button" and e["text"] == "Submit for review")
    page.keyboard.press("Enter")
    expect(page.locator("#submitted")).to_contain_text("is waiting for review")
    tab_to(page, lambda e: e["tag"] == "button" and e["text"] == "Sign out", key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Sign in")

    sign_in_with_keyboard(page, people["reviewer"])
    tab_to(page, lambda e: e["href"] == "/console/review")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Review")
    item = page.locator("article.review-item", has_text="Introduction in Malay")
    comment = item.locator("textarea[name$='comment']").get_attribute("id")
    tab_to(page, lambda e: e["id"] == comment)
    page.keyboard.type("Bagus, terima kasih.")
    tab_to(page, lambda e: e["tag"] == "button" and e["text"] == "Approve and publish")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("is published")

    client = app.test_client()
    listing = client.get(
        f"/api/v1/essays/{SLUG}/sections/introduction/translations",
        query_string={"locale": "ms"},
        headers=people["reviewer"].headers,
    ).get_json()
    approved = [v for v in listing["items"] if v["status"] == "approved"]
    assert len(approved) == 1
    assert approved[0]["body"] == MALAY_INTRO
    assert approved[0]["author"] == people["translator"].name
    assert approved[0]["reviewer"] == people["reviewer"].name
    essay = client.get(f"/api/v1/essays/{SLUG}", query_string={"locale": "ms"}).get_json()
    intro = next(s for s in essay["sections"] if s["key"] == "introduction")
    assert intro["locale"] == "ms" and intro["body"] == MALAY_INTRO


# --- English inside the Persian editor ------------------------------------------------------

# Where Chromium draws the last character of an element's text, and the one before it.
LAST_TWO_CHARACTERS = """element => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  let node, last = null;
  while ((node = walker.nextNode())) { if (node.data.trim()) last = node; }
  const text = last.data.trimEnd();
  const box = (start) => {
    const range = document.createRange();
    range.setStart(last, start);
    range.setEnd(last, start + 1);
    return range.getBoundingClientRect();
  };
  const end = box(text.length - 1), before = box(text.length - 2);
  return {last: text.slice(-1), lastLeft: end.left, beforeRight: before.right,
          direction: getComputedStyle(element).direction};
}"""


def test_english_notes_and_names_keep_their_order_in_the_persian_editor(
    interface: Any, teams: dict[str, Team]
) -> None:
    page = interface("fa")
    sign_in(page, teams["fa"].translator)
    page.goto(f"{TRANSLATE}/fa/{CONCLUSION}")
    assert page.locator("html").get_attribute("dir") == "rtl"

    notes = page.locator(".terms .note bdi")
    assert notes.count() >= 2
    for index in range(notes.count()):
        note = notes.nth(index)
        drawn = note.evaluate(LAST_TWO_CHARACTERS)
        assert drawn["direction"] == "ltr", note.inner_text()
        assert drawn["last"] == "."
        # The full stop ends the English sentence on its right, not at the Persian line's end.
        assert drawn["lastLeft"] >= drawn["beforeRight"] - 1, (note.inner_text(), drawn)

    previous = page.locator("a[rel=prev] bdi")
    expect(previous).to_have_text("Active Participation in International Forums")
    expect(previous).to_have_attribute("lang", "en")
    assert previous.evaluate("e => getComputedStyle(e).direction") == "ltr"
    link = page.locator("a[rel=prev]")
    assert link.evaluate("e => getComputedStyle(e).direction") == "rtl"
    # The Persian word "previous" and its colon come first, on the right; the name follows.
    label = link.bounding_box()
    name = previous.bounding_box()
    assert label is not None and name is not None
    assert name["x"] + name["width"] < label["x"] + label["width"] - 10
