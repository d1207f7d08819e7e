"""The edge part of ``make bench``: Varnish in front of the app, against nginx and the origin.

In one run, with every server pinned to the server core and wrk on the other:

- Varnish hits for the essay in three locales, and with an ``Accept-Language`` header that
  the edge normalises;
- 304s from Varnish for a matching ``If-None-Match``;
- nginx serving the same bytes as a static file (200, and its own 304): the limit here;
- the origin alone (gunicorn), for the same essay.

Targets rotate within each round, so every round meets the same machine; the ratios to
nginx of each round are kept and their median reported. Then the writer's cost of the
purge: approvals alternate between an app that purges the edge and one that does not.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench import (  # noqa: E402
    ESSAY,
    SERVER_CORE,
    Run,
    Scenario,
    Server,
    _bin,
    _free_port,
    _lua,
    _request,
    percentile,
    wrk,
)

EDGE_TARGETS = {"hit": 0.5, "304": 0.5, "p99_ms": 2.0, "purge_p99_ms": 5.0}


@dataclass
class Target:
    name: str
    kind: str  # hit | 304 | static | static-304 | origin
    url: str
    headers: dict[str, str]


def _pinned(command: list[str], core: str = SERVER_CORE) -> list[str]:
    return ["taskset", "-c", core, *command] if shutil.which("taskset") else command


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise SystemExit(f"port {port} did not open:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextlib.contextmanager
def varnish(
    env: dict[str, str],
    backend_port: int | list[int],
    port: int,
    work: Path,
    core: str = SERVER_CORE,
) -> Iterator[subprocess.Popen[bytes]]:
    """varnishd with the shipped VCL, a director over the app nodes on ``backend_port``,
    pinned to ``core``; yields its process (the manager; the cache process is its child)."""
    from api.edge_runner import varnishd_command

    directory = work / "edge"
    ports = backend_port if isinstance(backend_port, list) else [backend_port]
    backends = [word for p in ports for word in ("--backend", f"127.0.0.1:{p}")]
    done = subprocess.run(
        [_bin("flask"), "--app", "wsgi", "edge", "vcl", *backends, "--out", str(directory)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    vcl = Path(done.stdout.strip().splitlines()[-1])
    log = work / "varnishd.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            _pinned(varnishd_command(vcl, directory / "varnish", f"127.0.0.1:{port}"), core),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_port(port, process, log)
        yield process
    finally:
        _stop(process)


@contextlib.contextmanager
def nginx(body: bytes, port: int, work: Path) -> Iterator[str]:
    """nginx (one worker) serving ``body`` as /essay.json; yields its base URL."""
    directory = work / "nginx"
    static = directory / "static"
    static.mkdir(parents=True)
    (static / "essay.json").write_bytes(body)
    for path in (work, directory, static):
        path.chmod(0o755)
    (static / "essay.json").chmod(0o644)
    temp = " ".join(
        f"{name}_temp_path {directory / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = directory / "nginx.conf"
    config.write_text(
        f"""worker_processes 1;
