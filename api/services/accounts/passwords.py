"""Passwords: what makes one acceptable, and how it is hashed (argon2id) and checked.

Hashing uses argon2-cffi with argon2id at OWASP's first recommended setting: 19 MiB of
memory, 2 passes, 1 lane (``time_cost=2, memory_cost=19456, parallelism=1``), a 16-byte
salt and a 32-byte hash. One check costs about 50 ms on a 2-core server (docs/deploy.md);
``ARGON2_TIME_COST``, ``ARGON2_MEMORY_COST`` and ``ARGON2_PARALLELISM`` raise it. A hash
made with other parameters still verifies, and is replaced at the next sign-in.

A password is refused when it is shorter than 12 characters, when it is one of the common
passwords shipped beside this module (or one of them with digits or symbols added at the
end), or when it is the user's name.
"""

from __future__ import annotations

import string
import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext

from api.errors import Unprocessable

MIN_LENGTH = 12
# Long enough for any passphrase, short enough that nobody makes the server hash a book.
MAX_LENGTH = 1024

TIME_COST = 2
MEMORY_COST = 19_456  # KiB
PARALLELISM = 1

# 19,640 passwords from Royce Williams' list of the 20,000 most common (2017), lower case,
# as Django's CommonPasswordValidator ships it (BSD licence).
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt")
_DECORATION = string.digits + string.punctuation + " "


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(COMMON_PASSWORDS.read_text(encoding="utf-8").split())


@cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
    )


def hasher() -> PasswordHasher:
    """The hasher with this app's parameters."""
    config = current_app.config
    return _hasher(
        int(config.get("ARGON2_TIME_COST", TIME_COST)),
        int(config.get("ARGON2_MEMORY_COST", MEMORY_COST)),
        int(config.get("ARGON2_PARALLELISM", PARALLELISM)),
    )


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def problems(password: str, name: str | None) -> list[str]:
    """What is wrong with ``password`` for the user ``name``: nothing when it is fine."""
    if len(password) < MIN_LENGTH:
        return [gettext("Use at least %(min)s characters.", min=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [gettext("Use at most %(max)s characters.", max=MAX_LENGTH)]
    folded = _fold(password)
    core = folded.rstrip(_DECORATION)
    if name and _fold(name) in (folded, core, folded.strip(_DECORATION)):
        return [gettext("Choose a password that is not your name.")]
    if folded in common_passwords() or core in common_passwords():
        return [gettext("This password is too common: choose one that is harder to guess.")]
    return []


def check_new(password: str, name: str | None, field: str = "password") -> None:
    """Refuse an unacceptable password with a 422 naming ``field``."""
    found = problems(password, name)
    if found:
        raise Unprocessable(found[0], errors={field: found})


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with nothing stored, the cost is paid anyway.

    Checking a made-up hash when the account or its password does not exist keeps the
    answer's time the same, so timing does not tell which names exist.
    """
    if stored is None:
        _decoy_check(password)
        return False
    try:
        return hasher().verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return hasher().check_needs_rehash(stored)


def _decoy_check(password: str) -> None:
    try:
        hasher().verify(_decoy_hash(hasher()), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass


@cache
def _decoy_hash(ph: PasswordHasher) -> str:
    return ph.hash("not a password anyone has")
