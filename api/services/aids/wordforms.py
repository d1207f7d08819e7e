"""Words and their inflected forms, per language, for the glossary and the memory.

Two texts mention the same term when, word by word, the forms of the text's words meet
the forms of the term's. A word's forms are the word normalised for its script, plus the
words it can be once the language's clitics and affixes are taken off:

- Arabic script (ar, fa, ur): compatibility forms, diacritics, tatweel and the
  zero-width joiner go, the non-joiner separates words, and the letter variants that
  spelling mixes are unified (alef with hamza or madda, alef maqsura and yeh, kaf, the
  forms of heh).
  Arabic words lose the conjunctions و and ف, the prepositions ب, ك and ل, and the article
  ال (and their sequences: وبال, فلل…), then a pronoun, plural or feminine ending; a ت
  left before a suffix is read as the teh marbuta it was (أمتنا → أمة). Persian and Urdu
  words lose their plural, ezafe and possessive endings.
- A term's own words are only stripped of what cannot change the word (the article,
  proclitics) where a suffix could: دولة (state) must not become دول (states).
- Turkish: Turkish casing (İ, I), apostrophes joined (Ümmet’in), then Snowball's
  Turkish stemmer, the word's beginnings (suffixes stack), and the consonant a suffix
  softens (güvenlik → güvenliği).
- Indonesian and Malay: reduplication (forum-forum), the particles -nya, -lah, -kah,
  the suffixes -kan, -an, -i and the prefixes me(N)-, be(r)-, di-, ke-, pe(N)-, se-, te(r)-,
  and Snowball's Indonesian stemmer.
- French and English: elision (l’, d’) and the possessive ’s, then Snowball's stemmer.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence

import snowballstemmer

_WORD = re.compile(r"\w+(?:['’]\w+)*")
_APOSTROPHES = "'’"

_ARABIC_SCRIPT = frozenset({"ar", "fa", "ur", "ps", "sd", "ug", "ckb"})
_ARABIC_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ې": "ي",
        "ک": "ك",
        "ۃ": "ة",
        "ہ": "ه",
        "ۀ": "ه",
        "ھ": "ه",
        "ؤ": "و",
        "ئ": "ي",
        "ـ": None,
        "\u200c": " ",
        "\u200d": None,
    }
)
_AR_PROCLITICS = ("و", "ف")
_AR_PREPOSITIONS = ("ب", "ك", "ل")
_AR_SUFFIXES = (
    "هما",
    "كما",
    "هم",
    "هن",
    "كم",
    "كن",
    "نا",
    "ها",
    "ين",
    "ون",
    "ان",
    "ات",
    "ية",
    "ة",
    "ه",
    "ك",
    "ي",
)
_FA_SUFFIXES = (
    "هايي",
    "هاي",
    "ها",
    "هايم",
    "هايت",
    "هايش",
    "هايمان",
    "هايتان",
    "هايشان",
    "مان",
    "تان",
    "شان",
    "ان",
    "ات",
    "يي",
    "اي",
    "ي",
    "م",
    "ت",
    "ش",
)
_UR_SUFFIXES = ("وں", "يں", "اں", "ے", "ي", "و")
_MALAY_PARTICLES = ("nya", "lah", "kah", "tah", "ku", "mu")
_MALAY_SUFFIXES = ("kan", "an", "i")
_MALAY_PREFIXES = (
    "memper",
    "diper",
    "meng",
    "meny",
    "peng",
    "peny",
    "mem",
    "men",
    "pem",
    "pen",
    "ber",
    "per",
    "ter",
    "me",
    "pe",
    "be",
    "te",
    "di",
    "ke",
    "se",
)
_TURKISH_SOFTENED = {"k": "ğ", "p": "b", "t": "d", "ç": "c"}
_SNOWBALL = {
    "en": "english",
    "fr": "french",
    "tr": "turkish",
    "id": "indonesian",
    "ms": "indonesian",
}
_MIN_STEM = 2


def language(tag: str) -> str:
    return re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()


@functools.lru_cache(maxsize=16)
def _stemmer(lang: str) -> object | None:
    name = _SNOWBALL.get(lang)
    return snowballstemmer.stemmer(name) if name else None


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", kept)


def _casefold(text: str, lang: str) -> str:
    if lang in ("tr", "az"):
        text = text.replace("I", "ı").replace("İ", "i")
    return text.casefold()


def normalise(text: str, lang: str) -> str:
    """The text as words are compared: case, marks and script variants folded."""
    lang = language(lang)
    text = unicodedata.normalize("NFKC", text)
    if lang in _ARABIC_SCRIPT:
        text = _strip_marks(text.translate(_ARABIC_LETTERS))
        return text.translate(_ARABIC_LETTERS)
    text = _casefold(text, lang)
    if lang in ("fr", "en", "id", "ms"):
        text = _strip_marks(text)
    return text


def tokens(text: str, lang: str) -> list[str]:
    """The normalised words of a text, in order (hyphenated words split)."""
    lang = language(lang)
    words: list[str] = []
    for match in _WORD.finditer(normalise(text, lang).replace("-", " ")):
        word = match.group()
        if lang in ("tr", "az"):
            word = word.replace("'", "").replace("’", "")
        words.append(word.strip(_APOSTROPHES))
    return [w for w in words if w]


def _without_suffix(word: str, suffixes: Sequence[str]) -> set[str]:
    return {
        word[: -len(suffix)]
        for suffix in suffixes
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM
    }


def _arabic_bases(word: str) -> set[str]:
    bases = {word}
    for conj in ("", *_AR_PROCLITICS):
        if conj and not word.startswith(conj):
            continue
        rest = word[len(conj) :]
        for prep in ("", *_AR_PREPOSITIONS):
            if prep and not rest.startswith(prep):
                continue
            stem = rest[len(prep) :]
            candidates = {stem}
            if stem.startswith("ال"):
                candidates.add(stem[2:])
            if prep == "ل" and stem.startswith("ل"):
                candidates.add(stem[1:])
            bases |= {c for c in candidates if len(c) >= _MIN_STEM}
    return bases


def _arabic_forms(word: str) -> set[str]:
    forms: set[str] = set()
    for base in _arabic_bases(word):
        forms.add(base)
        for stem in _without_suffix(base, _AR_SUFFIXES):
            forms.add(stem)
            if stem.endswith("ت"):
                forms.add(stem[:-1] + "ة")
    return forms


def _malay_forms(word: str, lang: str) -> set[str]:
    forms = {word}
    for stem in list(forms):
        forms |= _without_suffix(stem, _MALAY_PARTICLES)
    for stem in list(forms):
        forms |= _without_suffix(stem, _MALAY_SUFFIXES)
    for stem in list(forms):
        for prefix in _MALAY_PREFIXES:
            if stem.startswith(prefix) and len(stem) - len(prefix) >= 3:
                forms.add(stem[len(prefix) :])
    stemmer = _stemmer(lang)
    if stemmer is not None:
        forms.add(stemmer.stemWord(word))  # type: ignore[attr-defined]
    return forms


def _turkish_forms(word: str, beginnings: bool = True) -> set[str]:
    forms = {word}
    stemmer = _stemmer("tr")
    if stemmer is not None:
        stem = stemmer.stemWord(word)  # type: ignore[attr-defined]
        forms.add(stem)
        if stem and stem[-1] in _TURKISH_SOFTENED:
            forms.add(stem[:-1] + _TURKISH_SOFTENED[stem[-1]])
    # Suffixes stack in Turkish: a word also stands for its beginnings.
    if beginnings:
        forms |= {word[:end] for end in range(max(4, len(word) - 10), len(word))}
    for form in list(forms):
        if form and form[-1] in ("ğ", "b", "d", "c"):
            hard = {v: k for k, v in _TURKISH_SOFTENED.items()}[form[-1]]
            forms.add(form[:-1] + hard)
    return forms


def _latin_forms(word: str, lang: str) -> set[str]:
    forms = {word}
    for apostrophe in _APOSTROPHES:
        head, sep, tail = word.partition(apostrophe)
        if not sep:
            continue
        if lang == "fr" and len(head) <= 3:
            forms.add(tail)
        if lang == "en" and tail in ("s", ""):
            forms.add(head)
    stemmer = _stemmer(lang)
    if stemmer is not None:
        forms |= {stemmer.stemWord(form) for form in list(forms)}  # type: ignore[attr-defined]
    return forms


@functools.lru_cache(maxsize=65536)
def forms(word: str, lang: str) -> frozenset[str]:
    """Every form a normalised word may stand for, its own included."""
    lang = language(lang)
    if lang == "ar":
        found = _arabic_forms(word)
    elif lang == "fa":
        found = {word, *_without_suffix(word, _FA_SUFFIXES)}
    elif lang == "ur":
        found = {word, *_without_suffix(word, _UR_SUFFIXES)}
    elif lang in ("tr", "az"):
        found = _turkish_forms(word)
    elif lang in ("id", "ms"):
        found = _malay_forms(word, lang)
    else:
        found = _latin_forms(word, lang)
    return frozenset(f for f in found if f)


@functools.lru_cache(maxsize=65536)
def term_forms(word: str, lang: str) -> frozenset[str]:
    """The forms a word of a term stands for: its dictionary form, without stripping
    suffixes where a suffix could make it another word (دولة is not دول)."""
    lang = language(lang)
    if lang == "ar":
        return frozenset(_arabic_bases(word))
    if lang in ("fa", "ur", "id", "ms"):
        return frozenset({word})
    if lang in ("tr", "az"):
        return frozenset(_turkish_forms(word, beginnings=False))
    return forms(word, lang)


def _stems(words: Iterable[str], lang: str) -> list[frozenset[str]]:
    return [forms(word, lang) for word in words]


@functools.lru_cache(maxsize=4096)
def phrase_forms(phrase: str, lang: str) -> tuple[frozenset[str], ...]:
    return tuple(term_forms(word, lang) for word in tokens(phrase, lang))


def find(phrase: str, text_words: Sequence[frozenset[str]], lang: str, gap: int = 1) -> bool:
    """Whether the phrase occurs in the text, word after word, inflected or not.

    ``text_words`` are the forms of the text's words (``word_forms``); up to ``gap``
    other words may stand between two words of the phrase.
    """
    wanted = phrase_forms(phrase, lang)
    if not wanted:
        return False
    for start, first in enumerate(text_words):
        if not first & wanted[0]:
            continue
        position, matched = start, 1
        while matched < len(wanted):
            window = text_words[position + 1 : position + 2 + gap]
            step = next((i for i, w in enumerate(window) if w & wanted[matched]), None)
            if step is None:
                break
            position += step + 1
            matched += 1
        if matched == len(wanted):
            return True
    return False


def word_forms(text: str, lang: str) -> list[frozenset[str]]:
    """The forms of each word of a text, to search several phrases in it."""
    return _stems(tokens(text, lang), lang)
