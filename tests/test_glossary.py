"""The glossary: its API, the shipped terms, and the measured ``glossary`` check."""

from __future__ import annotations

from typing import Any

import polib
import pytest
import sqlalchemy as sa
import yaml
from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models import GlossaryTerm, TranslationVersion
from api.services.translation.checks import CHECKS, CheckInput, GlossaryEntry
from tests.conftest import ROOT, SLUG, Person

TARGETS = ("ar", "fa", "fr", "id", "ms", "tr", "ur")
SHIPPED = yaml.safe_load((ROOT / "content" / "glossary.yaml").read_text(encoding="utf-8"))


def entries(locale: str) -> tuple[GlossaryEntry, ...]:
    return tuple(
        GlossaryEntry(
            item["term"],
            tuple(item["locales"][locale]["translations"]),
            tuple(item["locales"][locale].get("forbidden") or ()),
        )
        for item in SHIPPED
        if locale in item["locales"]
    )


def warnings(locale: str, source: str, text: str) -> list[dict[str, Any]]:
    data = CheckInput(
        locale=locale,
        source_locale="en",
        source_heading=None,
        source_body=source,
        heading=None,
        body=text,
        glossary=entries(locale),
    )
    return [r.params for r in CHECKS["glossary"].func(data)]


def shipped_pairs() -> list[tuple[str, str, str, str]]:
    pairs = []
    for path in sorted(ROOT.glob("translations/*/LC_MESSAGES/essay.po")):
        locale = path.parent.parent.name
        for entry in polib.pofile(str(path)):
            if entry.msgstr:
                pairs.append((locale, entry.msgctxt, entry.msgid, entry.msgstr))
    return pairs


# Translations a reviewer must not let through: a key term rendered wrongly (a forbidden
# rendering, a word for another idea, or left out). Each is caught when the check warns.
S_NATION = "Promoting the security of the Islamic Nation is paramount."
S_UMMAH = "The voice of the Ummah needs to be amplified."
S_FORUMS = "Participation in international forums is vital."
S_INTEL = "Intelligence agencies gather vital information."
S_DIPLOMACY = "International diplomacy plays a crucial role."
WRONG = [
    ("ar", S_NATION, "إن تعزيز أمن الدولة الإسلامية أمر بالغ الأهمية."),
    ("ar", S_NATION, "إن تعزيز سلامة الشعوب المسلمة أمر بالغ الأهمية."),
    ("ar", S_UMMAH, "يجب أن يعلو صوت الشعب."),
    ("ar", S_INTEL, "تجمع أجهزة الذكاء المعلومات الحيوية."),
    ("ar", S_FORUMS, "المشاركة في المؤتمرات العالمية أمر حيوي."),
    ("fa", S_NATION, "ارتقای امنیت دولت اسلامی اهمیتی حیاتی دارد."),
    ("fa", S_UMMAH, "صدای مردم باید بلندتر شود."),
    ("fa", S_INTEL, "سازمان‌های هوش اطلاعات حیاتی را گردآوری می‌کنند."),
    ("ur", S_NATION, "اسلامی ریاست کی سلامتی کو فروغ دینا نہایت اہم ہے۔"),
    ("ur", S_UMMAH, "قوم کی آواز کو بلند کرنے کی ضرورت ہے۔"),
    ("ur", S_DIPLOMACY, "بین الاقوامی سیاست ایک کلیدی کردار ادا کرتی ہے۔"),
    ("tr", S_NATION, "İslam Devleti’nin güvenliğini desteklemek son derece önemlidir."),
    ("tr", S_NATION, "Müslüman halkların emniyetini desteklemek son derece önemlidir."),
    ("tr", S_UMMAH, "Topluluğun sesinin daha güçlü duyurulması gerekir."),
    ("tr", S_INTEL, "Zekâ teşkilatları hayati bilgileri toplar."),
    ("id", S_NATION, "Memajukan keamanan Daulah Islamiyah sangat penting."),
    ("id", S_NATION, "Memajukan keselamatan kaum Muslim sangat penting."),
    ("id", S_FORUMS, "Keikutsertaan dalam pertemuan dunia sangat penting."),
    ("id", S_INTEL, "Badan-badan kecerdasan mengumpulkan informasi penting."),
    ("ms", S_NATION, "Memajukan keselamatan Daulah Islamiyah amat penting."),
    ("ms", S_UMMAH, "Suara masyarakat perlu diperkuatkan."),
    ("ms", S_INTEL, "Agensi kecerdasan mengumpul maklumat penting."),
    ("fr", S_NATION, "Promouvoir la sécurité de l’État islamique est essentiel."),
    ("fr", S_UMMAH, "La voix de la communauté doit se faire entendre."),
    ("fr", S_INTEL, "Les agences d’intelligence recueillent des informations vitales."),
    ("fr", S_DIPLOMACY, "La politique étrangère joue un rôle crucial."),
    # A known miss: the check asks whether a field uses a rendering, not each occurrence.
    (
        "ar",
        "The Islamic Nation's security and the Islamic Nation's unity.",
        "أمن الأمة الإسلامية ووحدة الشعوب المسلمة.",
    ),
]

