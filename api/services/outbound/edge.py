"""The edge: the Varnish tier in front of the app, its tags, and purging it after changes.

Every public representation carries ``xkey`` tags naming what it depends on (when the
edge asks for them: ``api.views.caching``; the VCL strips them before a client sees them):

``all``                       every representation
``essays``                    lists, locales and progress: anything not under one essay
``e{id}``                     every representation of an essay
``e{id}/{locale}``            ... that depends on a locale (its fallback chain and source)
``e{id}/{scope}/{locale}``    ... of one publication-stamp scope ("" is the whole essay,
                              a unit key one section) in that locale

Every change derives its purge from the events it records (a deriver on the effects
spine): the tags and essays of all its events accumulate per transaction into one outbox
job, written just before the commit; right after the commit, in the writer's request, the
app sends one PURGE to each edge in ``EDGE_PURGE_URLS``. How that went is reported to
whoever serves the change (``report_to``): the views close the job once the response is
sent, or, when an edge does not answer within ``EDGE_PURGE_TIMEOUT``, leave the job to the
worker's retries and tell the writer ``Edge-Purge: failed; fresh-by=…`` (the edge TTL
bounds the staleness of an edge that stays unreachable). The PURGE also gives each
touched essay a new generation in the edge's hash: the revision fence of
``deploy/varnish/tarjuma.vcl`` (see docs/deploy.md).
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app

from api import i18n, observability
from api.database import after_commit, before_commit, transaction, transaction_state
from api.models import Event, Job
from api.models.types import utcnow
from api.services import effects, jobs

log = logging.getLogger(__name__)

ALL = "all"
LISTS = "essays"
EVERY_ESSAY = "*"
# More essays than the edge's VCL unrolls in one PURGE: fence every essay instead.
MAX_FENCED_ESSAYS = 16
LIST_TAGS = f"{ALL} {LISTS}"
JOB_KIND = "edge.purge"


def representation_tags(essay_id: int, scope: str, dependencies: Iterable[str]) -> str:
    """The tags of one essay or section representation, as the ``xkey`` header value."""
    tags = [ALL, f"e{essay_id}"]
    for code in dependencies:
        tags.append(f"e{essay_id}/{code}")
        tags.append(f"e{essay_id}/{scope}/{code}")
    return " ".join(tags)


# --- what a change purges -----------------------------------------------------------------


@dataclass
class Purge:
    """The tags and essays (slugs) one change purges on every edge."""

    tags: set[str] = field(default_factory=set)
    essays: set[str] = field(default_factory=set)

    def add_event(
        self, essay_id: int | None, slug: str | None, unit_key: str | None, locale: str | None
    ) -> None:
        """Add what one recorded event affects, from its fields alone."""
        if essay_id is None:
            if locale is not None:
                # A locale-wide change: everything, in every essay.
                self.tags.add(ALL)
                self.essays.add(EVERY_ESSAY)
            return
        self.tags.add(LISTS)
        if slug is not None:
            self.essays.add(slug)
        if locale is None:
            self.tags.add(f"e{essay_id}")
        elif unit_key is None:
            self.tags.add(f"e{essay_id}/{locale}")
        else:
            self.tags.add(f"e{essay_id}//{locale}")
            self.tags.add(f"e{essay_id}/{unit_key}/{locale}")

    @property
    def empty(self) -> bool:
        return not self.tags and not self.essays

    def fence(self) -> str:
        if EVERY_ESSAY in self.essays or len(self.essays) > MAX_FENCED_ESSAYS:
            return EVERY_ESSAY
        return " ".join(sorted(self.essays))

    def payload(self) -> dict[str, Any]:
        return {"tags": sorted(self.tags), "essays": sorted(self.essays)}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Purge:
        return cls(set(payload.get("tags", ())), set(payload.get("essays", ())))


def edges(app: Flask | None = None) -> list[str]:
    return list((app or current_app).config["EDGE_PURGE_URLS"])


def _send(url: str, purge: Purge, timeout: float) -> str | None:
    """One PURGE to one edge; None when it purged, else why not."""
    parts = urllib.parse.urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.request(
            "PURGE",
            parts.path or "/",
            headers={
                "xkey-purge": " ".join(sorted(purge.tags)),
                "xkey-fence": purge.fence(),
            },
        )
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            return f"{url}: {response.status} {response.reason}"
        return None
    except (OSError, http.client.HTTPException) as error:
        return f"{url}: {error!r}"
    finally:
        connection.close()


_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """The process's threads for purging several edges at once, kept from one change to the
    next: starting a pool for each change cost about 1.7 ms per extra edge at the median
    (2 cores, loopback edges), against 0.3-0.5 ms with threads kept. Made again in a forked
    child, which has none of its parent's threads."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="edge-purge")
            _pool_pid = os.getpid()
        return _pool


