"""The edge's part in a writer's response: how the purge of its change went.

Right after a change commits, the app purges every edge (``api.services.outbound.edge``).
A purge that reached every edge leaves its outbox job to be closed once the response is
sent (bookkeeping the writer need not wait for); one that did not is left to the worker's
retries, and the writer is told when every edge will hold nothing older than its change:
``Edge-Purge: failed; fresh-by=…``.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, has_request_context

from api.extensions import db
from api.services import jobs
from api.services.outbound import edge

log = logging.getLogger(__name__)

PURGE_HEADER = "Edge-Purge"


def _report(attempt: edge.Attempt) -> None:
    if not has_request_context():
        edge.settle(attempt)
    elif attempt.fresh_by is None:
        g.edge_done = attempt.job_id
    else:
        g.edge_purge = f"failed; fresh-by={edge.iso(attempt.fresh_by)}"


def _after_request(response: Response) -> Response:
    outcome = g.pop("edge_purge", None)
    if outcome is not None:
        response.headers[PURGE_HEADER] = outcome
    done = g.pop("edge_done", None)
    if done is not None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.call_on_close(lambda: _close_job(app, done))
    return response


def _close_job(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            jobs.mark_done(job_id)
        except Exception:
            # The worker finds it pending and purges once more: harmless.
            log.exception("could not close edge purge job %s", job_id)
        finally:
            db.session.remove()


def init_app(app: Flask) -> None:
    edge.report_to(app, _report)
    app.after_request(_after_request)
