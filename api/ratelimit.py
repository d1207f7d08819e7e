"""Rate limits shared between processes, and what happens when their storage is lost.

With ``RATELIMIT_STORAGE_URI=redis://…`` every gunicorn worker of every server counts
against one budget per client. Redis going away must not take the API with it: the first
call that fails switches this process to limits kept in its own memory (Flask-Limiter's
in-memory fallback), which is logged once and counted in
``tarjuma_ratelimit_storage_fallbacks_total``; every ``RATELIMIT_STORAGE_RETRY`` seconds
a request asks the storage whether it answers again, and the first that hears it does
switches back. Counts made in memory meanwhile are not carried over.

Flask-Limiter handles a failure of the limits it checks itself (writes), and comes back
on its own schedule (after up to about half a minute). The failed-authentication throttle
calls the strategy directly; :meth:`FallbackLimiter.shared` gives it the same fallback,
and the ``limiter`` property the same way back, so both kinds of limit are always kept in
the same place.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask
from flask_limiter import Limiter
from limits.errors import StorageError
from limits.strategies import RateLimiter
from prometheus_client import Counter

STORAGE_FALLBACKS = Counter(
    "tarjuma_ratelimit_storage_fallbacks_total",
    "Times a process lost the shared rate-limit storage and went on with limits in memory.",
)

# Storages whose client takes socket timeouts (redis-py); the others keep their defaults.
TIMEOUT_SCHEMES = frozenset({"redis", "rediss", "redis+unix"})

log = logging.getLogger(__name__)
_switch = threading.Lock()
T = TypeVar("T")


def _where(uri: str) -> str:
    """A storage URI fit for a log line: no user name or password."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class FallbackLimiter(Limiter):
    """Flask-Limiter, with every loss of its storage logged and counted, and a way back."""

    _retry_every = 5.0
    _retry_at = 0.0
    _storage_where = "memory://"

    # Flask-Limiter sets ``_storage_dead`` itself when it finds the storage gone and when it
    # finds it back; as a property, each change is seen here whoever made it.
    @property
    def _storage_dead(self) -> bool:
        return bool(self.__dict__.get("_lost", False))

    @_storage_dead.setter
    def _storage_dead(self, dead: bool) -> None:
        with _switch:
            was = self.__dict__.get("_lost", False)
            self.__dict__["_lost"] = dead
        if dead and not was:
            self._retry_at = time.monotonic() + self._retry_every
            STORAGE_FALLBACKS.inc()
            log.warning(
                "Rate-limit storage %s is unreachable: limits are kept per process, in memory,"
                " until it answers",
                self._storage_where,
            )
        elif was and not dead:
            log.warning(
                "Rate-limit storage %s answers again: limits are shared", self._storage_where
            )

    @property
    def limiter(self) -> RateLimiter:
        """The strategy on the shared storage, or on memory while the storage is lost."""
        if self._storage_dead and time.monotonic() >= self._retry_at:
            self._retry_at = time.monotonic() + self._retry_every
            if self.storage.check():
                self._storage_dead = False
        return super().limiter

    def shared(self, call: Callable[[RateLimiter], T]) -> T:
        """``call`` with the current strategy; if the storage fails, again in memory."""
        try:
            return call(self.limiter)
        except StorageError:
            if not self._in_memory_fallback_enabled:
                raise
            self._storage_dead = True
            return call(self.limiter)

    def init_app(self, app: Flask) -> None:
        config = app.config
        uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
        options: dict[str, Any] = {"wrap_exceptions": True}
        if uri.partition(":")[0] in TIMEOUT_SCHEMES:
            timeout = float(config["RATELIMIT_STORAGE_TIMEOUT"])
            options.update(socket_timeout=timeout, socket_connect_timeout=timeout)
        config["RATELIMIT_STORAGE_OPTIONS"] = {
            **options,
            **(config.get("RATELIMIT_STORAGE_OPTIONS") or {}),
        }
        # One limiter serves every app a process builds (tests build many): what the last
        # app said is not carried into the next.
        self._storage_options = {}
        self._key_prefix = ""
        self.limit_manager.set_default_limits([])
        self.__dict__["_lost"] = False
        self._storage_where = _where(uri)
        self._retry_every = float(config["RATELIMIT_STORAGE_RETRY"])
        self._retry_at = 0.0
        super().init_app(app)