def send(urls: Sequence[str], purge: Purge, timeout: float) -> list[str]:
    """Purge every edge at once (one request each); the errors of those that failed."""
    if not urls or purge.empty:
        return []
    # The other edges are purged by the process's threads while this thread purges the
    # first itself: it would only wait otherwise, and a single edge needs no thread at all.
    futures = [(url, _executor().submit(_send, url, purge, timeout)) for url in urls[1:]]
    first = _send(urls[0], purge, timeout)
    errors = [first] if first else []
    if futures:
        # A request's connect and its answer may each take up to ``timeout``; past that
        # (the shared threads all busy with edges that do not answer) the edge has failed.
        wait([future for _, future in futures], timeout=2 * timeout + 1)
    for url, future in futures:
        if not future.done():
            future.cancel()
            errors.append(f"{url}: no answer within {timeout:g} s")
        elif error := future.result():
            errors.append(error)
    if len(urls) > len(errors):
        observability.EDGE_PURGES.labels("purged").inc(len(urls) - len(errors))
    if errors:
        observability.EDGE_PURGES.labels("failed").inc(len(errors))
    return errors


def fresh_by(committed_at: datetime, ttl: int) -> datetime:
    """When an edge that was not purged has let go of everything older than a change.

    Rounded up to a whole second, since the header says it to the second.
    """
    moment = committed_at + timedelta(seconds=ttl)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the purge, derived from a change's events --------------------------------------------

_STATE_KEY = "edge.purge"


def _purge() -> Purge | None:
    """The current change's purge (None when no edge is configured)."""
    if not current_app.config["EDGE_PURGE_URLS"]:
        return None
    purge = transaction_state().get(_STATE_KEY)
    if purge is None:
        purge = transaction_state()[_STATE_KEY] = Purge()
        before_commit(_STATE_KEY, _enqueue)
    return purge


def _derive(event: Event) -> None:
    """Gather what each event of the change affects; one purge job sums them up."""
    purge = _purge()
    if purge is None:
        return
    essay, unit = event.essay, event.unit
    purge.add_event(
        event.essay_id, essay.slug if essay else None, unit.key if unit else None, event.locale
    )


def purge_also(tags: Iterable[str]) -> None:
    """Add tags to the current change's purge: for a deriver that knows of representations
    the event's own fields do not name (searches)."""
    purge = _purge()
    if purge is not None:
        purge.tags.update(tags)


def _enqueue() -> None:
    """Just before the commit: the change's one purge job, the safety net of the attempt."""
    purge: Purge | None = transaction_state().get(_STATE_KEY)
    if purge is None or purge.empty:
        return
    config = current_app.config
    # The worker leaves it alone while the writer's own attempt may still be under way.
    run_at = utcnow() + timedelta(seconds=float(config["EDGE_PURGE_TIMEOUT"]) + 1)
    job = jobs.enqueue(JOB_KIND, purge.payload(), run_at=run_at)
    job_id, urls = job.id, edges()
    timeout, ttl = float(config["EDGE_PURGE_TIMEOUT"]), int(config["EDGE_TTL"])

    def attempt() -> None:
        committed_at = utcnow()
        errors = send(urls, purge, timeout)
        fresh: datetime | None = None
        if errors:
            log.warning("edge purge failed, left to the worker (job %s): %s", job_id, errors)
            fresh = fresh_by(committed_at, ttl)
            _remember_deadline(job_id, fresh)
        report: Report = current_app.extensions.get(_REPORT, settle)
        report(Attempt(job_id, fresh))

    after_commit(attempt)


@dataclass(frozen=True)
class Attempt:
    """How the writer's own purge of its change went, right after the commit."""

    job_id: int
    fresh_by: datetime | None  # an edge was not purged: it holds nothing older by then

    @property
    def purged(self) -> bool:
        return self.fresh_by is None


Report = Callable[[Attempt], None]
_REPORT = "tarjuma.edge_report"


def report_to(app: Flask, report: Report) -> None:
    """Have ``report`` hear how each writer's purge went (it must ``settle`` the attempt,
    now or once it has answered the writer); by default it is settled at once."""
    app.extensions[_REPORT] = report


