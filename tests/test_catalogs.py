"""PO catalogs for translators' own tools (API.md: Catalogs), checked with GNU gettext."""

from __future__ import annotations

import codecs
import io
import subprocess
from pathlib import Path
from typing import Any

import polib
import pytest
import sqlalchemy as sa
from babel.messages.plurals import get_plural
from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models import TranslationVersion
from api.services.translation import catalogs
from tests.conftest import ROOT, SLUG, Person, require_command

ESSAY = f"/api/v1/essays/{SLUG}"
CATALOGS = f"{ESSAY}/catalogs"
SHIPPED = sorted(
    p.parent.parent.name for p in (ROOT / "translations").glob("*/LC_MESSAGES/essay.po")
)
OFFERED = ["ar", "fa", "fr", "id", "ms", "tr", "ur"]
FR_SHIPPED = polib.pofile(str(ROOT / "translations" / "fr" / "LC_MESSAGES" / "essay.po"))
FR_TITLE = next(e.msgstr for e in FR_SHIPPED if e.msgctxt == "title.body")
FR_INTRODUCTION = next(e.msgstr for e in FR_SHIPPED if e.msgctxt == "introduction.body")
FR_TITLE_NEW = FR_TITLE.replace("Oumma forte", "Oumma solide")
HEADED = "strategic-alliances-and-diplomacy"


