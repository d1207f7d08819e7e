"""Freshness through the edge under load: no read that starts after a change's response
returned gets anything older than that change (SQLite here, PostgreSQL in
``make test-postgres``)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.edge_stack import ESSAY, INTRO, edge_stack

# varnishd and the app's own server run in other processes.
pytestmark = pytest.mark.multiprocess

DURATION = 8.0
READERS = 4


def test_no_read_after_a_change_returned_is_older_than_it(databases: Any, tmp_path: Path) -> None:
    # Each body waits a little once built, so that reads are often in flight at a commit.
    with edge_stack(databases, tmp_path, READ_BUILD_DELAY="0.03") as stack:
        old = stack.arabic_intro()
        versions = [stack.submit(f"{old} ({n})") for n in ("١", "٢")]
        changes: list[tuple[float, int]] = []  # (response returned at, revision it made)
        reads: list[tuple[float, str, int]] = []
        stop = threading.Event()
        failures: list[str] = []

        def revision() -> int:
            status, _, body = stack.origin.get(f"{INTRO}?locale=ar")
            assert status == 200
            return int(json.loads(body)["revision"])

        def writer() -> None:
            n = 0
            while not stop.is_set():
                stack.approve(versions[n % 2])
                returned = time.monotonic()
                changes.append((returned, revision()))
                n += 1
                time.sleep(0.02)

        def reader(index: int) -> None:
            paths = [
                (f"{INTRO}?locale=ar", {}),
                (ESSAY, {"Accept-Language": f"ar-EG;q=0.{index + 5}"}),
            ]
            n = 0
            while not stop.is_set():
                path, headers = paths[n % 2]
                started = time.monotonic()
                status, _, body = stack.edge.get(path, **headers)
                if status != 200:
                    failures.append(f"{path}: {status}")
                else:
                    reads.append((started, path, int(json.loads(body)["revision"])))
                n += 1

        threads = [threading.Thread(target=writer)] + [
            threading.Thread(target=reader, args=(i,)) for i in range(READERS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(DURATION)
        # A loaded machine runs fewer changes in the time: go on until there are enough.
        deadline = time.monotonic() + 4 * DURATION
        while (len(changes) < 20 or len(reads) < 500) and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

        assert failures == []
        assert len(changes) >= 20 and len(reads) >= 500, (len(changes), len(reads))
        violations = []
        for started, path, seen in reads:
            due = [rev for returned, rev in changes if returned < started]
            if due and seen < max(due):
                violations.append((path, seen, max(due), started))
        assert violations == [], f"{len(violations)} stale reads of {len(reads)}: {violations[:5]}"