def settle(attempt: Attempt) -> None:
    """Close the job of a purge that reached every edge: the worker has nothing left to do.
    One that did not stays for the worker's retries."""
    if attempt.purged:
        jobs.mark_done(attempt.job_id)


def _remember_deadline(job_id: int, deadline: datetime) -> None:
    with transaction() as session:
        job = session.get(Job, job_id)
        if job is not None and job.state == "pending":
            job.payload = {**job.payload, "fresh_by": iso(deadline)}


def _retry(attempts: int) -> float:
    return float(min(2 ** max(attempts - 1, 0), 30))


def _purge_job(job: jobs.Claim) -> None:
    """The worker's retry: purge every edge; past the edge TTL there is nothing left to do."""
    purge = Purge.from_payload(job.payload)
    deadline = job.payload.get("fresh_by")
    if deadline and datetime.fromisoformat(deadline.replace("Z", "+00:00")) <= utcnow():
        log.info("edge purge job %s: past fresh-by, the edges' TTL has done it", job.id)
        return
    config = current_app.config
    errors = send(edges(), purge, float(config["EDGE_PURGE_TIMEOUT"]))
    if errors:
        raise ConnectionError("; ".join(errors))


def init_app(app: Flask) -> None:
    """Each change's purge, gathered from its events, and the worker's retries of it."""
    effects.derivers(app).add(_derive)
    jobs.handlers(app).add(JOB_KIND, _purge_job, retry=_retry, lease=30.0)


# --- the site VCL --------------------------------------------------------------------------


def _vcl_string(value: str) -> str:
    if any(c in value for c in '"\n\r'):
        raise ValueError(f"not allowed in a VCL string: {value!r}")
    return f'"{value}"'


def _acl_entry(value: str) -> str:
    network = ipaddress.ip_network(value.strip(), strict=False)
    if network.num_addresses == 1:
        return f"    {_vcl_string(str(network.network_address))};"
    return f'    "{network.network_address}"/{network.prefixlen};'


def query_parameters(app: Flask) -> list[str]:
    """Names of the query parameters the app's public reads take, from its OpenAPI document."""
    from api.extensions import api

    with app.app_context():
        spec = api.spec.to_dict()
    names = {"locale"}
    for operations in spec.get("paths", {}).values():
        get = operations.get("get")
        if not get:
            continue
        for parameter in get.get("parameters", ()):
            if parameter.get("in") == "query":
                names.add(parameter["name"])
    names.discard("preview")
    return sorted(names)


# How the edge probes each app node (see the comments written into the site VCL).
PROBE = {"url": "/healthz", "interval": 2, "timeout": 5, "window": 5, "threshold": 3}


def _backend_name(index: int) -> str:
    return f"tarjuma_node{index + 1}"