def gnu(tool: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a GNU gettext tool (skip without it, fail under CI)."""
    path = require_command(tool, "gettext")
    return subprocess.run([path, *args], input=stdin, capture_output=True, check=False)


def download(client: FlaskClient, locale: str) -> bytes:
    response = client.get(f"{CATALOGS}/{locale}.po")
    assert response.status_code == 200, response.get_json()
    return response.data


def parse(data: bytes) -> polib.POFile:
    return catalogs.parse_catalog(data.decode("utf-8"))


def entry(po: polib.POFile, context: str) -> polib.POEntry:
    return next(e for e in po if e.msgctxt == context)


def triples(po: polib.POFile) -> set[tuple[str, str, str]]:
    return {(e.msgctxt, e.msgid, e.msgstr) for e in po if not e.obsolete}


def upload(
    client: FlaskClient,
    person: Person | None,
    locale: str,
    data: bytes,
    *,
    raw: bool = False,
    approve: bool = False,
    content_type: str = catalogs.PO_MIMETYPE,
) -> Any:
    headers = person.headers if person else {}
    query = {"approve": "true"} if approve else {}
    url = f"{CATALOGS}/{locale}.po"
    if raw:
        return client.post(
            url, data=data, headers={**headers, "Content-Type": content_type}, query_string=query
        )
    return client.post(
        url,
        data={"file": (io.BytesIO(data), f"{locale}.po")},
        headers=headers,
        query_string=query,
        content_type="multipart/form-data",
    )


def edited(data: bytes, **changes: str) -> bytes:
    """The catalog with new msgstrs, by context (``__`` stands for ``.`` in the keyword)."""
    po = parse(data)
    for context, text in changes.items():
        entry(po, context.replace("__", ".")).msgstr = text
    return str(po).encode("utf-8")


def count_versions(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(TranslationVersion.id))) or 0


def edit_source(client: FlaskClient, admin: Person, key: str, body: str) -> None:
    url = f"{ESSAY}/sections/{key}"
    etag = client.get(url, query_string={"locale": "en"}).headers["ETag"]
    response = client.put(url, json={"body": body}, headers={**admin.headers, "If-Match": etag})
    assert response.status_code == 200, response.get_json()


def approve(client: FlaskClient, reviewer: Person, version_id: int) -> None:
    response = client.post(
        f"/api/v1/translations/{version_id}/approve", json={}, headers=reviewer.headers
    )
    assert response.status_code == 200, response.get_json()


# --- download -----------------------------------------------------------------------------


def test_catalog_download(client: FlaskClient) -> None:
    response = client.get(f"{CATALOGS}/fr.po")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/x-gettext-translation; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{SLUG}.fr.po"'
    po = parse(response.data)
    meta = po.metadata
    assert meta["Language"] == "fr" and meta["Language-Team"] == "French"
    assert meta["Plural-Forms"] == str(get_plural("fr"))
    assert meta["Content-Type"] == "text/plain; charset=UTF-8"
    assert meta["Content-Transfer-Encoding"] == "8bit" and meta["MIME-Version"] == "1.0"
    assert meta[catalogs.ESSAY_HEADER] == SLUG
    assert meta["PO-Revision-Date"] and meta["POT-Creation-Date"]
    contexts = [e.msgctxt for e in po]
    assert contexts[:4] == [
        "title.body",
        "introduction.body",
        f"{HEADED}.heading",
        f"{HEADED}.body",
    ]
    assert len(contexts) == 11 and contexts[-1] == "conclusion.body"
    assert entry(po, "title.body").msgstr == FR_TITLE
    assert not any(e.fuzzy for e in po)
    assert entry(po, "title.body").comment == "Le titre de l’essai."
    assert entry(po, "introduction.body").comment == "Section 1 sur 6"
    assert entry(po, "enhanced-intelligence-capabilities.heading").comment == (
        "Section 3 sur 6\u00a0: Enhanced Intelligence Capabilities"
    )


def test_untranslated_locale_has_empty_msgstrs(client: FlaskClient) -> None:
    po = parse(download(client, "ms"))
    assert po.metadata["Language"] == "ms" and po.metadata["Plural-Forms"].startswith("nplurals=1")
    assert [e.msgstr for e in po] == [""] * 11


@pytest.mark.parametrize("code", OFFERED)
def test_every_catalog_passes_gnu_gettext(client: FlaskClient, code: str, tmp_path: Path) -> None:
    data = download(client, code)
    checked = gnu("msgfmt", "--check", "-o", "/dev/null", "-", stdin=data)
    assert checked.returncode == 0, checked.stderr.decode()
    assert checked.stderr == b"", checked.stderr.decode()
    assert gnu("msgcat", "-", stdin=data).returncode == 0
    (tmp_path / "c.po").write_bytes(data)
    (tmp_path / "t.pot").write_bytes(client.get(f"{CATALOGS}/template.pot").data)
    merged = gnu("msgmerge", "--quiet", "-o", "-", str(tmp_path / "c.po"), str(tmp_path / "t.pot"))
    assert merged.returncode == 0, merged.stderr.decode()
    assert triples(parse(merged.stdout)) == triples(parse(data))


@pytest.mark.parametrize("code", SHIPPED)
def test_export_after_seeding_equals_the_shipped_catalog(client: FlaskClient, code: str) -> None:
    shipped = polib.pofile(str(ROOT / "translations" / code / "LC_MESSAGES" / "essay.po"))
    assert triples(parse(download(client, code))) == triples(shipped)


@pytest.mark.parametrize(
    ("spelling", "status"),
    [("ar", 200), ("AR", 200), ("x!", 400), ("de", 404), ("en", 404), ("ar-EG", 404)],
)
def test_locale_in_the_path(client: FlaskClient, spelling: str, status: int) -> None:
    response = client.get(f"{CATALOGS}/{spelling}.po")
    assert response.status_code == status
    if status != 200:
        assert response.headers["Content-Type"] == "application/problem+json"
        assert "fr" in response.get_json()["available_locales"]


def test_unknown_essay_is_404(client: FlaskClient) -> None:
    for path in ("/api/v1/essays/nope/catalogs/fr.po", "/api/v1/essays/nope/catalogs/template.pot"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["Content-Type"] == "application/problem+json"


class TestRegionalLocale:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"LOCALES": ["en", "ar", "fa", "fr", "id", "ms", "tr", "ur", "pt-BR"]}

    @pytest.mark.parametrize("spelling", ["pt-BR", "pt_BR", "PT_br"])
    def test_gettext_and_bcp47_spellings(self, client: FlaskClient, spelling: str) -> None:
        response = client.get(f"{CATALOGS}/{spelling}.po")
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].endswith(f'{SLUG}.pt_BR.po"')
        po = parse(response.data)
        assert po.metadata["Language"] == "pt_BR"
        assert po.metadata["Plural-Forms"] == str(get_plural("pt_BR"))
        assert gnu("msgfmt", "--check", "-o", "/dev/null", "-", stdin=response.data).returncode == 0


def test_template(client: FlaskClient) -> None:
    response = client.get(f"{CATALOGS}/template.pot")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/x-gettext-translation-template")
    assert response.headers["Content-Disposition"] == f'attachment; filename="{SLUG}.pot"'
    po = parse(response.data)
    assert len(po) == 11 and all(e.msgstr == "" for e in po)
    assert po.metadata["Language"] == "" and "Plural-Forms" not in po.metadata
    comments = [e.comment for e in po]
    assert comments[0] == "The essay's title."
    assert comments[1] == "Section 1 of 6"
    assert comments[5] == "Section 3 of 6: Enhanced Intelligence Capabilities"
    assert {(e.msgctxt, e.msgid) for e in po} == {
        (c, i) for c, i, _ in triples(parse(download(client, "fr")))
    }
    cached = client.get(
        f"{CATALOGS}/template.pot", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert cached.status_code == 304


def test_etag_follows_publications_of_the_locale_and_the_source(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    def etags() -> dict[str, str]:
        return {code: client.get(f"{CATALOGS}/{code}.po").headers["ETag"] for code in ("fr", "ar")}

    before = etags()
    cached = client.get(f"{CATALOGS}/fr.po", headers={"If-None-Match": before["fr"]})
    assert cached.status_code == 304 and cached.data == b""
    assert cached.headers["ETag"] == before["fr"]

    created = upload(
        client,
        people["fr_translator"],
        "fr",
        edited(download(client, "fr"), title__body=FR_TITLE_NEW),
    ).get_json()
    assert etags() == before
    approve(client, people["fr_reviewer"], created["translations"][0])
    after = etags()
    assert after["fr"] != before["fr"] and after["ar"] == before["ar"]
    assert (
        client.get(f"{CATALOGS}/fr.po", headers={"If-None-Match": before["fr"]}).status_code == 200
    )

    edit_source(client, people["admin"], "conclusion", "In conclusion, security matters.")
    final = etags()
    assert final["fr"] != after["fr"] and final["ar"] != after["ar"]


def test_reviewer_comment_is_a_translator_comment(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    created = upload(
        client,
        people["fr_translator"],
        "fr",
        edited(download(client, "fr"), title__body=FR_TITLE_NEW),
    ).get_json()
    etag = client.get(f"{CATALOGS}/fr.po").headers["ETag"]
    response = client.post(
        f"/api/v1/translations/{created['translations'][0]}/approve",
        json={"comment": "Plus idiomatique."},
        headers=people["fr_reviewer"].headers,
    )
    assert response.status_code == 200
    po = parse(download(client, "fr"))
    assert "Plus idiomatique." in entry(po, "title.body").comment
    later = client.post(
        f"/api/v1/translations/{created['translations'][0]}/comments",
        json={"body": "Merci !"},
        headers=people["fr_reviewer"].headers,
    )
    assert later.status_code == 201
    response = client.get(f"{CATALOGS}/fr.po", headers={"If-None-Match": etag})
    assert (
        response.status_code == 200
        and "Merci !" in entry(parse(response.data), "title.body").comment
    )


def test_outdated_entry_is_fuzzy_with_the_previous_source(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    old = entry(parse(download(client, "fr")), "introduction.body")
    edit_source(client, people["admin"], "introduction", "Promoting security matters.")
    data = download(client, "fr")
    po = parse(data)
    intro = entry(po, "introduction.body")
    assert intro.fuzzy and intro.msgid == "Promoting security matters."
    assert intro.previous_msgid == old.msgid and intro.previous_msgctxt == "introduction.body"
    assert intro.msgstr == old.msgstr
    assert "#| msgid " in data.decode()
    assert [e.msgctxt for e in po if e.fuzzy] == ["introduction.body"]
    assert gnu("msgfmt", "--check", "-o", "/dev/null", "-", stdin=data).returncode == 0


# --- upload -------------------------------------------------------------------------------


def test_upload_edited_with_polib_becomes_a_submission(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    data = edited(download(client, "fr"), title__body=FR_TITLE_NEW)
    response = upload(client, people["fr_translator"], "fr", data)
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["created"] == 1 and report["unchanged"] == 6 and report["skipped"] == 0
    assert len(report["translations"]) == 1
    queue = client.get(
        "/api/v1/reviews", query_string={"locale": "fr"}, headers=people["fr_reviewer"].headers
    ).get_json()
    assert queue["total"] == 1
    item = queue["items"][0]
    assert item["id"] == report["translations"][0]
    assert (item["section"], item["body"], item["author"]) == ("title", FR_TITLE_NEW, "fanny")
    assert item["status"] == "submitted" and item["published"]["body"] == FR_TITLE
    assert client.get(ESSAY, query_string={"locale": "fr"}).get_json()["title"] == FR_TITLE


def test_upload_edited_with_gnu_tools(
    app: Flask, client: FlaskClient, people: dict[str, Person], tmp_path: Path
) -> None:
    source = tmp_path / "fr.po"
    source.write_bytes(download(client, "fr"))
    filtered = gnu(
        "msgfilter",
        "--keep-header",
        "-i",
        str(source),
        "-o",
        "-",
        "sed",
        "-e",
        "s/une Oumma forte/une Oumma solide/",
    )
    assert filtered.returncode == 0, filtered.stderr.decode()
    response = upload(client, people["fr_translator"], "fr", filtered.stdout, raw=True)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"] == 1

    sed = require_command("sed", "sed")
    subprocess.run(
        [sed, "-i", "s/Alliances stratégiques et diplomatie/Alliances et diplomatie/", str(source)],
        check=True,
    )
    response = upload(client, people["fr_translator"], "fr", source.read_bytes())
    assert response.status_code == 201, response.get_json()
    version = client.get(
        f"/api/v1/translations/{response.get_json()['translations'][0]}",
        headers=people["fr_translator"].headers,
    ).get_json()
    assert version["section"] == HEADED and version["heading"] == "Alliances et diplomatie"
    assert version["body"].startswith("La promotion de la sécurité")


def test_unchanged_catalog_creates_nothing(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    before = count_versions(app)
    response = upload(client, people["fr_translator"], "fr", download(client, "fr"), raw=True)
    assert response.status_code == 200
    assert response.get_json() == {
        "created": 0,
        "unchanged": 7,
        "skipped": 0,
        "warnings": [],
        "translations": [],
    }
    assert count_versions(app) == before


def test_raw_octet_stream_upload(client: FlaskClient, people: dict[str, Person]) -> None:
    data = edited(download(client, "fr"), title__body=FR_TITLE_NEW)
    response = upload(
        client,
        people["fr_translator"],
        "fr",
        data,
        raw=True,
        content_type="application/octet-stream",
    )
    assert response.status_code == 201 and response.get_json()["created"] == 1


def test_heading_only_change_keeps_the_published_body(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    data = edited(download(client, "fr"), **{f"{HEADED}__heading": "Alliances et diplomatie"})
    po = parse(data)
    entry(po, f"{HEADED}.body").msgstr = ""
    response = upload(client, people["fr_translator"], "fr", str(po).encode())
    assert response.status_code == 201
    version = client.get(
        f"/api/v1/translations/{response.get_json()['translations'][0]}",
        headers=people["fr_translator"].headers,
    ).get_json()
    assert version["heading"] == "Alliances et diplomatie"
    assert version["body"] == entry(parse(download(client, "fr")), f"{HEADED}.body").msgstr


def test_half_a_headed_unit_with_nothing_published_is_skipped(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    data = edited(download(client, "ms"), **{f"{HEADED}__heading": "Pakatan Strategik"})
    before = count_versions(app)
    response = upload(client, people["translator"], "ms", data)
    assert response.status_code == 200
    report = response.get_json()
    assert (report["created"], report["skipped"], report["unchanged"]) == (0, 1, 6)
    (warning,) = report["warnings"]
    assert warning["key"] == HEADED and warning["code"] == "missing_field"
    assert warning["field"] == "body" and warning["line"]
    assert count_versions(app) == before


def test_entry_for_an_older_source_is_submitted_as_outdated(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    old = download(client, "fr")
    edit_source(client, people["admin"], "introduction", "Promoting security matters.")
    data = edited(old, introduction__body="Promouvoir la sécurité est essentiel.")
    response = upload(client, people["fr_translator"], "fr", data)
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert any(w["code"] == "outdated" and w["key"] == "introduction" for w in report["warnings"])
    version = client.get(
        f"/api/v1/translations/{report['translations'][0]}", headers=people["fr_translator"].headers
    ).get_json()
    assert version["source_revision"] == 1 and version["outdated"] is True


def test_msgid_matching_no_source_is_skipped(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    po = parse(download(client, "fr"))
    intro = entry(po, "introduction.body")
    intro.msgid, intro.msgstr = "Some other text.", "Un autre texte."
    response = upload(client, people["fr_translator"], "fr", str(po).encode())
    assert response.status_code == 200
    report = response.get_json()
    assert report["created"] == 0 and report["skipped"] == 1
    warning = report["warnings"][0]
    assert (warning["key"], warning["field"], warning["code"]) == (
        "introduction",
        "body",
        "unknown_source",
    )
    assert warning["line"] == entry(parse(str(po).encode()), "introduction.body").linenum


def test_fuzzy_entries_are_left_out_until_the_translator_clears_them(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    edit_source(client, people["admin"], "introduction", "Promoting security matters.")
    po = parse(download(client, "fr"))
    entry(po, "introduction.body").msgstr = "Promouvoir la sécurité est essentiel."
    response = upload(client, people["fr_translator"], "fr", str(po).encode())
    report = response.get_json()
    assert response.status_code == 200 and report["created"] == 0 and report["skipped"] == 1
    assert [(w["key"], w["code"]) for w in report["warnings"]] == [("introduction", "fuzzy")]

    entry(po, "introduction.body").flags.remove("fuzzy")
    response = upload(client, people["fr_translator"], "fr", str(po).encode())
    assert response.status_code == 201
    version = client.get(
        f"/api/v1/translations/{response.get_json()['translations'][0]}",
        headers=people["fr_translator"].headers,
    ).get_json()
    assert version["source_revision"] == 2 and version["outdated"] is False


def test_clearing_fuzzy_confirms_the_published_text_for_the_new_source(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    edit_source(client, people["admin"], "introduction", "Promoting security matters.")
    po = parse(download(client, "fr"))
    published = entry(po, "introduction.body")
    assert published.fuzzy and published.msgid == "Promoting security matters."
    published.flags.remove("fuzzy")
    response = upload(client, people["fr_translator"], "fr", str(po).encode())
    assert response.status_code == 201
    report = response.get_json()
    assert (report["created"], report["unchanged"], report["skipped"]) == (1, 6, 0)
    version = client.get(
        f"/api/v1/translations/{report['translations'][0]}",
        headers=people["fr_translator"].headers,
    ).get_json()
    assert (version["section"], version["status"]) == ("introduction", "submitted")
    assert (version["source_revision"], version["outdated"]) == (2, False)
    assert version["body"] == published.msgstr == FR_INTRODUCTION


def test_translator_comments_become_the_note(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    po = parse(download(client, "fr"))
    title = entry(po, "title.body")
    title.msgstr, title.tcomment = FR_TITLE_NEW, "Solide plutôt que forte."
    response = upload(client, people["fr_translator"], "fr", str(po).encode())
    version = client.get(
        f"/api/v1/translations/{response.get_json()['translations'][0]}",
        headers=people["fr_translator"].headers,
    ).get_json()
    assert version["note"] == "Solide plutôt que forte."


def test_check_warnings_are_reported_with_the_key(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    data = edited(download(client, "fr"), title__body=FR_TITLE + " 2026")
    report = upload(client, people["fr_translator"], "fr", data).get_json()
    assert report["created"] == 1
    warning = next(w for w in report["warnings"] if w["code"] == "numbers")
    assert warning["key"] == "title" and warning["translation"] == report["translations"][0]


# --- refusals: nothing stored ----------------------------------------------------------------


def _broken(data: bytes) -> bytes:
    lines = data.decode().split("\n")
    lines[20] = 'msgstr "unterminated'
    return "\n".join(lines).encode()


def _wrong_language(data: bytes) -> bytes:
    return data.replace(b'"Language: fr\\n"', b'"Language: ar\\n"')


def _no_language(data: bytes) -> bytes:
    return data.replace(b'"Language: fr\\n"\n', b"")


def _unknown_context(data: bytes) -> bytes:
    return data.replace(b'msgctxt "conclusion.body"', b'msgctxt "epilogue.body"')


def _unknown_field(data: bytes) -> bytes:
    return data.replace(b'msgctxt "introduction.body"', b'msgctxt "introduction.heading"')


def _blocking(data: bytes) -> bytes:
    return edited(
        data,
        title__body=FR_TITLE_NEW,
        conclusion__body="En conclusion <script>alert(1)</script>",
    )


def _not_utf8(data: bytes) -> bytes:
    return data.replace("Défendre".encode(), "Défendre".encode("latin-1"))


def _nul(data: bytes) -> bytes:
    return data.replace(b"Oumma forte", b"Oumma\x00 forte")


@pytest.mark.parametrize(
    ("spoil", "member", "has_line"),
    [
        (_broken, "file", True),
        (_wrong_language, "Language", False),
        (_no_language, "Language", False),
        (_unknown_context, "file", True),
        (_unknown_field, "file", True),
        (_blocking, "conclusion.body", True),
        (_not_utf8, "file", True),
        (_nul, "file", True),
    ],
)
def test_refused_catalogs_change_nothing(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    spoil: Any,
    member: str,
    has_line: bool,
) -> None:
    data = spoil(download(client, "fr"))
    before = count_versions(app)
    response = upload(client, people["fr_translator"], "fr", data)
    assert response.status_code == 422, response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.get_json()
    assert member in problem["errors"], problem
    if has_line:
        assert isinstance(problem["line"], int) and problem["line"] > 0
    assert count_versions(app) == before


def test_parse_error_names_the_line(client: FlaskClient, people: dict[str, Person]) -> None:
    problem = upload(
        client, people["fr_translator"], "fr", _broken(download(client, "fr"))
    ).get_json()
    assert problem["line"] == 21 and problem["errors"]["file"][0].startswith("line 21: ")


def test_unknown_context_names_the_line(client: FlaskClient, people: dict[str, Person]) -> None:
    data = _unknown_context(download(client, "fr"))
    lines = data.decode().split("\n")
    context_line = lines.index('msgctxt "epilogue.body"') + 1
    problem = upload(client, people["fr_translator"], "fr", data).get_json()
    line = problem["line"]
    assert problem["context"] == "epilogue.body" and "epilogue.body" in problem["detail"]
    assert str(line) in problem["detail"]
    assert line <= context_line and all(
        t.startswith("#") for t in lines[line - 1 : context_line - 1]
    )


def test_blocking_check_names_the_key(client: FlaskClient, people: dict[str, Person]) -> None:
    problem = upload(
        client, people["fr_translator"], "fr", _blocking(download(client, "fr"))
    ).get_json()
    assert problem["key"] == "conclusion" and "conclusion" in problem["detail"]
    assert list(problem["errors"]) == ["conclusion.body"]


class TestSizeLimit:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"MAX_CATALOG_BYTES": 4096}

    @pytest.mark.parametrize("raw", [True, False])
    def test_too_large_is_413(
        self, app: Flask, client: FlaskClient, people: dict[str, Person], raw: bool
    ) -> None:
        data = edited(download(client, "fr"), title__body=FR_TITLE_NEW)
        assert len(data) > 4096
        before = count_versions(app)
        response = upload(client, people["fr_translator"], "fr", data, raw=raw)
        assert response.status_code == 413
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.get_json()["limit"] == 4096
        assert count_versions(app) == before


def test_body_over_the_request_limit_is_413(client: FlaskClient, people: dict[str, Person]) -> None:
    response = upload(client, people["fr_translator"], "fr", b"#" * (2 * 1024 * 1024), raw=True)
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"


def test_other_media_types_are_415(client: FlaskClient, people: dict[str, Person]) -> None:
    response = client.post(f"{CATALOGS}/fr.po", json={}, headers=people["fr_translator"].headers)
    assert response.status_code == 415
    assert response.headers["Content-Type"] == "application/problem+json"


def test_multipart_without_the_file_is_422(client: FlaskClient, people: dict[str, Person]) -> None:
    response = client.post(
        f"{CATALOGS}/fr.po",
        data={"other": "x"},
        headers=people["fr_translator"].headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "file" in response.get_json()["errors"]


# --- permissions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "locale", "status"),
    [
        (None, "fr", 401),
        ("translator", "fr", 403),
        ("reviewer", "fr", 403),
        ("fr_translator", "ar", 403),
        ("fr_translator", "fr", 201),
        ("fr_reviewer", "fr", 201),
        ("admin", "fr", 201),
        ("translator", "ar", 201),
    ],
)
def test_upload_permissions(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    who: str | None,
    locale: str,
    status: int,
) -> None:
    data = download(client, locale)
    title = entry(parse(data), "title.body").msgstr
    po = parse(data)
    entry(po, "title.body").msgstr = title + " !"
    before = count_versions(app)
    response = upload(client, people[who] if who else None, locale, str(po).encode())
    assert response.status_code == status, response.get_json()
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if status != 201:
        assert count_versions(app) == before


def test_approve_needs_a_reviewer(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    data = edited(download(client, "fr"), title__body=FR_TITLE_NEW)
    before = count_versions(app)
    response = upload(client, people["fr_translator"], "fr", data, approve=True)
    assert response.status_code == 403
    assert count_versions(app) == before


def test_self_approval_is_refused_and_stores_nothing(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    data = edited(download(client, "fr"), title__body=FR_TITLE_NEW)
    before = count_versions(app)
    response = upload(client, people["fr_reviewer"], "fr", data, approve=True)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/problem+json"
    assert count_versions(app) == before
    assert client.get(ESSAY, query_string={"locale": "fr"}).get_json()["title"] == FR_TITLE


class TestSelfReviewAllowed:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"ALLOW_SELF_REVIEW": True}

    def test_reviewer_upload_with_approve_publishes(
        self, client: FlaskClient, people: dict[str, Person]
    ) -> None:
        etag = client.get(ESSAY, query_string={"locale": "fr"}).headers["ETag"]
        data = edited(
            download(client, "fr"),
            title__body=FR_TITLE_NEW,
            **{f"{HEADED}__heading": "Alliances et diplomatie"},
        )
        response = upload(client, people["fr_reviewer"], "fr", data, approve=True)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["created"] == 2
        essay = client.get(ESSAY, query_string={"locale": "fr"})
        assert essay.headers["ETag"] != etag
        assert essay.get_json()["title"] == FR_TITLE_NEW
        assert essay.get_json()["sections"][1]["heading"] == "Alliances et diplomatie"
        history = client.get(
            f"{ESSAY}/sections/title/translations",
            query_string={"locale": "fr"},
            headers=people["fr_reviewer"].headers,
        ).get_json()["items"]
        assert [v["status"] for v in history] == ["approved", "superseded"]
        assert history[0]["author"] == history[0]["reviewer"] == "florent"
        assert entry(parse(download(client, "fr")), "title.body").msgstr == FR_TITLE_NEW

    def test_blocked_entry_with_approve_publishes_nothing(
        self, app: Flask, client: FlaskClient, people: dict[str, Person]
    ) -> None:
        before = count_versions(app)
        data = _blocking(download(client, "fr"))
        response = upload(client, people["fr_reviewer"], "fr", data, approve=True)
        assert response.status_code == 422
        assert count_versions(app) == before
        assert client.get(ESSAY, query_string={"locale": "fr"}).get_json()["title"] == FR_TITLE


# --- command line -------------------------------------------------------------------------


def test_cli_export_and_import(
    app: Flask, client: FlaskClient, people: dict[str, Person], tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    printed = runner.invoke(args=["catalogs", "export", SLUG, "fr"])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout_bytes == download(client, "fr")
    target = tmp_path / "fr.po"
    written = runner.invoke(args=["catalogs", "export", SLUG, "pt_BR", "-o", str(target)])
    assert written.exit_code != 0 and "pt-BR" in written.output
    written = runner.invoke(args=["catalogs", "export", SLUG, "fr", "-o", str(target)])
    assert written.exit_code == 0 and target.read_bytes() == printed.stdout_bytes
    template = runner.invoke(args=["catalogs", "export", SLUG, "template"])
    assert template.stdout_bytes == client.get(f"{CATALOGS}/template.pot").data

    target.write_bytes(edited(target.read_bytes(), title__body=FR_TITLE_NEW))
    refused = runner.invoke(args=["catalogs", "import", SLUG, "fr", str(target), "--user", "tariq"])
    assert refused.exit_code != 0 and "fr" in refused.output
    imported = runner.invoke(
        args=["catalogs", "import", SLUG, "fr", str(target), "--user", "fanny"]
    )
    assert imported.exit_code == 0, imported.output
    assert "1 created, 6 unchanged, 0 skipped" in imported.output
    queue = client.get(
        "/api/v1/reviews", query_string={"locale": "fr"}, headers=people["fr_reviewer"].headers
    ).get_json()
    assert queue["items"][0]["body"] == FR_TITLE_NEW and queue["items"][0]["author"] == "fanny"

    self_approved = runner.invoke(
        args=["catalogs", "import", SLUG, "fr", str(target), "--user", "florent", "--approve"]
    )
    assert self_approved.exit_code != 0 and "own" in self_approved.output


def test_cli_import_reports_the_line(app: Flask, people: dict[str, Person], tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    target = tmp_path / "fr.po"
    assert runner.invoke(args=["catalogs", "export", SLUG, "fr", "-o", str(target)]).exit_code == 0
    target.write_bytes(_broken(target.read_bytes()))
    result = runner.invoke(args=["catalogs", "import", SLUG, "fr", str(target), "--user", "fanny"])
    assert result.exit_code != 0 and "line 21" in result.output


def test_openapi_documents_both_methods(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    catalog = spec["paths"]["/api/v1/essays/{slug}/catalogs/{locale}.po"]
    assert "text/x-gettext-translation" in catalog["get"]["responses"]["200"]["content"]
    assert {"400", "404", "304"} <= set(catalog["get"]["responses"])
    body = catalog["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "text/x-gettext-translation", "application/octet-stream"} <= set(
        body
    )
    assert {"200", "201", "401", "403", "413", "422"} <= set(catalog["post"]["responses"])
    assert "/api/v1/essays/{slug}/catalogs/template.pot" in spec["paths"]


def test_declared_charset_is_honoured() -> None:
    text = (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=ISO-8859-1\\n"\n\n'
        'msgid "a"\nmsgstr "é"\n'
    )
    assert catalogs.decode_catalog(text.encode("latin-1")) == text
    utf8 = text.replace("ISO-8859-1", "UTF-8")
    assert catalogs.decode_catalog(codecs.BOM_UTF8 + utf8.encode("utf-8")) == utf8
    with pytest.raises(catalogs.CatalogError) as refused:
        catalogs.decode_catalog(utf8.encode("latin-1"))
    assert refused.value.line == 6
