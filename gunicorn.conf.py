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
``LOG_FORMAT``         ``json`` or ``text`` (default), for gunicorn's logs as for the app's
``PROMETHEUS_MULTIPROC_DIR`` where the workers keep their metrics for ``/metrics`` to sum;
                       unset: a fresh directory for this run, removed when gunicorn stops.
                       Give ``flask worker`` the same directory to count its deliveries too.

The app's own settings (``api/config.py``) are checked before any worker starts.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# Before anything imports prometheus_client: it picks its multiprocess mode at import.
_METRICS = "PROMETHEUS_MULTIPROC_DIR"
_OWNED = "TARJUMA_METRICS_DIR_OWNED"
if not os.environ.get(_METRICS):
    os.environ[_METRICS] = tempfile.mkdtemp(prefix="tarjuma-metrics-")
    os.environ[_OWNED] = os.environ[_METRICS]

from api.config import read_one  # noqa: E402
from api.observability import gunicorn_logconfig  # noqa: E402


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

# The app writes one record per request (LOG_FORMAT); gunicorn's access log is off unless
# asked for, and then in the same format.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = gunicorn_logconfig(read_one("LOG_FORMAT"), loglevel.upper())
# gunicorn believes ``X-Forwarded-Proto`` (wsgi.url_scheme: the scheme of the absolute URLs
# the app writes) and its forwarder headers only from these peers. They are the proxies
# the app believes ``X-Forwarded-For`` from, so that one list says who is a proxy; with
# none (the default), nobody's is believed, loopback included.
forwarded_allow_ips = ",".join(read_one("TRUSTED_PROXIES"))
proc_name = "tarjuma"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server: Any) -> None:
    """Stop before any worker starts when a setting is missing or bad (SECRET_KEY…):
    gunicorn prints the ConfigError naming it and exits with status 1. Then forget the
    metrics of processes gone before this start (a ``flask worker`` sharing the directory
    keeps its own)."""
    from api.config import load

    load()
    directory = Path(os.environ[_METRICS])
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker gone: its live gauges go, its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    owned = os.environ.get(_OWNED)
    if owned and owned == os.environ.get(_METRICS):
        shutil.rmtree(owned, ignore_errors=True)
