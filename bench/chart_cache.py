"""Benchmark: the attendance chart on a cache hit against a drawing, in one run.

    python bench/chart_cache.py [--runs 20] [--json bench/results.jsonl]

A group's report of twelve meetings (the chart shows the last twelve): the baseline is the
drawing (matplotlib, as /bilan and the dashboard do on a miss); the measure is what a request
costs once the same figures were drawn: the chart's inputs made from the report, then the cache's
lookup. The aim (issue 30): a hit costs at most 5% of a draw.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_world import write_result  # noqa: E402 (beside this script)


async def run(runs: int) -> dict:
    from bot.ui import charts

    start = datetime(2025, 12, 2, 13, tzinfo=UTC)
    meetings = [
        SimpleNamespace(invited=12 + i % 3, present=6 + i % 5, rate=50 + i, starts_at=start + timedelta(days=30 * i))
        for i in range(12)
    ]
    group = SimpleNamespace(display_name="Groupe ressources Oyonnax", timezone="Europe/Paris")
    report = SimpleNamespace(meetings=meetings)
    charts.attendance_chart("fr", group, report)  # matplotlib imported and warmed up
    draws = []
    for _ in range(runs):
        began = time.perf_counter()
        charts.draw(charts.chart_inputs("fr", group, report))
        draws.append(1000 * (time.perf_counter() - began))
    cache = charts.ChartCache()
    await cache.png(charts.chart_inputs("fr", group, report))
    hits = []
    for _ in range(runs * 50):
        began = time.perf_counter()
        await cache.png(charts.chart_inputs("fr", group, report))
        hits.append(1000 * (time.perf_counter() - began))
    draw_ms, hit_ms = statistics.median(draws), statistics.median(hits)
    return {
        "bench": "chart_cache",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "draw_p50_ms": round(draw_ms, 2),
        "hit_p50_ms": round(hit_ms, 4),
        "hit_ratio_to_draw": round(hit_ms / draw_ms, 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    write_result(asyncio.run(run(args.runs)), args.json)


if __name__ == "__main__":
    main()
