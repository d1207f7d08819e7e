"""How search reads a text: one analyzer per language, the same for indexing and querying.

An analyzer cuts a text into words, keeping each word's character offsets in the text as
given (so a snippet can highlight it), and turns each word into the terms the index holds:

- Every language: Unicode compatibility forms (NFKC), case folded, digits of any script
  read as ASCII digits.
- Arabic script (ar, fa, ur): diacritics, the dagger alef, hamza carried on a letter and
  the tatweel go; alef (أ إ آ ٱ), yeh (ى ي ی), kaf (ك ک) and heh (ه ہ ھ ۀ) variants are
  folded to the language's own letters, and teh marbuta (ة ۃ) to heh. A word holding a
  zero-width non-joiner is one word (Persian and Urdu write prefixes, plural and ezafe
  endings and compounds with it); the index also holds it without the joiner, and its
  parts, so that it is found however a reader types it (joined, with the non-joiner, or
  with a space).
- Arabic: light stemming (the light10 rules IR systems use): the article with the
  conjunctions and prepositions fused with it (والأمن, للأمة), then endings of number,
  gender and pronouns; a teh before a pronoun is read as the teh marbuta it was (أمتنا,
  our nation); a lone و, ف, ب or ل is taken off and also kept (وتعزيز; وجود). Snowball's
  Arabic stemmer adds one more term: it reads a word as a verb by its first letter
  (سياسات → ياسا), so it is never the only one.
- Persian: Snowball's Persian stemmer, after the adjectival and indefinite yeh
  (امنیتی → امنیت → امن), without the silent heh that -ای takes off (منطقه‌ای);
  a possessive (امنیتش) is taken off as well.
- Urdu: light suffix rules (Snowball has no Urdu stemmer): plural and oblique endings
  (پالیسیوں, صلاحیتیں, خطرات, ادارے), then the endings of gender and adjectives
  (اسلامی, اسلامیہ, علاقائی) while three letters remain.
- Turkish: Turkish case (I → ı, İ → i) and no circumflex (inkâr); a suffix after an
  apostrophe goes (Milleti’nin → milleti); Snowball's Turkish stemmer, whose stem is
  then read with i for ı, and the stem of the word read with i as well (a reader who
  types ISLAM or ILIŞKILER on a keyboard without Turkish letters finds İslam and
  ilişkiler).
- Indonesian and Malay: Snowball's Indonesian stemmer (Malay shares its affixes), the
  word itself (the stemmer takes the -i of damai for a suffix), and the other reading
  of a nasal prefix (memajukan is me-majukan, not mem-pajukan; pengembangan is
  pe-kembangan); a reduplicated word (bangsa-bangsa) is one word.
- French: elided articles go (l’Oumma), accents are folded, then Snowball's French
  stemmer. English: the possessive ’s goes, then Snowball's English stemmer.

A word may stand for more than one term (a Malay prefix read two ways, the parts of a
compound); a query word matches a text word when their terms meet.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence, Set
from dataclasses import dataclass
from typing import Any

import snowballstemmer

from api.services.aids import wordforms

# Part of every indexed document's fingerprint: a change to the rules below makes
# ``flask search reindex`` rewrite every document.
VERSION = "1"

ZWNJ = "\u200c"
ZWJ = "\u200d"
TATWEEL = "\u0640"
_APOSTROPHES = "'’ʼ"
_HYPHENS = "-\u2010\u2011"


def _mark_class() -> str:
    """Every combining mark of the Basic Multilingual Plane, as a regular-expression class."""
    ranges: list[str] = []
    start = previous = None
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code)).startswith("M"):
            if previous is not None and code == previous + 1:
                previous = code
                continue
            if start is not None:
                ranges.append(_range(start, previous))
            start = previous = code
    if start is not None:
        ranges.append(_range(start, previous))
    return "".join(ranges)


def _range(start: int, end: int | None) -> str:
    end = start if end is None else end
    return f"\\u{start:04x}" if start == end else f"\\u{start:04x}-\\u{end:04x}"


# A word: letters, digits and the marks on them (Python's \w leaves marks out, and so
# splits كَتَبَ at its vowels), the joiners inside Persian and Urdu words, and apostrophes
# and hyphens between two of those.
_CHAR = rf"(?:[^\W_]|[{_mark_class()}{ZWNJ}{ZWJ}])"
_JOINER = f"[{re.escape(_APOSTROPHES + _HYPHENS)}]"
_WORD = re.compile(rf"{_CHAR}+(?:{_JOINER}{_CHAR}+)*")
_JOINED = re.compile(_JOINER)


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text as the index holds it.

    terms: the terms the word is indexed under, its main one first.
    start / end: the word's character offsets in the analysed text.
    position: the word's place in the text (0, 1, 2…).
    """

    terms: tuple[str, ...]
    start: int
    end: int
    position: int


