"""The edge: a real varnishd with the shipped VCL in front of the app under gunicorn."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from api.extensions import db
from api.models import Job
from api.services import jobs
from tests.edge_stack import ESSAY, INTRO, Stack, edge_stack

# varnishd and the app's own server run in other processes.
pytestmark = pytest.mark.multiprocess

LOCALES_50 = [
    "ar",
    "AR",
    "ar-EG",
    "ar-eg",
    "ar_SA",
    "ar-Arab-EG",
    "ar, en;q=0.5",
    "ar,en;q=0.5",
    "ar , en ; q=0.5",
    "ar;q=1.0",
    "ar;q=0.9",
    "ar;q=1",
    "ar-MA;q=0.8, en;q=0.7",
    "de, ar;q=0.5",
    "de-DE, ar-SA;q=0.9",
    "xx, ar",
    "fr;q=0.1, ar",
    "fr;q=0.1, ar;q=0.2",
    "en;q=0.5, ar",
    "en;q=0, ar",
    "*;q=0.1, ar",
    "ar, *",
    "ar-DZ, ar;q=0.9",
    "ar-TN, fr;q=0.3",
    "ja, ar-IQ;q=0.6",
    "ar-LB",
    "ar-SY, en",
    "ar-JO, fa;q=0.9",
    "ar-KW, ur;q=0.5",
    "ar-QA;q=1.0",
    "ar-BH, tr;q=0.2",
    "ar-OM",
    "ar-YE, id;q=0.1",
    "ar-LY, ms;q=0.1",
    "ar-SD",
    "ar-AE, en-GB;q=0.8",
    "ar-EG;q=0.99",
    "ar-EG;q=0.5, fr;q=0.4",
    "nl;q=0.9, ar-EG;q=0.8",
    "AR-eg",
    "Ar",
    "ar-001",
    "ar-SA, ar;q=0.8, en;q=0.5",
    "ko, ar",
    "zh-CN;q=0.9, ar",
    "ar;q=0.7, de;q=0.9",
    "ar,fr;q=0.2",
    "ar ,fr;q=0.2",
    "ar;q=0.3, tr;q=0.2, fa;q=0.1",
    "pt-BR, ar;q=0.5",
]


@pytest.fixture
def stack(databases: Any, tmp_path: Path) -> Iterator[Stack]:
    with edge_stack(databases, tmp_path) as built:
        yield built


def _hit(headers: dict[str, str]) -> bool:
    return len(headers["X-Varnish"].split()) == 2


def _fetches(stack: Stack) -> int:
    return stack.edge.stat("MAIN.backend_req")


def test_public_reads_are_cached_normalised_and_answered_304(stack: Stack) -> None:
    first, headers = stack.text(f"{ESSAY}?locale=ar")
    assert not _hit(headers) and "xkey" not in {k.lower() for k in headers}
    assert headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    fetches = _fetches(stack)
    # Query parameters the app ignores, and the Host, make no other object.
    for path, extra in (
        (f"{ESSAY}?locale=ar", {}),
        (f"{ESSAY}?utm_source=x&locale=ar", {}),
        (f"{ESSAY}?locale=ar&cb=1&cb=2", {"Host": "evil.example"}),
        (f"{ESSAY}?locale=ar", {"Accept-Language": "fr"}),  # ?locale= decides alone
    ):
        again, headers = stack.text(path, **extra)
        assert _hit(headers) and again == first
    # A browser of any origin gets the one stored copy, readable cross-origin and nosniff.
    again, headers = stack.text(f"{ESSAY}?locale=ar", Origin="https://elsewhere.example.net")
    assert _hit(headers) and again == first
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["X-Content-Type-Options"] == "nosniff"
    etag = headers["ETag"]
    status, headers, body = stack.edge.get(f"{ESSAY}?locale=ar", **{"If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    assert _fetches(stack) == fetches

    # Fifty spellings of Accept-Language that negotiate to Arabic: one backend fetch.
    bodies = set()
    for spelling in LOCALES_50:
        status, headers, body = stack.edge.get(ESSAY, **{"Accept-Language": spelling})
        assert status == 200 and headers["Content-Language"] == "ar", spelling
        bodies.add(body)
    assert len(bodies) == 1
    assert _fetches(stack) == fetches + 1
    # The app, asked directly, picks Arabic for each of them too.
    for spelling in LOCALES_50:
        assert stack.origin.get(ESSAY, **{"Accept-Language": spelling})[1]["Content-Language"] == (
            "ar"
        ), spelling


def test_private_unsafe_and_failed_requests_are_never_stored(stack: Stack) -> None:
    stack.text(f"{INTRO}?locale=fr")
    fetches = _fetches(stack)
    token = {"Authorization": f"Bearer {stack.reviewer}"}
    for _ in range(2):
        assert stack.edge.get(f"{INTRO}?locale=fr", **token)[0] == 200
        assert stack.edge.get(f"{INTRO}?locale=fr", Cookie="session=x")[0] == 200
        # Drafts (401 without a token): passed, never looked up nor stored.
        assert stack.edge.get(f"{ESSAY}?locale=fr&preview=true")[0] in (200, 401)
        assert stack.edge.get(f"{ESSAY}?locale=de")[0] == 400
        assert stack.edge.get("/console/sign-in")[0] in (200, 302, 404)
        assert (
            stack.edge.get(f"/api/v1/essays/{'%63'}hampioning-islamic-nations-security")[0] == 200
        )
        # Problems are the app's no-store: a 404 too.
        assert stack.edge.get("/api/v1/essays/no-such-essay")[0] == 404
    assert _fetches(stack) == fetches + 14


def test_purges_only_from_the_apps_addresses(stack: Stack) -> None:
    _, headers = stack.text(f"{INTRO}?locale=ar")
    connection = socket.create_connection(
        ("127.0.0.1", stack.edge.port), timeout=5, source_address=("127.0.0.2", 0)
    )
    with connection:
        connection.sendall(
            b"PURGE / HTTP/1.1\r\nHost: x\r\nxkey-purge: all\r\nxkey-fence: *\r\n"
            b"Connection: close\r\n\r\n"
        )
        answer = connection.recv(200)
    assert answer.startswith(b"HTTP/1.1 403")
    _, headers = stack.text(f"{INTRO}?locale=ar")
    assert _hit(headers)


def test_a_change_is_served_at_once_after_one_purge_per_edge(stack: Stack) -> None:
    old = stack.arabic_intro()
    for path in (f"{INTRO}?locale=ar", f"{ESSAY}?locale=ar", ESSAY, "/api/v1/locales"):
        stack.edge.get(path, **{"Accept-Language": "ar"})
    french, _ = stack.text(f"{INTRO}?locale=fr")
    version = stack.submit(old + " (٢)")
    purges = len(stack.proxy.purges)
    _, headers = stack.approve(version)
    assert "Edge-Purge" not in headers
    assert len(stack.proxy.purges) == purges + 1
    purge = stack.proxy.purges[-1]
    assert set(purge["xkey-purge"].split()) >= {"essays", "e1//ar", "e1/introduction/ar"}
    assert purge["xkey-fence"] == "championing-islamic-nations-security"
    section, _ = stack.text(f"{INTRO}?locale=ar")
    assert section["body"] == old + " (٢)"
    essay, _ = stack.text(ESSAY, **{"Accept-Language": "ar-EG"})
    assert essay["sections"][0]["body"] == old + " (٢)"
    assert stack.text(f"{INTRO}?locale=fr")[0] == french
    # The job is closed once the response is sent (the worker would only purge again).
    deadline = time.monotonic() + 5
    while True:
        with stack.app.app_context():
            query = sa.select(Job.state).where(Job.kind == "edge.purge")
            states = set(db.session.scalars(query))
            db.session.remove()
        if states == {"done"} or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert states == {"done"}


def test_a_fetch_in_flight_across_a_change_is_never_served_as_current(
    databases: Any, tmp_path: Path
) -> None:
    """The fence: a body built before the commit arrives after the purge."""
    with edge_stack(databases, tmp_path, READ_BUILD_DELAY="1.5") as stack:
        old = stack.arabic_intro()
        version = stack.submit(old + " (٣)")
        slow: dict[str, Any] = {}

        def read() -> None:
            slow["text"] = stack.text(f"{INTRO}?locale=ar")[0]["body"]

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.5)  # the reader's fetch is now building its body from the old text
        stack.approve(version, through=stack.origin)
        after = stack.text(f"{INTRO}?locale=ar")[0]["body"]
        reader.join()
        assert slow["text"] == old  # it started before the change
        assert after == old + " (٣)"
        for _ in range(3):
            assert stack.text(f"{INTRO}?locale=ar")[0]["body"] == old + " (٣)"


def test_an_edge_that_cannot_be_purged(databases: Any, tmp_path: Path) -> None:
    settings = {"EDGE_TTL": 4, "EDGE_PURGE_TIMEOUT": 0.5}
    with edge_stack(databases, tmp_path, settings=settings) as stack:
        old = stack.arabic_intro()
        first, second = stack.submit(old + " (٤)"), stack.submit(old + " (٥)")
        stack.text(f"{INTRO}?locale=ar")
        stack.proxy.paused.set()
        started = time.time()
        _, headers = stack.approve(first)
        outcome = headers["Edge-Purge"]
        assert outcome.startswith("failed; fresh-by=")
        fresh_by = datetime.fromisoformat(outcome.split("=", 1)[1].replace("Z", "+00:00"))
        assert started + 4 <= fresh_by.timestamp() <= time.time() + 4 + 1
        with stack.app.app_context():
            job = db.session.scalars(sa.select(Job).order_by(Job.id.desc())).first()
            assert job is not None and job.state == "pending"
        # Until fresh-by the edge may still hold the old text; never after it.
        while time.time() < fresh_by.timestamp():
            time.sleep(0.1)
        seen = set()
        while time.time() < fresh_by.timestamp() + 1.5:
            seen.add(stack.text(f"{INTRO}?locale=ar")[0]["body"])
        assert seen == {old + " (٤)"}

        # The worker retries the purge once the edge answers again.
        stack.text(f"{INTRO}?locale=ar")
        _, headers = stack.approve(second)
        assert headers["Edge-Purge"].startswith("failed;")
        assert stack.text(f"{INTRO}?locale=ar")[0]["body"] == old + " (٤)"
        stack.proxy.paused.clear()
        time.sleep(1.6)  # the job's run_at: the writer's own attempt is over
        with stack.app.app_context():
            assert jobs.run_due() >= 1
            states = db.session.scalars(sa.select(Job.state).where(Job.kind == "edge.purge"))
            assert set(states) == {"done"}
        assert stack.text(f"{INTRO}?locale=ar")[0]["body"] == old + " (٥)"


def test_the_edge_serves_what_it_holds_while_the_app_is_down(
    databases: Any, tmp_path: Path
) -> None:
    with edge_stack(databases, tmp_path, settings={"EDGE_TTL": 1}) as stack:
        held = {path: stack.text(path)[0] for path in (f"{ESSAY}?locale=ur", ESSAY)}
        stack.origin.stop(keep_log=True)
        time.sleep(1.2)  # past the TTL: only grace keeps the objects
        for _ in range(2):
            for path, document in held.items():
                assert stack.text(path)[0] == document
            time.sleep(3)  # the health probe has marked the app sick by now
        assert stack.edge.get(f"{ESSAY}?locale=tr")[0] == 503


LISTS = [
    "/api/v1/essays",
    "/api/v1/locales",
    "/api/v1/locales/ar/progress",
    "/api/v1/changes",
    f"{ESSAY}/locales",
    f"{ESSAY}/catalogs/ar.po",
    f"{ESSAY}/badge.svg?locale=ar",
    "/api/v1/search?q=ummah&page=1",
]


def _titles(stack: Stack, path: str = "/api/v1/essays", **headers: str) -> dict[str, Any]:
    document, response_headers = stack.text(path, **headers)
    return {
        "title": document["items"][0]["title"],
        "locale": document["items"][0]["title_locale"],
        "hit": _hit(response_headers),
    }


def test_every_public_read_is_kept_at_the_edge_and_purged_by_a_change(stack: Stack) -> None:
    for path in LISTS:
        status, headers, first = stack.edge.get(path, **{"Accept-Language": "ar"})
        assert status == 200 and not _hit(headers), path
        assert "xkey" not in {k.lower() for k in headers}, path
        status, headers, again = stack.edge.get(path, **{"Accept-Language": "ar"})
        assert (status, again) == (200, first) and _hit(headers), path
        etag = headers["ETag"]
        status, headers, body = stack.edge.get(
            path, **{"Accept-Language": "ar", "If-None-Match": etag}
        )
        assert (status, body) == (304, b""), path
    version = stack.submit(stack.arabic_intro() + " (٦)")
    stack.approve(version)
    for path in LISTS:
        status, headers, _ = stack.edge.get(path, **{"Accept-Language": "ar"})
        assert status == 200 and not _hit(headers), f"{path} was not purged"


def test_a_list_shows_an_approved_title_on_the_next_read(stack: Stack) -> None:
    """French titles never reach an Arabic reader, and a new title shows at once."""
    french = _titles(stack, **{"Accept-Language": "fr"})
    assert french["locale"] == "fr"
    for spelling in ("ar", "ar-EG, fr;q=0.5", "fr;q=0.1, ar"):
        arabic = _titles(stack, **{"Accept-Language": spelling})
        assert arabic["locale"] == "ar" and arabic["title"] != french["title"], spelling
    assert _titles(stack, **{"Accept-Language": "ar"})["hit"]
    assert _titles(stack, **{"Accept-Language": "fr"})["hit"]
    by_query = _titles(stack, "/api/v1/essays?locale=ar", **{"Accept-Language": "fr"})
    assert by_query["title"] == arabic["title"]

    version = stack.submit("عنوان جديد للمقال", key="title")
    stack.approve(version)
    for path, headers in (
        ("/api/v1/essays", {"Accept-Language": "ar-EG"}),
        ("/api/v1/essays?locale=ar", {}),
    ):
        assert _titles(stack, path, **headers)["title"] == "عنوان جديد للمقال", path
    assert _titles(stack, **{"Accept-Language": "fr"})["title"] == french["title"]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (ESSAY, {"Accept-Language": "ar-EG, en;q=0.5"}),
        (ESSAY, {}),
        (f"{ESSAY}?locale=ar_EG", {"Accept-Language": "fr"}),
        (f"{INTRO}?locale=AR-eg", {}),
        (INTRO, {"Accept-Language": "fa-IR"}),
    ],
)
def test_the_edge_and_the_origin_say_the_same_about_locales(
    stack: Stack, path: str, headers: dict[str, str]
) -> None:
    fields = ("requested_locale", "negotiated_locale", "locale", "direction")
    through_edge, _ = stack.text(path, **headers)
    status, _, body = stack.origin.get(path, **headers)
    assert status == 200
    direct = json.loads(body)
    assert {f: through_edge.get(f) for f in fields} == {f: direct.get(f) for f in fields}


def test_a_problem_through_the_edge_is_in_the_readers_language(stack: Stack) -> None:
    for path in (f"{ESSAY}?locale=xx", "/api/v1/essays?per_page=0"):
        via_edge = stack.edge.get(path, **{"Accept-Language": "ar-EG, fr;q=0.5"})
        direct = stack.origin.get(path, **{"Accept-Language": "ar-EG, fr;q=0.5"})
        assert via_edge[0] == direct[0] == 400
        assert json.loads(via_edge[2]) == json.loads(direct[2])
        assert via_edge[1]["Content-Language"] == "ar"