daemon off;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"};
events {{ worker_connections 4096; }}
http {{
    access_log off;
    {temp}
    default_type application/json;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000000;
    server {{
        listen 127.0.0.1:{port};
        root {static};
    }}
}}
"""
    )
    log = work / "nginx.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            _pinned(["nginx", "-p", str(directory), "-c", str(config)]),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _approvals(env: dict[str, str], purging: str, plain: str, count: int) -> dict[str, list[float]]:
    """Approval latencies (ms) alternating between the purging app and the plain one."""
    headers = {"Authorization": f"Bearer {env['BENCH_QUEUE']}", "Content-Type": "application/json"}
    key = "conclusion"
    ids = []
    for n in range(2):
        body = json.dumps({"locale": "ar", "body": f"خاتمة للقياس رقم {n}."})
        status, _, text = _request(
            plain, Scenario("s", f"{ESSAY}/sections/{key}/translations", headers, "POST", body)
        )
        if status != 201:
            raise SystemExit(f"submission failed: {status} {text[:300]!r}")
        ids.append(json.loads(text)["id"])
    reviewer = {
        "Authorization": f"Bearer {env['BENCH_REVIEWER']}",
        "Content-Type": "application/json",
    }
    times: dict[str, list[float]] = {"purge": [], "plain": []}
    for n in range(count + 2):
        label, base = ("purge", purging) if n % 2 else ("plain", plain)
        scenario = Scenario(
            "a", f"/api/v1/translations/{ids[n % 2]}/approve", reviewer, "POST", "{}"
        )
        started = time.perf_counter()
        status, response_headers, text = _request(base, scenario)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise SystemExit(f"approval failed: {status} {text[:300]!r}")
        if label == "purge" and dict(response_headers).get("Edge-Purge"):
            raise SystemExit(f"the edge was not purged: {dict(response_headers)['Edge-Purge']}")
        if n >= 2:  # the first two publish; the rest are rollbacks and restores
            times[label].append(elapsed)
    return times


def _purge_requests(edges: list[str], count: int) -> list[float]:
    """The purge the writer waits for, alone: one PURGE to each edge, as the app sends it
    (in parallel)."""
    from api.services.outbound.edge import Purge, send

    purge = Purge({"bench-nothing"}, {"bench-nothing"})
    times = []
    for _ in range(count):
        started = time.perf_counter()
        errors = send(edges, purge, 2.0)
        times.append((time.perf_counter() - started) * 1000)
        if errors:
            raise SystemExit(f"purge failed: {errors}")
    return times


def run(env: dict[str, str], plain_base: str, options: Any, work: Path) -> dict[str, Any]:
    """Measure the edge; ``plain_base`` is the app without purging (for the writer's cost)."""
    if not shutil.which("varnishd") or not shutil.which("nginx"):
        raise SystemExit("make bench needs varnish, varnish-modules and nginx-light installed")
    edge_port, nginx_port = _free_port(), _free_port()
    origin_env = {**env, "EDGE_PURGE_URLS": f"http://127.0.0.1:{edge_port}"}
    origin = Server("wsgi:app", origin_env, work / "origin.log")
    try:
        origin.wait_ready("/readyz")
        with varnish(origin_env, origin.port, edge_port, work):
            edge = f"http://127.0.0.1:{edge_port}"
            deadline = time.monotonic() + 15
            while _get(edge + ESSAY + "?locale=ar")[0] != 200:
                if time.monotonic() > deadline:
                    raise SystemExit("the edge does not answer")
                time.sleep(0.2)
            status, headers, body = _get(edge + ESSAY + "?locale=ar")
            etag = headers["ETag"]
            with nginx(body, nginx_port, work) as static:
                static_etag = _get(static + "/essay.json")[1]["ETag"]
                targets = [
                    Target("nginx static file", "static", static + "/essay.json", {}),
                    Target(
                        "nginx static, If-None-Match",
                        "static-304",
                        static + "/essay.json",
                        {"If-None-Match": static_etag},
                    ),
                    Target("edge hit, essay ar", "hit", edge + ESSAY + "?locale=ar", {}),
                    Target("edge hit, essay ms", "hit", edge + ESSAY + "?locale=ms", {}),
                    Target("edge hit, essay ur", "hit", edge + ESSAY + "?locale=ur", {}),
                    Target(
                        "edge hit, Accept-Language",
                        "hit",
                        edge + ESSAY,
                        {"Accept-Language": "ar-EG,ar;q=0.9,en;q=0.8"},
                    ),
                    Target(
                        "edge 304, essay ar",
                        "304",
                        edge + ESSAY + "?locale=ar",
                        {"If-None-Match": etag},
                    ),
                    Target(
                        "origin alone, essay ar", "origin", origin.base + ESSAY + "?locale=ar", {}
                    ),
                ]
                for target in targets:
                    _get(target.url, target.headers)  # the edge holds every object now
                rounds: list[dict[str, Run]] = []
                for number in range(options.edge_rounds):
                    runs: dict[str, Run] = {}
                    for target in targets:
                        script = _lua(Scenario(target.name, "/", target.headers), work)
                        wrk(target.url, script, options.warmup, options.edge_connections)
                        runs[target.name] = wrk(
                            target.url, script, options.edge_duration, options.edge_connections
                        )
                    rounds.append(runs)
                    print(
                        f"edge round {number + 1}: "
                        + ", ".join(f"{name} {run.rps:,.0f}/s" for name, run in runs.items()),
                        flush=True,
                    )
            approvals = _approvals(env, origin.base, plain_base, options.purge_samples)
            approvals["purge request"] = _purge_requests([edge], options.purge_samples)
    finally:
        origin.stop()
    return _report(targets, rounds, approvals)


def _report(
    targets: list[Target], rounds: list[dict[str, Run]], approvals: dict[str, list[float]]
) -> dict[str, Any]:
    results = []
    for target in targets:
        runs = [r[target.name] for r in rounds]
        # Everything is measured against nginx serving the same bytes as a static file; a
        # 304 is also compared with nginx's own 304 for that file.
        ratios = [r[target.name].rps / r["nginx static file"].rps for r in rounds]
        to_304 = [r[target.name].rps / r["nginx static, If-None-Match"].rps for r in rounds]
        p99_ratios = [r[target.name].p99_ms / r["nginx static file"].p99_ms for r in rounds]
        results.append(
            {
                "target": target.name,
                "kind": target.kind,
                "rps_median": round(statistics.median(run.rps for run in runs)),
                "p50_ms_median": statistics.median(run.p50_ms for run in runs),
                "p99_ms_median": statistics.median(run.p99_ms for run in runs),
                "p99_ms_max": max(run.p99_ms for run in runs),
                "errors": sum(run.errors for run in runs),
                "ratio_to_nginx_median": round(statistics.median(ratios), 3),
                "ratios": [round(x, 3) for x in ratios],
                "ratio_to_nginx_304_median": round(statistics.median(to_304), 3),
                "p99_to_nginx_median": round(statistics.median(p99_ratios), 2),
                "runs": [asdict(run) for run in runs],
            }
        )
    purge = {
        label: {
            "samples": len(values),
            "p50_ms": round(statistics.median(values), 2),
            "p99_ms": round(percentile(values, 0.99), 2),
        }
        for label, values in approvals.items()
    }
    purge["added_p50_ms"] = round(purge["purge"]["p50_ms"] - purge["plain"]["p50_ms"], 2)
    purge["added_p99_ms"] = round(purge["purge"]["p99_ms"] - purge["plain"]["p99_ms"], 2)
    return {"targets": results, "purge": purge}


def table(report: dict[str, Any]) -> list[str]:
    lines = [
        f"{'edge target':32} {'req/s':>8} {'× nginx':>8} {'per round':>20}"
        f" {'p50 ms':>7} {'p99 ms':>7} {'p99 × nginx':>11}"
    ]
    for item in report["targets"]:
        per_round = " ".join(f"{x:.2f}" for x in item["ratios"])
        errors = f"  ({item['errors']} errors)" if item["errors"] else ""
        lines.append(
            f"{item['target']:32} {item['rps_median']:8,} {item['ratio_to_nginx_median']:8.2f}"
            f" {per_round:>20} {item['p50_ms_median']:7.2f} {item['p99_ms_median']:7.2f}"
            f" {item['p99_to_nginx_median']:11.2f}{errors}"
        )
    purge = report["purge"]
    alone = purge["purge request"]
    lines.append(
        f"one PURGE request as the writer sends it: p50 {alone['p50_ms']} ms,"
        f" p99 {alone['p99_ms']} ms ({alone['samples']} requests)"
    )
    lines.append(
        f"approval, writer's latency: with purge p50 {purge['purge']['p50_ms']} ms,"
        f" p99 {purge['purge']['p99_ms']} ms; without p50 {purge['plain']['p50_ms']} ms,"
        f" p99 {purge['plain']['p99_ms']} ms ({purge['purge']['samples']} each)"
    )
    return lines


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def verdict(report: dict[str, Any]) -> list[str]:
    lines = []
    for item in report["targets"]:
        if item["kind"] not in ("hit", "304"):
            continue
        floor, ceiling = EDGE_TARGETS[item["kind"]], EDGE_TARGETS["p99_ms"]
        ratio, p99 = item["ratio_to_nginx_median"], item["p99_ms_median"]
        extra = (
            f" ({item['ratio_to_nginx_304_median']:.2f}× nginx's own 304)"
            if item["kind"] == "304"
            else ""
        )
        lines.append(
            f"{item['target']}: {ratio:.2f}× nginx static{extra} (≥ {floor}:"
            f" {_met(ratio >= floor)}), p99 {p99:.2f} ms (≤ {ceiling}: {_met(p99 <= ceiling)};"
            f" {item['p99_to_nginx_median']:.2f}× nginx's p99)"
        )
    added = report["purge"]["added_p99_ms"]
    limit = EDGE_TARGETS["purge_p99_ms"]
    alone = report["purge"]["purge request"]["p99_ms"]
    lines.append(
        f"purge adds {added:+.2f} ms p99 to the writer's approvals, one PURGE takes"
        f" {alone:.2f} ms p99 (≤ {limit}: {_met(added <= limit)}, {_met(alone <= limit)})"
    )
    return lines