# A query: every clause must match; a clause matches when one of its alternatives does,
# and an alternative when all of its terms do.
Alternative = tuple[str, ...]
Clause = tuple[Alternative, ...]


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]

    @property
    def terms(self) -> frozenset[str]:
        """Every term the query names: a text word holding one of them is highlighted."""
        return frozenset(t for clause in self.clauses for alt in clause for t in alt)

    def __bool__(self) -> bool:
        return bool(self.clauses)

    def found_in(self, terms: Set[str]) -> bool:
        """Whether a text holding ``terms`` matches every clause of the query."""
        return all(any(set(alt) <= terms for alt in clause) for clause in self.clauses)


@dataclass(frozen=True)
class _Word:
    """A word as cut from the text: its spelling there, and its offsets."""

    text: str
    start: int
    end: int


def _decimal_digits(text: str) -> str:
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(ch)) if unicodedata.category(ch) == "Nd" else ch for ch in text
    )


def _without_marks(text: str, keep: str = "") -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(
        ch for ch in decomposed if ch in keep or not unicodedata.category(ch).startswith("M")
    )
    return unicodedata.normalize("NFC", kept)


class Analyzer:
    """The generic analyzer: words, compatibility forms, case, digits; no stemming.

    Languages subclass it and change ``_fold`` (a word as compared) and ``_stem`` (the
    terms of a folded word).
    """

    language = ""

    # --- cutting a text into words ------------------------------------------------------

    def words(self, text: str) -> Iterator[_Word]:
        """The text's words, each with its offsets in ``text``."""
        for match in _WORD.finditer(text):
            raw = match.group()
            if _JOINED.search(raw) is None:
                yield _Word(raw, match.start(), match.end())
            else:
                yield from self._split(raw, match.start())

    def _split(self, raw: str, start: int) -> Iterator[_Word]:
        """A run of word characters joined by apostrophes or hyphens, as words."""
        for part, offset in _parts(raw, _HYPHENS):
            yield from self._apostrophes(part, start + offset)

    def _apostrophes(self, raw: str, start: int) -> Iterator[_Word]:
        for part, offset in _parts(raw, _APOSTROPHES):
            yield _Word(part, start + offset, start + offset + len(part))

    # --- a word's terms -----------------------------------------------------------------

    def _fold(self, word: str) -> str:
        word = unicodedata.normalize("NFKC", word)
        return _decimal_digits(word.replace(ZWNJ, "").replace(ZWJ, "")).casefold()

    def _stem(self, folded: str) -> tuple[str, ...]:
        return (folded,)

    def terms(self, word: str) -> tuple[str, ...]:
        """The terms of one word, its main one first; none for a word of marks alone."""
        return _terms_cached(self, word)

    def _terms(self, word: str) -> tuple[str, ...]:
        folded = self._fold(word)
        if not folded:
            return ()
        return tuple(dict.fromkeys(t for t in self._stem(folded) if t))

    def _index_terms(self, word: str) -> tuple[str, ...]:
        """What the index holds for a word: its terms, and its alternatives'."""
        return self.terms(word)

    def _query_clause(self, word: str) -> Clause:
        """What a query word asks for: one of its terms."""
        return tuple((term,) for term in self.terms(word))

    # --- texts and queries --------------------------------------------------------------

    def tokens(self, text: str) -> list[Token]:
        """The words of a text with the terms the index holds for each."""
        return _tokens_cached(self, text)

    def _tokens(self, text: str) -> list[Token]:
        tokens: list[Token] = []
        for word in self.words(text):
            terms = self._index_terms(word.text)
            if terms:
                tokens.append(Token(terms, word.start, word.end, len(tokens)))
        return tokens

    def query(self, text: str) -> Query:
        """A reader's query: each of its words, in any of its forms."""
        clauses: list[Clause] = []
        for word in self.words(text):
            clause = self._query_clause(word.text)
            if clause and clause not in clauses:
                clauses.append(clause)
        return Query(tuple(clauses))


