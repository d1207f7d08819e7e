"""The several-machines part of ``make bench``: what one more edge, app node or worker
gives, what the writer pays per edge, and what a reader sees when an app node dies.

Two cores cannot hold two of anything on cores of their own beside the load generator,
so each comparison keeps the cores fixed and says what it measures:

- **Reads through 2 edges against 1.** Hits for one essay through one varnishd on the
  server core, then through two at once (one wrk each, the connections shared out): both
  on the server core, and one on each core (the second sharing the client core with
  wrk). The hits per CPU second of the edges' processes are the rate per edge core.
- **Uncached reads by 2 app nodes against 1.** Signed-in reads (the edge passes each to a
  node, through the same director as a miss) through an edge over one node, over two,
  and over one node with both nodes' gunicorn workers; the nodes pinned to the server
  core, the edges and wrk to the client core; the reads per CPU second of the nodes.
- **Webhook deliveries, 2 workers against 1** (``scripts/bench_delivery.py``'s
  ``worker_scaling``): backlogs for a receiver that answers after a delay, as a real one
  does, and any delivery that arrived twice.
- **Purge latency with 1, 2 and 4 edges.** Four varnishd edges on the client core (as
  on machines of their own: the writer's core does none of their work), and one app
  server for each edge count, purging the first 1, 2 or 4 of them (``EDGE_PURGE_URLS``),
  beside the plain app that purges none. Approvals rotate over the four, so that each
  meets the same machine; the writer's p50 and p99 minus the plain app's, and the median
  of each approval minus the plain one of its rotation, are what the purges add (they go
  out in parallel: each extra edge should add at most 1 ms at p50); the purges alone
  (``send()`` from this process, interleaved) show what the requests themselves cost.
- **Failover gap.** ``flask edge run`` with two app nodes and one edge; readers read
  through the edge what it never caches (signed-in reads pass to a node, spread over both
  by the director), and one node is killed with SIGKILL. The longest gap between two
  successful reads around the kill, against the longest gap before it, is the failover
  gap; errors are counted, and how long the edge took to mark the node sick.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench import (  # noqa: E402
    CLIENT_CORE,
    ESSAY,
    SERVER_CORE,
    Run,
    Scenario,
    Server,
    _free_port,
    _lua,
    _request,
    cpu_seconds,
    percentile,
    wrk,
)
from scripts.bench_delivery import worker_scaling_on  # noqa: E402
from scripts.bench_edge import _get, _purge_requests, varnish  # noqa: E402

EDGE_COUNTS = (1, 2, 4)
EDGE_ONE, EDGES_SHARING, EDGES_APART = "1 edge", "2 edges, one core", "2 edges, a core each"
CLUSTER_TARGETS = {"added_p50_ms_per_edge": 1.0, "two_edges": 0.9, "two_workers": 1.6}
SECTIONS = [
    "introduction",
    "strategic-alliances-and-diplomacy",
    "enhanced-intelligence-capabilities",
    "technological-advancements-in-defense",
    "active-participation-in-international-forums",
    "conclusion",
]
LOCALES = ["ar", "fa", "fr", "id", "ms", "tr", "ur", "en"]
_PART = re.compile(r"^(app node|edge|worker) (\d+)(?: (\S+))? \(pid (\d+)\)$")


def _label(count: int) -> str:
    return f"{count} edge" + ("s" if count > 1 else "")


# --- purge latency with 1, 2 and 4 edges ----------------------------------------------------


def purge_latency(
    env: dict[str, str], plain: str, samples: int, work: Path, edge_core: str = CLIENT_CORE
) -> dict[str, Any]:
    """Approval latencies (ms) on the plain app and on apps purging 1, 2 and 4 edges; the
    apps on the server core, the edges on ``edge_core``."""
    ports = [_free_port() for _ in range(max(EDGE_COUNTS))]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    servers: list[Server] = []
    with contextlib.ExitStack() as stack:
        backend = int(plain.rpartition(":")[2])
        for index, port in enumerate(ports):
            directory = work / f"purge-edge-{index + 1}"
            directory.mkdir(parents=True, exist_ok=True)
            stack.enter_context(varnish(env, backend, port, directory, edge_core))
        try:
            bases = {"plain": plain}
            for count in EDGE_COUNTS:
                purging = {**env, "EDGE_PURGE_URLS": ",".join(urls[:count])}
                server = Server("wsgi:app", purging, work / f"purging-{count}.log")
                servers.append(server)
                bases[_label(count)] = server.base
            for server in servers:
                server.wait_ready("/readyz")
            try:
                times = _rotated_approvals(env, bases, samples)
            except SystemExit:
                for server in servers:
                    print(f"--- {server.log.name}:\n{server.log.read_text()[-2000:]}")
                raise
        finally:
            for server in servers:
                server.stop()
        # The purges alone, as the app sends them, interleaved over the edge counts; then
        # as the writer waits for them, inside changes.
        alone: dict[int, list[float]] = {count: [] for count in EDGE_COUNTS}
        for _ in range(samples):
            for count in EDGE_COUNTS:
                alone[count] += _purge_requests(urls[:count], 1)
        inside = _purges_in_changes(env, urls, samples)
    report: dict[str, Any] = {}
    for label, values in times.items():
        report[label] = {
            "samples": len(values),
            "p50_ms": round(statistics.median(values), 2),
            "p99_ms": round(percentile(values, 0.99), 2),
        }
    plain_times = times["plain"]
    for count in EDGE_COUNTS:
        item = report[_label(count)]
        item["added_p50_ms"] = round(item["p50_ms"] - report["plain"]["p50_ms"], 2)
        item["added_p99_ms"] = round(item["p99_ms"] - report["plain"]["p99_ms"], 2)
        # Each approval against the plain one of its own rotation, a moment apart: what
        # the machine's drift does to both cancels out.
        paired = [a - b for a, b in zip(times[_label(count)], plain_times, strict=False)]
        item["added_paired_p50_ms"] = round(statistics.median(paired), 2)
        item["purge_alone_p50_ms"] = round(statistics.median(alone[count]), 2)
        item["purge_alone_p99_ms"] = round(percentile(alone[count], 0.99), 2)
        item["purge_in_change_p50_ms"] = round(statistics.median(inside[count]), 2)
        item["purge_in_change_p99_ms"] = round(percentile(inside[count], 0.99), 2)
    return report


def _purges_in_changes(
    env: dict[str, str], urls: list[str], samples: int
) -> dict[int, list[float]]:
    """What the purge adds to the writer's response, timed where the change waits for it:
    approvals made in this process on apps purging the first 1, 2 and 4 ``urls``, in
    rotation, each timing the app's own ``send()`` that runs after its commit and before
    the writer is answered. Through HTTP, the four app servers of ``purge_latency`` differ
    from one another by more than the purges take."""
    from api import create_app
    from api.extensions import db
    from api.models import TranslationVersion
    from api.services.outbound import edge
    from api.services.translation import workflow
    from scripts.bench_delivery import SLUG, people

    apps = {
        count: create_app(
            {
                "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
                "SECRET_KEY": env["SECRET_KEY"],
                "EDGE_PURGE_URLS": urls[:count],
            }
        )
        for count in EDGE_COUNTS
    }
    with apps[1].app_context(), apps[1].test_request_context():
        _, versions = people(SLUG)  # worker_scaling's: start with the one not published
        if db.session.get(TranslationVersion, versions[0]).status == "approved":
            versions.reverse()
    times: dict[int, list[float]] = {count: [] for count in EDGE_COUNTS}
    send = edge.send

    def timed(edges: Any, purge: Any, timeout: float) -> list[str]:
        started = time.perf_counter()
        try:
            return send(edges, purge, timeout)
        finally:
            times[len(edges)].append((time.perf_counter() - started) * 1000)

    edge.send = timed  # type: ignore[assignment]
    try:
        for n in range(2 + samples * len(apps)):
            app = apps[EDGE_COUNTS[n % len(EDGE_COUNTS)]]
            with app.app_context(), app.test_request_context():
                from api.services.accounts import identity

                workflow.approve(versions[n % 2], identity.get_user("bench-delivery-admin"))
    finally:
        edge.send = send  # type: ignore[assignment]
    return times


def _rotated_approvals(
    env: dict[str, str], bases: dict[str, str], samples: int
) -> dict[str, list[float]]:
    """Approvals that alternate two versions of one section, each sent to the next app of
    ``bases`` in turn; every one is a change (a publication, then rollbacks and restores)."""
    translator = {"Authorization": f"Bearer {env['BENCH_QUEUE']}"}
    translator["Content-Type"] = "application/json"
    key = "introduction"  # the edge's own runs approve the conclusion
    plain = bases["plain"]
    ids = []
    for n in range(2):
        body = f'{{"locale": "ar", "body": "مشاركة للقياس رقم {n}."}}'
        path = f"{ESSAY}/sections/{key}/translations"
        status, _, text = _request(plain, Scenario("s", path, translator, "POST", body))
        if status != 201:
            raise SystemExit(f"submission failed: {status} {text[:300]!r}")
        ids.append(int(json.loads(text)["id"]))
    reviewer = {"Authorization": f"Bearer {env['BENCH_REVIEWER']}"}
    reviewer["Content-Type"] = "application/json"
    labels = list(bases)
    times: dict[str, list[float]] = {label: [] for label in labels}
    for n in range(2 + samples * len(labels)):
        label = labels[n % len(labels)]
        scenario = Scenario(
            "a", f"/api/v1/translations/{ids[n % 2]}/approve", reviewer, "POST", "{}"
        )
        started = time.perf_counter()
        status, headers, text = _request(bases[label], scenario)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise SystemExit(f"approval failed: {status} {text[:300]!r}")
        if dict(headers).get("Edge-Purge"):
            raise SystemExit(f"{label}: an edge was not purged: {dict(headers)['Edge-Purge']}")
        if n >= 2:  # the first two publish; the rest are rollbacks and restores
            times[label].append(elapsed)
    return times


# --- reads through 1 edge and 2, misses by 1 app node and 2 -------------------------------


def _load(
    targets: list[tuple[str, list[int]]], script: Path, seconds: int, connections: int
) -> dict[str, Any]:
    """wrk against every URL at once (one wrk each, ``connections`` shared out, all on
    the client core); the sum of their rates, and CPU seconds per request of ``pids``."""
    from concurrent.futures import ThreadPoolExecutor

    share = max(1, connections // len(targets))
    pids = [pid for _, group in targets for pid in group]
    cpu = sum(cpu_seconds(pid) for pid in pids)
    with ThreadPoolExecutor(len(targets)) as pool:
        runs: list[Run] = list(pool.map(lambda t: wrk(t[0], script, seconds, share), targets))
    spent = sum(cpu_seconds(pid) for pid in pids) - cpu
    requests = sum(run.requests for run in runs)
    return {
        "rps": round(sum(run.rps for run in runs), 1),
        "p99_ms": max(run.p99_ms for run in runs),
        "errors": sum(run.errors for run in runs),
        "cpu_us": round(spent / requests * 1e6, 1) if requests else None,
    }


def _rounds(
    configs: dict[str, list[tuple[str, list[int]]]], script: Path, options: Any, label: str
) -> dict[str, Any]:
    """Each configuration in turn, ``scaling_rounds`` times; medians, and each later one's
    rate, and requests per CPU second, over the first's in each round."""
    rounds: list[dict[str, dict[str, Any]]] = []
    for number in range(options.scaling_rounds):
        runs = {}
        # Every other round in the opposite order, so that a machine getting busier or
        # quieter during a round favours neither side.
        order = list(configs.items())
        for name, targets in order if number % 2 == 0 else reversed(order):
            _load(targets, script, 1, options.edge_connections)
            runs[name] = _load(targets, script, options.scaling_duration, options.edge_connections)
        rounds.append(runs)
        print(
            f"{label} round {number + 1}: "
            + ", ".join(f"{name} {run['rps']:,.0f}/s" for name, run in runs.items()),
            flush=True,
        )
    names = list(configs)
    report: dict[str, Any] = {}
    for name in names:
        runs_of = [r[name] for r in rounds]
        report[name] = {
            "rps_median": round(statistics.median(r["rps"] for r in runs_of)),
            "p99_ms_median": statistics.median(r["p99_ms"] for r in runs_of),
            "cpu_us_median": statistics.median(r["cpu_us"] or 0 for r in runs_of),
            "errors": sum(r["errors"] for r in runs_of),
            "runs": runs_of,
        }
    first = names[0]
    for name in names[1:]:
        ratios = [r[name]["rps"] / r[first]["rps"] for r in rounds]
        # Requests per CPU second of the measured processes against the first's: the rate
        # per core each layout reaches on cores of its own, whatever else ran meanwhile.
        per_cpu = [
            r[first]["cpu_us"] / r[name]["cpu_us"]
            for r in rounds
            if r[first]["cpu_us"] and r[name]["cpu_us"]
        ]
        report[name] |= {
            "ratios": [round(x, 3) for x in ratios],
            "ratio_median": round(statistics.median(ratios), 3),
            "per_cpu_ratios": [round(x, 3) for x in per_cpu],
            "per_cpu_ratio_median": round(statistics.median(per_cpu), 3) if per_cpu else 0.0,
        }
    return report


