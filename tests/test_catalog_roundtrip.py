"""Any published text survives a PO round trip byte for byte; re-importing it changes nothing."""

from __future__ import annotations

import polib
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from api.database import transaction
from api.extensions import db
from api.models import TranslationVersion, Unit
from api.models.types import utcnow
from api.services import catalogs, identity, publication, workflow
from tests.conftest import SLUG, Person

CATALOG = f"/api/v1/essays/{SLUG}/catalogs/fr.po"
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
)
HARD = [
    "\u200fمرحبا\u200f بالعالم",
    "e\u0301te\u0301, n\u0303, \u0915\u093f",
    "She said \"non\" and 'oui'",
    "C:\\path\\to\\file\\",
    "\\",
    "\\n is not a newline; \\\\ is two backslashes",
    "first line\nsecond line\n",
    "\n",
    "windows\r\nline\rends",
    "100 % sure, %s %(name)s %d {} {0} {name}",
    "tab\there\t",
    "  leading and trailing spaces  ",
    "separators\u2028line\u2029para\x85next\x0bvt\x0cff\x1cfs",
    "controls \x01\x07\x08\x1b\x7f end",
    "\ufeffbyte order mark",
    "a" * 77 + ' "' + "b" * 80 + "\\ " * 40,
    'msgstr "x"\n#, fuzzy\nmsgid ""',
    "# not a comment\n#. nor this",
    "😀 emoji and \U0001f3f3\ufe0f\u200d\U0001f308",
]
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


@pytest.mark.parametrize("text", HARD)
def test_po_serialisation_round_trip_of_hard_texts(text: str) -> None:
    entry = _through_po(text)
    assert (entry.msgid, entry.msgstr, entry.previous_msgid) == (text, text, text)


def publish_directly(key: str, locale: str, body: str) -> None:
    """Publish text as if approved, bypassing the quality checks (tests only)."""
    with transaction():
        unit = db.session.scalars(sa.select(Unit).where(Unit.key == key)).one()
        current = workflow.published_version(unit.id, locale)
        if current is not None:
            current.status = "superseded"
            db.session.flush()
        number = db.session.scalar(
            sa.select(sa.func.max(TranslationVersion.version)).where(
                TranslationVersion.unit_id == unit.id, TranslationVersion.locale == locale
            )
        )
        db.session.add(
            TranslationVersion(
                unit=unit,
                locale=locale,
                version=(number or 0) + 1,
                heading=None,
                body=body,
                status="approved",
                source_revision=unit.source_revision,
                source_hash=unit.source_hash,
                checks=[],
                approved_at=utcnow(),
            )
        )
        db.session.flush()
        publication.bump(unit.essay_id, locale, key)


def _versions() -> int:
    return db.session.scalar(sa.select(sa.func.count(TranslationVersion.id))) or 0


@SETTINGS
@given(text=TEXT)
@example(text=HARD[0])
@example(text=HARD[8])
@example(text=HARD[12])
def test_published_text_survives_export_and_import(
    app: Flask, people: dict[str, Person], text: str
) -> None:
    with app.app_context():
        publish_directly("conclusion", "fr", text)
        exported = catalogs.export(SLUG, "fr").body
        po = catalogs.parse_catalog(exported.decode("utf-8"))
        assert next(e for e in po if e.msgctxt == "conclusion.body").msgstr == text
        before = _versions()
        report = catalogs.import_catalog(SLUG, "fr", exported, identity.get_user("fanny"))
        assert (report.created, report.skipped, report.translations) == (0, 0, [])
        assert _versions() == before
        db.session.remove()


@pytest.mark.parametrize("text", HARD)
def test_http_round_trip(
    app: Flask, client: FlaskClient, people: dict[str, Person], text: str
) -> None:
    with app.app_context():
        publish_directly("title", "fr", text)
        db.session.remove()
    exported = client.get(CATALOG)
    assert exported.status_code == 200
    po = catalogs.parse_catalog(exported.data.decode("utf-8"))
    assert next(e for e in po if e.msgctxt == "title.body").msgstr == text
    served = client.get(f"/api/v1/essays/{SLUG}", query_string={"locale": "fr"}).get_json()
    assert served["title"] == text
    response = client.post(
        CATALOG,
        data=exported.data,
        headers={**people["fr_translator"].headers, "Content-Type": catalogs.PO_MIMETYPE},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["created"] == 0 and response.get_json()["unchanged"] == 7
