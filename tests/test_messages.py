"""The API's own messages: the Babel pipeline, the catalogs, and localized responses."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import polib
import pytest
from babel.messages.plurals import get_plural
from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models import TranslationVersion
from tests.conftest import SLUG, Person, require_command

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LOCALES = ["ar", "fa", "fr", "id", "ms", "tr", "ur"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
ESSAY = f"/api/v1/essays/{SLUG}"


def catalog(code: str) -> polib.POFile:
    return polib.pofile(str(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"))


def _extract(tmp_path: Path) -> polib.POFile:
    target = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(shutil.which("pybabel") or ROOT / ".venv/bin/pybabel")),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "-o",
            str(target),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return polib.pofile(str(target))


def _ids(po: polib.POFile) -> set[tuple[str | None, str, str | None]]:
    return {(e.msgctxt, e.msgid, e.msgid_plural or None) for e in po if not e.obsolete}


def test_template_matches_the_code(tmp_path: Path) -> None:
    fresh = _ids(_extract(tmp_path))
    committed = _ids(polib.pofile(str(TRANSLATIONS / "messages.pot")))
    assert fresh == committed, (
        "translations/messages.pot is stale: run `make update` and translate the new entries."
        f" Missing: {sorted(m for _, m, _ in fresh - committed)[:10]};"
        f" gone: {sorted(m for _, m, _ in committed - fresh)[:10]}"
    )


@pytest.mark.parametrize("code", LOCALES)
def test_catalog_is_complete_and_current(code: str) -> None:
    po = catalog(code)
    template = _ids(polib.pofile(str(TRANSLATIONS / "messages.pot")))
    assert _ids(po) == template, f"{code}: run `make update`"
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


@pytest.mark.parametrize("code", LOCALES)
def test_placeholders_survive_translation(code: str) -> None:
    for entry in catalog(code).translated_entries():
        expected = set(PLACEHOLDER.findall(entry.msgid))
        if entry.msgid_plural:
            expected |= set(PLACEHOLDER.findall(entry.msgid_plural))
            translations = list(entry.msgstr_plural.values())
        else:
            translations = [entry.msgstr]
        for text in translations:
            found = set(PLACEHOLDER.findall(text))
            # A singular form may spell out its number instead of using %(num)d.
            assert found <= expected and expected - found <= {"num"}, (code, entry.msgid, text)


@pytest.mark.parametrize("code", LOCALES)
def test_plural_forms_follow_babel(code: str) -> None:
    po = catalog(code)
    nplurals = int(re.search(r"nplurals=(\d+)", po.metadata["Plural-Forms"]).group(1))
    assert nplurals == get_plural(code).num_plurals
    for entry in po:
        if entry.msgid_plural:
            assert len(entry.msgstr_plural) == nplurals and all(entry.msgstr_plural.values())
    if code == "ar":
        assert nplurals == 6


@pytest.mark.parametrize("path", sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")), ids=str)
def test_msgfmt_accepts_every_catalog(path: Path) -> None:
    msgfmt = require_command("msgfmt", "gettext")
    result = subprocess.run(
        [msgfmt, "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("code", ["ar", "ur", "tr", "fr"])
def test_problems_are_translated(client: FlaskClient, code: str) -> None:
    english = client.get("/api/v1/essays/nope").get_json()
    response = client.get("/api/v1/essays/nope", headers={"Accept-Language": code})
    problem = response.get_json()
    assert response.status_code == 404
    assert response.headers["Content-Language"] == code
    assert problem["title"] != english["title"] and problem["detail"] != english["detail"]
    assert "nope" in problem["detail"]


def test_locale_parameter_chooses_the_message_language(client: FlaskClient) -> None:
    response = client.get(ESSAY, query_string={"locale": "de"}, headers={"Accept-Language": "ar"})
    assert response.status_code == 400
    assert response.headers["Content-Language"] == "ar"
    by_query = client.get("/api/v1/essays/nope", query_string={"locale": "tr"})
    assert by_query.headers["Content-Language"] == "tr"


def test_validation_messages_are_translated(client: FlaskClient, people: dict[str, Person]) -> None:
    url = f"{ESSAY}/sections/introduction/translations"
    english = client.post(url, json={"locale": "ms"}, headers=people["translator"].headers)
    arabic = client.post(
        url,
        json={"locale": "ms"},
        headers={**people["translator"].headers, "Accept-Language": "ar"},
    )
    assert english.status_code == arabic.status_code == 422
    assert english.get_json()["errors"]["body"] == ["Missing data for required field."]
    assert arabic.get_json()["errors"]["body"][0] != "Missing data for required field."
    paging = client.get(
        "/api/v1/essays", query_string={"per_page": 500}, headers={"Accept-Language": "fr"}
    ).get_json()
    assert "100" in paging["errors"]["per_page"][0]
    assert "Must be" not in paging["errors"]["per_page"][0]


def test_check_messages_and_dates_follow_the_locale(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    url = f"{ESSAY}/sections/introduction/translations"
    created = client.post(
        url,
        headers={**people["translator"].headers, "Accept-Language": "tr"},
        json={"locale": "ms", "body": "Keselamatan Negara Islam pada tahun 2026 amat penting."},
    ).get_json()
    english = client.get(
        f"/api/v1/translations/{created['id']}", headers=people["translator"].headers
    ).get_json()
    turkish = created["checks"]
    assert {c["code"] for c in turkish} == {c["code"] for c in english["checks"]}
    assert [c["message"] for c in turkish] != [c["message"] for c in english["checks"]]
    withdraw = f"/api/v1/translations/{created['id']}/withdraw"
    client.post(withdraw, headers=people["translator"].headers)
    with app.app_context():
        version = db.session.get(TranslationVersion, created["id"])
        assert version is not None
        version.updated_at = datetime(2026, 12, 1, 6, 44, tzinfo=UTC)
        db.session.commit()
    again = client.post(withdraw, headers={**people["translator"].headers, "Accept-Language": "fr"})
    assert again.status_code == 409
    assert again.get_json()["detail"] == (
        "La version 1 est retirée depuis le 1 déc. 2026, 06:44:00\u00a0;"
        " elle ne peut pas être retirée."
    )
