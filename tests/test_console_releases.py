"""The console's preview links, release switch and unpublishing, with CSRF switched on."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models import EssayLocale, PreviewLink
from tests.conftest import Person
from tests.test_console import EDIT_MS_INTRO, TRANSLATE, html, post, served_locale, sign_in
from tests.test_workflow import action, submit


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def test_send_for_preview_shows_a_working_link(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    api = app.test_client()
    submit(api, people["translator"], locale="ar", body="مقدمة جديدة للمعاينة.")
    sign_in(client, people["reviewer"])
    units = html(client.get(f"{TRANSLATE}/ar"))
    assert "Send for preview" in units and "Stage" not in units

    response = post(client, f"{TRANSLATE}/ar/preview-link", {"expires_in": "86400"})
    assert response.status_code == 200
    found = re.search(r'value="(http://localhost/preview/[^"]+)"', html(response))
    assert found
    page = api.get(found.group(1).replace("http://localhost", ""))
    assert page.status_code == 200 and "مقدمة جديدة للمعاينة." in html(page)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PreviewLink.id))) == 1

    refused = post(client, f"{TRANSLATE}/fr/preview-link", {"expires_in": "86400"})
    assert refused.status_code == 403
    bad = post(client, f"{TRANSLATE}/ar/preview-link", {"expires_in": "5"})
    assert bad.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PreviewLink.id))) == 1


def test_admins_release_and_stage_from_the_units_page(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["admin"])
    page = html(client.get(f"{TRANSLATE}/id"))
    assert "Stage Indonesian" in page
    response = post(client, f"{TRANSLATE}/id/release", {"state": "staged"})
    assert response.status_code == 303
    assert served_locale(app.test_client(), locale="id") == "en"
    page = html(client.get(response.headers["Location"]))
    assert "Indonesian is now staged in this essay." in page
    assert "Release Indonesian" in page
    assert "staged" in html(client.get("/console/"))

    again = post(client, f"{TRANSLATE}/id/release", {"state": "staged"})
    assert again.status_code == 409
    scheduled = post(client, f"{TRANSLATE}/id/release", {"state": "live", "at": "2099-01-01T09:30"})
    assert scheduled.status_code == 303
    page = html(client.get(f"{TRANSLATE}/id"))
    assert "Scheduled to go live at 2099-01-01T09:30:00Z." in page
    assert "Cancel the scheduled change" in page
    cancelled = post(client, f"{TRANSLATE}/id/release", {"state": "staged"})
    assert cancelled.status_code == 303
    page = html(client.get(cancelled.headers["Location"]))
    assert "The scheduled change of Indonesian is cancelled; it stays as it is." in page
    assert "Scheduled to go live" not in page and "Cancel the scheduled change" not in page
    assert served_locale(app.test_client(), locale="id") == "en"
    assert post(client, f"{TRANSLATE}/id/release", {"state": "live"}).status_code == 303
    assert served_locale(app.test_client(), locale="id") == "id"


def test_reviewers_cannot_release(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    sign_in(client, people["reviewer"])
    assert post(client, f"{TRANSLATE}/ms/release", {"state": "staged"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EssayLocale.essay_id))) == 0


def test_reviewers_unpublish_from_the_history(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    api = app.test_client()
    version = submit(api, people["translator"]).get_json()["id"]
    assert action(api, people["reviewer"], version, "approve").status_code == 200
    assert served_locale(api) == "ms"

    sign_in(client, people["reviewer2"])
    assert "Unpublish version 1" in html(client.get(EDIT_MS_INTRO))
    path = f"/console/translations/{version}/unpublish"
    empty = post(client, path, {f"unpublish-{version}-reason": ""})
    assert empty.status_code == 422 and "Unpublishing needs a reason." in html(empty)
    assert served_locale(api) == "ms"
    done = post(client, path, {f"unpublish-{version}-reason": "Terjemahan salah."})
    assert done.status_code == 303
    assert served_locale(api) == "id"
    page = html(client.get(done.headers["Location"]))
    assert "is unpublished" in page and "Publish version 1 again" in page


def test_translators_see_no_unpublish_button(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    api_version = submit(client, people["translator"]).get_json()["id"]
    action(client, people["reviewer"], api_version, "approve")
    sign_in(client, people["translator"])
    assert "Unpublish" not in html(client.get(EDIT_MS_INTRO))
    assert (
        post(
            client,
            f"/console/translations/{api_version}/unpublish",
            {f"unpublish-{api_version}-reason": "x"},
        ).status_code
        == 403
    )