# Right translations in inflected forms the shipped text does not use: no warning.
RIGHT = [
    ("ar", S_UMMAH, "لا بد أن يعلو صوت أمتنا."),
    ("ar", S_UMMAH, "ينبغي أن يُسمع صوتُ الأمّة."),
    ("ar", S_NATION, "إن تعزيز أمن الأمة الإسلامية أمر بالغ الأهمية."),
    ("ar", S_INTEL, "تجمع الأجهزة الاستخباراتية المعلومات الحيوية."),
    ("ar", S_FORUMS, "المشاركة في المنتديات الدولية أمر حيوي."),
    ("fa", S_UMMAH, "صدای امتمان باید بلندتر شود."),
    ("fa", S_FORUMS, "مشارکت در مجامع بین المللی حیاتی است."),
    ("ur", S_UMMAH, "امتوں کی آواز کو بلند کرنے کی ضرورت ہے۔"),
    ("tr", S_UMMAH, "Ümmetimizin sesinin daha güçlü duyurulması gerekir."),
    ("tr", S_FORUMS, "Uluslararası forumlardaki katılım hayatidir."),
    ("tr", S_NATION, "İSLAM MİLLETİ’NİN güvenliğini desteklemek önemlidir."),
    ("id", S_UMMAH, "Suara umatnya perlu lebih digaungkan."),
    ("id", S_FORUMS, "Keikutsertaan dalam forum-forum internasional sangat penting."),
    ("ms", S_UMMAH, "Suara ummah perlu diperkuatkan."),
    ("ms", S_INTEL, "Agensi perisikan mengumpul maklumat penting."),
    ("fr", S_UMMAH, "La voix de l’Oumma doit se faire entendre."),
    ("fr", S_NATION, "Promouvoir la sécurité des Nations islamiques est essentiel."),
]


def measure() -> dict[str, float]:
    """Precision and recall of the check over the shipped, right and wrong translations."""
    caught = sum(1 for locale, src, text in WRONG if warnings(locale, src, text))
    false = sum(1 for locale, _, src, text in shipped_pairs() if warnings(locale, src, text))
    false += sum(1 for locale, src, text in RIGHT if warnings(locale, src, text))
    flagged = caught + false
    return {
        "precision": caught / flagged if flagged else 1.0,
        "recall": caught / len(WRONG),
        "wrong": len(WRONG),
        "right": len(shipped_pairs()) + len(RIGHT),
    }


def test_shipped_glossary_covers_every_target_locale() -> None:
    for item in SHIPPED:
        assert set(item["locales"]) == set(TARGETS), item["term"]
    assert {"Islamic Nation", "Ummah", "international forums", "security", "unity"} <= {
        item["term"] for item in SHIPPED
    }


@pytest.mark.parametrize(("locale", "key", "source", "text"), shipped_pairs())
def test_no_false_warning_on_shipped_translations(
    locale: str, key: str, source: str, text: str
) -> None:
    assert warnings(locale, source, text) == []


@pytest.mark.parametrize(("locale", "source", "text"), WRONG[:-1])
def test_wrong_renderings_are_caught(locale: str, source: str, text: str) -> None:
    assert warnings(locale, source, text)


@pytest.mark.parametrize(("locale", "source", "text"), RIGHT)
def test_inflected_right_renderings_pass(locale: str, source: str, text: str) -> None:
    assert warnings(locale, source, text) == []


def test_precision_and_recall_are_as_the_readme_reports() -> None:
    figures = measure()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"precision {figures['precision']:.2f}, recall {figures['recall']:.2f}" in readme
    assert f"{figures['wrong']} wrong and {figures['right']} right translations" in readme


def test_a_forbidden_rendering_is_named() -> None:
    found = warnings("fr", S_NATION, "Promouvoir la sécurité de l’État islamique est essentiel.")
    assert found == [
        {"term": "Islamic Nation", "expected": "Nation islamique", "found": "État islamique"}
    ]
    missing = warnings("fr", S_UMMAH, "La voix de la communauté doit se faire entendre.")
    assert missing == [{"term": "Ummah", "expected": "Oumma / Ummah", "found": ""}]


