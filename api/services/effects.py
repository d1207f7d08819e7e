"""What follows a change: one spine from the event a change writes to everything after it.

Every change records its event with ``audit.record`` inside the writer's transaction. The
app's derivers (``Derivers``, registered in ``create_app`` in the order each event meets
them) turn that event into whatever else must happen, so that no service calls a feed
writer, a webhook sender or a cache purge by hand:

- inside the same transaction, rows that commit with the change or not at all (a feed
  position, webhook deliveries, an outbox job for the edge's purge);
- ``api.database.before_commit``: once per transaction and key, just before it commits,
  for work that sums up several events (one purge for a bulk review, however many events
  it wrote);
- ``api.database.after_commit``: once the change is durable, in the writer's request,
  before its response (the edge's purge is tried there; the outbox job is its safety net).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from api.models import Event

Deriver = Callable[["Event"], None]
EXTENSION = "tarjuma.derivers"


def _name(fn: Deriver) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


class Derivers:
    """An app's derivers, in the order each recorded event meets them."""

    def __init__(self) -> None:
        self._order: tuple[Deriver, ...] = ()

    def add(self, fn: Deriver, *, after: Iterable[Deriver] = ()) -> None:
        """Call ``fn(event)`` for every recorded event, inside its transaction, after the
        derivers added before it. ``after``: derivers whose work ``fn`` reads, which must
        have been added already."""
        missing = [other for other in after if other not in self._order]
        if missing:
            raise RuntimeError(
                f"{_name(fn)} reads what {', '.join(map(_name, missing))} writes: add that first"
            )
        if fn in self._order:
            raise ValueError(f"{_name(fn)} is a deriver already")
        self._order = (*self._order, fn)

    @contextmanager
    def added(self, fn: Deriver) -> Iterator[None]:
        """Inside the block, ``fn`` is the last deriver (for tests)."""
        self.add(fn)
        try:
            yield
        finally:
            self._order = tuple(other for other in self._order if other is not fn)

    def remove(self, name: str) -> None:
        """Stop calling the deriver named ``module.function`` (as ``names`` spells it): an
        app without one of its areas, e.g. to measure what that area costs a change."""
        if name not in self.names():
            raise ValueError(f"{name} is not a deriver")
        self._order = tuple(fn for fn in self._order if _name(fn) != name)

    def __iter__(self) -> Iterator[Deriver]:
        return iter(self._order)

    def names(self) -> list[str]:
        """Where each deriver is, in order: ``module.function``."""
        return [_name(fn) for fn in self._order]


def init_app(app: Flask) -> None:
    """Give ``app`` its derivers, none yet: the areas add theirs (see ``create_app``)."""
    app.extensions[EXTENSION] = Derivers()


def derivers(app: Flask | None = None) -> Derivers:
    """The derivers of ``app`` (the current app by default)."""
    found: Derivers = (app or current_app).extensions[EXTENSION]
    return found


def derive(event: Event) -> None:
    """Run every deriver on a freshly recorded (and flushed) event."""
    for fn in derivers():
        fn(event)
