"""How long `make demo` takes once installed: `python bench/demo.py [--runs N]`.

- `relais demo` as a person runs it: a new process, imports included (wall time, median of N);
- the demo's scenes alone, in this process, as shipped: the built-in fake waives Telegram's
  per-group limit of 20 messages a minute (the demo only; the tests keep it);
- the baseline beside it: the same scenes with that limit and flood control kept, as the demo ran
  before (each scene with several group messages then waited for the minute's budget).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.demo import run_demo  # noqa: E402


def command_seconds(runs: int) -> list[float]:
    relais = Path(sys.executable).with_name("relais")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(relais), "demo"], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def scenes_seconds(runs: int, limit: bool) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            assert asyncio.run(run_demo(telegram_group_limit=limit)) == 0
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    command = command_seconds(args.runs)
    shipped = scenes_seconds(args.runs, limit=False)
    baseline = scenes_seconds(1, limit=True)
    result = {
        "bench": "demo",
        "runs": args.runs,
        "relais_demo_s": round(statistics.median(command), 2),
        "relais_demo_max_s": round(max(command), 2),
        "scenes_s": round(statistics.median(shipped), 2),
        "baseline_group_limit_s": round(baseline[0], 2),
        "ratio": round(statistics.median(shipped) / baseline[0], 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
