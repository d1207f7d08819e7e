"""Translators' work: nothing created twice, help from related languages, nothing retyped.

The contract is "Translators' work" in API.md: resubmitted text that is already pending from
the same translator, or published, creates no version; suggestions add the section's
approved text in the locale's fallback chain and related locales; a PO export can carry the
translator's pending versions, and uploading it back as it is creates nothing.
"""

from __future__ import annotations

from typing import Any

import polib
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models import Event, TranslationVersion
from tests.conftest import ROOT, SLUG, Person
from tests.test_catalogs import (
    CATALOGS,
    ESSAY,
    FR_INTRODUCTION,
    approve,
    count_versions,
    edit_source,
    entry,
    gnu,
    parse,
    upload,
)
from tests.test_console import post, sign_in
from tests.test_workflow import MALAY_INTRO

INTRO = f"{ESSAY}/sections/introduction"
HEADED = "strategic-alliances-and-diplomacy"
SHIPPED = ROOT / "translations"


def shipped(locale: str, context: str) -> str:
    po = polib.pofile(str(SHIPPED / locale / "LC_MESSAGES" / "essay.po"))
    return next(e.msgstr for e in po if e.msgctxt == context)


ID_INTRO = shipped("id", "introduction.body")
FA_INTRO = shipped("fa", "introduction.body")


def submit(
    client: FlaskClient,
    person: Person,
    locale: str,
    body: str,
    key: str = "introduction",
    **more: Any,
) -> Any:
    return client.post(
        f"{ESSAY}/sections/{key}/translations",
        json={"locale": locale, "body": body, **more},
        headers=person.headers,
    )


def console(app: Flask, person: Person) -> FlaskClient:
    """A test client signed in to the console as ``person``."""
    return sign_in(app.test_client(), person)


