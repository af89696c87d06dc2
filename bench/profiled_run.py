"""`relais run` under cProfile, switched on and off by signals (`bench/interactive.py --cprofile FILE`).

    python bench/profiled_run.py FILE     # kill -USR1 PID starts profiling; kill -USR2 PID stops and writes FILE

Only the window between the two signals is in the statistics (not the start-up's imports).
Coroutines and SQLAlchemy's greenlets blur cumulative times: read the functions' own times.
"""

from __future__ import annotations

import cProfile
import signal
import sys


def main() -> None:
    profile = cProfile.Profile()
    out = sys.argv[1]

    def start(*_: object) -> None:
        profile.enable()

    def stop(*_: object) -> None:
        profile.disable()
        profile.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = ["relais", "run"]
    from bot.cli import main as relais

    relais()


if __name__ == "__main__":
    main()
