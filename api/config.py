"""Configuration: one table of settings, read from the environment and checked once.

Each row of ``SETTINGS`` names a setting, how its environment variable's text becomes a
value (no converter: the framework's own, fixed), its default and what it does.
``load()`` reads them all at start; a bad value stops the process with a ConfigError that
names the variable and the value. A variable left empty counts as unset, except where an
empty value means something of its own (``METRICS_ALLOWED=``: nobody). docs/deploy.md
lists every variable (tests/test_settings.py holds it to ``reference()``).
"""

from __future__ import annotations

import copy
import ipaddress
import math
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from limits import parse_many

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(click.ClickException, RuntimeError):
    """A missing or bad setting: the process stops with a message that names it.

    A ClickException so that ``flask …`` prints the message without a traceback, and a
    RuntimeError so that gunicorn's master does the same (``gunicorn.conf.py``).
    """


class Bad(ValueError):
    """Raised by a converter: what the setting must be, and what was wrong, if more."""

    def __init__(self, expected: str, detail: str = "") -> None:
        super().__init__(expected, detail)
        self.expected, self.detail = expected, detail


# --- converters: the text of a variable to a value, or Bad --------------------------------


def text(value: str) -> str:
    return value.strip()


def verbatim(value: str) -> str:
    """Kept exactly: a key's every character counts."""
    return value


def words(value: str) -> list[str]:
    """A comma-separated list."""
    return [item.strip() for item in value.split(",") if item.strip()]


def flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise Bad("true or false")


_WHOLE = re.compile(r"\s*[0-9]+\s*")


def count(value: str) -> int:
    """A whole number, 0 or more."""
    if not _WHOLE.fullmatch(value):
        raise Bad("a whole number, 0 or more")
    return int(value)


def number(value: str) -> float:
    """A number of seconds, 0 or more."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise Bad("a number of seconds, 0 or more")
    return seconds


def positive(value: str) -> float:
    """A number of seconds above 0."""
    try:
        seconds = number(value)
    except Bad:
        seconds = 0.0
    if not seconds > 0:
        raise Bad("a number of seconds above 0")
    return seconds


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration(value: str) -> float:
    """Seconds from ``432000``, ``90m``, ``36h``, ``5d`` or ``1w``."""
    found = _DURATION.match(value.lower())
    if found is None:
        raise Bad("seconds or a duration such as 36h or 5d")
    return float(found.group(1)) * _UNIT_SECONDS[found.group(2)]


def schedule(value: str) -> str:
    """Seconds before each retry, comma-separated; kept as written."""
    for part in words(value):
        number(part)
    return value.strip()


def rate_limit(value: str) -> str:
    """A rate limit such as ``120 per minute`` (several: separated by ``;``)."""
    try:
        parse_many(value)
    except ValueError:
        raise Bad("a rate limit such as 120 per minute") from None
    return value.strip()


def hour(value: str) -> int:
    if not value.strip().isdigit() or not 0 <= int(value) <= 23:
        raise Bad("an hour of the day, 0 to 23")
    return int(value)


def smtp_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise Bad("smtp://host:port or smtps://host:port")
    return value.strip()


def base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Bad("an http:// or https:// URL")
    return value.strip().rstrip("/")


def chains(value: str) -> dict[str, list[str]]:
    """``ms:id,pt-BR:pt>es`` as ``{"ms": ["id"], "pt-BR": ["pt", "es"]}``."""
    found: dict[str, list[str]] = {}
    for item in words(value):
        locale, colon, rest = item.partition(":")
        if not (colon and locale.strip()):
            raise Bad("locale:locale pairs, comma-separated, such as ms:id", f"in {item!r}")
        found[locale.strip()] = [code.strip() for code in rest.split(">") if code.strip()]
    return found


def one_of(*choices: str) -> Callable[[str], str]:
    """One of ``choices``, in any case."""

    def choice(value: str) -> str:
        for known in choices:
            if value.strip().lower() == known.lower():
                return known
        raise Bad(f"one of {', '.join(choices)}")

    return choice


def urls(value: str) -> list[str]:
    """``http://`` or ``https://`` URLs with a host, comma-separated."""
    found = words(value)
    for url in found:
        if not re.match(r"^https?://[^/\s]+", url):
            raise Bad("http:// or https:// URLs, comma-separated", f"{url!r} is not one")
    return found


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(items: str | Iterable[str], strict: bool) -> tuple[Network, ...]:
    found = []
    for item in words(items) if isinstance(items, str) else filter(None, map(str.strip, items)):
        try:
            found.append(ipaddress.ip_network(item, strict=strict))
        except ValueError as error:
            raise Bad(
                "addresses or CIDR ranges, comma-separated",
                f"{item!r} is not an address or CIDR range ({error})",
            ) from None
    return tuple(found)


