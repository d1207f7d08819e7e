"""Any text a submission accepts survives a PO round trip through GNU gettext byte for byte;
re-importing the untouched catalog changes nothing. Text a catalog could not carry is
refused or normalised when it is submitted."""

from __future__ import annotations

import subprocess

import polib
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st

from api.errors import Unprocessable
from api.extensions import db
from api.models import TranslationVersion
from api.services.accounts import identity
from api.services.translation import catalog_export, catalog_import, catalogs, workflow
from tests.conftest import SLUG, Person, require_command

CATALOG = f"/api/v1/essays/{SLUG}/catalogs/fr.po"
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
)
# What a submission may hold: no C0 control character but tab and newline (line breaks
# may come as \r\n or \r, and are stored as \n).
ACCEPTED_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\n\r\x7f\x85\x9f"
    ),
    min_size=1,
)
HARD = [
    "\u200fمرحبا\u200f بالعالم",
    "e\u0301te\u0301, n\u0303, \u0915\u093f",
    "She said \"non\" and 'oui'",
    "C:\\path\\to\\file\\",
    "\\",
    "\\n is not a newline; \\\\ is two backslashes",
    "first line\nsecond line",
    "100 % sure, %s %(name)s %d {} {0} {name}",
    "tab\there\t",
    "  leading and trailing spaces  ",
    "separators\u2028line\u2029para\x85next",
    "delete \x7f and \x9f are not C0 controls",
    "\ufeffbyte order mark",
    "a" * 77 + ' "' + "b" * 80 + "\\ " * 40,
    'msgstr "x"\n#, fuzzy\nmsgid ""',
    "# not a comment\n#. nor this",
    "😀 emoji and \U0001f3f3\ufe0f\u200d\U0001f308",
]
# Control characters GNU gettext writes as escapes other PO readers misread (\a, \b, \v,
# \f), or that have no escape at all.
CONTROLS = ["bell \x07", "backspace \x08", "vt\x0bff\x0c", "escape \x1b[0m", "fs \x1c", "\x01"]
# Line breaks that msgfmt --check would refuse at the ends, or that are not \n.
NORMALISED = {
    "first line\nsecond line\n": "first line\nsecond line",
    "\n\nleading breaks": "leading breaks",
    "windows\r\nline\rends\r\n": "windows\nline\nends",
}
SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _through_po(text: str) -> polib.POEntry:
    po = polib.POFile(wrapwidth=78)
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "fr"}
    po.append(
        polib.POEntry(
            msgctxt="conclusion.body",
            msgid=text,
            msgstr=text,
            flags=["fuzzy"],
            previous_msgctxt="conclusion.body",
            previous_msgid=text,
        )
    )
    parsed = catalogs.parse_catalog(catalogs.decode_catalog(str(po).encode("utf-8")))
    (entry,) = list(parsed)
    return entry


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_po_serialisation_round_trip(text: str) -> None:
    entry = _through_po(text)
    assert entry.msgid == text and entry.msgstr == text
    assert entry.previous_msgid == text and entry.fuzzy


@pytest.mark.parametrize("text", [*HARD, *CONTROLS, *NORMALISED])
def test_po_serialisation_round_trip_of_hard_texts(text: str) -> None:
    entry = _through_po(text)
    assert (entry.msgid, entry.msgstr, entry.previous_msgid) == (text, text, text)


def submit_and_approve(key: str, text: str) -> TranslationVersion:
    """Publish French text the way a translator and a reviewer do (checks included)."""
    translator, reviewer = identity.get_user("fanny"), identity.get_user("florent")
    version = workflow.submit(SLUG, key, workflow.Submission("fr", None, text), translator)
    return workflow.approve(version.id, reviewer)


def through_gettext(catalog: bytes) -> bytes:
    """The catalog after ``msgfmt --check`` accepted it and ``msgcat`` rewrote it."""
    msgfmt = require_command("msgfmt", "gettext")
    msgcat = require_command("msgcat", "gettext")
    checked = subprocess.run(
        [msgfmt, "--check", "-o", "/dev/null", "-"], input=catalog, capture_output=True
    )
    assert checked.returncode == 0, checked.stderr.decode()
    rewritten = subprocess.run([msgcat, "-"], input=catalog, capture_output=True)
    assert rewritten.returncode == 0, rewritten.stderr.decode()
    return rewritten.stdout


def _versions() -> int:
    return db.session.scalar(sa.select(sa.func.count(TranslationVersion.id))) or 0