def edge_scaling(env: dict[str, str], backend: int, options: Any, work: Path) -> dict[str, Any]:
    """Hits through one edge on the server core (wrk on the client core), then through two
    edges at once: both on the server core, and one on each core (the second sharing its
    core with wrk). The hits per CPU second of the edges are the rate per edge core."""
    cores = [SERVER_CORE, SERVER_CORE, CLIENT_CORE]
    with contextlib.ExitStack() as stack:
        urls, pids = [], []
        for index, core in enumerate(cores):
            port = _free_port()
            directory = work / f"scale-edge-{index + 1}"
            directory.mkdir(parents=True, exist_ok=True)
            pids.append(stack.enter_context(varnish(env, backend, port, directory, core)).pid)
            urls.append(f"http://127.0.0.1:{port}{ESSAY}?locale=ar")
        for url in urls:
            _ready(url, {})
        script = _lua(Scenario("edge scaling", "/"), work)
        configs = {
            EDGE_ONE: [(urls[0], pids[:1])],
            EDGES_SHARING: [(urls[0], pids[:1]), (urls[1], pids[1:2])],
            EDGES_APART: [(urls[0], pids[:1]), (urls[2], pids[2:])],
        }
        return _rounds(configs, script, options, "edges")


def node_scaling(env: dict[str, str], options: Any, work: Path) -> dict[str, Any]:
    """Reads the edge never caches (signed in: each goes to an app node), through an edge
    over one node, over two nodes, and over one node with both nodes' gunicorn workers;
    every node pinned to the server core, the edges and wrk to the other."""
    workers = int(env["WEB_CONCURRENCY"])
    nodes = [Server("wsgi:app", env, work / f"scale-node-{n}.log") for n in (1, 2)]
    doubled = {**env, "WEB_CONCURRENCY": str(2 * workers)}
    nodes.append(Server("wsgi:app", doubled, work / "scale-node-doubled.log"))
    try:
        for node in nodes:
            node.wait_ready("/readyz")
        layouts = {
            "1 node": [nodes[0]],
            "2 nodes": nodes[:2],
            f"1 node, {2 * workers} workers": nodes[2:],
        }
        headers = {"Authorization": f"Bearer {env['BENCH_TRANSLATOR']}"}
        configs: dict[str, list[tuple[str, list[int]]]] = {}
        with contextlib.ExitStack() as stack:
            for index, (name, group) in enumerate(layouts.items()):
                port = _free_port()
                directory = work / f"scale-nodes-{index + 1}"
                directory.mkdir(parents=True, exist_ok=True)
                backends = [node.port for node in group]
                stack.enter_context(varnish(env, backends, port, directory, CLIENT_CORE))
                url = f"http://127.0.0.1:{port}{ESSAY}?locale=ar"
                _ready(url, headers, directory / "edge" / "varnish", len(backends))
                configs[name] = [(url, [node.process.pid for node in group])]
            script = _lua(Scenario("uncached read", "/", headers), work)
            report = _rounds(configs, script, options, "nodes")
    finally:
        for node in nodes:
            node.stop()
    report["workers_per_node"] = workers
    return report


