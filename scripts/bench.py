"""Benchmark Tarjuma under gunicorn against a minimal Flask app serving the same bytes.

``make bench`` (or ``python scripts/bench.py``) creates a fresh PostgreSQL database
``tarjuma_bench`` on the local server, migrates and seeds it, starts the app with the
production configuration (``gunicorn.conf.py``) pinned to one core, records the real
responses, starts ``scripts/bench_baseline.py`` with the same settings serving those bytes
from memory, and loads both with ``wrk`` from the other core, on loopback only. Each
scenario runs on Tarjuma and then on the baseline, one after the other, so that both
meet the same machine. ``--scaled`` (``make bench SCALE=1``) measures the shipped data
set and then ``tarjuma_bench_scaled``: 50 locales, 100 essays, 3 versions per unit and
locale (``scripts/scale_data.py``). The submission is measured twice, with the command
line's token and with a personal token scoped to ``translate``, so that what checking a
token's scopes costs is one ratio of the same run (``--only submission`` measures just
those). ``--observability`` serves the app with JSON logs and metrics on, beside a second
server of the same build with both off, and measures the reads on each, so that what the
request hook costs is one ratio of the same run. The edge (``scripts/bench_edge.py``) and
several machines (``scripts/bench_cluster.py``: 2 edges against 1, 2 app nodes against 1,
2 workers against 1, the purge latency with 1, 2 and 4 edges, the failover gap when an
app node dies) follow; ``--no-edge``, ``--no-cluster`` skip
them, ``--edge-only`` and ``--cluster-only`` run just one.

Results go to ``bench-results/bench-<dataset>-<time>.json`` and a table on stdout.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.scale_data import LOCALES as SCALED_LOCALES  # noqa: E402

SLUG = "championing-islamic-nations-security"
ESSAY = f"/api/v1/essays/{SLUG}"
SUBMISSION = f"{ESSAY}/sections/introduction/translations"
MALAY = (
    "Memajukan keselamatan Negara Islam amat penting untuk memperkukuh Ummah dan menjamin"
    " keselamatan umat Islam di seluruh dunia."
)
SERVER_CORE, CLIENT_CORE = "0", "1"
DROPPED_HEADERS = {"server", "date", "connection", "content-length", "transfer-encoding"}
TARGETS = {
    "throughput": 0.85,
    "throughput_304": 0.9,
    "p99": 1.5,
    "scaled": 0.10,
    "on_off": 0.9,
    "scoped_token": 0.95,
}
SUBMISSION_FULL = "submission (POST, token)"
SUBMISSION_SCOPED = "submission (POST, scoped token)"
OBSERVABILITY_ON = {"LOG_FORMAT": "json", "REQUEST_LOG": "true", "METRICS_ENABLED": "true"}
OBSERVABILITY_OFF = {"LOG_FORMAT": "text", "REQUEST_LOG": "false", "METRICS_ENABLED": "false"}

LUA_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH-JSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d,"
    .. " \\"p99_us\\": %d, \\"max_us\\": %d, \\"errors\\": %d, \\"status_errors\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status))
end
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: str | None = None
    kind: str = "essay"


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int
    cpu_us: float | None = None  # CPU time of the server's processes per request


@dataclass
class Result:
    scenario: str
    kind: str
    app: Run
    baseline: Run
    off: Run | None = None  # the same build with logs and metrics off (--observability)

    @property
    def ratio(self) -> float:
        return self.app.rps / self.baseline.rps if self.baseline.rps else 0.0

    @property
    def on_off(self) -> float | None:
        return self.app.rps / self.off.rps if self.off and self.off.rps else None

    @property
    def p99_ratio(self) -> float:
        return self.app.p99_ms / self.baseline.p99_ms if self.baseline.p99_ms else 0.0


def _machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "kernel": platform.release(),
    }


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (the nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else name


def _fresh_database(admin_url: str, name: str) -> str:
    import sqlalchemy as sa

    from api.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = sa.make_url(admin_url).set(database=name)
    return url.render_as_string(hide_password=False)


def _flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [_bin("flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def prepare(admin_url: str, name: str, scaled: bool) -> dict[str, str]:
    """A fresh, migrated and seeded database (scaled if asked), with users and tokens."""
    started = time.perf_counter()
    url = _fresh_database(admin_url, name)
    secret_key = "bench-" + base64.urlsafe_b64encode(os.urandom(18)).decode()
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "SECRET_KEY": secret_key}
    if scaled:
        env["TARJUMA_LOCALES"] = ",".join(SCALED_LOCALES)
    _flask(env, "db", "upgrade")
    _flask(env, "seed")
    if scaled:
        done = subprocess.run(
            [sys.executable, "scripts/scale_data.py"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        print(done.stdout.strip())
    _flask(env, "users", "create", "bench-translator", "--role", "translator", "--locale", "ms")
    _flask(env, "users", "create", "bench-reviewer", "--role", "reviewer", "--locale", "ar")
    _flask(env, "users", "create", "bench-queue", "--role", "translator", "--locale", "ar")
    env["BENCH_TRANSLATOR"] = _flask(env, "tokens", "create", "bench-translator").split()[-1]
    env["BENCH_REVIEWER"] = _flask(env, "tokens", "create", "bench-reviewer").split()[-1]
    env["BENCH_QUEUE"] = _flask(env, "tokens", "create", "bench-queue").split()[-1]
    print(f"{name}: ready in {time.perf_counter() - started:.1f} s")
    return env


def cpu_seconds(pid: int) -> float:
    """User and system CPU time so far of a process and its children (Linux): gunicorn's
    master and workers, varnishd's manager and cache process."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children")
        pids += [int(child) for child in children.read_text().split()]
    total = 0
    for each in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