def addresses(*, strict: bool) -> Callable[[str], list[str]]:
    """Addresses or CIDR ranges, comma-separated; ``strict`` refuses a range with host
    bits set (``10.0.0.5/8``) rather than guess at it."""

    def convert(value: str) -> list[str]:
        return [str(network) for network in _networks(value, strict)]

    return convert


# --- the secret key ----------------------------------------------------------------------
# Production sets SECRET_KEY (and SECRET_KEY_FALLBACKS while rotating it). ``make run`` and
# ``make edge`` set SECRET_KEY_FILE instead, to a random key made once in ``instance/``
# (``new_key_file``); no key is written in the source.


def _secret_key_file(path: str) -> str:
    try:
        key = Path(path).read_text().strip()
    except OSError as error:
        raise ConfigError(f"SECRET_KEY_FILE {path} cannot be read: {error.strerror}") from None
    if not key:
        raise ConfigError(f"SECRET_KEY_FILE {path} is empty")
    return key


def new_key_file(path: str) -> None:
    """Write a random key to ``path``, readable by its owner only, unless it exists."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(48) + "\n")


# --- the table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting: its key in ``app.config``, how the environment's text becomes its value
    (None: fixed, not read from the environment), its default and what it does.

    ``env`` names the variable when it is not the key; ``keep_empty`` takes an empty
    variable as a value rather than as unset; ``shown`` is the default as docs/deploy.md
    writes it, where the value itself would say less.
    """

    key: str
    convert: Callable[[str], Any] | None
    default: Any
    doc: str
    env: str | None = None
    keep_empty: bool = False
    shown: str | None = None

    @property
    def variable(self) -> str | None:
        """The environment variable that sets it, if any."""
        return None if self.convert is None else self.env or self.key

    def read(self, environ: Mapping[str, str]) -> Any:
        """The value from ``environ``, else the default; a bad one raises ConfigError."""
        raw = environ.get(self.variable) if self.variable else None
        if raw is None or self.convert is None or not (raw.strip() or self.keep_empty):
            return copy.deepcopy(self.default)
        try:
            return self.convert(raw)
        except Bad as bad:
            detail = f" ({bad.detail})" if bad.detail else ""
            raise ConfigError(
                f"{self.variable} must be {bad.expected}, not {raw!r}{detail}"
            ) from None


_SQLITE = f"sqlite:///{ROOT / 'instance' / 'tarjuma.db'}"
_SPEC_OPTIONS: dict[str, Any] = {
    "info": {
        "description": (
            "Tarjuma serves essays section by section in many languages, and runs the"
            " translation workflow behind them."
        )
    },
    "components": {
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": (
                    "An API token. One made on the command line may do all its user's"
                    " role may; a personal token (``POST /api/v1/me/tokens``) only what"
                    " its scopes allow: each operation names the scope it needs. A"
                    " request outside them is refused with 403 and ``required_scope``,"
                    " an expired token with 401."
                ),
            }
        },
    },
}