@functools.lru_cache(maxsize=65_536)
def _terms_cached(analyzer: Analyzer, word: str) -> tuple[str, ...]:
    return analyzer._terms(word)


# The texts of the sections searches find most, analysed once (for their snippets).
@functools.lru_cache(maxsize=1024)
def _tokens_cached(analyzer: Analyzer, text: str) -> list[Token]:
    return analyzer._tokens(text)


def _parts(raw: str, separators: str) -> Iterator[tuple[str, int]]:
    """``raw`` cut at any of ``separators``: each part and its offset in ``raw``."""
    start = 0
    for index, ch in enumerate(raw):
        if ch in separators:
            if index > start:
                yield raw[start:index], start
            start = index + 1
    if start < len(raw):
        yield raw[start:], start


@functools.lru_cache(maxsize=16)
def _snowball(name: str) -> Any:
    return snowballstemmer.stemmer(name)


def _snowball_stem(name: str) -> Callable[[str], str]:
    stemmer = _snowball(name)
    stem: Callable[[str], str] = stemmer.stemWord
    return stem


# --- Latin script ------------------------------------------------------------------------


class _LatinAnalyzer(Analyzer):
    snowball = ""

    def _fold(self, word: str) -> str:
        word = super()._fold(word)
        return _without_marks(word).replace("œ", "oe").replace("æ", "ae")

    def _stem(self, folded: str) -> tuple[str, ...]:
        return (_snowball_stem(self.snowball)(folded),)


class EnglishAnalyzer(_LatinAnalyzer):
    language = "en"
    snowball = "english"

    def _apostrophes(self, raw: str, start: int) -> Iterator[_Word]:
        # Nation’s, Ummah's: the possessive goes; don’t stays one word.
        head, tail = _split_once(raw)
        if tail is None:
            yield _Word(raw, start, start + len(raw))
        elif tail.casefold() in ("s", ""):
            yield _Word(head, start, start + len(raw))
        else:
            yield _Word(head + tail, start, start + len(raw))


_FRENCH_ELISIONS = frozenset(
    {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}
)


class FrenchAnalyzer(_LatinAnalyzer):
    language = "fr"
    snowball = "french"

    def _apostrophes(self, raw: str, start: int) -> Iterator[_Word]:
        # l’Oumma, d’une, qu’elle: the elided word goes, the rest is the word.
        head, tail = _split_once(raw)
        if tail is not None and head.casefold() in _FRENCH_ELISIONS:
            offset = len(raw) - len(tail)
            yield from super()._apostrophes(tail, start + offset)
        else:
            yield from super()._apostrophes(raw, start)


def _split_once(raw: str) -> tuple[str, str | None]:
    for index, ch in enumerate(raw):
        if ch in _APOSTROPHES:
            return raw[:index], raw[index + 1 :]
    return raw, None


class TurkishAnalyzer(_LatinAnalyzer):
    language = "tr"
    snowball = "turkish"

    def _apostrophes(self, raw: str, start: int) -> Iterator[_Word]:
        # Milleti’nin, Ümmet’e, BM’de: the case suffix after the apostrophe goes.
        head, _tail = _split_once(raw)
        yield _Word(head, start, start + len(raw))

    def _fold(self, word: str) -> str:
        word = unicodedata.normalize("NFKC", word).replace("I", "ı").replace("İ", "i")
        return _without_marks(_decimal_digits(word).casefold(), keep="\u0306\u0308\u0327")

    def _stem(self, folded: str) -> tuple[str, ...]:
        stem = _snowball_stem(self.snowball)
        # Dotless ı read as i: ISLAM, ılışkıler and katilim find İslam, ilişkiler and
        # katılım. The stemmer checks vowel harmony, so it stems the word as written
        # (anlaşmaları) and as read with i (ılışkıler, typed without Turkish letters).
        return (stem(folded).replace("ı", "i"), stem(folded.replace("ı", "i")))


