"""The API's reference at /api/docs works with no internet (API.md: Production settings).

Every file the page needs comes from the app, under a policy that names no other host; a
real Chromium, with every request that leaves the app refused, shows the operations and
runs one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Browser, ConsoleMessage, Route, expect

from tests.browser import chromium as launch_chromium
from tests.browser import missing as missing_chromium
from tests.conftest import SLUG

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


class References(HTMLParser):
    """Every address an HTML page makes the browser fetch (``src``, ``href``)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


def test_docs_page_names_no_other_host(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in response.headers["Content-Security-Policy"].split("; ")
    }
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    for sources in policy.values():
        assert set(sources) <= {"'self'", "'none'", "data:"}, sources
    html = response.get_data(as_text=True)
    assert "://" not in html and "//" not in html.replace("<!DOCTYPE", "")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script"
    urls = references(html)
    assert len(urls) >= 3
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        assert not urlsplit(url).netloc, url


def test_docs_files_are_served_by_the_app(client: FlaskClient) -> None:
    html = client.get("/api/docs").get_data(as_text=True)
    types = {}
    for url in references(html):
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert response.content_length, url
            types[url.rsplit("/", 1)[-1]] = response.mimetype
    assert types["swagger-ui-bundle.js"] == "text/javascript"
    assert types["start.js"] == "text/javascript"
    assert types["swagger-ui.css"] == "text/css"
    spec_url = re.search(r'data-spec-url="([^"]+)"', html)
    assert spec_url and client.get(spec_url[1]).get_json()["openapi"].startswith("3.1")


def test_only_the_viewers_own_files_are_served(client: FlaskClient) -> None:
    for name in ("oauth2-redirect.html", "index.template.html", "VERSION", "..%2F__init__.py"):
        response = client.get(f"/api/docs/swagger-ui/{name}")
        assert response.status_code == 404, name
        assert response.mimetype == "application/problem+json"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if (reason := missing_chromium()) is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}", pytrace=False)
        pytest.skip(reason)
    with launch_chromium() as browser:
        yield browser


# Every violation of the page's policy, as the page itself sees it.
RECORD_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.mark.browser
@pytest.mark.multiprocess
def test_docs_run_in_a_browser_cut_off_from_the_internet(
    chromium: Browser, live_server: str
) -> None:
    context = chromium.new_context(base_url=live_server, viewport={"width": 1200, "height": 860})
    context.set_default_timeout(15_000)
    app_origin = urlsplit(live_server).netloc
    requested: list[str] = []
    refused: list[str] = []

    def only_the_app(route: Route) -> None:
        url = route.request.url
        requested.append(url)
        if urlsplit(url).netloc == app_origin:
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_app)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    errors: list[str] = []

    def console_error(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", console_error)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/api/docs")
        essays = page.locator(".opblock-get .opblock-summary-path[data-path='/api/v1/essays']")
        expect(essays).to_be_visible()
        document = page.request.get("/api/v1/openapi.json").json()
        operations = sum(
            method in HTTP_METHODS for item in document["paths"].values() for method in item
        )
        expect(page.locator(".opblock")).to_have_count(operations)

        # The operation runs from the page: the document's "Try it out" reaches the app.
        essays.click()
        page.get_by_role("button", name="Try it out").click()
        page.get_by_role("button", name="Execute").click()
        status = page.locator(".live-responses-table tbody .response-col_status").first
        expect(status).to_have_text("200")
        expect(page.locator(".live-responses-table .microlight").first).to_contain_text(SLUG)
        page.get_by_role("button", name="Authorize").first.click()
        expect(page.locator(".auth-container").first).to_be_visible()

        violations = page.evaluate("window.violations")
    finally:
        context.close()
    assert requested and all(urlsplit(url).netloc == app_origin for url in requested), refused
    assert refused == []
    assert violations == []
    assert errors == []