def textarea(html: str) -> str:
    return html.split('id="body"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]


def submitted_events(app: Flask) -> int:
    with app.app_context():
        return (
            db.session.scalar(
                sa.select(sa.func.count(Event.id)).where(Event.action == "translation.submitted")
            )
            or 0
        )


# --- resubmitting ---------------------------------------------------------------------------


def test_resubmitting_pending_text_creates_nothing(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    translator = people["translator"]
    first = submit(client, translator, "ms", MALAY_INTRO)
    assert first.status_code == 201, first.json
    assert first.json["unchanged"] is False and first.json["version"] == 1
    versions, events = count_versions(app), submitted_events(app)

    # The same text once normalised: other line ends, a trailing line break.
    again = submit(client, translator, "ms", MALAY_INTRO.replace("\n", "\r\n") + "\r\n")
    assert again.status_code == 200, again.json
    assert again.json["unchanged"] is True
    assert (again.json["id"], again.json["version"]) == (first.json["id"], 1)
    assert again.json["status"] == "submitted"
    assert "Location" not in again.headers
    assert again.headers["Content-Location"].endswith(f"/translations/{first.json['id']}")
    assert (count_versions(app), submitted_events(app)) == (versions, events)

    # Another translator's same text is their own work; new text is a new version.
    other = submit(client, people["translator2"], "ms", MALAY_INTRO)
    assert other.status_code == 201 and other.json["version"] == 2
    changed = submit(client, translator, "ms", MALAY_INTRO + " Sekian.")
    assert changed.status_code == 201 and changed.json["version"] == 3
    # The newest pending version is the one a resubmission is compared with.
    assert (
        submit(client, translator, "ms", MALAY_INTRO + " Sekian.").json["id"]
        == (changed.json["id"])
    )


def test_resubmitting_published_text_creates_nothing(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    translator = people["fr_translator"]
    published = client.get(
        f"{INTRO}/translations", query_string={"locale": "fr"}, headers=translator.headers
    ).json["items"][0]
    assert published["status"] == "approved" and published["body"] == FR_INTRODUCTION
    versions = count_versions(app)

    response = submit(client, translator, "fr", FR_INTRODUCTION + "\n")
    assert response.status_code == 200, response.json
    assert response.json["unchanged"] is True
    assert (response.json["id"], response.json["status"]) == (published["id"], "approved")
    assert count_versions(app) == versions

    # Against a source that changed since, the same text is a confirmation: a new version.
    edit_source(client, people["admin"], "introduction", "A new introduction.")
    confirmed = submit(client, translator, "fr", FR_INTRODUCTION)
    assert confirmed.status_code == 201 and confirmed.json["unchanged"] is False
    assert confirmed.json["outdated"] is False


def test_the_review_queue_says_when_a_version_changes_nothing(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    mine = submit(client, people["translator"], "ms", MALAY_INTRO).json
    same = submit(client, people["translator2"], "ms", MALAY_INTRO).json
    other = submit(client, people["translator2"], "ms", ID_INTRO, key="title").json
    approve(client, people["reviewer"], mine["id"])

    queue = client.get(
        "/api/v1/reviews", query_string={"locale": "ms"}, headers=people["reviewer"].headers
    ).json
    items = {item["id"]: item for item in queue["items"]}
    assert items[same["id"]]["changed"] is False
    assert all(op["op"] == "equal" for op in items[same["id"]]["diff"]["body"])
    assert items[other["id"]]["changed"] is True

    page = console(app, people["reviewer"]).get("/console/review?locale=ms")
    html = page.get_data(as_text=True)
    assert "No change: the same text as the published version 1" in html


# --- suggestions ----------------------------------------------------------------------------


def test_malay_suggestions_add_the_approved_indonesian_text(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    response = client.get(
        f"{INTRO}/suggestions", query_string={"locale": "ms"}, headers=people["translator"].headers
    )
    assert response.status_code == 200, response.json
    items = response.json["items"]
    related = [i for i in items if i["from_locale"] is not None]
    assert related, items
    assert [i["from_locale"] for i in related] == ["id"]
    assert related[0]["translation"] == ID_INTRO
    assert related[0]["score"] == 100 and related[0]["origin"]["unit"] == "introduction"
    # The memory's own matches come first.
    firsts = [i["from_locale"] for i in items]
    assert firsts == sorted(firsts, key=lambda code: code is not None)

    # A headed section: its heading and its body, each beside its source.
    headed = client.get(
        f"{ESSAY}/sections/{HEADED}/suggestions",
        query_string={"locale": "ms"},
        headers=people["translator"].headers,
    ).json["items"]
    texts = [(i["translation"], i["from_locale"]) for i in headed if i["from_locale"]]
    assert texts == [
        (shipped("id", f"{HEADED}.heading"), "id"),
        (shipped("id", f"{HEADED}.body"), "id"),
    ]


def test_urdu_gets_no_persian_text_unless_the_deployment_relates_them(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    items = client.get(
        f"{INTRO}/suggestions", query_string={"locale": "ur"}, headers=admin.headers
    ).json["items"]
    assert all(i["from_locale"] is None for i in items)


@pytest.mark.parametrize("app_config", [{"RELATED_LOCALES": {"ur": ["fa"]}}])
def test_related_locales_are_a_setting(client: FlaskClient, people: dict[str, Person]) -> None:
    items = client.get(
        f"{INTRO}/suggestions", query_string={"locale": "ur"}, headers=people["admin"].headers
    ).json["items"]
    assert [(i["translation"], i["from_locale"]) for i in items if i["from_locale"]] == [
        (FA_INTRO, "fa")
    ]


# --- PO catalogs ----------------------------------------------------------------------------


def pending_catalog(client: FlaskClient, person: Person, locale: str) -> bytes:
    response = client.get(
        f"{CATALOGS}/{locale}.po", query_string={"pending": "true"}, headers=person.headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers
    return response.data


def test_uploading_the_same_catalog_twice_creates_nothing_the_second_time(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    translator = people["translator"]
    po = parse(client.get(f"{CATALOGS}/ms.po").data)
    entry(po, "introduction.body").msgstr = MALAY_INTRO
    entry(po, "title.body").msgstr = "Memperjuangkan Keselamatan Negara Islam"
    data = str(po).encode("utf-8")
    first = upload(client, translator, "ms", data)
    assert first.status_code == 201 and first.json["created"] == 2, first.json
    versions = count_versions(app)
    second = upload(client, translator, "ms", data)
    assert second.status_code == 200, second.json
    # Untranslated units were unchanged already; now the two submitted ones are too.
    assert second.json["created"] == 0
    assert second.json["unchanged"] == first.json["unchanged"] + 2
    assert second.json["translations"] == []
    assert count_versions(app) == versions


def test_pending_work_comes_back_as_fuzzy_entries(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    translator = people["translator"]
    mine = submit(client, translator, "ms", MALAY_INTRO).json
    heading = "Pakatan strategik dan diplomasi"
    headed = submit(
        client, translator, "ms", "Pakatan strategik penting.", key=HEADED, heading=heading
    ).json
    # Someone else's pending work is theirs to export, not this translator's.
    submit(client, people["translator2"], "ms", "Tajuk yang lain", key="title")

    data = pending_catalog(client, translator, "ms")
    assert gnu("msgfmt", "--check", "-o", "/dev/null", "-", stdin=data).returncode == 0
    po = parse(data)
    intro = entry(po, "introduction.body")
    assert intro.msgstr == MALAY_INTRO and intro.fuzzy
    # The comment names the version, in the catalog's language.
    assert f"versi {mine['version']} anda, belum disemak" in intro.comment
    assert entry(po, f"{HEADED}.heading").msgstr == heading
    assert entry(po, f"{HEADED}.heading").fuzzy and entry(po, f"{HEADED}.body").fuzzy
    assert entry(po, "title.body").msgstr == ""
    # Without the option the catalog stays public and holds published text only.
    assert entry(parse(client.get(f"{CATALOGS}/ms.po").data), "introduction.body").msgstr == ""

    versions = count_versions(app)
    back = upload(client, translator, "ms", data)
    assert back.status_code == 200, back.json
    units = len({e.msgctxt.rpartition(".")[0] for e in po})
    assert (back.json["created"], back.json["unchanged"], back.json["skipped"]) == (0, units, 0)
    assert back.json["warnings"] == []
    assert count_versions(app) == versions

    # One entry edited (and no longer fuzzy, as PO editors leave it): one new version,
    # keeping the pending heading that was not touched.
    body = entry(po, f"{HEADED}.body")
    body.msgstr = "Pakatan strategik amat penting."
    body.flags.remove("fuzzy")
    edited = upload(client, translator, "ms", str(po).encode("utf-8"))
    assert edited.status_code == 201, edited.json
    assert (edited.json["created"], edited.json["unchanged"]) == (1, units - 1)
    with app.app_context():
        new = db.session.get(TranslationVersion, edited.json["translations"][0])
        assert new is not None
        assert (new.heading, new.body, new.version) == (
            heading,
            "Pakatan strategik amat penting.",
            headed["version"] + 1,
        )
    assert count_versions(app) == versions + 1


def test_the_pending_catalog_needs_a_token(client: FlaskClient) -> None:
    response = client.get(f"{CATALOGS}/ms.po", query_string={"pending": "true"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


# --- console --------------------------------------------------------------------------------


def test_the_editor_opens_with_the_translators_pending_text(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    translator = console(app, people["translator"])
    page = f"/console/translate/{SLUG}/ms/introduction"
    before = translator.get(page).get_data(as_text=True)
    assert "pending-notice" not in before and textarea(before).strip() == ""

    response = post(translator, page, {"body": MALAY_INTRO, "source_revision": "1"})
    assert response.status_code == 303
    html = translator.get(response.headers["Location"]).get_data(as_text=True)
    assert "This is your version 1, still waiting for review" in html
    assert textarea(html).strip() == MALAY_INTRO

    # Submitting it again as it is makes nothing, and says so.
    again = post(translator, page, {"body": MALAY_INTRO, "source_revision": "1"})
    assert again.status_code == 303
    shown = translator.get(again.headers["Location"]).get_data(as_text=True)
    assert "Version 1 already has this text: no new version was made." in shown
    assert (
        len(
            client.get(
                f"{INTRO}/translations?locale=ms", headers=people["translator"].headers
            ).json["items"]
        )
        == 1
    )

    # Another translator of Malay starts from what is published (nothing here).
    theirs = console(app, people["translator2"]).get(page).get_data(as_text=True)
    assert "pending-notice" not in theirs and textarea(theirs).strip() == ""


def test_the_editor_copies_a_related_locales_text_in_one_click(
    app: Flask, people: dict[str, Person]
) -> None:
    translator = console(app, people["translator"])
    page = f"/console/translate/{SLUG}/ms/{HEADED}"
    html = translator.get(page).get_data(as_text=True)
    assert "In related languages" in html and 'name="copy_from" value="id"' in html
    copied = post(
        translator, page, {"heading": "", "body": "", "source_revision": "1", "copy_from": "id"}
    )
    assert copied.status_code == 200
    html = copied.get_data(as_text=True)
    assert textarea(html).strip() == shipped("id", f"{HEADED}.body").replace("&", "&amp;")
    assert shipped("id", f"{HEADED}.heading") in html.split('id="heading"', 1)[1].split(">", 1)[0]
    assert not client_versions(app)


def client_versions(app: Flask) -> list[int]:
    """The ids of Malay versions: copying text in submits nothing."""
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(TranslationVersion.id).where(TranslationVersion.locale == "ms")
            )
        )


def test_related_locales_must_be_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.config import ConfigError, load

    monkeypatch.setenv("TARJUMA_RELATED_LOCALES", "ur:fa,fa:xx")
    with pytest.raises(ConfigError, match="TARJUMA_RELATED_LOCALES.*xx"):
        load({"SECRET_KEY": "k" * 32})
    monkeypatch.setenv("TARJUMA_RELATED_LOCALES", "ur:fa,fa:ur")
    assert load({"SECRET_KEY": "k" * 32})["RELATED_LOCALES"] == {"ur": ["fa"], "fa": ["ur"]}


def test_a_pending_entry_edited_but_still_fuzzy_is_left_out_and_said_so(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    translator = people["translator"]
    submit(client, translator, "ms", MALAY_INTRO)
    po = parse(pending_catalog(client, translator, "ms"))
    entry(po, "introduction.body").msgstr = MALAY_INTRO + " Sekian."
    versions = count_versions(app)
    response = upload(client, translator, "ms", str(po).encode("utf-8"))
    assert response.status_code == 200, response.json
    assert (response.json["created"], response.json["skipped"]) == (0, 1)
    assert [w["code"] for w in response.json["warnings"]] == ["fuzzy"]
    assert count_versions(app) == versions
