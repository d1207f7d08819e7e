"""The several-machines part of ``make bench``: what the writer pays per edge, and what a
reader sees when an app node dies.

- **Purge latency with 1, 2 and 4 edges.** Four varnishd edges, and one app server for
  each edge count, purging the first 1, 2 or 4 of them (``EDGE_PURGE_URLS``), beside the
  plain app that purges none. Approvals rotate over the four, so that each meets the same
  machine; the writer's p50 and p99 minus the plain app's are what the purges add (they go
  out in parallel: each extra edge should add at most 1 ms at p50).
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

from scripts.bench import ESSAY, Scenario, Server, _free_port, _request  # noqa: E402
from scripts.bench_edge import _p99, varnish  # noqa: E402

EDGE_COUNTS = (1, 2, 4)
CLUSTER_TARGETS = {"added_p50_ms_per_edge": 1.0}
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


def purge_latency(env: dict[str, str], plain: str, samples: int, work: Path) -> dict[str, Any]:
    """Approval latencies (ms) on the plain app and on apps purging 1, 2 and 4 edges."""
    ports = [_free_port() for _ in range(max(EDGE_COUNTS))]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    servers: list[Server] = []
    with contextlib.ExitStack() as stack:
        backend = int(plain.rpartition(":")[2])
        for index, port in enumerate(ports):
            directory = work / f"purge-edge-{index + 1}"
            directory.mkdir(parents=True, exist_ok=True)
            stack.enter_context(varnish(env, backend, port, directory))
        try:
            bases = {"plain": plain}
            for count in EDGE_COUNTS:
                purging = {**env, "EDGE_PURGE_URLS": ",".join(urls[:count])}
                server = Server("wsgi:app", purging, work / f"purging-{count}.log")
                servers.append(server)
                bases[_label(count)] = server.base
            for server in servers:
                server.wait_ready("/readyz")
            times = _rotated_approvals(env, bases, samples)
        finally:
            for server in servers:
                server.stop()
    report: dict[str, Any] = {}
    for label, values in times.items():
        report[label] = {
            "samples": len(values),
            "p50_ms": round(statistics.median(values), 2),
            "p99_ms": round(_p99(values), 2),
        }
    for count in EDGE_COUNTS:
        item = report[_label(count)]
        item["added_p50_ms"] = round(item["p50_ms"] - report["plain"]["p50_ms"], 2)
        item["added_p99_ms"] = round(item["p99_ms"] - report["plain"]["p99_ms"], 2)
    return report


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
    purge = purge_latency(env, plain, options.purge_samples, work)
    return {"purge": purge, "failover": failover(env, work)}


def table(report: dict[str, Any]) -> list[str]:
    lines = []
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
                f" ({item['added_p99_ms']:+.2f})"
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


def verdict(report: dict[str, Any]) -> list[str]:
    purge, gap = report["purge"], report["failover"]
    one = purge[_label(1)]["p50_ms"]
    per_edge = max(
        (purge[_label(count)]["p50_ms"] - one) / (count - 1) for count in EDGE_COUNTS[1:]
    )
    limit = CLUSTER_TARGETS["added_p50_ms_per_edge"]
    lines = [
        f"each edge beyond the first adds {per_edge:+.2f} ms p50 to an approval"
        f" (≤ {limit}: {'met' if per_edge <= limit else 'MISSED'})"
    ]
    no_error = gap["errors"] == 0
    lines.append(
        f"failover: {gap['errors']} failed reads ({'met' if no_error else 'MISSED'}: none),"
        f" longest gap {gap['gap_after_kill_ms']} ms against {gap['gap_before_kill_ms']} ms"
        " before the kill"
    )
    return lines