SETTINGS: tuple[Setting, ...] = (
    # The key and the database: every process needs the same.
    Setting(
        "SECRET_KEY",
        verbatim,
        None,
        "signs console sessions and seals webhook secrets; required, the same everywhere",
        shown="none: required",
    ),
    Setting(
        "SECRET_KEY_FILE",
        text,
        None,
        "a file holding the key, read when `SECRET_KEY` is unset (`make run` makes one)",
        shown="none",
    ),
    Setting(
        "SECRET_KEY_FALLBACKS",
        words,
        [],
        "older keys still accepted while rotating, comma-separated, newest first",
    ),
    Setting(
        "SQLALCHEMY_DATABASE_URI",
        text,
        _SQLITE,
        "the database; `postgres://` and `postgresql://` URLs are given the psycopg driver",
        env="DATABASE_URL",
        shown="SQLite, `instance/tarjuma.db`",
    ),
    Setting("SQLALCHEMY_ENGINE_OPTIONS", None, {"pool_pre_ping": True}, "checked connections"),
    Setting("SQLALCHEMY_TRACK_MODIFICATIONS", None, False, "no per-object change signals"),
    Setting("MIGRATIONS_DIR", None, str(ROOT / "migrations"), "the Alembic migrations"),
    # Locales.
    Setting("SOURCE_LOCALE", text, "en", "the language essays are written in"),
    Setting("DEFAULT_LOCALE", text, "en", "the locale of a reader who accepts none offered"),
    Setting(
        "LOCALES",
        words,
        ["en", "ar", "fa", "fr", "id", "ms", "tr", "ur"],
        "the offered locales, comma-separated",
        env="TARJUMA_LOCALES",
    ),
    Setting(
        "FALLBACKS",
        chains,
        {"ms": ["id"]},
        "what a locale falls back to before the source, as `ms:id,pt-BR:pt>es`",
        env="TARJUMA_FALLBACKS",
    ),
    # None by default: the shipped Urdu and Persian texts share 3% of their words.
    Setting(
        "RELATED_LOCALES",
        chains,
        {},
        "offered locales whose approved text translators see beside the memory's matches,"
        " as `ur:fa,fa:ur`",
        env="TARJUMA_RELATED_LOCALES",
    ),
    Setting("BABEL_DEFAULT_LOCALE", None, "en", "the API's own messages"),
    Setting("BABEL_TRANSLATION_DIRECTORIES", None, str(ROOT / "translations"), "their catalogs"),
    Setting("BABEL_DOMAIN", None, "messages", "their domain"),
    Setting("MAX_ACCEPT_LANGUAGE", None, 1024, "characters of Accept-Language read"),
    # The workflow and its sizes.
    Setting("ALLOW_SELF_REVIEW", flag, False, "a translator may approve their own work"),
    Setting("MAX_CONTENT_LENGTH", count, 1024 * 1024, "bytes of a request body"),
    Setting("MAX_TRANSLATION_LENGTH", count, 20_000, "characters of one translated section"),
    Setting("MAX_CATALOG_BYTES", count, 512 * 1024, "bytes of an uploaded catalog"),
    Setting("MAX_ESSAY_BYTES", count, 256 * 1024, "bytes of an imported essay"),
    Setting("MAX_ESSAY_SECTIONS", count, 100, "sections of an imported essay"),
    Setting("TM_MIN_SCORE", count, 70, "the lowest score of a translation-memory match shown"),
    Setting("ESSAY_SOURCE_DIR", None, str(ROOT / "content" / "essays"), "what `seed` imports"),
    Setting("GLOSSARY_FILE", None, str(ROOT / "content" / "glossary.yaml"), "and its glossary"),
    Setting("CATALOG_DIR", None, str(ROOT / "translations"), "and its catalogs"),
    # Reads.
    Setting("REPRESENTATION_CACHE_SIZE", count, 512, "serialised public reads kept per process"),
    Setting(
        "FEED_PAGE_CACHE_SIZE", count, 128, "full change-feed pages kept per process (0: none)"
    ),
    Setting(
        "READ_BUILD_DELAY",
        number,
        0.0,
        "tests only: seconds a read waits after building its body (a fetch held in flight)",
    ),
    # The worker.
    Setting("WORKER_THREADS", count, 4, "threads of `flask worker`, one job each"),
    Setting("WORKER_POLL_INTERVAL", number, 0.1, "seconds an idle worker waits between looks"),
    Setting(
        "WORKER_STOP_TIMEOUT",
        positive,
        30.0,
        "seconds a stopped worker gives the jobs under way before it exits (a second"
        " signal stops it at once; an unfinished job runs again after its lease)",
    ),
    Setting(
        "JOB_RETENTION_DAYS",
        count,
        7,
        "days done jobs are kept before the worker deletes them (0: kept)",
    ),
    # Limits, clients behind proxies and browsers.
    Setting("RATELIMIT_ENABLED", flag, True, "limits on writes and failed sign-ins"),
    Setting("RATELIMIT_DEFAULT", rate_limit, "120 per minute", "writes per client"),
    Setting(
        "AUTH_FAILURE_LIMIT",
        rate_limit,
        "20 per minute",
        "invalid or revoked tokens and wrong passwords one client may send before it is"
        " refused for a while",
    ),
    Setting(
        "ACCOUNT_SIGN_IN_FAILURE_LIMIT",
        rate_limit,
        "10 per 15 minutes",
        "wrong passwords for one account name, from anywhere, before it is refused a while",
    ),
    # Password hashing (argon2id): see api/services/accounts/passwords.py; a hash made with
    # other values is redone at its owner's next sign-in.
    Setting("ARGON2_TIME_COST", count, 2, "argon2id passes"),
    Setting("ARGON2_MEMORY_COST", count, 19_456, "argon2id memory, in KiB"),
    Setting("ARGON2_PARALLELISM", count, 1, "argon2id lanes"),
    Setting(
        "RATELIMIT_STORAGE_URI",
        text,
        "memory://",
        "where limits are counted; `redis://…` shares them between processes",
    ),
    Setting(
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED",
        flag,
        True,
        "while that storage is unreachable, count per process rather than fail",
    ),
    Setting("RATELIMIT_STORAGE_TIMEOUT", positive, 0.5, "seconds one call to it may take"),
    Setting(
        "RATELIMIT_STORAGE_RETRY", positive, 5.0, "seconds between checks that it answers again"
    ),
    Setting(
        "RATELIMIT_KEY_PREFIX",
        text,
        "tarjuma",
        "keeps deployments sharing one storage apart",
        keep_empty=True,
    ),
    Setting("RATELIMIT_HEADERS_ENABLED", None, True, "limits are told in response headers"),
    Setting(
        "TRUSTED_PROXIES",
        addresses(strict=True),
        [],
        "proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed",
        keep_empty=True,
    ),
    Setting(
        "CORS_ORIGINS",
        words,
        [],
        "origins whose pages may write and send tokens; public reads answer every origin",
    ),
    Setting("SESSION_COOKIE_SECURE", flag, False, "the console's cookie over HTTPS only"),
    Setting("SESSION_COOKIE_HTTPONLY", None, True, "the console's cookie hidden from scripts"),
    Setting("SESSION_COOKIE_SAMESITE", None, "Lax", "and kept from other sites' posts"),
    Setting(
        "CONSOLE_SESSION_LIFETIME", None, timedelta(hours=12), "a console sign-in lasts this long"
    ),
    # The JSON API needs no CSRF tokens (bearer tokens, never cookies); the console checks
    # every POST itself, and a token lives as long as the session.
    Setting("WTF_CSRF_CHECK_DEFAULT", None, False, "CSRF checked by the console's views"),
    Setting("WTF_CSRF_TIME_LIMIT", None, None, "a CSRF token lasts as long as its session"),
    # The OpenAPI document. /api/docs is served by api.docs, Swagger UI's files included,
    # not by flask-smorest from a CDN: it works offline, under a policy of this origin.
    Setting("API_TITLE", None, "Tarjuma", "the API's name"),
    Setting("API_VERSION", None, "v1", "its version"),
    Setting("OPENAPI_VERSION", None, "3.1.0", "the OpenAPI version of its document"),
    Setting("OPENAPI_URL_PREFIX", None, "/api", "where the document is served"),
    Setting("OPENAPI_JSON_PATH", None, "v1/openapi.json", "under that prefix"),
    Setting("OPENAPI_REDOC_PATH", None, None, "no ReDoc page"),
    Setting("OPENAPI_SWAGGER_UI_PATH", None, None, "no CDN Swagger UI (see api.docs)"),
    Setting("API_SPEC_OPTIONS", None, _SPEC_OPTIONS, "the document's description and auth"),
    # Webhooks (retries: the Standard Webhooks guidance's 5 s, 5 min, 30 min, 2 h, 5 h,
    # 10 h, 10 h).
    Setting(
        "WEBHOOK_RETRY_SCHEDULE",
        schedule,
        "5,300,1800,7200,18000,36000,36000",
        "seconds before each retry, comma-separated; then the delivery has failed",
    ),
    Setting("WEBHOOK_TIMEOUT", number, 10.0, "seconds for one attempt"),
    Setting("WEBHOOK_RESPONSE_BODY_LIMIT", count, 2048, "bytes of a receiver's answer kept"),
    Setting(
        "WEBHOOK_ALLOW_PRIVATE",
        flag,
        False,
        "targets on loopback or private networks are allowed (tests, labs)",
    ),
    Setting(
        "WEBHOOK_DISABLE_AFTER",
        duration,
        5 * 86400.0,
        "a webhook whose every delivery failed this long (seconds, or `90m`, `36h`, `5d`,"
        " `1w`) is disabled; 0: never",
        shown="`5d`",
    ),
    # Notifications by email (api/services/notify): sent by the worker, never in a request.
    Setting(
        "SMTP_URL",
        smtp_url,
        "",
        "the mail server, `smtp://host:port` (STARTTLS when offered) or `smtps://host:port`,"
        " with `user:password@` when it asks; unset: notifications stay in the console",
        shown="none",
    ),
    Setting("MAIL_FROM", text, "Tarjuma <tarjuma@localhost>", "the sender of every mail"),
    Setting(
        "PUBLIC_BASE_URL",
        base_url,
        "http://localhost:5000",
        "where people reach this server: the links in mail start with it",
    ),
    Setting("DIGEST_HOUR", hour, 7, "the hour (UTC, 0 to 23) daily digests go out"),
    Setting(
        "MAIL_RETRY_SCHEDULE",
        schedule,
        "10,60,300,1800,7200,21600",
        "seconds before each new try of a mail the server refused or could not take;"
        " then it has failed",
    ),
    Setting("SMTP_TIMEOUT", positive, 10.0, "seconds one exchange with the mail server may take"),
    # The edge (deploy/varnish).
    Setting(
        "EDGE_PURGE_URLS",
        urls,
        [],
        "every edge to purge after a change, comma-separated",
        keep_empty=True,
    ),
    Setting("EDGE_PURGE_TIMEOUT", number, 2.0, "seconds one purge may take"),
    Setting("EDGE_TTL", count, 300, "seconds the edge keeps an object"),
    Setting("EDGE_GRACE", count, 3600, "seconds past that it may serve it while the app is away"),
    Setting("EDGE_FETCH_TIMEOUT", count, 30, "seconds the edge waits for the app's first byte"),
    Setting(
        "EDGE_PURGERS",
        addresses(strict=False),
        ["127.0.0.1", "::1"],
        "addresses or CIDR ranges the edge takes purges from: the app's",
    ),
    Setting(
        "EDGE_HOST",
        text,
        "",
        "the Host of the edge's fetches (default: the first backend's address)",
        shown="none",
    ),
    # Logs and metrics (see docs/deploy.md); gunicorn.conf.py reads LOG_FORMAT too.
    Setting("LOG_FORMAT", one_of("text", "json"), "text", "`text` or `json`, one object a line"),
    Setting(
        "LOG_LEVEL",
        one_of("DEBUG", "INFO", "WARNING", "ERROR"),
        "INFO",
        "`DEBUG`, `INFO`, `WARNING` or `ERROR`",
    ),
    Setting("REQUEST_LOG", flag, True, "one record per request"),
    Setting("METRICS_ENABLED", flag, True, "`/metrics`, and counting for it"),
    Setting(
        "METRICS_ALLOWED",
        addresses(strict=False),
        ["127.0.0.0/8", "::1"],
        "addresses or CIDR ranges that may read `/metrics` (empty: nobody)",
        keep_empty=True,
    ),
)

