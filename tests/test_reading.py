"""The public reading API, as clients and caches use it (API.md: Locales, Reading content)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import SLUG, Person

ESSAY = f"/api/v1/essays/{SLUG}"
SECTION_KEYS = [
    "introduction",
    "strategic-alliances-and-diplomacy",
    "enhanced-intelligence-capabilities",
    "technological-advancements-in-defense",
    "active-participation-in-international-forums",
    "conclusion",
]


def test_locales_come_from_cldr_with_chains_and_progress(client: FlaskClient) -> None:
    response = client.get("/api/v1/locales")
    assert response.status_code == 200
    data = response.get_json()
    assert data["default"] == "en"
    by_code = {item["code"]: item for item in data["locales"]}
    assert set(by_code) == {"en", "ar", "fa", "fr", "id", "ms", "tr", "ur"}
    assert by_code["ar"]["native_name"] == "العربية"
    assert by_code["fa"]["name"] == "Persian"
    assert {c for c, item in by_code.items() if item["direction"] == "rtl"} == {"ar", "fa", "ur"}
    assert by_code["ms"]["fallback"] == ["id", "en"]
    assert by_code["ar"]["fallback"] == ["en"]
    assert by_code["en"]["is_source"] and by_code["en"]["fallback"] == []
    assert by_code["ar"]["progress"] == {
        "total": 7,
        "approved": 7,
        "outdated": 0,
        "submitted": 0,
        "missing": 0,
        "percent": 100.0,
    }
    assert by_code["fa"]["progress"]["approved"] == 4
    assert by_code["fa"]["progress"]["percent"] == pytest.approx(57.1)
    assert by_code["ms"]["progress"]["approved"] == 0


def test_essay_in_english_is_the_repaired_source(client: FlaskClient) -> None:
    response = client.get(ESSAY)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    data = response.get_json()
    assert data["title"] == "Championing for Islamic Nation’s Security: Building a Strong Ummah"
    assert "â€" not in response.get_data(as_text=True)
    assert [s["key"] for s in data["sections"]] == SECTION_KEYS
    assert [s["position"] for s in data["sections"]] == list(range(6))
    intro, *headed, conclusion = data["sections"]
    assert intro["heading"] is None and intro["body"].startswith("Promoting the security")
    assert [s["heading"] for s in headed] == [
        "Strategic Alliances and Diplomacy",
        "Enhanced Intelligence Capabilities",
        "Technological Advancements in Defense",
        "Active Participation in International Forums",
    ]
    assert conclusion["heading"] is None and conclusion["body"].startswith("In conclusion,")
    assert all(s["locale"] == "en" and not s["fallback"] for s in data["sections"])
    assert response.headers["Content-Language"] == "en"


@pytest.mark.parametrize("code", ["ar", "fr", "tr", "ur", "id"])
def test_fully_translated_locales_are_served_whole(client: FlaskClient, code: str) -> None:
    response = client.get(ESSAY, query_string={"locale": code})
    data = response.get_json()
    english = client.get(ESSAY).get_json()
    assert data["locale"] == code and data["title_locale"] == code
    assert data["title"] != english["title"]
    for section, source in zip(data["sections"], english["sections"], strict=True):
        assert section["locale"] == code and section["fallback"] is False
        assert section["outdated"] is False and section["version"] == 1
        assert section["body"] and section["body"] != source["body"]
        assert (section["heading"] is None) == (source["heading"] is None)
        assert section["approved_at"].endswith("Z")
    assert response.headers["Content-Language"] == code


def test_rtl_locales_say_so(client: FlaskClient) -> None:
    for code in ("ar", "fa", "ur"):
        assert client.get(ESSAY, query_string={"locale": code}).get_json()["direction"] == "rtl"
    assert client.get(ESSAY, query_string={"locale": "tr"}).get_json()["direction"] == "ltr"


def test_persian_is_partial_and_falls_back_to_english(client: FlaskClient) -> None:
    response = client.get(ESSAY, query_string={"locale": "fa"})
    data = response.get_json()
    served = {s["key"]: s["locale"] for s in data["sections"]}
    assert served == {
        "introduction": "fa",
        "strategic-alliances-and-diplomacy": "fa",
        "enhanced-intelligence-capabilities": "fa",
        "technological-advancements-in-defense": "en",
        "active-participation-in-international-forums": "en",
        "conclusion": "en",
    }
    assert all(s["fallback"] == (s["locale"] != "fa") for s in data["sections"])
    assert data["title_locale"] == "fa"
    assert response.headers["Content-Language"] == "fa, en"


def test_malay_falls_back_to_indonesian(client: FlaskClient) -> None:
    response = client.get(ESSAY, query_string={"locale": "ms"})
    data = response.get_json()
    indonesian = client.get(ESSAY, query_string={"locale": "id"}).get_json()
    assert data["locale"] == "ms"
    assert all(s["locale"] == "id" and s["fallback"] for s in data["sections"])
    assert [s["body"] for s in data["sections"]] == [s["body"] for s in indonesian["sections"]]
    assert response.headers["Content-Language"] == "id"


@pytest.mark.parametrize(
    ("query", "locale"),
    [
        ("ar-EG", "ar"),
        ("ar_EG", "ar"),
        ("AR-eg", "ar"),
        ("fr-CA", "fr"),
        ("ms-Latn-MY", "ms"),
    ],
)
def test_variants_resolve_to_their_base(client: FlaskClient, query: str, locale: str) -> None:
    """``requested_locale`` is the client's own spelling; the locales are normalised."""
    for path in (ESSAY, f"{ESSAY}/sections/introduction"):
        data = client.get(path, query_string={"locale": query}).get_json()
        assert data["requested_locale"] == query
        assert data["negotiated_locale"] == locale