# A nasal prefix takes the place of the first letter of some words and not of others:
# memakai is me-pakai, memajukan is me-majukan. The stemmer reads one; these are both.
# (It also leaves per- behind mem-: memperkukuh is memper-kukuh.)
_NASAL_PREFIXES = (
    ("memper", ("",)),
    ("diper", ("",)),
    ("meny", ("s", "ny")),
    ("peny", ("s", "ny")),
    ("meng", ("k", "")),
    ("peng", ("k", "")),
    ("mem", ("p", "m")),
    ("pem", ("p", "m")),
    ("men", ("t", "n")),
    ("pen", ("t", "n")),
)
_VOWELS = frozenset("aeiou")
_MALAY_PARTICLES = ("nya", "lah", "kah", "pun", "ku", "mu")
_MALAY_SUFFIXES = ("kan", "an", "i")
_MALAY_MIN_BASE = 3


def _without_suffixes(word: str) -> str:
    """A word without its particle and its suffix (majukannya → maju)."""
    for group in (_MALAY_PARTICLES, _MALAY_SUFFIXES):
        for suffix in group:
            if word.endswith(suffix) and len(word) - len(suffix) >= _MALAY_MIN_BASE:
                word = word[: -len(suffix)]
                break
    return word


class IndonesianAnalyzer(_LatinAnalyzer):
    language = "id"
    snowball = "indonesian"

    def _split(self, raw: str, start: int) -> Iterator[_Word]:
        parts = list(_parts(raw, _HYPHENS))
        if len(parts) == 2 and self._fold(parts[0][0]) == self._fold(parts[1][0]):
            # bangsa-bangsa, forum-forum: the plural of one word.
            yield _Word(parts[0][0], start, start + len(raw))
            return
        yield from super()._split(raw, start)

    def _stem(self, folded: str) -> tuple[str, ...]:
        stem = _snowball_stem(self.snowball)
        # The word itself too: the stemmer takes a final -i for a suffix (damai → dama,
        # while perdamaian → damai).
        terms = [stem(folded), folded]
        for prefix, firsts in _NASAL_PREFIXES:
            rest = folded[len(prefix) :]
            nasal = bool(firsts[0])
            if folded.startswith(prefix) and len(rest) >= 3 and (rest[:1] in _VOWELS or not nasal):
                terms.extend(_without_suffixes(first + rest) for first in firsts)
                break
        return tuple(terms)


class MalayAnalyzer(IndonesianAnalyzer):
    language = "ms"


# --- Arabic script -----------------------------------------------------------------------


def _letters(mapping: dict[str, str]) -> dict[int, str]:
    return str.maketrans(mapping)


class _ArabicScriptAnalyzer(Analyzer):
    letters: dict[int, str] = {}
    # Parts of a joined word that never stand alone as a word a reader looks for.
    affixes: frozenset[str] = frozenset()

    def _fold(self, word: str) -> str:
        word = unicodedata.normalize("NFKC", word)
        # Marks (vowels, shadda, the dagger alef, hamza carried on a letter) go with NFD.
        word = _without_marks(word).replace(TATWEEL, "").replace(ZWJ, "")
        return _decimal_digits(word.translate(self.letters))

    def _terms(self, word: str) -> tuple[str, ...]:
        folded = self._fold(word)
        if not folded.replace(ZWNJ, ""):
            return ()
        terms = [*self._stem(folded), *self._stem(folded.replace(ZWNJ, ""))]
        return tuple(dict.fromkeys(t.replace(ZWNJ, "") for t in terms if t.replace(ZWNJ, "")))

    def _pieces(self, word: str) -> list[str]:
        """The parts of a word joined by non-joiners that are words of their own."""
        if ZWNJ not in word:
            return []
        pieces = [p for p in word.split(ZWNJ) if p]
        kept = [p for p in pieces if self._fold(p) not in self.affixes]
        return kept if len(pieces) > 1 else []

    def _index_terms(self, word: str) -> tuple[str, ...]:
        terms = list(self.terms(word))
        for piece in self._pieces(word):
            terms.extend(self.terms(piece))
        return tuple(dict.fromkeys(terms))

    def _query_clause(self, word: str) -> Clause:
        whole = tuple((term,) for term in self.terms(word))
        pieces = self._pieces(word)
        if len(pieces) < 2:
            return whole
        # Written with a space where the reader typed the non-joiner: every piece.
        spaced = tuple(self.terms(p)[0] for p in pieces if self.terms(p))
        return (*whole, spaced) if spaced else whole

    def query(self, text: str) -> Query:
        found = super().query(text)
        # A prefix or ending typed as a word of its own (می شود) says nothing alone.
        affix = {(term,) for term in self.affixes}
        clauses = tuple(c for c in found.clauses if not set(c) <= affix)
        return Query(clauses) if clauses else found


