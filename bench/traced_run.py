"""`relais run` under tracemalloc, for finding what grows in a soak (`bench/soak.py --trace DIR`).

    python bench/traced_run.py DIR       # then: kill -USR1 PID writes DIR/snapshot-<seconds>.pickle

Each SIGUSR1 writes a snapshot of the Python heap (RELAIS_TRACE_FRAMES frames a block, 1 by
default: more frames slow the bot several times over); compare two of them with
`python bench/traced_run.py --compare OLD NEW`. Tracing slows the bot and costs memory of its own:
a traced run finds what grows, an untraced one measures the slope.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import tracemalloc
from pathlib import Path


def compare(old: str, new: str, lines: int = 25) -> None:
    before = tracemalloc.Snapshot.load(old)
    after = tracemalloc.Snapshot.load(new)
    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"),
    ]
    before, after = before.filter_traces(ignore), after.filter_traces(ignore)
    for stat in after.compare_to(before, "traceback")[:lines]:
        print(f"{stat.size_diff / 1024:+9.1f} KB {stat.count_diff:+7d} blocks")
        for line in stat.traceback.format(limit=10):
            print("    " + line)


def main() -> None:
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
        return
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    tracemalloc.start(int(os.environ.get("RELAIS_TRACE_FRAMES", "1")))

    def snapshot(*_: object) -> None:
        tracemalloc.take_snapshot().dump(str(folder / f"snapshot-{int(time.monotonic() - began):06d}.pickle"))

    signal.signal(signal.SIGUSR1, snapshot)
    sys.argv = ["relais", "run"]
    from bot.cli import main as relais

    relais()


if __name__ == "__main__":
    main()
