"""Configuration: one class of safe defaults, overridden from the environment."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(click.ClickException, RuntimeError):
    """A missing or bad setting: the process stops with a message that names it.

    A ClickException so that ``flask …`` prints the message without a traceback, and a
    RuntimeError so that gunicorn's master does the same (``gunicorn.conf.py``).
    """


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _fallbacks(value: str) -> dict[str, list[str]]:
    """Parse ``ms:id,pt-BR:pt`` into ``{"ms": ["id"], "pt-BR": ["pt"]}``."""
    chains: dict[str, list[str]] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        locale, _, rest = item.partition(":")
        chains[locale.strip()] = [code.strip() for code in rest.split(">") if code.strip()]
    return chains


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _duration(name: str, value: str) -> float:
    """Seconds from ``432000``, ``90m``, ``36h``, ``5d`` or ``1w``."""
    found = _DURATION.match(value.lower())
    if found is None:
        raise ConfigError(f"{name} must be seconds or a duration such as 36h or 5d, not {value!r}")
    return float(found.group(1)) * _UNIT_SECONDS[found.group(2)]


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


class Config:
    """Settings with defaults that are safe for a single-machine deployment."""

    SECRET_KEY: str | None = None  # required: see ``load``
    SECRET_KEY_FALLBACKS: list[str] = []  # older keys still accepted, newest first
    SQLALCHEMY_DATABASE_URI: str = f"sqlite:///{ROOT / 'instance' / 'tarjuma.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    SOURCE_LOCALE = "en"
    DEFAULT_LOCALE = "en"
    LOCALES: list[str] = ["en", "ar", "fa", "fr", "id", "ms", "tr", "ur"]
    FALLBACKS: dict[str, list[str]] = {"ms": ["id"]}

    # Locales whose approved text is offered to translators beside the memory's matches,
    # after the locale's fallback chain (``TARJUMA_RELATED_LOCALES``, as ``ur:fa,fa:ur``).
    # None by default: the shipped Urdu and Persian texts share 3% of their words.
    RELATED_LOCALES: dict[str, list[str]] = {}

    ALLOW_SELF_REVIEW = False
    MAX_CONTENT_LENGTH = 1024 * 1024
    MAX_TRANSLATION_LENGTH = 20_000
    MAX_CATALOG_BYTES = 512 * 1024
    MAX_ESSAY_BYTES = 256 * 1024
    MAX_ESSAY_SECTIONS = 100
    MAX_ACCEPT_LANGUAGE = 1024
    REPRESENTATION_CACHE_SIZE = 512
    FEED_PAGE_CACHE_SIZE = 128  # full feed pages kept serialised per process (0: none)
    TM_MIN_SCORE = 70

    WORKER_THREADS = 4
    WORKER_POLL_INTERVAL = 0.1
    JOB_RETENTION_DAYS = 7  # done jobs older than this are deleted by the worker (0: kept)

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    BABEL_DOMAIN = "messages"

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_DEFAULT = "120 per minute"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = True
    # Invalid or revoked tokens one client may send before it is refused for a while.
    AUTH_FAILURE_LIMIT = "20 per minute"

    # --- Clients behind proxies, and limits shared between processes ---------------------
    # Proxies (addresses or CIDR ranges) whose ``X-Forwarded-For`` is believed: see
    # api/proxies.py. gunicorn believes their ``X-Forwarded-Proto`` too (gunicorn.conf.py).
    TRUSTED_PROXIES: list[str] = []
    # With ``RATELIMIT_STORAGE_URI=redis://…`` every process counts in one place. When that
    # storage cannot be reached, limits go on per process, in memory, until it answers
    # again (checked every RATELIMIT_STORAGE_RETRY seconds); a call to it may take at most
    # RATELIMIT_STORAGE_TIMEOUT seconds. RATELIMIT_KEY_PREFIX keeps deployments sharing one
    # Redis apart.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_TIMEOUT = 0.5
    RATELIMIT_STORAGE_RETRY = 5.0
    RATELIMIT_KEY_PREFIX = "tarjuma"

    # Origins (``https://app.example.org``) whose pages may write and send tokens; public
    # reads answer every origin.
    CORS_ORIGINS: list[str] = []

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False

    API_TITLE = "Tarjuma"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "v1/openapi.json"
    OPENAPI_REDOC_PATH = None
    # /api/docs is served by api.docs, Swagger UI's files included, not by flask-smorest
    # from a CDN: the reference works offline and under a policy of this origin alone.
    OPENAPI_SWAGGER_UI_PATH = None
    API_SPEC_OPTIONS: dict[str, Any] = {
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

    # Webhooks: seconds between attempts (the Standard Webhooks guidance: 5 s, 5 min,
    # 30 min, 2 h, 5 h, 10 h, 10 h), the timeout of one attempt, how much of an answer is
    # kept, and whether targets on loopback or private networks are allowed (tests, labs).
    WEBHOOK_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,36000"
    WEBHOOK_TIMEOUT = 10.0
    WEBHOOK_RESPONSE_BODY_LIMIT = 2048
    WEBHOOK_ALLOW_PRIVATE = False
    # A webhook whose every delivery has failed for this long is disabled (0: never).
    WEBHOOK_DISABLE_AFTER = 5 * 86400.0

    # The edge (deploy/varnish): where to purge, how long it keeps objects, who may purge.
    EDGE_PURGE_URLS: list[str] = []
    EDGE_PURGE_TIMEOUT = 2.0
    EDGE_TTL = 300
    EDGE_GRACE = 3600
    EDGE_FETCH_TIMEOUT = 30
    EDGE_PURGERS: list[str] = ["127.0.0.1", "::1"]
    EDGE_HOST = ""
    # Tests only: seconds a reader's body waits after being built (a fetch held in flight).
    READ_BUILD_DELAY = 0.0

    # Operations: logs and metrics (see docs/deploy.md). ``LOG_FORMAT`` is ``text`` or
    # ``json``; ``REQUEST_LOG`` writes one line per request. ``/metrics`` answers only
    # ``METRICS_ALLOWED`` (addresses or CIDR ranges); under gunicorn every worker counts
    # through ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py sets one up when unset).
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"
    REQUEST_LOG = True
    METRICS_ENABLED = True
    METRICS_ALLOWED: list[str] = ["127.0.0.0/8", "::1"]

    MIGRATIONS_DIR = str(ROOT / "migrations")
    ESSAY_SOURCE_DIR = str(ROOT / "content" / "essays")
    GLOSSARY_FILE = str(ROOT / "content" / "glossary.yaml")
    CATALOG_DIR = str(ROOT / "translations")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> dict[str, Any]:
        """The settings as a mapping, with environment overrides applied."""
        env = dict(os.environ if environ is None else environ)
        settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
        if url := env.get("DATABASE_URL"):
            settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
        if value := env.get("SECRET_KEY"):
            settings["SECRET_KEY"] = value
        elif value := env.get("SECRET_KEY_FILE"):
            settings["SECRET_KEY"] = _secret_key_file(value)
        if value := env.get("SECRET_KEY_FALLBACKS"):
            settings["SECRET_KEY_FALLBACKS"] = [k.strip() for k in value.split(",") if k.strip()]
        if value := env.get("WEBHOOK_DISABLE_AFTER"):
            settings["WEBHOOK_DISABLE_AFTER"] = _duration("WEBHOOK_DISABLE_AFTER", value)
        if value := env.get("TARJUMA_LOCALES"):
            settings["LOCALES"] = [code.strip() for code in value.split(",") if code.strip()]
        if value := env.get("CORS_ORIGINS"):
            settings["CORS_ORIGINS"] = [o.strip() for o in value.split(",") if o.strip()]
        if value := env.get("TARJUMA_FALLBACKS"):
            settings["FALLBACKS"] = _fallbacks(value)
        if value := env.get("TARJUMA_RELATED_LOCALES"):
            settings["RELATED_LOCALES"] = _fallbacks(value)
        for key in (
            "SOURCE_LOCALE",
            "DEFAULT_LOCALE",
            "RATELIMIT_STORAGE_URI",
            "RATELIMIT_DEFAULT",
            "WEBHOOK_RETRY_SCHEDULE",
            "AUTH_FAILURE_LIMIT",
        ):
            if value := env.get(key):
                settings[key] = value
        for key in (
            "MAX_CONTENT_LENGTH",
            "MAX_TRANSLATION_LENGTH",
            "MAX_CATALOG_BYTES",
            "MAX_ESSAY_BYTES",
            "MAX_ESSAY_SECTIONS",
            "REPRESENTATION_CACHE_SIZE",
            "FEED_PAGE_CACHE_SIZE",
            "TM_MIN_SCORE",
            "WORKER_THREADS",
            "JOB_RETENTION_DAYS",
            "WEBHOOK_RESPONSE_BODY_LIMIT",
        ):
            if value := env.get(key):
                settings[key] = int(value)
        if (value := env.get("EDGE_PURGE_URLS")) is not None:
            settings["EDGE_PURGE_URLS"] = [u.strip() for u in value.split(",") if u.strip()]
        if value := env.get("EDGE_PURGERS"):
            settings["EDGE_PURGERS"] = [a.strip() for a in value.split(",") if a.strip()]
        for key in ("EDGE_TTL", "EDGE_GRACE", "EDGE_FETCH_TIMEOUT"):
            if value := env.get(key):
                settings[key] = int(value)
        for key in ("EDGE_PURGE_TIMEOUT", "READ_BUILD_DELAY"):
            if value := env.get(key):
                settings[key] = float(value)
        if value := env.get("EDGE_HOST"):
            settings["EDGE_HOST"] = value
        if value := env.get("WORKER_POLL_INTERVAL"):
            settings["WORKER_POLL_INTERVAL"] = float(value)
        if value := env.get("WEBHOOK_TIMEOUT"):
            settings["WEBHOOK_TIMEOUT"] = float(value)
        settings["ALLOW_SELF_REVIEW"] = _bool(env.get("ALLOW_SELF_REVIEW"))
        settings["RATELIMIT_ENABLED"] = _bool(env.get("RATELIMIT_ENABLED"), True)
        settings["SESSION_COOKIE_SECURE"] = _bool(env.get("SESSION_COOKIE_SECURE"))
        settings["WEBHOOK_ALLOW_PRIVATE"] = _bool(env.get("WEBHOOK_ALLOW_PRIVATE"))
        settings.update(_clients_and_limits(env))
        settings.update(_operations(env))
        return settings


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings from the environment with ``overrides`` applied, checked once: a
    missing or bad one raises ConfigError, naming it."""
    settings = Config.from_env()
    settings.update(overrides or {})
    if not settings.get("SECRET_KEY"):
        raise ConfigError(
            "SECRET_KEY is not set: give every process the same long random SECRET_KEY"
            " (make run and make edge make their own)"
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


# --- Clients behind proxies, and limits shared between processes -------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(name: str, value: str | Iterable[str], *, strict: bool = True) -> tuple[Network, ...]:
    """A setting of addresses or CIDR ranges, comma-separated, checked; a bad one stops the
    process, naming the setting. ``strict`` refuses a range with host bits set."""
    items = value.split(",") if isinstance(value, str) else value
    found = []
    for item in filter(None, (part.strip() for part in items)):
        try:
            found.append(ipaddress.ip_network(item, strict=strict))
        except ValueError as error:
            raise ConfigError(
                f"{name}: {item!r} is not an address or CIDR range ({error})"
            ) from None
    return tuple(found)


def trusted_proxies(value: str | Iterable[str]) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES`` checked.

    A range with host bits set (``10.0.0.5/8``) is refused rather than guessed at, as
    gunicorn refuses it for ``forwarded_allow_ips``: trust is not the place to round.
    """
    return networks("TRUSTED_PROXIES", value)


def _seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ConfigError(f"{name}: a number of seconds above 0, not {value!r}")
    return seconds


def _clients_and_limits(env: dict[str, str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if (value := env.get("TRUSTED_PROXIES")) is not None:
        settings["TRUSTED_PROXIES"] = [str(network) for network in trusted_proxies(value)]
    for key in ("RATELIMIT_STORAGE_TIMEOUT", "RATELIMIT_STORAGE_RETRY"):
        if value := env.get(key):
            settings[key] = _seconds(key, value)
    if (value := env.get("RATELIMIT_KEY_PREFIX")) is not None:
        settings["RATELIMIT_KEY_PREFIX"] = value.strip()
    if (value := env.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED")) is not None:
        settings["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = _bool(value)
    return settings


# --- Logs and metrics ---------------------------------------------------------------------

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def log_format(env: Mapping[str, str]) -> str:
    """``LOG_FORMAT``, checked: ``text`` (the default) or ``json``; gunicorn.conf.py reads it."""
    value = env.get("LOG_FORMAT", "").strip().lower() or Config.LOG_FORMAT
    if value not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT: must be one of {', '.join(LOG_FORMATS)}, not {value!r}")
    return value


def _operations(env: dict[str, str]) -> dict[str, Any]:
    """Logs and metrics, checked."""
    settings: dict[str, Any] = {"LOG_FORMAT": log_format(env)}
    level = env.get("LOG_LEVEL", "").strip().upper() or Config.LOG_LEVEL
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL: must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    settings["LOG_LEVEL"] = level
    settings["REQUEST_LOG"] = _bool(env.get("REQUEST_LOG"), Config.REQUEST_LOG)
    settings["METRICS_ENABLED"] = _bool(env.get("METRICS_ENABLED"), Config.METRICS_ENABLED)
    if (value := env.get("METRICS_ALLOWED")) is not None:
        allowed = networks("METRICS_ALLOWED", value, strict=False)
        settings["METRICS_ALLOWED"] = [str(network) for network in allowed]
    return settings


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgres://`` and ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
