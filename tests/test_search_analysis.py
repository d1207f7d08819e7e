"""Search analysis: each language's rules, with words from the essay and its translations.

A query "finds" a text when every word of the query meets a word of the text in one of
its forms, as the index and the query analyse them (``api.services.search.analysis``).
"""

from __future__ import annotations

import pytest

from api.services.search.analysis import ZWNJ, analyzer


def finds(locale: str, query: str, text: str) -> bool:
    words = analyzer(locale)
    held = {term for token in words.tokens(text) for term in token.terms}
    found = words.query(query)
    return bool(found) and found.found_in(held)


def highlighted(locale: str, query: str, text: str) -> list[str]:
    """The words of ``text`` that ``query`` matches, as a snippet would highlight them."""
    words = analyzer(locale)
    wanted = words.query(query).terms
    return [text[t.start : t.end] for t in words.tokens(text) if wanted & set(t.terms)]


# --- words and offsets ---------------------------------------------------------------------


def test_a_word_with_arabic_vowels_is_one_word_with_its_offsets() -> None:
    text = "كَتَبَ الطالبُ"
    tokens = analyzer("ar").tokens(text)
    assert [text[t.start : t.end] for t in tokens] == ["كَتَبَ", "الطالبُ"]
    assert finds("ar", "كتب", text)
    assert finds("ar", "كَتَبَ", "كتب")


def test_offsets_point_into_the_text_as_given() -> None:
    text = "Le rôle de l’Oumma, d’une nation : « sécurité » !"
    assert highlighted("fr", "oumma securite", text) == ["Oumma", "sécurité"]
    persian = f"سازمان{ZWNJ}های اطلاعاتی"
    tokens = analyzer("fa").tokens(persian)
    assert [persian[t.start : t.end] for t in tokens] == [f"سازمان{ZWNJ}های", "اطلاعاتی"]


def test_digits_of_every_script_are_the_same_number() -> None:
    assert finds("ar", "2026", "في عام ٢٠٢٦")
    assert finds("fa", "۲۰۲۶", "سال 2026")
    assert finds("ur", "2026", "سال ۲۰۲۶")


def test_a_query_of_punctuation_alone_asks_for_nothing() -> None:
    for locale in ("en", "ar", "fa", "ur", "tr", "id", "ms", "fr"):
        assert not analyzer(locale).query("… — !? ،؛")


def test_an_unknown_language_still_folds_case_and_compatibility_forms() -> None:
    assert finds("de", "SICHERHEIT", "Sicherheit der ﬁrma")
    assert finds("de", "firma", "Sicherheit der ﬁrma")


# --- Arabic ----------------------------------------------------------------------------------

ARABIC = (
    "إن تعزيز أمن الأمة الإسلامية أمرٌ بالغ الأهمية لتحصين الأمة وضمان سلامة المسلمين في"
    " أنحاء العالم. وتقوم هذه الدعوة على عناصر متعددة، منها التحالفات الاستراتيجية،"
    " والعلاقات الدبلوماسية، والعمليات الاستخباراتية، والتقدم التكنولوجي في مجال الدفاع."
)


@pytest.mark.parametrize(
    "query",
    [
        "الأمة",  # as written
        "الامة",  # without the hamza on the alef
        "أمة",  # without the article
        "الأمــة",  # with tatweel
        "الأُمَّة",  # with vowels and shadda
        "الامه",  # teh marbuta written as heh
        "للأمة",  # with a preposition
        "أمتنا",  # with a pronoun: our nation
    ],
)
def test_arabic_nation_in_every_spelling(query: str) -> None:
    assert finds("ar", query, ARABIC)


@pytest.mark.parametrize(
    ("query", "written"),
    [
        ("إسلامي", "الإسلامية"),
        ("اسلاميه", "الإسلامية"),
        ("التحالف", "التحالفات"),
        ("علاقة", "والعلاقات"),
        ("عملية", "والعمليات"),
        ("استخبارات", "الاستخباراتية"),
        ("الاستخبارات", "الاستخباراتية"),
        ("دبلوماسي", "الدبلوماسية"),
        ("دفاعية", "الدفاع"),
        ("وأمنها", "أمن"),
        ("المسلم", "المسلمين"),
    ],
)
def test_arabic_inflected_forms(query: str, written: str) -> None:
    assert finds("ar", query, ARABIC)
    assert written in highlighted("ar", query, ARABIC)


def test_arabic_persian_letters_typed_in_an_arabic_query() -> None:
    # Persian keyboards give ی and ک: the Arabic text has ي and ك.
    assert finds("ar", "التکنولوجی", ARABIC)
    assert finds("ar", "عناصر متعددة", "عناصر متعدده")


def test_arabic_nation_is_not_security() -> None:
    assert not finds("ar", "الأمن", "بناء الأمة")
    assert not finds("ar", "الأمة", "وضمان الأمن")