@pytest.mark.parametrize("header", ["ar-EG, fr;q=0.5", "de", None])
def test_a_locale_from_the_header_or_the_default_was_not_requested(
    client: FlaskClient, header: str | None
) -> None:
    headers = {"Accept-Language": header} if header else {}
    essay = client.get(ESSAY, headers=headers).get_json()
    section = client.get(f"{ESSAY}/sections/introduction", headers=headers).get_json()
    expected = "ar" if header and header.startswith("ar") else "en"
    assert essay["requested_locale"] is None and section["requested_locale"] is None
    assert essay["negotiated_locale"] == essay["locale"] == expected
    assert section["negotiated_locale"] == expected


def test_the_essay_and_its_sections_say_the_same_about_locales(client: FlaskClient) -> None:
    """A section read alone carries what it carries inside the essay, and the same head."""
    essay = client.get(ESSAY, query_string={"locale": "fa-IR"}).get_json()
    locale_fields = {"requested_locale", "negotiated_locale"}
    for item in essay["sections"]:
        section = client.get(
            f"{ESSAY}/sections/{item['key']}", query_string={"locale": "fa-IR"}
        ).get_json()
        assert {k: section[k] for k in locale_fields} == {k: essay[k] for k in locale_fields}
        for field in ("locale", "direction", "fallback"):
            assert section[field] == item[field], (item["key"], field)


def test_each_section_has_the_direction_of_the_locale_it_is_served_in(
    client: FlaskClient,
) -> None:
    essay = client.get(ESSAY, query_string={"locale": "fa"}).get_json()
    assert essay["direction"] == "rtl"
    directions = {s["key"]: (s["locale"], s["direction"]) for s in essay["sections"]}
    assert directions["introduction"] == ("fa", "rtl")
    assert directions["conclusion"] == ("en", "ltr")
    assert {d for _, d in directions.values()} == {"rtl", "ltr"}
    assert (essay["title_locale"], essay["title_direction"]) == ("fa", "rtl")
    title = client.get(f"{ESSAY}/sections/title", query_string={"locale": "fa"}).get_json()
    assert (title["locale"], title["direction"]) == ("fa", "rtl")
    # French readers: all left to right; Urdu: right to left where translated.
    french = client.get(ESSAY, query_string={"locale": "fr"}).get_json()
    assert {s["direction"] for s in french["sections"]} == {"ltr"}
    assert french["title_direction"] == "ltr"
    listed = client.get("/api/v1/essays", query_string={"locale": "ur"}).get_json()["items"]
    item = next(item for item in listed if ESSAY.endswith(item["slug"]))
    assert (item["title_locale"], item["title_direction"]) == ("ur", "rtl")


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("ar", "ar"),
        ("de-DE, ur;q=0.8, fr;q=0.9", "fr"),
        ("de, ur;q=0.8, fr;q=0.7", "ur"),
        ("fr;q=0, tr;q=0.5", "tr"),
        ("*", "en"),
        ("de", "en"),
        ("!!garbage;;q=x,,", "en"),
        ("x" * 5000, "en"),
        ("", "en"),
    ],
)
def test_accept_language_negotiation(client: FlaskClient, header: str, locale: str) -> None:
    response = client.get(ESSAY, headers={"Accept-Language": header})
    assert response.status_code == 200
    assert response.get_json()["locale"] == locale
    assert response.headers["Vary"] == "Accept-Language"


