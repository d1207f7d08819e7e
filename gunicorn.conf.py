"""Gunicorn settings for production: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value comes from the environment, with defaults for one machine:

``WEB_CONCURRENCY`` or ``GUNICORN_WORKERS``  worker processes (default: 2 per core, plus one)
``GUNICORN_THREADS``   threads per worker (default 1: sync workers; more: gthread workers)
``HOST`` / ``PORT``    where to listen (default 127.0.0.1:5000)
``GUNICORN_TIMEOUT``   seconds a request may take before its worker is restarted (default 30)
``GUNICORN_KEEPALIVE`` seconds an idle keep-alive connection stays open (default 5)
``GUNICORN_ACCESS_LOG`` a file, or ``-`` for stdout; unset for no access log
``GUNICORN_LOG_LEVEL`` error log level (default info)
``TRUSTED_PROXIES``    the app's own setting (api/config.py), read here too: see below

The app's own settings (``api/config.py``) are checked before any worker starts.
"""

from __future__ import annotations

import multiprocessing
import os

from api.config import trusted_proxies


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _workers() -> int:
    for name in ("WEB_CONCURRENCY", "GUNICORN_WORKERS"):
        if os.environ.get(name, "").strip():
            return max(1, _int(name, 1))
    return multiprocessing.cpu_count() * 2 + 1


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{_int('PORT', 5000)}"
workers = _workers()
threads = max(1, _int("GUNICORN_THREADS", 1))
worker_class = "gthread" if threads > 1 else "sync"

# Each worker builds its own app, and so its own connection pool: connections opened
# before a fork would be shared by several processes.
preload_app = False

timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0)

limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn believes ``X-Forwarded-Proto`` (wsgi.url_scheme: the scheme of the absolute URLs
# the app writes) and its forwarder headers only from these peers. They are the proxies
# the app believes ``X-Forwarded-For`` from, so that one list says who is a proxy; with
# none (the default), nobody's is believed, loopback included.
forwarded_allow_ips = ",".join(
    str(n) for n in trusted_proxies(os.environ.get("TRUSTED_PROXIES", ""))
)
proc_name = "tarjuma"


def on_starting(server: object) -> None:
    """Stop before any worker starts when a setting is missing or bad (SECRET_KEY…):
    gunicorn prints the ConfigError naming it and exits with status 1."""
    from api.config import load

    load()