class Server:
    """gunicorn with ``gunicorn.conf.py``, pinned to the server core, on a loopback port."""

    def __init__(self, module: str, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        command = [_bin("gunicorn"), "-c", "gunicorn.conf.py", module]
        if shutil.which("taskset"):
            command = ["taskset", "-c", SERVER_CORE, *command]
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def cpu_seconds(self) -> float:
        """User and system CPU time of gunicorn's master and workers so far (Linux)."""
        return cpu_seconds(self.process.pid)

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.base + path, timeout=2):
                    return
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise SystemExit(f"{self.base} did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@contextlib.contextmanager
def serving(module: str, env: dict[str, str], log: Path, ready: str) -> Iterator[Server]:
    server = Server(module, env, log)
    try:
        server.wait_ready(ready)
        yield server
    finally:
        server.stop()


def _request(
    base: str, scenario: Scenario, extra: dict[str, str] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    request = urllib.request.Request(
        base + scenario.path,
        data=scenario.body.encode() if scenario.body else None,
        headers={**scenario.headers, **(extra or {})},
        method=scenario.method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, list(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, list(error.headers.items()), error.read()


def scoped_token(env: dict[str, str], base: str) -> str:
    """A personal token of the translator's, made through the API, that may only translate."""
    body = json.dumps({"name": "bench", "scopes": ["translate"], "expires_in_days": 1})
    headers = {
        "Authorization": f"Bearer {env['BENCH_TRANSLATOR']}",
        "Content-Type": "application/json",
    }
    status, _, text = _request(base, Scenario("token", "/api/v1/me/tokens", headers, "POST", body))
    if status != 201:
        raise SystemExit(f"Could not make a scoped token: {status} {text[:300]!r}")
    return str(json.loads(text)["token"])


def scenarios(env: dict[str, str], base: str) -> list[Scenario]:
    """What is measured: three locales, the 304 path, the review queue and a submission,
    with the command line's token and with a personal token scoped to ``translate``."""
    etag = dict(_request(base, Scenario("ar", f"{ESSAY}?locale=ar"))[1])["ETag"]
    submission = json.dumps({"locale": "ms", "body": MALAY, "source_revision": 1})
    scoped = scoped_token(env, base)
    return [
        Scenario("essay ar (direct)", f"{ESSAY}?locale=ar"),
        Scenario("essay ms (fallback to id)", f"{ESSAY}?locale=ms"),
        Scenario("essay ur (RTL)", f"{ESSAY}?locale=ur"),
        Scenario(
            "essay ar, If-None-Match", f"{ESSAY}?locale=ar", {"If-None-Match": etag}, kind="304"
        ),
        Scenario(
            "review queue (GET, token)",
            "/api/v1/reviews?locale=ar&per_page=20",
            {"Authorization": f"Bearer {env['BENCH_REVIEWER']}"},
            kind="workflow",
        ),
        Scenario(
            SUBMISSION_FULL,
            SUBMISSION,
            {
                "Authorization": f"Bearer {env['BENCH_TRANSLATOR']}",
                "Content-Type": "application/json",
            },
            "POST",
            submission,
            kind="workflow",
        ),
        Scenario(
            SUBMISSION_SCOPED,
            SUBMISSION,
            {"Authorization": f"Bearer {scoped}", "Content-Type": "application/json"},
            "POST",
            submission,
            kind="workflow",
        ),
    ]


def fill_queue(env: dict[str, str], base: str, count: int) -> None:
    """Submissions in Arabic, so the reviewer's queue has pages to show."""
    keys = [
        "title",
        "introduction",
        "strategic-alliances-and-diplomacy",
        "enhanced-intelligence-capabilities",
        "technological-advancements-in-defense",
        "active-participation-in-international-forums",
        "conclusion",
    ]
    headers = {"Authorization": f"Bearer {env['BENCH_QUEUE']}", "Content-Type": "application/json"}
    for n in range(count):
        key = keys[n % len(keys)]
        source = json.loads(_request(base, Scenario("source", f"{ESSAY}/sections/{key}"))[2])
        payload: dict[str, Any] = {"locale": "ar", "body": f"نص مقترح رقم {n}."}
        if source.get("heading"):
            payload["heading"] = f"عنوان {n}"
        body = json.dumps(payload)
        status, _, text = _request(
            base, Scenario("queue", f"{ESSAY}/sections/{key}/translations", headers, "POST", body)
        )
        if status != 201:
            raise SystemExit(f"Could not fill the review queue: {status} {text[:300]!r}")


def record(base: str, items: list[Scenario], path: Path) -> None:
    """Fetch each scenario's real response once; the baseline replays these bytes."""
    recorded = []
    for scenario in items:
        status, headers, body = _request(base, scenario)
        if status >= 400:
            raise SystemExit(f"{scenario.name}: {status} {body[:300]!r}")
        path_only, _, query = scenario.path.partition("?")
        recorded.append(
            {
                "method": scenario.method,
                "path": path_only,
                "query": query,
                "status": status,
                "headers": [(k, v) for k, v in headers if k.lower() not in DROPPED_HEADERS],
                "body": base64.b64encode(body).decode(),
            }
        )
    path.write_text(json.dumps(recorded, ensure_ascii=False))


def _lua(scenario: Scenario, directory: Path) -> Path:
    lines = [f"wrk.method = {json.dumps(scenario.method)}"]
    for name, value in scenario.headers.items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if scenario.body is not None:
        lines.append(f"wrk.body = {json.dumps(scenario.body)}")
    slug = "".join(c if c.isalnum() else "-" for c in scenario.name)
    script = directory / f"{slug}.lua"
    script.write_text("\n".join(lines) + "\n" + LUA_REPORT)
    return script


def wrk(url: str, script: Path, seconds: int, connections: int) -> Run:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url]
    if shutil.which("taskset"):
        command = ["taskset", "-c", CLIENT_CORE, *command]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH-JSON "))
    data = json.loads(line.removeprefix("BENCH-JSON "))
    return Run(
        rps=round(data["requests"] / (data["duration_us"] / 1e6), 1),
        p50_ms=round(data["p50_us"] / 1000, 2),
        p99_ms=round(data["p99_us"] / 1000, 2),
        max_ms=round(data["max_us"] / 1000, 2),
        requests=data["requests"],
        errors=data["errors"] + data["status_errors"],
    )


def measure(
    scenario: Scenario,
    app: Server,
    baseline: Server,
    options: argparse.Namespace,
    lua: Path,
    off: Server | None = None,
) -> Result:
    script = _lua(scenario, lua)
    servers = [("app", app), ("baseline", baseline)]
    if off is not None and scenario.kind in ("essay", "304"):
        servers.insert(1, ("off", off))
    runs = {}
    for label, server in servers:
        url = server.base + scenario.path
        wrk(url, script, options.warmup, options.connections)
        cpu = server.cpu_seconds()
        run = wrk(url, script, options.duration, options.connections)
        if run.requests:
            run.cpu_us = round((server.cpu_seconds() - cpu) / run.requests * 1e6, 1)
        runs[label] = run
    return Result(scenario.name, scenario.kind, runs["app"], runs["baseline"], runs.get("off"))


def bench_dataset(name: str, scaled: bool, options: argparse.Namespace, out: Path) -> dict:
    env = prepare(options.postgres, name, scaled)
    env.setdefault("WEB_CONCURRENCY", str(options.workers))
    env["RATELIMIT_DEFAULT"] = "100000000 per minute"
    dataset = "scaled" if scaled else "shipped"
    if options.observability:
        env.update(OBSERVABILITY_ON)
    with (
        tempfile.TemporaryDirectory(prefix="tarjuma-bench-") as scratch,
        contextlib.ExitStack() as stack,
    ):
        work = Path(scratch)
        off = None
        if options.observability:
            off_env = {**env, **OBSERVABILITY_OFF}
            off = stack.enter_context(serving("wsgi:app", off_env, work / "off.log", "/readyz"))
        with serving("wsgi:app", env, work / "app.log", "/readyz") as app:
            if not options.reads_only:
                fill_queue(env, app.base, options.queue)
            items = scenarios(env, app.base)
            responses = work / "responses.json"
            record(app.base, items, responses)
            baseline_env = {**env, "BENCH_RESPONSES": str(responses)}
            with serving(
                "scripts.bench_baseline:app", baseline_env, work / "baseline.log", ESSAY
            ) as baseline:
                results = []
                chosen = [
                    i
                    for i in items
                    if (i.kind != "workflow" or not options.reads_only)
                    and (not options.only or any(word in i.name for word in options.only))
                ]
                skip = options.edge_only or options.cluster_only
                for scenario in [] if skip else chosen:
                    result = measure(scenario, app, baseline, options, work, off)
                    results.append(result)
                    print(_row(result), flush=True)
            edge_report = None
            if options.edge and not scaled and not options.cluster_only:
                from scripts import bench_edge

                edge_report = bench_edge.run(env, app.base, options, work)
                for line in bench_edge.table(edge_report):
                    print(line)
            cluster_report = None
            if options.cluster and not scaled and not options.edge_only:
                from scripts import bench_cluster

                cluster_report = bench_cluster.run(env, app.base, options, work)
                for line in bench_cluster.table(cluster_report):
                    print(line)
    report = {
        "dataset": dataset,
        "database": name,
        "machine": _machine(),
        "settings": {
            "workers": int(env["WEB_CONCURRENCY"]),
            "threads": int(env.get("GUNICORN_THREADS", "1")),
            "connections": options.connections,
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "server_core": SERVER_CORE,
            "client_core": CLIENT_CORE,
            "locales": len(SCALED_LOCALES) if scaled else 8,
            "observability": (
                {"app": OBSERVABILITY_ON, "off": OBSERVABILITY_OFF}
                if options.observability
                else {key: env.get(key) for key in OBSERVABILITY_ON}
            ),
        },
        "results": [
            asdict(r)
            | {"ratio": round(r.ratio, 3), "p99_ratio": round(r.p99_ratio, 3)}
            | ({"on_off": round(r.on_off, 3)} if r.on_off is not None else {})
            for r in results
        ],
        "edge": edge_report,
        "cluster": cluster_report,
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"bench-{dataset}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"→ {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return report


HEADER = (
    f"{'scenario':32} {'req/s':>8} {'base':>8} {'ratio':>6} "
    f"{'p50 ms':>7} {'base':>6} {'p99 ms':>7} {'base':>6} {'p99×':>5}"
)


def _row(result: Result) -> str:
    a, b = result.app, result.baseline
    flag = f"  ({a.errors} errors)" if a.errors else ""
    if a.cpu_us and b.cpu_us:
        flag += f"  CPU µs/request {a.cpu_us:.0f}, base {b.cpu_us:.0f} ({b.cpu_us / a.cpu_us:.2f})"
    if result.off is not None and result.on_off is not None:
        flag += f"  off: {result.off.rps:.0f} req/s, on/off {result.on_off:.2f}"
        if a.cpu_us and result.off.cpu_us:
            flag += f"; CPU µs/request {a.cpu_us:.0f} on, {result.off.cpu_us:.0f} off"
    return (
        f"{result.scenario:32} {a.rps:8.0f} {b.rps:8.0f} {result.ratio:6.2f} "
        f"{a.p50_ms:7.2f} {b.p50_ms:6.2f} {a.p99_ms:7.2f} {b.p99_ms:6.2f} "
        f"{result.p99_ratio:5.2f}{flag}"
    )


def verdict(report: dict, shipped: dict | None = None) -> list[str]:
    """The targets, each met or missed."""
    lines = []
    for item in report["results"]:
        if item["kind"] == "essay":
            floor = TARGETS["throughput"]
        elif item["kind"] == "304":
            floor = TARGETS["throughput_304"]
        else:
            continue
        fast = "met" if item["ratio"] >= floor else "MISSED"
        steady = "met" if item["p99_ratio"] <= TARGETS["p99"] else "MISSED"
        lines.append(
            f"{report['dataset']} {item['scenario']}: throughput {item['ratio']:.2f}×"
            f" (≥ {floor}: {fast}), p99 {item['p99_ratio']:.2f}× (≤ {TARGETS['p99']}: {steady})"
        )
        if "on_off" in item:
            kept = "met" if item["on_off"] >= TARGETS["on_off"] else "MISSED"
            lines.append(
                f"{report['dataset']} {item['scenario']}: logs and metrics on"
                f" {item['on_off']:.2f}× of off (≥ {TARGETS['on_off']}: {kept})"
            )
    runs = {item["scenario"]: item for item in report["results"]}
    if SUBMISSION_FULL in runs and SUBMISSION_SCOPED in runs:
        full, scoped = runs[SUBMISSION_FULL]["app"], runs[SUBMISSION_SCOPED]["app"]
        ratio = scoped["rps"] / full["rps"] if full["rps"] else 0.0
        kept = "met" if ratio >= TARGETS["scoped_token"] else "MISSED"
        lines.append(
            f"{report['dataset']} submission with a token scoped to translate:"
            f" {ratio:.2f}× the req/s of the command line's token"
            f" ({scoped['rps']:.0f} against {full['rps']:.0f};"
            f" ≥ {TARGETS['scoped_token']}: {kept})"
        )
    if shipped:
        before = {item["scenario"]: item for item in shipped["results"]}
        for item in report["results"]:
            if item["kind"] not in ("essay", "304"):
                continue
            old = before[item["scenario"]]["app"]["rps"]
            change = item["app"]["rps"] / old - 1 if old else 0.0
            ok = "met" if change >= -TARGETS["scaled"] else "MISSED"
            lines.append(
                f"scaled against shipped, {item['scenario']}: {change:+.1%} req/s"
                f" (no more than {TARGETS['scaled']:.0%} slower: {ok})"
            )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scaled", action="store_true", help="also measure the scaled data")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--workers",
        type=int,
        default=3,
        help="gunicorn workers when WEB_CONCURRENCY is unset (2 × the one server core + 1)",
    )
    parser.add_argument("--queue", type=int, default=40, help="submissions in the queue")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a database on the server where the benchmark databases are created",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument(
        "--no-edge", dest="edge", action="store_false", help="skip the Varnish edge runs"
    )
    parser.add_argument("--edge-only", action="store_true", help="only the edge runs")
    parser.add_argument(
        "--no-cluster",
        dest="cluster",
        action="store_false",
        help="skip the several-machines runs (scripts/bench_cluster.py)",
    )
    parser.add_argument(
        "--cluster-only",
        action="store_true",
        help="only the several-machines runs (scripts/bench_cluster.py)",
    )
    parser.add_argument(
        "--observability",
        action="store_true",
        help="JSON logs and metrics on, and the reads measured again with both off",
    )
    parser.add_argument(
        "--reads-only", action="store_true", help="skip the review queue and the submission"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="only the scenarios whose name holds TEXT (repeatable), e.g. --only submission",
    )
    parser.add_argument("--edge-rounds", type=int, default=3, help="rounds of the edge targets")
    parser.add_argument("--edge-duration", type=int, default=5, help="seconds per edge run")
    parser.add_argument("--edge-connections", type=int, default=32)
    parser.add_argument(
        "--scaling-rounds", type=int, default=6, help="rounds of 1 against 2 edges and nodes"
    )
    parser.add_argument(
        "--scaling-duration", type=int, default=3, help="seconds per edge and node run"
    )
    parser.add_argument("--purge-samples", type=int, default=200, help="approvals per side")
    parser.add_argument(
        "--receiver-delay-ms",
        type=float,
        default=30,
        help="how long the webhook receiver takes to answer, 1 worker against 2",
    )
    parser.add_argument(
        "--worker-deliveries", type=int, default=800, help="a backlog, 1 worker against 2"
    )
    options = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench does it)")
    options.out.mkdir(parents=True, exist_ok=True)
    machine = _machine()
    print(
        f"{machine['nproc']} cores, {machine['cpu']}, load {machine['load_average'][0]:.2f},"
        f" {machine['date']}; server on core {SERVER_CORE}, wrk on core {CLIENT_CORE}"
    )
    print(HEADER)
    shipped = bench_dataset("tarjuma_bench", False, options, options.out)
    scaled = None
    if options.scaled:
        print(HEADER)
        scaled = bench_dataset("tarjuma_bench_scaled", True, options, options.out)
    print()
    for line in verdict(shipped) + (verdict(scaled, shipped) if scaled else []):
        print(line)
    if shipped.get("edge"):
        from scripts import bench_edge

        for line in bench_edge.verdict(shipped["edge"]):
            print(line)
    if shipped.get("cluster"):
        from scripts import bench_cluster

        for line in bench_cluster.verdict(shipped["cluster"]):
            print(line)


if __name__ == "__main__":
    main()