def _ready(url: str, headers: dict[str, str], workdir: Path | None = None, nodes: int = 0) -> None:
    """Wait until ``url`` answers 200 through its edge and, with ``workdir``, until the
    edge's probes found all its ``nodes`` healthy."""
    deadline = time.monotonic() + 30

    def healthy() -> int:
        listing = subprocess.run(
            ["varnishadm", "-n", str(workdir), "backend.list"], capture_output=True, text=True
        ).stdout
        return len(re.findall(r"tarjuma_node\d+ .* healthy", listing))

    while _get(url, headers)[0] != 200 or (workdir and healthy() < nodes):
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} does not answer")
        time.sleep(0.2)


# --- the failover gap ------------------------------------------------------------------------


@contextlib.contextmanager
def cluster(env: dict[str, str], work: Path, nodes: int, edges: int) -> Iterator[dict[str, Any]]:
    """``flask edge run`` on free ports; its parts' addresses and pids once it serves."""
    port, edge_port = _free_port(), _free_port()
    while any(_busy(p) for p in range(port, port + nodes)):
        port = _free_port()
    while any(_busy(p) for p in range(edge_port, edge_port + edges)):
        edge_port = _free_port()
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "edge", "run"]
    command += ["--port", str(port), "--edge-port", str(edge_port), "--workdir", str(work)]
    command += ["--nodes", str(nodes), "--edges", str(edges), "--workers", "1"]
    run_env = {key: value for key, value in env.items() if key != "EDGE_PURGE_URLS"}
    run_env["WEB_CONCURRENCY"] = "1"
    log = work / "cluster.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=run_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while "Ctrl-C stops them all." not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the cluster did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        parts: dict[str, Any] = {"app node": [], "edge": [], "worker": [], "log": log}
        for line in log.read_text(errors="replace").splitlines():
            if match := _PART.match(line.strip()):
                parts[match[1]].append((match[3], int(match[4])))
        yield parts
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _busy(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def failover(env: dict[str, str], work: Path, readers: int = 8, after: float = 10.0) -> dict:
    """Readers through one edge in front of two nodes; node 1 SIGKILLed after 3 s."""
    token = env["BENCH_TRANSLATOR"]
    paths = [f"{ESSAY}/sections/{key}?locale={code}" for key in SECTIONS for code in LOCALES]
    directory = work / "failover"
    directory.mkdir(parents=True, exist_ok=True)
    with cluster(env, directory, nodes=2, edges=1) as parts:
        edge = parts["edge"][0][0].removeprefix("http://")
        host, _, port = edge.rpartition(":")
        stop = threading.Event()
        ok: list[tuple[float, float]] = []  # (started, ended) of each successful read
        failed: list[tuple[float, int, str]] = []  # (when, status, why)
        lock = threading.Lock()

        def read(number: int) -> None:
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            headers = {"Authorization": f"Bearer {token}"}
            n = number
            try:
                while not stop.is_set():
                    path = paths[n % len(paths)]
                    n += readers
                    started, why = time.monotonic(), ""
                    try:
                        connection.request("GET", path, headers=headers)
                        response = connection.getresponse()
                        why = response.read()[:200].decode(errors="replace")
                        status = response.status
                    except (OSError, http.client.HTTPException) as error:
                        connection.close()
                        status, why = 0, repr(error)
                    with lock:
                        if status == 200:
                            ok.append((started, time.monotonic()))
                        else:
                            failed.append((time.monotonic(), status, f"{path}: {why}"))
            finally:
                connection.close()

        threads = [threading.Thread(target=read, args=(n,)) for n in range(readers)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        killed_at = time.monotonic()
        os.killpg(parts["app node"][0][1], signal.SIGKILL)
        sick_after = None
        workdir = directory / "varnish"
        while time.monotonic() < killed_at + after:
            if sick_after is None:
                listing = subprocess.run(
                    ["varnishadm", "-n", str(workdir), "backend.list"],
                    capture_output=True,
                    text=True,
                ).stdout
                if re.search(r"tarjuma_node1 .* sick", listing):
                    sick_after = time.monotonic() - killed_at
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join()
        retried = _stat(workdir, "MAIN.backend_retry")
    ends = sorted(end for _, end in ok)
    first = ends[0]

    def longest_gap(since: float, until: float) -> float:
        inside = [end for end in ends if since <= end <= until]
        return max((b - a for a, b in zip(inside, inside[1:], strict=False)), default=until - since)

    around = [end - start for start, end in ok if end >= killed_at and start <= killed_at + 2]
    return {
        "readers": readers,
        "reads": len(ok),
        "errors": len(failed),
        "failed_reads": [
            {"at_s": round(when - killed_at, 3), "status": status, "why": why}
            for when, status, why in failed[:10]
        ],
        "gap_before_kill_ms": round(longest_gap(first + 0.5, killed_at) * 1000, 1),
        "gap_after_kill_ms": round(longest_gap(killed_at, killed_at + after) * 1000, 1),
        "slowest_read_around_kill_ms": round(max(around, default=0.0) * 1000, 1),
        "node_marked_sick_after_s": round(sick_after, 1) if sick_after is not None else None,
        "fetches_retried": retried,
    }


def _stat(workdir: Path, name: str) -> int:
    output = subprocess.run(
        ["varnishstat", "-n", str(workdir), "-1", "-f", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sum(int(line.split()[1]) for line in output.splitlines() if line.strip())


# --- both, and the report ------------------------------------------------------------------


def run(env: dict[str, str], plain: str, options: Any, work: Path) -> dict[str, Any]:
    backend = int(plain.rpartition(":")[2])
    return {
        "edges": edge_scaling(env, backend, options, work),
        "nodes": node_scaling(env, options, work),
        "workers": worker_scaling_on(
            env, options.receiver_delay_ms / 1000, options.worker_deliveries
        ),
        "purge": purge_latency(env, plain, options.purge_samples, work),
        "failover": failover(env, work),
    }


def table(report: dict[str, Any]) -> list[str]:
    lines = []
    for part, what in (("edges", "hits"), ("nodes", "uncached reads")):
        for name, item in report.get(part, {}).items():
            if not isinstance(item, dict):
                continue
            errors = f", {item['errors']} errors" if item["errors"] else ""
            lines.append(
                f"{what}, {name}: {item['rps_median']:,} req/s, p99 {item['p99_ms_median']}"
                f" ms, {item['cpu_us_median']} µs CPU a request{errors}"
            )
            if "ratios" in item:
                per_round = " ".join(f"{x:.2f}" for x in item["ratios"])
                per_cpu = " ".join(f"{x:.2f}" for x in item["per_cpu_ratios"])
                lines.append(
                    f"  against the first, per round: rate {per_round};"
                    f" requests per CPU second {per_cpu}"
                )
    if workers := report.get("workers"):
        lines.append(
            f"webhook deliveries a second, receiver answering after"
            f" {workers['receiver_delay_ms']} ms: 1 worker {workers['one_worker']},"
            f" 2 workers {workers['two_workers']} (rounds {workers['per_second']});"
            f" {workers['arrived_twice']} arrived twice, {workers['retried']} retried"
        )
    if purge := report.get("purge"):
        plain = purge["plain"]
        lines.append(
            f"approval without edges: p50 {plain['p50_ms']} ms, p99 {plain['p99_ms']} ms"
            f" ({plain['samples']} each)"
        )
        for count in EDGE_COUNTS:
            item = purge[_label(count)]
            lines.append(
                f"approval purging {_label(count)}: p50 {item['p50_ms']} ms"
                f" ({item['added_p50_ms']:+.2f}), p99 {item['p99_ms']} ms"
                f" ({item['added_p99_ms']:+.2f}); paired with the plain one"
                f" {item['added_paired_p50_ms']:+.2f} ms; the purge alone p50"
                f" {item['purge_alone_p50_ms']} ms, p99 {item['purge_alone_p99_ms']} ms;"
                f" inside the change p50 {item['purge_in_change_p50_ms']} ms,"
                f" p99 {item['purge_in_change_p99_ms']} ms"
            )
    if gap := report.get("failover"):
        lines.append(
            f"failover, {gap['readers']} readers of uncached reads, node 1 SIGKILLed:"
            f" {gap['errors']} errors in {gap['reads'] + gap['errors']} reads; longest gap"
            f" {gap['gap_after_kill_ms']} ms after the kill ({gap['gap_before_kill_ms']} ms"
            f" before); slowest read {gap['slowest_read_around_kill_ms']} ms;"
            f" {gap['fetches_retried']} fetches retried; node marked sick after"
            f" {gap['node_marked_sick_after_s']} s"
        )
    return lines


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _per_extra_edge(purge: dict[str, Any], key: str) -> float:
    """The most that one edge beyond the first added to ``key``, over 2 and 4 edges."""
    one = purge[_label(1)][key]
    return max((purge[_label(count)][key] - one) / (count - 1) for count in EDGE_COUNTS[1:])


def verdict(report: dict[str, Any]) -> list[str]:
    purge, gap = report["purge"], report["failover"]
    edges, nodes, workers = report["edges"], report["nodes"], report["workers"]
    lines = []
    floor = CLUSTER_TARGETS["two_edges"]
    apart, sharing = edges[EDGES_APART], edges[EDGES_SHARING]
    per_cpu = apart["per_cpu_ratio_median"]
    lines.append(
        f"hits per edge core, 2 edges on a core each against 1 edge: {per_cpu:.2f}×"
        f" (≥ {floor}: {_met(per_cpu >= floor)}); 2 edges sharing one core:"
        f" {sharing['ratio_median']:.2f}× the rate, {sharing['per_cpu_ratio_median']:.2f}×"
        " per CPU second (the cost of sharing a core)"
    )
    doubled = [name for name in nodes if name.startswith("1 node, ")][0]
    two = nodes["2 nodes"]
    lines.append(
        f"uncached reads by 2 app nodes against 1 on the same core: {two['ratio_median']:.2f}×"
        f" the rate, {two['per_cpu_ratio_median']:.2f}× the reads per CPU second of the"
        f" nodes (reported); 1 node with twice the workers {nodes[doubled]['rps_median']:,}"
        f" req/s against 2 nodes' {two['rps_median']:,}"
    )
    floor = CLUSTER_TARGETS["two_workers"]
    twice = workers["arrived_twice"]
    lines.append(
        f"webhook deliveries, 2 workers against 1: {workers['ratio']:.2f}×"
        f" (≥ {floor}: {_met(workers['ratio'] >= floor)}); {twice} arrived twice"
        f" ({_met(twice == 0)}: none)"
    )
    limit = CLUSTER_TARGETS["added_p50_ms_per_edge"]
    for key, what in (
        ("p50_ms", "approval's p50"),
        ("added_paired_p50_ms", "approval, paired"),
        ("purge_alone_p50_ms", "purge alone, p50"),
        ("purge_in_change_p50_ms", "the writer's wait for the purge inside the change, p50"),
    ):
        per_edge = _per_extra_edge(purge, key)
        lines.append(
            f"each edge beyond the first adds {per_edge:+.2f} ms ({what};"
            f" ≤ {limit}: {_met(per_edge <= limit)})"
        )
    lines.append(
        f"failover: {gap['errors']} failed reads ({_met(gap['errors'] == 0)}: none),"
        f" longest gap {gap['gap_after_kill_ms']} ms against {gap['gap_before_kill_ms']} ms"
        " before the kill"
    )
    return lines