# --- Persian ---------------------------------------------------------------------------------

PERSIAN = (
    f"سازمان{ZWNJ}های اطلاعاتی خستگی{ZWNJ}ناپذیر اطلاعات حیاتی را گردآوری و تحلیل"
    f" می{ZWNJ}کنند تا از تهدیدهای احتمالی پیشگیری شود. دیپلماسی بین{ZWNJ}المللی نقشی"
    f" تعیین{ZWNJ}کننده ایفا می{ZWNJ}کند و ثبات منطقه{ZWNJ}ای و عرصهٔ جامعهٔ اسلامی."
)


@pytest.mark.parametrize(
    "query",
    [
        f"سازمان{ZWNJ}های",  # with the non-joiner, as written
        "سازمانهای",  # joined
        "سازمان های",  # with a space
        "سازمان",  # the bare noun
    ],
)
def test_persian_the_non_joiner_however_it_is_typed(query: str) -> None:
    assert finds("fa", query, PERSIAN)
    assert highlighted("fa", query, PERSIAN) == [f"سازمان{ZWNJ}های"]


@pytest.mark.parametrize(
    "query", [f"بین{ZWNJ}المللی", "بینالمللی", "بین المللی", f"می{ZWNJ}کند", "میکند"]
)
def test_persian_compounds_and_verb_prefixes(query: str) -> None:
    assert finds("fa", query, PERSIAN)


@pytest.mark.parametrize(
    ("query", "written"),
    [
        ("تهدید", "تهدیدهای"),
        ("منطقه", f"منطقه{ZWNJ}ای"),
        ("جامعه", "جامعهٔ"),
        ("اطلاعات", "اطلاعاتی"),
        ("امنیت", "امنیتی"),
        ("امنیت", "امنیتش"),
    ],
)
def test_persian_inflected_forms(query: str, written: str) -> None:
    assert finds("fa", query, written)


def test_persian_arabic_letters_typed_in_a_persian_query() -> None:
    # An Arabic keyboard gives ي and ك: the Persian text has ی and ک.
    assert finds("fa", "كشورهاي", "کشورهای مختلف")
    assert finds("fa", "اسلامي", PERSIAN)


# --- Urdu ------------------------------------------------------------------------------------

URDU = (
    "انٹیلی جنس ادارے ممکنہ خطرات کی روک تھام کے لیے انتھک محنت سے اہم معلومات جمع کرتے"
    " ہیں۔ اس طرح وہ حکومت کو ایسی اہم بصیرت فراہم کرتے ہیں جو سلامتی سے متعلق پالیسیوں اور"
    " اقدامات کے نفاذ میں رہنمائی کرتی ہے۔ علاقائی استحکام، ملتِ اسلامیہ کی صلاحیتیں اور"
    " بین الاقوامی فورموں میں شرکت۔"
)


@pytest.mark.parametrize(
    ("query", "written"),
    [
        ("پالیسی", "پالیسیوں"),
        ("صلاحیت", "صلاحیتیں"),
        ("خطرہ", "خطرات"),
        ("ادارہ", "ادارے"),
        ("فورم", "فورموں"),
        ("علاقہ", "علاقائی"),
        ("اسلامی", "اسلامیہ"),
        ("ملت", "ملتِ"),
        ("اقدام", "اقدامات"),
    ],
)
def test_urdu_plural_oblique_and_adjective_endings(query: str, written: str) -> None:
    assert finds("ur", query, URDU)
    assert written in highlighted("ur", query, URDU)


def test_urdu_heh_and_yeh_variants() -> None:
    # Typed on an Arabic keyboard: Arabic heh and yeh for heh goal, do-chashmi heh, farsi yeh.
    assert finds("ur", "اسلاميه", URDU)
    assert finds("ur", "انتهک", URDU)
    assert finds("ur", "سلامتي", URDU)


def test_urdu_a_compound_typed_with_the_non_joiner_finds_it_written_with_a_space() -> None:
    assert finds("ur", f"بین{ZWNJ}الاقوامی", URDU)
    assert finds("ur", "بین الاقوامی", URDU)


# --- Turkish ---------------------------------------------------------------------------------

TURKISH = (
    "İslam Milleti’nin güvenliğini desteklemek, Ümmet’i güçlendirmek ve stratejik"
    " ittifaklar, diplomatik ilişkiler, istihbarat faaliyetleri; İstihbarat teşkilatları"
    " olası tehditleri önlemek amacıyla hayati bilgileri toplar. Teknolojinin rolü inkâr"
    " edilemez. Çeşitli İslam ülkeleri arasında yapılan barış anlaşmaları."
)


