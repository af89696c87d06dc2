"""Benchmark: the department's view as a coordinator opens it, at 100 groups (the baseline) and at
10,000 groups, in one run on the same machine.

    python bench/department.py [--groups 10000] [--baseline 100] [--runs 15] [--json bench/results.jsonl]

Each world is bench/scale.py's (`build`: groups of 15 members, 10 meetings each, answers), on
SQLite in a temporary folder. The real Relais serves it; the pages are fetched over HTTP with a
coordinator's session cookie, as a browser does: the first page of /groupes (p50, p95, its size),
the same sorted by attendance and filtered by a name, and the whole CSV (/groupes.csv, streamed:
its time and size). Reports each measure and its ratio to the baseline's. The first request of a
set of filters counts its totals (`_first_ms`); the next ones find them kept until a write.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_world import write_result  # noqa: E402 (beside this script)
from scale import COORDINATOR, NOW, coordinator_session, p95, timed_gets  # noqa: E402

PAGES = {
    "first_page": "/groupes",
    "sorted_by_attendance": "/groupes?tri=presence",
    "filtered_by_name": "/groupes?nom=1",
}


def build(url: str, groups: int) -> None:
    script = str(ROOT / "bench" / "scale.py")
    sizes = ["--groups", str(groups), "--answers", str(groups * 30)]
    subprocess.run(
        [sys.executable, script, "build", "--database", url, *sizes],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )


async def measure(url: str, runs: int) -> dict[str, Any]:
    import aiohttp

    from bot.clock import FakeClock
    from bot.simulator.harness import Harness

    h = Harness(url, clock=FakeClock(NOW), overrides={"dashboard": {"coordinators": [COORDINATOR]}})
    await h.start()
    try:
        secret = await coordinator_session(h)
        base = f"http://127.0.0.1:{h.relais.web_port}"
        found: dict[str, Any] = {}
        async with aiohttp.ClientSession(headers={"Cookie": f"relais_session={secret}"}) as client:
            for name, path in PAGES.items():
                times, body = await timed_gets(client, base + path, runs)
                size = len(body)
                found[f"{name}_first_ms"] = round(times[0], 1)  # its totals counted (none kept yet)
                found[f"{name}_p50_ms"] = round(statistics.median(times), 1)
                found[f"{name}_p95_ms"] = round(p95(times), 1)
                found[f"{name}_kb"] = round(size / 1024, 1)
            began = time.monotonic()
            async with client.get(base + "/groupes.csv") as response:
                assert response.status == 200
                content = await response.read()
            found["csv_s"] = round(time.monotonic() - began, 2)
            found["csv_kb"] = round(len(content) / 1024)
            found["csv_lines"] = content.count(b"\r\n")
        return found
    finally:
        await h.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    result: dict[str, Any] = {
        "bench": "department",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "groups": args.groups,
        "baseline_groups": args.baseline,
    }
    with tempfile.TemporaryDirectory(prefix="relais-department-") as folder:
        measured = {}
        for label, groups in (("baseline", args.baseline), ("department", args.groups)):
            path = Path(folder) / f"{label}.db"
            build(f"sqlite+aiosqlite:///{path}", groups)
            measured[label] = asyncio.run(measure(f"sqlite+aiosqlite:///{path}", args.runs))
    for label, values in measured.items():
        result.update({f"{label}_{key}": value for key, value in values.items()})
    for name in PAGES:
        result[f"{name}_ratio_to_baseline"] = round(
            measured["department"][f"{name}_p50_ms"] / measured["baseline"][f"{name}_p50_ms"], 2
        )
    write_result(result, args.json)


if __name__ == "__main__":
    main()
