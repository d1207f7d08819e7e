"""Hardening: CORS for browser clients, nosniff everywhere, throttled failed authentication."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import security
from api.services.accounts import identity
from tests.conftest import SLUG, Person
from tests.test_console import post as console_post

ESSAY = f"/api/v1/essays/{SLUG}"
SECTION = f"{ESSAY}/sections/introduction"
SUBMIT = f"{SECTION}/translations"
APP_ORIGIN = "https://app.example.org"
OTHER_ORIGIN = "https://elsewhere.example.net"


def preflight(client: FlaskClient, path: str, method: str, origin: str, headers: str = "") -> Any:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=request_headers)


def listed(value: str | None) -> set[str]:
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


# --- CORS: public reads -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/locales",
        "/api/v1/essays",
        ESSAY,
        f"{ESSAY}?locale=ar",
        SECTION,
        f"{ESSAY}/catalogs/ar.po",
        "/api/v1/locales/ar/progress",
        "/api/v1/changes",
        "/api/v1/changes?locale=ar",
        f"{ESSAY}/locales",
        f"{ESSAY}?preview=false",
        "/api/v1/locales/ar/badge.svg",
        f"{ESSAY}/badge.svg?locale=ar",
    ],
)
def test_public_reads_answer_any_origin(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Origin": OTHER_ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert {"etag", "content-language"} <= listed(
        response.headers.get("Access-Control-Expose-Headers")
    )
    assert "Origin" not in response.headers.get("Vary", "")


def test_a_browser_may_revalidate_a_public_read(client: FlaskClient) -> None:
    answer = preflight(client, ESSAY, "GET", OTHER_ORIGIN, "if-none-match, accept-language")
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in answer.headers["Access-Control-Allow-Methods"]
    assert {"if-none-match", "accept-language"} <= listed(
        answer.headers["Access-Control-Allow-Headers"]
    )
    etag = client.get(ESSAY).headers["ETag"]
    again = client.get(ESSAY, headers={"Origin": OTHER_ORIGIN, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["Access-Control-Allow-Origin"] == "*"


def test_a_browser_may_revalidate_the_change_feed(client: FlaskClient) -> None:
    first = client.get("/api/v1/changes", headers={"Origin": OTHER_ORIGIN})
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "etag" in listed(first.headers["Access-Control-Expose-Headers"])
    again = client.get(
        "/api/v1/changes", headers={"Origin": OTHER_ORIGIN, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.headers["Access-Control-Allow-Origin"] == "*"


def test_previews_are_not_public_reads(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    for query in ("preview=true", "locale=ms&preview=1"):
        with app.test_request_context(f"{ESSAY}?{query}", headers={"Origin": OTHER_ORIGIN}):
            assert not security._is_public_read()
    answer = preflight(client, f"{ESSAY}?preview=true&locale=ms", "GET", OTHER_ORIGIN)
    assert "Access-Control-Allow-Origin" not in answer.headers
    response = client.get(
        ESSAY,
        query_string={"preview": "true", "locale": "ms"},
        headers={"Origin": OTHER_ORIGIN, **people["reviewer"].headers},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Access-Control-Allow-Origin" not in response.headers
    anonymous = client.get(f"{ESSAY}?preview=true", headers={"Origin": OTHER_ORIGIN})
    assert anonymous.status_code == 401
    assert "Access-Control-Allow-Origin" not in anonymous.headers


def test_a_preview_link_page_is_for_its_holder_only(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    link = client.post(
        f"{ESSAY}/preview-links",
        json={"locale": "ms", "expires_in": 3600},
        headers=people["reviewer"].headers,
    ).get_json()
    path = link["url"].replace("http://localhost", "")
    for accept in ("application/json", "text/html"):
        page = client.get(path, headers={"Origin": OTHER_ORIGIN, "Accept": accept})
        assert page.status_code == 200
        assert "Access-Control-Allow-Origin" not in page.headers
        assert page.headers["Cache-Control"] == "private, no-store"
        assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_public_problems_are_readable_cross_origin(client: FlaskClient) -> None:
    response = client.get(f"{ESSAY}?locale=xx", headers={"Origin": OTHER_ORIGIN})
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/changes",
        "/api/v1/locales/ar/badge.svg",
        f"{ESSAY}/badge.svg",
        f"{ESSAY}/catalogs/template.pot",
        "/api/v1/openapi.json",
    ],
)
def test_public_read_paths_are_patterns(app: Flask, path: str) -> None:
    with app.test_request_context(path, headers={"Origin": OTHER_ORIGIN}):
        assert security._is_public_read()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me",
        "/api/v1/reviews",
        "/api/v1/events",
        SUBMIT,
        "/api/v1/translations/1",
        "/api/v1/webhooks",
        "/api/v1/webhooks/1",
        "/api/v1/webhooks/1/deliveries",
        "/api/v1/memory",
        "/api/v1/memory.tmx",
        "/api/v1/glossary",
        "/api/v1/glossary/1",
        f"{SECTION}/suggestions",
    ],
)
def test_authenticated_reads_are_not_public(app: Flask, path: str) -> None:
    with app.test_request_context(path, headers={"Origin": OTHER_ORIGIN}):
        assert not security._is_public_read()


# --- CORS: writes and tokens ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method"),
    [
        (SUBMIT, "POST"),
        (SECTION, "PUT"),
        (f"{ESSAY}/catalogs/ar.po", "POST"),
        (ESSAY, "DELETE"),
        (ESSAY, "PUT"),
        ("/api/v1/essays", "POST"),
        (f"{ESSAY}/locales/ms", "PUT"),
        (f"{ESSAY}/preview-links", "POST"),
        ("/api/v1/preview-links/1", "DELETE"),
        ("/api/v1/translations/1/unpublish", "POST"),
        ("/api/v1/webhooks", "POST"),
        ("/api/v1/webhooks/1", "PATCH"),
        ("/api/v1/webhooks/1/deliveries/1/redeliver", "POST"),
        ("/api/v1/glossary", "POST"),
        ("/api/v1/glossary/1", "PUT"),
        ("/api/v1/memory.tmx", "POST"),
    ],
)
def test_writes_answer_no_origin_by_default(client: FlaskClient, path: str, method: str) -> None:
    answer = preflight(client, path, method, OTHER_ORIGIN, "authorization, content-type")
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert "Access-Control-Allow-Methods" not in answer.headers


def test_a_token_is_never_sent_cross_origin_by_default(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    answer = preflight(client, ESSAY, "GET", OTHER_ORIGIN, "authorization")
    assert "Access-Control-Allow-Origin" not in answer.headers
    response = client.get(
        "/api/v1/me", headers={"Origin": OTHER_ORIGIN, **people["reviewer"].headers}
    )
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


class TestTrustedOrigins:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"CORS_ORIGINS": [APP_ORIGIN]}

    def test_listed_origins_may_write(self, client: FlaskClient) -> None:
        answer = preflight(
            client, SECTION, "PUT", APP_ORIGIN, "authorization, content-type, if-match"
        )
        assert answer.status_code == 200
        assert answer.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
        assert "PUT" in answer.headers["Access-Control-Allow-Methods"]
        assert {"authorization", "content-type", "if-match"} <= listed(
            answer.headers["Access-Control-Allow-Headers"]
        )
        assert "Origin" in answer.headers["Vary"]

    def test_listed_origins_may_manage_webhooks(self, client: FlaskClient) -> None:
        answer = preflight(client, "/api/v1/webhooks", "POST", APP_ORIGIN, "authorization")
        assert answer.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
        assert "POST" in answer.headers["Access-Control-Allow-Methods"]

    def test_other_origins_still_may_not(self, client: FlaskClient) -> None:
        answer = preflight(client, SUBMIT, "POST", OTHER_ORIGIN, "authorization, content-type")
        assert "Access-Control-Allow-Origin" not in answer.headers

    def test_a_write_from_a_listed_origin_reads_its_answer(
        self, client: FlaskClient, people: dict[str, Person]
    ) -> None:
        response = client.post(
            SUBMIT,
            json={"locale": "ms", "body": "Pengenalan yang baharu."},
            headers={"Origin": APP_ORIGIN, **people["translator"].headers},
        )
        assert response.status_code == 201
        assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
        assert "location" in listed(response.headers["Access-Control-Expose-Headers"])
        refused = client.post(
            SUBMIT,
            json={"locale": "ms", "body": "Lagi."},
            headers={"Origin": OTHER_ORIGIN, **people["translator"].headers},
        )
        assert "Access-Control-Allow-Origin" not in refused.headers

    def test_public_reads_stay_wildcard(self, client: FlaskClient) -> None:
        response = client.get(ESSAY, headers={"Origin": APP_ORIGIN})
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_origins_from_the_environment() -> None:
    from api.config import read

    settings = read({"CORS_ORIGINS": f"{APP_ORIGIN}, {OTHER_ORIGIN}"})
    assert settings["CORS_ORIGINS"] == [APP_ORIGIN, OTHER_ORIGIN]
    assert read({})["CORS_ORIGINS"] == []


# --- nosniff ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ESSAY),
        ("GET", "/api/v1/essays/nope"),
        ("DELETE", ESSAY),
        ("GET", "/api/v1/me"),
        ("GET", f"{ESSAY}/catalogs/ar.po"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/healthz"),
        ("GET", "/nowhere"),
        ("GET", "/console/sign-in"),
        ("GET", "/console/"),
        ("GET", "/console/static/console.css"),
        ("OPTIONS", ESSAY),
        ("GET", "/api/v1/changes"),
        ("GET", "/api/v1/webhooks"),
        ("GET", f"{ESSAY}/locales"),
        ("GET", "/preview/no-such-link"),
    ],
)
def test_every_response_is_nosniff(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method)
    response.close()
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- failed authentication --------------------------------------------------------------


class TestFailedAuthentication:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_DEFAULT": "1000 per minute",
            "AUTH_FAILURE_LIMIT": "3 per minute",
        }

    @staticmethod
    def me(client: FlaskClient, token: str, address: str = "192.0.2.1", **headers: str) -> Any:
        return client.get(
            "/api/v1/me",
            headers={"Authorization": f"Bearer {token}", **headers},
            environ_base={"REMOTE_ADDR": address},
        )

    def test_repeated_bad_tokens_are_throttled(
        self, client: FlaskClient, people: dict[str, Person]
    ) -> None:
        statuses = [self.me(client, "tj_guess").status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        throttled = self.me(client, "tj_guess", **{"Accept-Language": "fr"})
        assert throttled.status_code == 429
        assert throttled.headers["Content-Type"] == "application/problem+json"
        assert 1 <= int(throttled.headers["Retry-After"]) <= 60
        problem = throttled.get_json()
        assert problem["status"] == 429
        assert throttled.headers["Content-Language"] == "fr"
        assert problem["title"] == "Trop de requêtes"
        assert throttled.headers["Retry-After"] in problem["detail"]
        # Guessing gains nothing: even the right token is refused until the window ends.
        assert self.me(client, people["reviewer"].token).status_code == 429
        # Anonymous reads are never slowed, and other clients are not affected.
        assert client.get(ESSAY, environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200
        other = self.me(client, people["reviewer"].token, address="192.0.2.2")
        assert other.status_code == 200

    def test_valid_tokens_never_count(self, client: FlaskClient, people: dict[str, Person]) -> None:
        for _ in range(10):
            assert self.me(client, people["reviewer"].token).status_code == 200
        assert [self.me(client, "tj_guess").status_code for _ in range(3)] == [401] * 3

    def test_revoked_tokens_count(self, app: Flask, client: FlaskClient) -> None:
        with app.app_context():
            identity.create_user("gone", "translator", ["ar"])
            token = identity.issue_token("gone").token
            identity.revoke_token("gone")
        statuses = [self.me(client, token).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]

    def test_console_sign_in_shares_the_count(self, client: FlaskClient) -> None:
        for _ in range(3):
            assert self.me(client, "tj_guess").status_code == 401
        client.environ_base["REMOTE_ADDR"] = "192.0.2.1"
        answer = console_post(client, "/console/sign-in", {"token": "tj_guess"})
        assert answer.status_code == 429
        assert int(answer.headers["Retry-After"]) >= 1


def test_preflights_over_http(live_server: str) -> None:
    """A browser's preflights, sent over a socket to a running server."""

    def send(method: str, path: str, headers: dict[str, str]) -> Any:
        connection = http.client.HTTPConnection(urlsplit(live_server).netloc, timeout=10)
        try:
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status, response.headers
        finally:
            connection.close()

    status, headers = send(
        "OPTIONS",
        ESSAY,
        {
            "Origin": OTHER_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert "if-none-match" in listed(headers["Access-Control-Allow-Headers"])
    status, headers = send(
        "OPTIONS",
        SUBMIT,
        {
            "Origin": OTHER_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert "Access-Control-Allow-Origin" not in headers
    assert headers["X-Content-Type-Options"] == "nosniff"