SETTING = {setting.key: setting for setting in SETTINGS}


def read(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting, from ``environ`` (the process's environment) or its default."""
    env = os.environ if environ is None else environ
    return {setting.key: setting.read(env) for setting in SETTINGS}


def read_one(key: str, environ: Mapping[str, str] | None = None) -> Any:
    """One setting, for gunicorn.conf.py, which needs two before the app is built."""
    return SETTING[key].read(os.environ if environ is None else environ)


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings from the environment with ``overrides`` applied, checked once: a
    missing or bad one raises ConfigError, naming it."""
    settings = read()
    settings.update(overrides or {})
    if not settings.get("SECRET_KEY") and settings.get("SECRET_KEY_FILE"):
        settings["SECRET_KEY"] = _secret_key_file(settings["SECRET_KEY_FILE"])
    if not settings.get("SECRET_KEY"):
        raise ConfigError(
            "SECRET_KEY is not set: give every process the same long random SECRET_KEY"
            " (make run and make edge make their own)"
        )
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        settings["SQLALCHEMY_DATABASE_URI"]
    )
    _check_related(settings)
    return settings


def _check_related(settings: dict[str, Any]) -> None:
    """``RELATED_LOCALES`` names offered locales only."""
    offered = set(settings["LOCALES"])
    for code, related in settings["RELATED_LOCALES"].items():
        unknown = [c for c in [code, *related] if c not in offered]
        if unknown:
            raise ConfigError(
                f"TARJUMA_RELATED_LOCALES names locales that are not offered: {unknown}"
            )


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgres://`` and ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def networks(name: str, value: str | Iterable[str], *, strict: bool = True) -> tuple[Network, ...]:
    """A setting of addresses or CIDR ranges as networks, for the code that tests
    addresses against them; a bad one raises ConfigError, naming the setting."""
    try:
        return _networks(value, strict)
    except Bad as bad:
        raise ConfigError(f"{name} must be {bad.expected}, not {value!r} ({bad.detail})") from None


def trusted_proxies(value: str | Iterable[str]) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES`` as networks. A range with host bits set (``10.0.0.5/8``) is
    refused rather than guessed at, as gunicorn refuses it for ``forwarded_allow_ips``:
    trust is not the place to round."""
    return networks("TRUSTED_PROXIES", value)


def reference() -> str:
    """The Markdown table of every variable, as docs/deploy.md shows it."""
    rows = ["| variable | default | |", "| --- | --- | --- |"]
    for setting in SETTINGS:
        if setting.variable is not None:
            rows.append(f"| `{setting.variable}` | {_shown(setting)} | {setting.doc} |")
    return "\n".join(rows)


def _shown(setting: Setting) -> str:
    if setting.shown is not None:
        return setting.shown
    value = setting.default
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, list):
        value = ",".join(value)
    elif isinstance(value, dict):
        value = ",".join(f"{code}:{'>'.join(chain)}" for code, chain in value.items())
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`" if value != "" else "none"