@SETTINGS
@given(text=ACCEPTED_TEXT)
@example(text=HARD[0])
@example(text=HARD[10])
@example(text="windows\r\nline\rends")
@example(text="\nbegins and ends with a line break\n")
def test_published_text_survives_gettext_and_import(
    app: Flask, people: dict[str, Person], text: str
) -> None:
    with app.app_context():
        try:
            published = submit_and_approve("conclusion", text).body
        except Unprocessable:
            reject()  # blank, or markup: refused for reasons of its own
        exported = catalog_export.export(SLUG, "fr").body
        rewritten = through_gettext(exported)
        po = catalogs.parse_catalog(rewritten.decode("utf-8"))
        assert next(e for e in po if e.msgctxt == "conclusion.body").msgstr == published
        before = _versions()
        report = catalog_import.import_catalog(SLUG, "fr", rewritten, identity.get_user("fanny"))
        assert (report.created, report.skipped, report.translations) == (0, 0, [])
        assert _versions() == before
        db.session.remove()


def _publish(client: FlaskClient, people: dict[str, Person], text: str) -> dict[str, object]:
    submitted = client.post(
        f"/api/v1/essays/{SLUG}/sections/title/translations",
        json={"locale": "fr", "body": text},
        headers=people["fr_translator"].headers,
    )
    assert submitted.status_code == 201, submitted.get_json()
    approved = client.post(
        f"/api/v1/translations/{submitted.get_json()['id']}/approve",
        json={},
        headers=people["fr_reviewer"].headers,
    )
    assert approved.status_code == 200, approved.get_json()
    return approved.get_json()


def _count(app: Flask) -> int:
    with app.app_context():
        count = _versions()
        db.session.remove()
    return count


@pytest.mark.parametrize("text", HARD)
def test_http_round_trip_through_gettext(
    app: Flask, client: FlaskClient, people: dict[str, Person], text: str
) -> None:
    _publish(client, people, text)
    exported = client.get(CATALOG)
    assert exported.status_code == 200
    rewritten = through_gettext(exported.data)
    po = catalogs.parse_catalog(rewritten.decode("utf-8"))
    assert next(e for e in po if e.msgctxt == "title.body").msgstr == text
    served = client.get(f"/api/v1/essays/{SLUG}", query_string={"locale": "fr"}).get_json()
    assert served["title"] == text
    before = _count(app)
    response = client.post(
        CATALOG,
        data=rewritten,
        headers={**people["fr_translator"].headers, "Content-Type": catalogs.PO_MIMETYPE},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["created"] == 0 and response.get_json()["unchanged"] == 7
    assert _count(app) == before


@pytest.mark.parametrize("text", CONTROLS)
def test_control_characters_are_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, people: dict[str, Person], text: str
) -> None:
    before = _count(app)
    response = client.post(
        f"/api/v1/essays/{SLUG}/sections/title/translations",
        json={"locale": "fr", "body": f"Un titre : {text}"},
        headers=people["fr_translator"].headers,
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    character = next(ch for ch in text if ord(ch) < 0x20)
    assert response.get_json()["errors"] == {
        "body": [
            f"The text contains the control character U+{ord(character):04X}; tabs and line"
            " breaks are the only ones allowed."
        ]
    }
    assert _count(app) == before


def test_a_catalog_carrying_a_control_character_changes_nothing(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    po = catalogs.parse_catalog(client.get(CATALOG).data.decode("utf-8"))
    next(e for e in po if e.msgctxt == "title.body").msgstr = "Un titre qui sonne \x07"
    before = _count(app)
    response = client.post(
        CATALOG,
        data=str(po).encode("utf-8"),
        headers={**people["fr_translator"].headers, "Content-Type": catalogs.PO_MIMETYPE},
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "title.body": [
            "The text contains the control character U+0007; tabs and line breaks are the"
            " only ones allowed."
        ]
    }
    assert _count(app) == before


@pytest.mark.parametrize(("text", "stored"), list(NORMALISED.items()))
def test_line_breaks_are_normalised_and_the_catalog_stays_valid(
    app: Flask, client: FlaskClient, people: dict[str, Person], text: str, stored: str
) -> None:
    assert _publish(client, people, text)["locale"] == "fr"
    served = client.get(f"/api/v1/essays/{SLUG}", query_string={"locale": "fr"}).get_json()
    assert served["title"] == stored
    rewritten = through_gettext(client.get(CATALOG).data)
    po = catalogs.parse_catalog(rewritten.decode("utf-8"))
    assert next(e for e in po if e.msgctxt == "title.body").msgstr == stored
