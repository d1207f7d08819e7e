"""Settings: one table, read once at start; a bad value names its variable and itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.config import SETTING, SETTINGS, ConfigError, load, read, reference

ROOT = Path(__file__).resolve().parent.parent


def test_every_variable_is_documented_as_the_table_says() -> None:
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    assert reference() in deploy, (
        "docs/deploy.md's table of settings differs from api/config.py; put in its place:\n"
        + reference()
    )
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", reference(), re.MULTILINE))
    assert documented == {s.variable for s in SETTINGS if s.variable}


def test_unset_and_empty_variables_give_the_defaults() -> None:
    unset = read({})
    empty = read({s.variable: "" for s in SETTINGS if s.variable and not s.keep_empty})
    assert unset == empty
    assert unset["LOCALES"] == ["en", "ar", "fa", "fr", "id", "ms", "tr", "ur"]
    assert unset["RATELIMIT_ENABLED"] is True
    assert unset["WTF_CSRF_TIME_LIMIT"] is None
    assert unset["CONSOLE_SESSION_LIFETIME"].total_seconds() == 12 * 3600


def test_an_empty_variable_that_means_none_is_kept() -> None:
    settings = read({"METRICS_ALLOWED": "", "RATELIMIT_KEY_PREFIX": ""})
    assert settings["METRICS_ALLOWED"] == []
    assert settings["RATELIMIT_KEY_PREFIX"] == ""


def test_defaults_are_not_shared_between_reads() -> None:
    first = read({})
    first["LOCALES"].append("xx")
    first["FALLBACKS"]["ms"].append("xx")
    assert read({})["LOCALES"] == SETTING["LOCALES"].default
    assert "xx" not in SETTING["FALLBACKS"].default["ms"]


@pytest.mark.parametrize(
    ("variable", "value", "key", "expected"),
    [
        ("WORKER_THREADS", "8", "WORKER_THREADS", 8),
        ("WORKER_POLL_INTERVAL", "0.5", "WORKER_POLL_INTERVAL", 0.5),
        ("ALLOW_SELF_REVIEW", "Yes", "ALLOW_SELF_REVIEW", True),
        ("RATELIMIT_ENABLED", "off", "RATELIMIT_ENABLED", False),
        ("TARJUMA_LOCALES", "en, ar ,", "LOCALES", ["en", "ar"]),
        (
            "TARJUMA_FALLBACKS",
            "ms:id,pt-BR:pt>es",
            "FALLBACKS",
            {"ms": ["id"], "pt-BR": ["pt", "es"]},
        ),
        ("LOG_FORMAT", "JSON", "LOG_FORMAT", "json"),
        ("LOG_LEVEL", "debug", "LOG_LEVEL", "DEBUG"),
        ("EDGE_PURGERS", "10.0.0.5/8", "EDGE_PURGERS", ["10.0.0.0/8"]),
        (
            "EDGE_PURGE_URLS",
            "http://a:6081, https://b",
            "EDGE_PURGE_URLS",
            ["http://a:6081", "https://b"],
        ),
        ("AUTH_FAILURE_LIMIT", "5 per minute", "AUTH_FAILURE_LIMIT", "5 per minute"),
        ("WEBHOOK_RETRY_SCHEDULE", "0,0", "WEBHOOK_RETRY_SCHEDULE", "0,0"),
        ("DATABASE_URL", "postgresql://u@h/d", "SQLALCHEMY_DATABASE_URI", "postgresql://u@h/d"),
    ],
)
def test_a_variable_sets_its_setting(variable: str, value: str, key: str, expected: object) -> None:
    assert read({variable: value})[key] == expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WORKER_THREADS", "four"),
        ("MAX_CONTENT_LENGTH", "-1"),
        ("EDGE_TTL", "5m"),
        ("WORKER_POLL_INTERVAL", "soon"),
        ("WEBHOOK_TIMEOUT", "nan"),
        ("EDGE_PURGE_TIMEOUT", "-2"),
        ("ALLOW_SELF_REVIEW", "maybe"),
        ("METRICS_ENABLED", "enabled"),
        ("TARJUMA_FALLBACKS", "ms-id"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "loud"),
        ("METRICS_ALLOWED", "localhost"),
        ("EDGE_PURGERS", "varnish"),
        ("EDGE_PURGE_URLS", "varnish:6081"),
        ("RATELIMIT_DEFAULT", "many"),
        ("AUTH_FAILURE_LIMIT", "20 per fortnight"),
        ("WEBHOOK_RETRY_SCHEDULE", "5,later"),
        ("WEBHOOK_DISABLE_AFTER", "five days"),
        ("RATELIMIT_STORAGE_RETRY", "0"),
        ("TRUSTED_PROXIES", "10.0.0.5/8"),
    ],
)
def test_a_bad_value_stops_the_process_naming_the_variable_and_the_value(
    variable: str, value: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        read({variable: value})
    message = raised.value.format_message()
    assert message.startswith(f"{variable} must be ")
    assert repr(value) in message


@pytest.mark.parametrize(
    "url",
    ["postgres://u@h/d", "postgresql://u@h/d", "postgresql+psycopg://u@h/d"],
)
def test_the_database_url_is_given_the_driver_once_from_either_source(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert load({"SECRET_KEY": "k"})["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"
    monkeypatch.delenv("DATABASE_URL")
    given = load({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url})
    assert given["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"


def test_the_key_file_is_read_only_when_no_key_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "key").write_text("from-the-file\n")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "key"))
    assert load()["SECRET_KEY"] == "from-the-file"
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert load()["SECRET_KEY"] == "from-the-environment"