_AR_LETTERS = _letters(
    {
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ې": "ي",
        "ک": "ك",
        "ڪ": "ك",
        "ہ": "ه",
        "ھ": "ه",
        "ە": "ه",
        "ۃ": "ه",
        "ة": "ه",
        ZWNJ: "",
    }
)
# The article with the conjunctions and prepositions fused with it, longest first.
_AR_ARTICLES = (
    "وبال",
    "فبال",
    "وكال",
    "فكال",
    "وال",
    "فال",
    "بال",
    "كال",
    "ولل",
    "فلل",
    "لل",
    "ال",
)
_AR_CONJUNCTIONS = "وف"
# A lone ك (as) is left alone: كتاب is a book, not ك + تاب.
_AR_PREPOSITIONS = "بل"
# Light stemming's endings (Larkey, Ballesteros and Connell's light10, with teh marbuta
# read as heh), and the pronouns the glossary's forms know.
_AR_SUFFIXES = ("هما", "كما", "هم", "كم", "نا", "ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")
_AR_PRONOUNS = ("هما", "كما", "هم", "هن", "كم", "كن", "نا", "ها")
_AR_MIN_STEM = 2
_AR_TANWEEN_ALEF = re.compile("\u064b\u0627|\u0627\u064b")


class ArabicAnalyzer(_ArabicScriptAnalyzer):
    language = "ar"
    letters = _AR_LETTERS

    def _fold(self, word: str) -> str:
        # The alef that carries tanween (دورًا, a role) is no letter of the word.
        return super()._fold(_AR_TANWEEN_ALEF.sub("", word))

    def _stem(self, folded: str) -> tuple[str, ...]:
        stems: list[str] = []
        for base in _arabic_bases(folded):
            stems.append(_arabic_suffixes(base))
            for pronoun in _AR_PRONOUNS:
                # أمتنا (our nation): a teh before a pronoun was the word's teh marbuta.
                rest = base[: -len(pronoun)]
                if base.endswith(pronoun) and rest.endswith("ت") and len(rest) > 2:
                    stems.append(_arabic_suffixes(rest[:-1] + "ه"))
                    break
        # Snowball's Arabic stemmer, for what light stemming leaves (it also reads a word
        # as a verb by its first letter: its stem is one more term, never the only one).
        stems.append(_snowball_stem("arabic")(folded))
        return tuple(stems)


def _arabic_bases(word: str) -> list[str]:
    """The word without what is fused before it: the article with its conjunctions and
    prepositions (والأمن → امن, للأمة → امه), or else a lone conjunction or preposition,
    with and without it (وتعزيز → تعزيز; وجود, being, is also kept whole)."""
    for article in _AR_ARTICLES:
        # بالغة is not بال + غة: after more than the bare article, three letters remain.
        least = _AR_MIN_STEM if article == "ال" else _AR_MIN_STEM + 1
        if word.startswith(article) and len(word) - len(article) >= least:
            return [word[len(article) :]]
    bases = [word]
    rest = word
    if rest[:1] in _AR_CONJUNCTIONS and len(rest) > 3:
        rest = rest[1:]
        bases.insert(0, rest)
    if rest[:1] in _AR_PREPOSITIONS and len(rest) > 3:
        bases.insert(0, rest[1:])
    return bases


def _arabic_suffixes(word: str) -> str:
    """Light stemming's endings, taken off as long as a stem of two letters remains."""
    changed = True
    while changed:
        changed = False
        for suffix in _AR_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= _AR_MIN_STEM:
                word = word[: -len(suffix)]
                changed = True
                break
    return word