def _director_vcl(app: Flask, backends: Sequence[tuple[str, int]]) -> list[str]:
    """The app nodes, their probe, and the director that spreads misses over them."""
    if not backends:
        raise ValueError("at least one backend")
    lines = [
        "# The probe marks a node sick when it does not answer, never because it is busy.",
        "# /healthz touches neither the database nor Redis: with PostgreSQL unreachable it",
        "# answered 200 in 2-7 ms. A busy node answers late, not never: its probe waits behind",
        "# the requests it holds. Measured on 2 cores, gunicorn with 2 workers and 6 reads held",
        "# 3 s each (READ_BUILD_DELAY): with sync workers /healthz took 8.9 s (three rounds of",
        "# reads ahead of it); with gthread workers (4 threads) 3.5 s, since a gthread worker",
        "# accepts more connections than it has threads and queues them; 3-6 ms once the reads",
        "# were done. So run the app with threads (GUNICORN_THREADS=4, as `flask edge run`",
        "# does), and give the probe .timeout = 5s, longer than a slow read, so that it fails",
        "# only on a node that does not answer. A killed node refuses the probe at once.",
        "# A node is sick after 3 failed probes of the last 5 (6 s for a refused probe, 15 s for",
        "# a hung node) and well after 3 good ones; meanwhile a read sent to a dead node is",
        "# retried on another one (tarjuma_retry), so no reader waits for the probe.",
        "# .initial = .window: a node starts healthy. `flask edge run` starts Varnish only when",
        "# the app answers /healthz with 200; before, with the old probe (.timeout 1s, 2 of 3,",
        "# .initial 2), the first probe timed out while gunicorn's workers booted and every",
        "# read was a 503 for about 2 s.",
        "probe tarjuma_probe {",
        f"    .url = {_vcl_string(str(PROBE['url']))};",
        f"    .interval = {PROBE['interval']}s;",
        f"    .timeout = {PROBE['timeout']}s;",
        f"    .window = {PROBE['window']};",
        f"    .threshold = {PROBE['threshold']};",
        f"    .initial = {PROBE['window']};",
        "}",
        "",
    ]
    config = app.config
    for index, (host, port) in enumerate(backends):
        lines += [
            f"backend {_backend_name(index)} {{",
            f"    .host = {_vcl_string(host)};",
            f'    .port = "{int(port)}";',
            "    .connect_timeout = 1s;",
            f"    .first_byte_timeout = {int(config['EDGE_FETCH_TIMEOUT'])}s;",
            "    .between_bytes_timeout = 10s;",
            "    .probe = tarjuma_probe;",
            "}",
            "",
        ]
    lines += [
        "sub vcl_init {",
        "    # Each URL's misses go to one node (its in-process caches stay warm), and",
        "    # alt = bereq.retries sends a retry to the next node on the ring.",
        "    new tarjuma_nodes = directors.shard();",
        *(f"    tarjuma_nodes.add_backend({_backend_name(i)});" for i in range(len(backends))),
        "    tarjuma_nodes.reconfigure();",
        "}",
        "",
        "sub tarjuma_backend {",
        "    set req.backend_hint = tarjuma_nodes.backend(resolve=LAZY);",
        "}",
        "",
        "sub tarjuma_node {",
        "    set bereq.backend = tarjuma_nodes.backend(by=URL, alt=bereq.retries, healthy=CHOSEN);",
        "}",
        "",
        "# A failed read is tried once on every other node, then answered.",
        "sub tarjuma_retry {",
        '    if ((bereq.method == "GET" || bereq.method == "HEAD")',
        f"        && bereq.retries < {max(1, len(backends) - 1)}) {{",
        "        return (retry);",
        "    }",
        "}",
        "",
    ]
    return lines


def site_vcl(app: Flask, backends: Sequence[tuple[str, int]]) -> str:
    """The site include for ``deploy/varnish/tarjuma.vcl``, from the app's configuration."""
    config = app.config
    registry: i18n.LocaleRegistry = app.extensions["tarjuma.locales"]
    ttl = int(config["EDGE_TTL"])
    grace = int(config["EDGE_GRACE"])
    regional = [code for code in registry.offered if "-" in code]
    keep = "".join(f"(?!{code}(?![A-Za-z0-9_-]))" for code in regional)
    # Regions and scripts are dropped, unless the app offers that very tag: ``ar-EG``
    # negotiates to ``ar`` in the app, and so at the edge.
    strip = f"(?i)(?<![A-Za-z0-9_-]){keep}([a-z]{{1,8}})[-_][^,;\\s]*"
    params = "|".join(query_parameters(app))
    # The Host every fetch carries, whichever node answers it: the first node's address.
    host = config["EDGE_HOST"] or f"{backends[0][0]}:{int(backends[0][1])}"
    lines = [
        "# Written by `flask --app wsgi edge vcl` from the app's configuration; do not edit.",
        "",
        *_director_vcl(app, backends),
        "acl tarjuma_purgers {",
        *(_acl_entry(item) for item in config["EDGE_PURGERS"]),
        "}",
        "",
        "sub vcl_init {",
        f"    new tarjuma_locales = accept.rule({_vcl_string(registry.default)});",
        *(f"    tarjuma_locales.add({_vcl_string(code)});" for code in registry.offered),
        "}",
        "",
        "sub tarjuma_language {",
        "    set req.http.Accept-Language = tarjuma_locales.filter(",
        f'        regsuball(req.http.Accept-Language, "{strip}", "\\1"));',
        "}",
        "",
        "# Only the query parameters the app reads; the rest never makes another object.",
        "sub tarjuma_query {",
        "    set req.url = regsuball(req.url,",
        f'        "(?<=[?&])(?!(?:{params})=)[^&]*(&|$)", "");',
        '    set req.url = regsub(req.url, "[?&]+$", "");',
        "}",
        "",
        "sub tarjuma_host {",
        f"    set req.http.Host = {_vcl_string(host)};",
        "}",
        "",
        "sub tarjuma_grace {",
        f"    set req.grace = {grace}s;",
        "}",
        "",
        "sub tarjuma_ttl {",
        f"    set beresp.ttl = {ttl}s - (now - bereq.time);",
        f"    set beresp.grace = {grace}s;",
        "}",
        "",
    ]
    return "\n".join(lines)