def test_query_parameter_wins_over_header(client: FlaskClient) -> None:
    data = client.get(
        ESSAY, query_string={"locale": "tr"}, headers={"Accept-Language": "ar"}
    ).get_json()
    assert data["locale"] == "tr"


@pytest.mark.parametrize("bad", ["%%%", "a", "toolonglanguage", "ar--EG", "ar EG", "ar-"])
def test_malformed_locale_is_400_problem(client: FlaskClient, bad: str) -> None:
    response = client.get(ESSAY, query_string={"locale": bad})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 400 and problem["type"].endswith("malformed-locale")
    assert problem["title"] and problem["detail"] and problem["instance"] == ESSAY


@pytest.mark.parametrize("unoffered", ["de", "zh-Hant", "pt-BR", "xx"])
def test_unoffered_locale_lists_the_available_ones(client: FlaskClient, unoffered: str) -> None:
    response = client.get(ESSAY, query_string={"locale": unoffered})
    assert response.status_code == 400
    problem = response.get_json()
    assert problem["type"].endswith("locale-not-offered")
    assert set(problem["available_locales"]) == {"en", "ar", "fa", "fr", "id", "ms", "tr", "ur"}


def test_etag_revalidation(client: FlaskClient) -> None:
    first = client.get(ESSAY, query_string={"locale": "ar"})
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "public" in first.headers["Cache-Control"]
    again = client.get(ESSAY, query_string={"locale": "ar"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    other = client.get(ESSAY, query_string={"locale": "fr"}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    assert client.get(ESSAY, query_string={"locale": "ar"}).headers["ETag"] == etag


def test_representations_differ_by_requested_locale(client: FlaskClient) -> None:
    plain = client.get(ESSAY, query_string={"locale": "ar"})
    regional = client.get(ESSAY, query_string={"locale": "ar-EG"})
    assert plain.headers["ETag"] != regional.headers["ETag"]
    assert regional.get_json()["requested_locale"] == "ar-EG"


def test_every_locale_at_once(client: FlaskClient) -> None:
    response = client.get(ESSAY, query_string={"locale": "*"})
    assert response.status_code == 200
    data = response.get_json()
    intro = data["sections"][0]
    assert set(intro["translations"]) == {"en", "ar", "fa", "fr", "id", "tr", "ur"}
    assert "ms" not in intro["translations"]
    last = data["sections"][-1]
    assert set(last["translations"]) == {"en", "ar", "fr", "id", "tr", "ur"}
    assert intro["translations"]["ar"]["version"] == 1
    assert set(data["titles"]) == {"en", "ar", "fa", "fr", "id", "tr", "ur"}
    assert response.headers["Content-Language"].split(", ")[0] == "en"


def test_one_section(client: FlaskClient) -> None:
    response = client.get(f"{ESSAY}/sections/conclusion", query_string={"locale": "ms"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["key"] == "conclusion" and data["locale"] == "id" and data["fallback"] is True
    assert response.headers["Content-Language"] == "id"
    assert response.headers["ETag"]


def test_title_is_addressable_as_a_unit(client: FlaskClient) -> None:
    data = client.get(f"{ESSAY}/sections/title", query_string={"locale": "ar"}).get_json()
    assert data["key"] == "title" and data["locale"] == "ar" and data["heading"] is None


def test_essay_list(client: FlaskClient) -> None:
    data = client.get("/api/v1/essays", headers={"Accept-Language": "fr"}).get_json()
    assert data["total"] == 1 and data["page"] == 1 and data["per_page"] == 20
    (item,) = data["items"]
    assert item["slug"] == SLUG and item["source_locale"] == "en"
    assert item["title"] == (
        "Défendre la sécurité de la Nation islamique\u00a0: bâtir une Oumma forte"
    )
    assert item["title_locale"] == "fr"
    assert item["sections"] == SECTION_KEYS


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/essays/no-such-essay",
        f"{ESSAY}/sections/no-such-section",
        "/api/v1/essays/%E2%80%AE%00weird",
        "/api/v1/essays/..%2F..%2Fetc",
        "/api/v1/nothing",
    ],
)
def test_unknown_things_are_404_problems(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_wrong_method_is_405_problem(client: FlaskClient) -> None:
    response = client.patch(ESSAY)
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("per_page", ["0", "101", "x"])
def test_bad_paging_is_400_problem(client: FlaskClient, per_page: str) -> None:
    response = client.get("/api/v1/essays", query_string={"per_page": per_page})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "per_page" in response.get_json()["errors"]


@pytest.mark.parametrize(
    "path", [ESSAY, f"{ESSAY}/sections/introduction", "/api/v1/essays", "/api/v1/reviews"]
)
def test_over_long_locale_is_400_problem(client: FlaskClient, path: str) -> None:
    response = client.get(
        path, query_string={"locale": "a" * 65}, headers={"Accept-Language": "fr"}
    )
    assert response.status_code == 400
    problem = response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    assert problem["status"] == 400 and problem["errors"]["locale"]
    assert response.headers["Content-Language"] == "fr"


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["migration"]


def test_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    for path in (
        "/api/v1/locales",
        "/api/v1/essays",
        "/api/v1/essays/{slug}",
        "/api/v1/essays/{slug}/sections/{key}",
    ):
        assert path in spec["paths"]
    assert client.get("/api/docs").status_code == 200


PUBLIC_READS = [
    # (path, whether the body depends on Accept-Language)
    ("/api/v1/essays", True),
    ("/api/v1/essays?locale=fr", False),
    ("/api/v1/locales", False),
    ("/api/v1/locales/ar/progress", False),
    (ESSAY, True),
    (f"{ESSAY}?locale=ar", False),
    (f"{ESSAY}/sections/introduction", True),
    (f"{ESSAY}/sections/introduction?locale=*", False),
    (f"{ESSAY}/locales", False),
    (f"{ESSAY}/badge.svg?locale=ar", False),
    ("/api/v1/locales/ar/badge.svg", False),
    (f"{ESSAY}/catalogs/fr.po", False),
    (f"{ESSAY}/catalogs/template.pot", False),
    ("/api/v1/changes", False),
]


@pytest.mark.parametrize(("path", "negotiated"), PUBLIC_READS)
def test_every_public_read_is_cacheable_and_revalidated(
    client: FlaskClient, path: str, negotiated: bool
) -> None:
    first = client.get(path, headers={"Accept-Language": "ar"})
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"'), "a strong validator"
    assert first.headers["Cache-Control"].startswith("public")
    assert ("Accept-Language" in first.headers.get("Vary", "")) is negotiated
    # The tags are for the edge, which asks for them; a client asking directly gets none.
    assert "xkey" not in first.headers
    tagged = client.get(path, headers={"Accept-Language": "ar", "xkey-want": "1"})
    assert "all" in tagged.headers["xkey"].split()
    again = client.get(path, headers={"Accept-Language": "ar", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    if negotiated:
        french = client.get(path, headers={"Accept-Language": "fr", "If-None-Match": etag})
        assert french.status_code == 200 and french.headers["ETag"] != etag


def test_a_list_changes_its_validator_when_a_title_is_approved(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    listed = client.get("/api/v1/essays", headers={"Accept-Language": "ms"})
    item = next(i for i in listed.get_json()["items"] if ESSAY.endswith(i["slug"]))
    assert item["title_locale"] != "ms"
    created = client.post(
        f"{ESSAY}/sections/title/translations",
        json={
            "locale": "ms",
            "body": "Memperjuangkan keselamatan negara-negara Islam",
            "source_revision": 1,
        },
        headers=people["translator"].headers,
    )
    assert created.status_code == 201, created.get_json()
    approved = client.post(
        f"/api/v1/translations/{created.get_json()['id']}/approve",
        json={},
        headers=people["reviewer"].headers,
    )
    assert approved.status_code == 200, approved.get_json()
    after = client.get(
        "/api/v1/essays",
        headers={"Accept-Language": "ms", "If-None-Match": listed.headers["ETag"]},
    )
    assert after.status_code == 200
    item = next(i for i in after.get_json()["items"] if ESSAY.endswith(i["slug"]))
    assert (item["title"], item["title_locale"]) == (
        "Memperjuangkan keselamatan negara-negara Islam",
        "ms",
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "kind"),
    [
        ("GET", "/api/v1/essays?per_page=0", None, 400, "validation-failed"),
        ("GET", "/api/v1/changes?per_page=1000", None, 400, "validation-failed"),
        ("POST", "/api/v1/reviews/bulk", {"unknown": 1}, 422, "validation-failed"),
        ("GET", "/api/v1/no-such-thing", None, 404, "not-found"),
        ("DELETE", "/api/v1/locales", None, 405, "method-not-allowed"),
    ],
)
def test_every_problem_has_a_type_of_its_own(
    client: FlaskClient,
    people: dict[str, Person],
    method: str,
    path: str,
    body: Any,
    status: int,
    kind: str,
) -> None:
    response = client.open(path, method=method, json=body, headers=people["reviewer"].headers)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == f"urn:tarjuma:problem:{kind}"