_FA_LETTERS = _letters(
    {
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
        "ة": "ه",
        "ۃ": "ه",
        "ہ": "ه",
        "ھ": "ه",
        "ۀ": "ه",
        "ٱ": "ا",
    }
)
_FA_ADJECTIVE = ("ای", "یی", "ی")
_FA_POSSESSIVES = ("شان", "تان", "مان", "ش")
_FA_MIN_STEM = 3


class PersianAnalyzer(_ArabicScriptAnalyzer):
    language = "fa"
    letters = _FA_LETTERS
    affixes = frozenset({"می", "نمی", "ها", "های", "هایی", "ای", "ی", "تر", "ترین", "اند", "ام"})

    def _stem(self, folded: str) -> tuple[str, ...]:
        stems = [_persian_stem(folded)]
        for possessive in _FA_POSSESSIVES:
            # امنیتش (its security): the possessive, when it is one, goes too.
            if folded.endswith(possessive) and len(folded) - len(possessive) >= _FA_MIN_STEM:
                stems.append(_persian_stem(folded[: -len(possessive)]))
                break
        return tuple(stems)


def _persian_stem(word: str) -> str:
    stem = _snowball_stem("persian")(word)
    for ending in _FA_ADJECTIVE:
        # امنیتی → امنیت → امن: the stemmer keeps the adjectival and indefinite yeh.
        if stem.endswith(ending) and len(stem) - len(ending) >= _FA_MIN_STEM:
            stem = _snowball_stem("persian")(stem[: -len(ending)])
            break
    if stem.endswith("ه") and len(stem) > _FA_MIN_STEM:
        # منطقه and منطقه‌ای: the silent heh the stemmer takes off before -ای.
        stem = stem[:-1]
    return stem


_UR_LETTERS = _letters(
    {
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
        "ه": "ہ",
        "ھ": "ہ",
        "ۀ": "ہ",
        "ة": "ہ",
        "ۃ": "ہ",
        "ٱ": "ا",
    }
)
# Plural and oblique endings, then the adjectival yeh and the final heh, longest first.
_UR_PLURALS = ("یاں", "یوں", "وں", "یں", "اں", "ات", "ے")
# ...and the endings of gender and of adjectives (ٹوٹا, ٹوٹی; علاقہ, علاقائی), as long as
# three letters remain: دنیا is not دن.
_UR_ENDINGS = ("ایی", "یہ", "ی", "ہ", "ا")
_UR_MIN_STEM = 2
_UR_MIN_BASE = 3


class UrduAnalyzer(_ArabicScriptAnalyzer):
    language = "ur"
    letters = _UR_LETTERS
    affixes = frozenset({"ہا", "ہائے", "ی", "تر", "ترین", "گی", "گر"})

    def _stem(self, folded: str) -> tuple[str, ...]:
        word = folded
        for ending in _UR_PLURALS:
            if word.endswith(ending) and len(word) - len(ending) >= _UR_MIN_STEM:
                word = word[: -len(ending)]
                break
        changed = True
        while changed:
            changed = False
            for ending in _UR_ENDINGS:
                if word.endswith(ending) and len(word) - len(ending) >= _UR_MIN_BASE:
                    word = word[: -len(ending)]
                    changed = True
                    break
        return (word,)


_ANALYZERS: dict[str, Analyzer] = {
    analyzer.language: analyzer
    for analyzer in (
        EnglishAnalyzer(),
        FrenchAnalyzer(),
        TurkishAnalyzer(),
        IndonesianAnalyzer(),
        MalayAnalyzer(),
        ArabicAnalyzer(),
        PersianAnalyzer(),
        UrduAnalyzer(),
    )
}
_GENERIC = Analyzer()


def analyzer(locale: str) -> Analyzer:
    """The analyzer of a locale's language (``ar-EG`` reads as ``ar``); generic otherwise."""
    return _ANALYZERS.get(wordforms.language(locale), _GENERIC)


def languages() -> Sequence[str]:
    """The languages with an analyzer of their own."""
    return tuple(_ANALYZERS)