def test_the_seed_loads_the_glossary_and_no_shipped_version_warns(app: Flask) -> None:
    with app.app_context():
        counts = dict(
            db.session.execute(
                sa.select(GlossaryTerm.locale, sa.func.count()).group_by(GlossaryTerm.locale)
            ).all()
        )
        assert counts == dict.fromkeys(TARGETS, len(SHIPPED))
        checks = db.session.scalars(
            sa.select(TranslationVersion.checks).where(TranslationVersion.status == "approved")
        ).all()
    assert checks and not [c for found in checks for c in found if c["code"] == "glossary"]


def test_a_submission_gets_the_glossary_warning(
    client: FlaskClient, people: dict[str, Person]
) -> None:
    response = client.post(
        f"/api/v1/essays/{SLUG}/sections/conclusion/translations",
        json={
            "locale": "ar",
            "body": "وختامًا، فإن مناصرة أمن الدولة الإسلامية مهمة متعددة الأوجه.",
        },
        headers=people["translator"].headers,
    )
    assert response.status_code == 201, response.json
    found = [c for c in response.json["checks"] if c["code"] == "glossary"]
    assert {c["params"]["term"] for c in found} >= {"Islamic Nation", "Ummah"}
    assert any(c["params"]["found"] == "الدولة الإسلامية" for c in found)


def test_glossary_reads_need_a_token(client: FlaskClient, people: dict[str, Person]) -> None:
    assert client.get("/api/v1/glossary").status_code == 401
    response = client.get("/api/v1/glossary?locale=tr", headers=people["translator"].headers)
    assert response.status_code == 200
    assert response.json["total"] == len(SHIPPED)
    term = next(t for t in response.json["items"] if t["term"] == "Ummah")
    assert term["translations"] == ["Ümmet"]
    one = client.get(f"/api/v1/glossary/{term['id']}", headers=people["translator"].headers)
    assert one.json == term
    response = client.get("/api/v1/glossary?q=forum", headers=people["translator"].headers)
    assert response.json["total"] == len(TARGETS)


NEW_TERM = {
    "term": "regional stability",
    "locale": "ar",
    "translations": ["الاستقرار الإقليمي"],
    "forbidden": [],
    "note": "Stability of the region.",
}


def count_terms(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count(GlossaryTerm.id))) or 0)


def test_reviewers_maintain_their_locales_terms(
    app: Flask, client: FlaskClient, people: dict[str, Person]
) -> None:
    reviewer = people["reviewer"].headers
    response = client.post("/api/v1/glossary", json=NEW_TERM, headers=reviewer)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["translations"] == ["الاستقرار الإقليمي"] and created["locale"] == "ar"
    url = f"/api/v1/glossary/{created['id']}"
    assert client.post("/api/v1/glossary", json=NEW_TERM, headers=reviewer).status_code == 409
    changed = NEW_TERM | {"translations": ["الاستقرار الإقليمي", "استقرار المنطقة"]}
    response = client.put(url, json=changed, headers=reviewer)
    assert response.status_code == 200, response.json
    assert response.json["translations"] == changed["translations"]
    assert client.delete(url, headers=people["fr_reviewer"].headers).status_code == 403
    assert client.delete(url, headers=reviewer).status_code == 204
    assert client.get(url, headers=reviewer).status_code == 404


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("translator", NEW_TERM, 403),
        ("fr_reviewer", NEW_TERM, 403),
        (None, NEW_TERM, 401),
        ("reviewer", NEW_TERM | {"translations": []}, 422),
        ("reviewer", NEW_TERM | {"translations": ["  "]}, 422),
        ("reviewer", {k: v for k, v in NEW_TERM.items() if k != "translations"}, 422),
        ("reviewer", NEW_TERM | {"term": ""}, 422),
        ("reviewer", NEW_TERM | {"term": "!!!"}, 422),
        ("reviewer", NEW_TERM | {"locale": "zz"}, 422),
        ("reviewer", NEW_TERM | {"locale": "en"}, 422),
        ("reviewer", NEW_TERM | {"forbidden": ["الاستقرار الإقليمي"]}, 422),
        ("reviewer", NEW_TERM | {"translations": ["x" * 201]}, 422),
        ("reviewer", NEW_TERM | {"term": "Ummah"}, 409),
    ],
)
def test_bad_glossary_writes_change_nothing(
    app: Flask,
    client: FlaskClient,
    people: dict[str, Person],
    who: str | None,
    body: dict[str, Any],
    status: int,
) -> None:
    before = count_terms(app)
    headers = people[who].headers if who else {}
    response = client.post("/api/v1/glossary", json=body, headers=headers)
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    assert count_terms(app) == before
