"""Tests for the translation quality checks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.numbers import format_decimal
from flask import Flask
from flask_babel import Babel
from hypothesis import given, settings
from hypothesis import strategies as st

from api.services.text import normalise_text
from api.services.translation.checks import (
    BLOCKING,
    CHECKS,
    WARNING,
    CheckInput,
    CheckResult,
    GlossaryEntry,
    run_checks,
)

SOURCE_HEADING = "Strategic Alliances and Diplomacy"
SOURCE_BODY = (
    "In 2026, more than 1,000 students attended the "
    "[conference](https://example.org/conf-2026). **Is security the foundation of peace?**"
)
SOURCE_SENTENCE = "The promotion of security goes beyond immediate boundaries."

FAITHFUL = {
    "ar": (
        "التحالفات الاستراتيجية والدبلوماسية",
        "في عام ٢٠٢٦، حضر أكثر من ١٬٠٠٠ طالب [المؤتمر](https://example.org/conf-2026). "
        "**هل الأمن أساس السلام؟**",
    ),
    "ur": (
        "اسٹریٹجک اتحاد اور سفارت کاری",
        "۲۰۲۶ میں ۱۰۰۰ سے زیادہ طلبہ نے [کانفرنس](https://example.org/conf-2026) میں شرکت کی۔ "
        "**کیا سلامتی امن کی بنیاد ہے؟**",
    ),
    "fa": (
        "اتحادهای راهبردی و دیپلماسی",
        "در سال ۲۰۲۶ بیش از ۱۰۰۰ دانشجو در [همایش](https://example.org/conf-2026) شرکت کردند. "
        "**آیا امنیت پایه صلح است؟**",
    ),
    "fr": (
        "Alliances stratégiques et diplomatie",
        "En 2026, plus de 1\u202f000 étudiants ont assisté à la "
        "[conférence](https://example.org/conf-2026). "
        "**La sécurité est-elle le fondement de la paix\u00a0?**",
    ),
    "tr": (
        "Stratejik İttifaklar ve Diplomasi",
        "2026 yılında 1.000'den fazla öğrenci [konferansa](https://example.org/conf-2026) "
        "katıldı. **Güvenlik barışın temeli midir?**",
    ),
    "ms": (
        "Pakatan Strategik dan Diplomasi",
        "Pada tahun 2026, lebih daripada 1,000 pelajar menghadiri "
        "[persidangan](https://example.org/conf-2026) itu. **Adakah keselamatan asas keamanan?**",
    ),
    "id": (
        "Aliansi Strategis dan Diplomasi",
        "Pada tahun 2026, lebih dari 1.000 mahasiswa menghadiri "
        "[konferensi](https://example.org/conf-2026) tersebut. "
        "**Apakah keamanan merupakan fondasi perdamaian?**",
    ),
    "pt-BR": (
        "Alianças Estratégicas e Diplomacia",
        "Em 2026, mais de 1.000 estudantes participaram da "
        "[conferência](https://example.org/conf-2026). **A segurança é a base da paz?**",
    ),
}


def make(
    body: str,
    *,
    locale: str = "fr",
    source_body: str = SOURCE_SENTENCE,
    heading: str | None = None,
    source_heading: str | None = None,
    source_locale: str = "en",
    max_length: int = 20000,
    glossary: tuple[GlossaryEntry, ...] = (),
) -> CheckInput:
    return CheckInput(
        locale=locale,
        source_locale=source_locale,
        source_heading=source_heading,
        source_body=source_body,
        heading=heading,
        body=body,
        max_length=max_length,
        glossary=glossary,
    )


def found(data: CheckInput, code: str) -> list[CheckResult]:
    return CHECKS[code].func(data)


FR_SENTENCE = "La promotion de la sécurité dépasse les frontières immédiates."

TRIGGERS: dict[str, CheckInput] = {
    "empty": make("  \n\t "),
    "heading_missing": make(FR_SENTENCE, source_heading=SOURCE_HEADING),
    "heading_extra": make(FR_SENTENCE, heading="Alliances stratégiques"),
    "markup": make("La <b>promotion</b> de la sécurité dépasse les frontières immédiates."),
    "too_long": make(FR_SENTENCE, max_length=20),
    "control": make("La promotion de la sécurité\x07 dépasse les frontières immédiates."),
    "identical": make(SOURCE_SENTENCE),
    "numbers": make("En 2025, la sécurité a progressé.", source_body="In 2026, security improved."),
    "markdown": make(FR_SENTENCE, source_body="See [the report](https://example.org/report)."),
    "brackets": make("La sécurité (des nations dépasse les frontières.", source_body="Security."),
    "length_ratio": make("Oui."),
    "script": make("سلامتی کا فروغ فوری سرحدوں سے آگے جاتا ہے."),
    "punctuation": make("La promotion de la sécurité dépasse les frontières immédiates"),
    "glossary": make(
        "La sécurité de l’État islamique dépasse ses frontières.",
        source_body="The security of the Islamic Nation goes beyond its borders.",
        glossary=(GlossaryEntry("Islamic Nation", ("Nation islamique",), ("État islamique",)),),
    ),
}


@pytest.mark.parametrize("locale", sorted(FAITHFUL))
def test_faithful_translation_has_no_findings(locale: str) -> None:
    heading, body = FAITHFUL[locale]
    data = make(
        body,
        locale=locale,
        source_body=SOURCE_BODY,
        heading=heading,
        source_heading=SOURCE_HEADING,
    )
    assert run_checks(data) == []


def test_registry_codes_severities_and_order() -> None:
    assert [(code, spec.severity) for code, spec in CHECKS.items()] == [
        ("empty", BLOCKING),
        ("heading_missing", BLOCKING),
        ("heading_extra", BLOCKING),
        ("markup", BLOCKING),
        ("too_long", BLOCKING),
        ("control", BLOCKING),
        ("identical", WARNING),
        ("numbers", WARNING),
        ("markdown", WARNING),
        ("brackets", WARNING),
        ("length_ratio", WARNING),
        ("script", WARNING),
        ("punctuation", WARNING),
        ("glossary", WARNING),
    ]
    for spec in CHECKS.values():
        assert "%s" not in spec.msgid and "%d" not in spec.msgid


@pytest.mark.parametrize("code", list(TRIGGERS))
def test_each_trigger_fires_its_check(code: str) -> None:
    results = found(TRIGGERS[code], code)
    assert results
    assert all(r.code == code and r.severity == CHECKS[code].severity for r in results)
    assert code in {r.code for r in run_checks(TRIGGERS[code])}


@pytest.mark.parametrize(
    ("body", "heading", "source_heading", "fields"),
    [
        ("   \n ", None, None, ["body"]),
        ("\u200f\u200c", None, None, ["body"]),
        (FR_SENTENCE, "  ", SOURCE_HEADING, ["heading"]),
        (FR_SENTENCE, "Alliances stratégiques", SOURCE_HEADING, []),
        (FR_SENTENCE, None, None, []),
    ],
)
def test_empty(
    body: str, heading: str | None, source_heading: str | None, fields: list[str]
) -> None:
    data = make(body, heading=heading, source_heading=source_heading)
    assert [r.field for r in found(data, "empty")] == fields


def test_heading_missing_and_extra() -> None:
    missing = make(FR_SENTENCE, source_heading=SOURCE_HEADING, heading=None)
    assert [r.field for r in found(missing, "heading_missing")] == ["heading"]
    assert found(missing, "heading_extra") == []

    extra = make(FR_SENTENCE, heading="Alliances stratégiques")
    assert [r.field for r in found(extra, "heading_extra")] == ["heading"]
    assert found(extra, "heading_missing") == []

    both = make(FR_SENTENCE, heading="Alliances stratégiques", source_heading=SOURCE_HEADING)
    assert found(both, "heading_missing") == found(both, "heading_extra") == []


@pytest.mark.parametrize(
    "body",
    [
        "La <b>sécurité</b> avant tout.",
        "الأمن أولاً <script>alert(1)</script>",
        'یہ تصویر ہے <img src="x.png" onerror="alert(1)">',
        "<img onerror=alert(1) src=x>",
        "La sécurité <!-- note pour le relecteur --> avant tout.",
        "Cliquez [ici](javascript:alert(1)) pour lire la suite.",
        "Cliquez [ici]( JavaScript:alert(document.cookie)) maintenant.",
        "Cliquez [ici](&#106;avascript:alert(1)) maintenant.",
        "Voir <javascript:alert(1)>.",
        "[lien]: javascript:alert(1)",
        "<div\nclass=x>",
        "Texte <script\nsrc=//evil.example/x.js",
    ],
)
def test_markup_is_blocked(body: str) -> None:
    results = found(make(body), "markup")
    assert [r.field for r in results] == ["body"]
    assert results[0].params["markup"]


def test_markup_in_heading_is_blocked() -> None:
    data = make(FR_SENTENCE, heading="<i>Alliances</i>", source_heading=SOURCE_HEADING)
    assert [r.field for r in found(data, "markup")] == ["heading"]


@pytest.mark.parametrize(
    "body",
    [
        "Si a < b et b > c, alors a < c.",
        "x<3 et y>2",
        "**Gras**, _italique_, `code` et [lien](https://example.org/a_(b)).",
        "Voir <https://example.org/securite>.",
        "Le cœur <3 de la nation.",
        "إذا كان أ < ب فإن ب > أ.",
    ],
)
def test_markup_not_flagged_for_plain_text_and_markdown(body: str) -> None:
    assert found(make(body), "markup") == []


def test_too_long() -> None:
    over = make("a" * 15, heading="b" * 10, source_heading="Title", max_length=20)
    results = found(over, "too_long")
    assert [(r.field, r.params) for r in results] == [(None, {"length": 25, "limit": 20})]
    at_limit = make("a" * 10, heading="b" * 10, source_heading="Title", max_length=20)
    assert found(at_limit, "too_long") == []


REFUSED_CONTROLS = [chr(code) for code in range(0x20) if chr(code) not in "\t\n"]


@pytest.mark.parametrize("character", REFUSED_CONTROLS)
def test_control_characters_other_than_tab_and_newline_are_refused(character: str) -> None:
    data = make(f"Texte{character}fin", heading=f"Titre{character}", source_heading="Title")
    results = found(data, "control")
    code = f"U+{ord(character):04X}"
    assert [(r.field, r.params) for r in results] == [
        ("heading", {"character": code}),
        ("body", {"character": code}),
    ]
    assert results[0].message == (
        f"The text contains the control character {code}; tabs and line breaks are the only"
        " ones allowed."
    )


def test_tabs_line_breaks_and_other_characters_are_allowed() -> None:
    text = "colonne\tcolonne\nligne \x7f \x85 \u2028 \u200f \ufeff fin"
    assert found(make(text, heading=text, source_heading="Title"), "control") == []


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("une\r\ndeux\rtrois\nquatre", "une\ndeux\ntrois\nquatre"),
        ("\n\r\nau milieu\n\n", "au milieu"),
        ("  espaces gardés\t", "  espaces gardés\t"),
        ("\n", ""),
    ],
)
def test_texts_are_stored_with_bare_line_breaks_and_none_at_the_ends(
    text: str, stored: str
) -> None:
    assert normalise_text(text) == stored


def test_identical() -> None:
    spaced = make("  The promotion of security\n goes beyond immediate boundaries. ")
    assert [r.field for r in found(spaced, "identical")] == ["body"]
    assert found(make(SOURCE_SENTENCE, locale="en-GB"), "identical") == []
    assert found(make(FR_SENTENCE), "identical") == []
    assert found(make("2026", source_body="2026"), "identical") == []


@pytest.mark.parametrize(
    ("locale", "source", "translation"),
    [
        ("ar", "The plan runs until 2026.", "تستمر الخطة حتى عام ٢٠٢٦."),
        ("fa", "The plan runs until 2026.", "این طرح تا سال ۲۰۲۶ ادامه دارد."),
        ("ur", "About 1,000 people came.", "تقریباً ۱۰۰۰ لوگ آئے۔"),
        ("ar", "Growth was 3.5 percent.", "بلغ النمو ٣٫٥ في المائة."),
        ("ar", "About 1,000,000 people.", "نحو ١٬٠٠٠٬٠٠٠ شخص."),
        ("fr", "About 1,000 people and 3.5 percent.", "Environ 1\u202f000 personnes et 3,5 %."),
        ("tr", "About 1,000 people and 3.5 percent.", "Yaklaşık 1.000 kişi ve yüzde 3,5."),
        ("ms", "See [page 12](https://example.org/2019/99).", "Lihat [halaman 12](https://x.my)."),
    ],
)
def test_numbers_equivalent_across_digit_systems(
    locale: str, source: str, translation: str
) -> None:
    assert found(make(translation, locale=locale, source_body=source), "numbers") == []


def test_numbers_differ() -> None:
    data = make(
        "في عام ٢٠٢٥ حضر ١٠٠٠ طالب.",
        locale="ar",
        source_body="In 2026, 1,000 students attended.",
    )
    results = found(data, "numbers")
    assert [r.params for r in results] == [{"missing": "2026", "extra": "2025"}]

    dropped = make("در آن سال دانشجویان آمدند.", locale="fa", source_body="In 2026 students came.")
    [result] = found(dropped, "numbers")
    assert result.params == {"missing": "2026", "extra": ""}
    assert result.message == "The numbers differ from the source: 2026 missing, none extra."


def test_markdown_missing_link() -> None:
    source = "Read [the full report](https://example.org/report) before voting."
    data = make("Lisez le rapport complet avant de voter.", source_body=source)
    [result] = found(data, "markdown")
    assert result.field == "body"
    assert result.params == {"element": "link", "count": 0, "source_count": 1}
    assert "links" in result.message


def test_markdown_counts_other_elements() -> None:
    source = "- **Peace** first\n- `security` second\n- unity third"
    lost = make("- Paix d'abord\n- sécurité ensuite\n- unité enfin", source_body=source)
    assert {r.params["element"] for r in found(lost, "markdown")} == {"emphasis", "code"}

    arabic_digits = make("١. السلام\n٢. الأمن", locale="ar", source_body="1. Peace\n2. Security")
    assert {r.params["element"] for r in found(arabic_digits, "markdown")} == {"list_item"}

    kept = make("- **Paix** d'abord\n- `security` ensuite\n- *unité* enfin", source_body=source)
    [result] = found(kept, "markdown")
    assert result.params == {"element": "emphasis", "count": 2, "source_count": 1}

    faithful = make(
        "Lisez [le rapport complet](https://example.org/report) avant de voter.",
        source_body="Read [the full report](https://example.org/report) before voting.",
    )
    assert found(faithful, "markdown") == []


@pytest.mark.parametrize(
    ("locale", "source", "translation", "pairs"),
    [
        ("fr", "Security (at home) matters.", "La sécurité (chez soi compte.", ["()"]),
        ("ar", "Security (at home) matters.", "الأمن (في الداخل مهم.", ["()"]),
        ("fr", "He said “peace”.", "Il a dit « paix.", ["«»"]),
        ("fr", 'He said "peace".', 'Il a dit "paix.', ['"']),
        ("ur", "Security [note] matters.", "سلامتی ]نوٹ[ اہم ہے۔", ["[]"]),
        ("fr", "Security (at home) matters.", "La sécurité (chez soi) compte.", []),
        ("fr", "He said “peace”.", "Il a dit « paix » à l’Ummah.", []),
        ("ar", "The Shari‘ah “law” matters.", "الشريعة «القانون» مهمة.", []),
        ("tr", "It’s Istanbul’s “heart”.", "İstanbul’un “kalbi”.", []),
        ("fr", "Choose: a) peace; or :) smile.", "Choisissez : a) la paix ; ou :) souriez.", []),
        ("fr", "1) Peace\n2) Security", "1) La paix\n2) La sécurité", []),
    ],
)
def test_brackets(locale: str, source: str, translation: str, pairs: list[str]) -> None:
    data = make(translation, locale=locale, source_body=source)
    assert [r.params["pair"] for r in found(data, "brackets")] == pairs


@pytest.mark.parametrize(
    ("locale", "translation", "fires"),
    [
        ("fr", "Oui.", True),
        ("fr", FR_SENTENCE * 4, True),
        ("fr", FR_SENTENCE, False),
        ("ar", "يتجاوز تعزيز الأمن الحدود المباشرة.", False),
        ("tr", "Güvenliğin teşviki yakın sınırların ötesine geçer.", False),
    ],
)
def test_length_ratio(locale: str, translation: str, fires: bool) -> None:
    results = found(make(translation, locale=locale), "length_ratio")
    assert bool(results) is fires
    if fires:
        assert set(results[0].params) == {"percent", "expected"}


def test_length_ratio_skips_short_source() -> None:
    data = make("Une très longue traduction pour un mot.", source_body="Peace.")
    assert found(data, "length_ratio") == []


@pytest.mark.parametrize(
    ("locale", "translation", "script"),
    [
        ("ur", "Salamti ka farogh fori sarhadon se aage jata hai.", "Arab"),
        ("fr", "تعزيز الأمن يتجاوز الحدود المباشرة.", "Latn"),
        ("fa", "Amniyat az marzha farater miravad.", "Arab"),
    ],
)
def test_script_wrong(locale: str, translation: str, script: str) -> None:
    [result] = found(make(translation, locale=locale), "script")
    assert result.params["script"] == script
    assert 0 <= int(result.params["percent"]) < 50


@pytest.mark.parametrize(
    ("locale", "translation"),
    [
        ("ur", "سلامتی کا فروغ فوری سرحدوں سے آگے جاتا ہے۔"),
        (
            "ur",
            "مزید کے لیے [یہ رپورٹ](https://example.org/security-report) اور "
            "`npm run build` دیکھیں۔",
        ),
        ("ar", "تعمل منظمة UNESCO على تعزيز الأمن والسلام في العالم."),
        ("fr", FR_SENTENCE),
        ("pt-BR", "A promoção da segurança vai além das fronteiras imediatas."),
        ("tr", "Güvenliğin teşviki yakın sınırların ötesine geçer."),
    ],
)
def test_script_right(locale: str, translation: str) -> None:
    assert found(make(translation, locale=locale), "script") == []


@pytest.mark.parametrize(
    ("locale", "source", "translation"),
    [
        ("ur", "Security comes first.", "سلامتی سب سے پہلے ہے۔"),
        ("ar", "Is security the foundation of peace?", "هل الأمن أساس السلام؟"),
        ("fa", "Is security the foundation of peace?", "آیا امنیت پایه صلح است؟"),
        ("fr", "Is security the foundation of peace?", "La sécurité est-elle la base\u00a0?"),
        ("fr", "He said: “Peace first.”", "Il a dit\u00a0: « La paix d’abord. »"),
        ("ar", "First, second, third;", "أولاً، ثانياً، ثالثاً؛"),
        ("tr", "Strategic Alliances", "Stratejik İttifaklar"),
    ],
)
def test_punctuation_equivalents_pass(locale: str, source: str, translation: str) -> None:
    assert found(make(translation, locale=locale, source_body=source), "punctuation") == []


@pytest.mark.parametrize(
    ("locale", "source", "translation", "mark", "source_mark"),
    [
        ("ur", "Security comes first.", "سلامتی سب سے پہلے ہے", "", "."),
        ("ar", "Is security the foundation of peace?", "الأمن أساس السلام.", ".", "?"),
        ("fr", "Security comes first", "La sécurité d'abord !", "!", ""),
    ],
)
def test_punctuation_differs(
    locale: str, source: str, translation: str, mark: str, source_mark: str
) -> None:
    [result] = found(make(translation, locale=locale, source_body=source), "punctuation")
    assert result.params == {"mark": mark, "source_mark": source_mark}


def test_punctuation_checks_heading_too() -> None:
    data = make(
        FR_SENTENCE,
        heading="La sécurité est-elle la base ?",
        source_heading="Security as the foundation",
    )
    assert [r.field for r in found(data, "punctuation")] == ["heading"]


def test_round_trip_through_json() -> None:
    results = [r for data in TRIGGERS.values() for r in run_checks(data)]
    assert {r.code for r in results} == set(CHECKS)
    for result in results:
        stored = json.loads(json.dumps(result.to_dict(with_message=False)))
        assert "message" not in stored
        assert CheckResult.from_dict(stored) == result
        full = result.to_dict()
        assert set(full) == {"code", "severity", "field", "params", "message"}
        assert CheckResult.from_dict({**full, "message": "stale"}) == result


def test_unknown_code_renders_as_code() -> None:
    result = CheckResult.from_dict({"code": "retired", "severity": "warning", "params": {}})
    assert result.message == "retired"


def _messages() -> dict[str, str]:
    return {code: found(data, code)[0].message for code, data in TRIGGERS.items()}


def test_messages_outside_app() -> None:
    messages = _messages()
    for message in messages.values():
        assert "%(" not in message and "%%" not in message
    assert messages["too_long"] == ("The translation is 62 characters long; the limit is 20.")
    assert messages["markup"].endswith("<b>")
    assert messages["script"] == ("Only 0% of the letters are in the Latin script expected here.")


def test_messages_inside_babel_app() -> None:
    outside = _messages()
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        inside = _messages()
    assert inside == outside
    assert all("%(" not in m for m in inside.values())


def test_messages_inside_app_without_babel_fall_back() -> None:
    app = Flask(__name__)
    with app.test_request_context():
        messages = _messages()
    assert all("%(" not in m for m in messages.values())
    assert messages["too_long"] == "The translation is 62 characters long; the limit is 20."


def test_message_is_rendered_in_the_readers_locale(tmp_path: Path) -> None:
    catalog = Catalog(locale="fr")
    catalog.add(
        CHECKS["numbers"].msgid,
        "Les nombres diffèrent de la source\u00a0: %(missing)s manquant, %(extra)s en trop.",
        flags=["python-format"],
    )
    catalog.add("none", "aucun")
    catalog.add(
        CHECKS["too_long"].msgid,
        "La traduction compte %(length)s caractères\u00a0; la limite est %(limit)s.",
        flags=["python-format"],
    )
    target = tmp_path / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)

    stored = CheckResult("numbers", WARNING, "body", {"missing": "2026", "extra": ""}).to_dict(
        with_message=False
    )
    long = CheckResult("too_long", BLOCKING, None, {"length": 20001, "limit": 20000})

    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(tmp_path)
    Babel(app, locale_selector=lambda: "fr")
    with app.test_request_context():
        assert CheckResult.from_dict(stored).message == (
            "Les nombres diffèrent de la source\u00a0: 2026 manquant, aucun en trop."
        )
        assert long.message == (
            f"La traduction compte {format_decimal(20001, locale='fr')} caractères\u00a0; "
            f"la limite est {format_decimal(20000, locale='fr')}."
        )
        assert "latin" in found(TRIGGERS["script"], "script")[0].message
    assert CheckResult.from_dict(stored).message == (
        "The numbers differ from the source: 2026 missing, none extra."
    )


PATHOLOGICAL: dict[str, Callable[[int], str]] = {
    "backticks": lambda n: "`" * n,
    "tildes": lambda n: "~" * n,
    "spaces": lambda n: " " * (n - 1) + "x",
    "strong": lambda n: "**a " * (n // 4),
    "underscores": lambda n: "__“» " * (n // 5),
    "links": lambda n: "[x](" * (n // 4),
}


def _check_seconds(text: str, runs: int) -> float:
    """The quickest of a few runs of every check on ``text`` in all four fields."""
    data = make(text, source_body=text, heading=text, source_heading=text)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run_checks(data)
        timings.append(time.perf_counter() - started)
    return min(timings)


@pytest.mark.parametrize("shape", list(PATHOLOGICAL))
def test_pathological_input_takes_time_in_proportion_to_its_length(shape: str) -> None:
    """Eight times the text may cost about eight times the time, not 64 (quadratic) or more.

    A ratio within one run, so neither a slow machine nor a busy one decides the outcome.
    """
    build = PATHOLOGICAL[shape]
    small = _check_seconds(build(2500), runs=3)
    large = _check_seconds(build(20000), runs=2)
    assert large / small < 24, (
        f"{shape}: {small:.4f}s for 2,500 characters, {large:.4f}s for 20,000"
    )


LOCALES = ["ar", "fa", "fr", "id", "ms", "tr", "ur", "pt-BR"]
MARKDOWN_ISH = st.text(
    alphabet="()[]{}«»“”‘’\"'*_`<>!#-+.,:;?؟۔،٫٬٠١٢۲۵3 7\n\tabzABابپےéİ/=&\u200f",
    max_size=60,
)
TEXT = st.text(max_size=80) | MARKDOWN_ISH


@settings(max_examples=150, deadline=None, database=None)
@given(
    locale=st.sampled_from(LOCALES),
    source_heading=st.none() | TEXT,
    source_body=TEXT,
    heading=st.none() | TEXT,
    body=TEXT,
)
def test_run_checks_never_raises(
    locale: str, source_heading: str | None, source_body: str, heading: str | None, body: str
) -> None:
    data = CheckInput(locale, "en", source_heading, source_body, heading, body, max_length=50)
    for result in run_checks(data):
        assert result.severity in (BLOCKING, WARNING)
        assert "%(" not in result.message
        assert CheckResult.from_dict(result.to_dict()) == result