@pytest.mark.parametrize(
    ("query", "written"),
    [
        ("ISLAM", "İslam"),  # capital I typed for İ on a keyboard without Turkish letters
        ("islam", "İslam"),
        ("İSLAM", "İslam"),
        ("ILIŞKILER", "ilişkiler"),
        ("İLİŞKİ", "ilişkiler"),
        ("ISTIHBARAT", "İstihbarat"),
        ("millet", "Milleti’nin"),
        ("güvenlik", "güvenliğini"),
        ("tehdit", "tehditleri"),
        ("inkar", "inkâr"),
        ("ülke", "ülkeleri"),
        ("anlaşma", "anlaşmaları"),
        ("ümmet", "Ümmet’i"),
    ],
)
def test_turkish_dotted_and_dotless_i_and_suffixes(query: str, written: str) -> None:
    assert finds("tr", query, TURKISH)
    assert written in highlighted("tr", query, TURKISH)


def test_turkish_capital_i_is_not_lowered_the_english_way() -> None:
    # Python's lower() makes İ an i with a combining dot; the analyzer does not.
    words = analyzer("tr")
    assert words.terms("İSTİHBARAT") == words.terms("istihbarat")


# --- Indonesian and Malay ----------------------------------------------------------------------

INDONESIAN = (
    "Memajukan keamanan Bangsa Islam sangat penting untuk memperkokoh Umat. Berbagai"
    " perjanjian damai antarnegara Islam. Pengembangan sistem pertahanan canggih dan"
    " kemajuan teknologi menjangkau bangsa-bangsa dan forum-forum internasional."
)


@pytest.mark.parametrize(
    ("query", "written"),
    [
        ("aman", "keamanan"),
        ("maju", "Memajukan"),
        ("maju", "kemajuan"),
        ("damai", "damai"),
        ("perdamaian", "damai"),
        ("kembang", "Pengembangan"),
        ("dikembangkan", "Pengembangan"),
        ("bertahan", "pertahanan"),
        ("bangsa", "bangsa-bangsa"),
        ("forum", "forum-forum"),
        ("jangkauan", "menjangkau"),
    ],
)
def test_indonesian_affixes_and_reduplication(query: str, written: str) -> None:
    assert finds("id", query, INDONESIAN)
    assert written in highlighted("id", query, INDONESIAN)


MALAY = (
    "Memperkukuh keselamatan Negara Islam amat penting. Agensi perisikan mengumpulkan"
    " maklumat; keselamatannya dicerobohi. Penyertaan dalam forum-forum antarabangsa"
    " mengukuhkan persefahaman dalam kalangan negara-negara lain."
)


@pytest.mark.parametrize(
    ("query", "written"),
    [
        ("selamat", "keselamatan"),
        ("keselamatan", "keselamatannya"),
        ("kukuh", "Memperkukuh"),
        ("kukuh", "mengukuhkan"),
        ("kumpul", "mengumpulkan"),
        ("menyertai", "Penyertaan"),
        ("negara", "negara-negara"),
    ],
)
def test_malay_takes_the_indonesian_rules(query: str, written: str) -> None:
    assert finds("ms", query, MALAY)
    assert written in highlighted("ms", query, MALAY)


# --- French and English ------------------------------------------------------------------------

FRENCH = (
    "La promotion de la sécurité d’une Nation islamique dépasse ses frontières. Les"
    " services de renseignement recueillent des informations afin de prévenir les menaces"
    " potentielles, avec des avancées technologiques et l’engagement de l’Oumma."
)


@pytest.mark.parametrize(
    ("query", "written"),
    [
        ("securite", "sécurité"),
        ("SÉCURITÉ", "sécurité"),
        ("sécurités", "sécurité"),
        ("menace", "menaces"),
        ("technologique", "technologiques"),
        ("oumma", "Oumma"),
        ("l'Oumma", "Oumma"),
        ("islamiques", "islamique"),
        ("renseignements", "renseignement"),
        ("engagements", "engagement"),
    ],
)
def test_french_accents_elision_and_stems(query: str, written: str) -> None:
    assert finds("fr", query, FRENCH)
    assert written in highlighted("fr", query, FRENCH)


ENGLISH = (
    "Championing for Islamic Nation’s Security: Building a Strong Ummah. Intelligence"
    " agencies tirelessly gather and analyze vital information to prevent potential"
    " threats; technological advancements in defense and the Ummah's commitment."
)


@pytest.mark.parametrize(
    ("query", "written"),
    [
        ("nation", "Nation’s"),
        ("nations", "Nation’s"),
        ("threat", "threats"),
        ("technology", "technological"),
        ("advancement", "advancements"),
        ("agency", "agencies"),
        ("ummah", "Ummah's"),
        ("securing", "Security"),
    ],
)
def test_english_stems_and_possessives(query: str, written: str) -> None:
    assert finds("en", query, ENGLISH)
    assert written in highlighted("en", query, ENGLISH)


def test_every_query_word_must_be_found() -> None:
    assert finds("en", "intelligence threats", ENGLISH)
    assert not finds("en", "intelligence diplomacy", ENGLISH)
