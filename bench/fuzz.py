"""The fuzzer from the command line: `python bench/fuzz.py --updates 20000 --seed 1 [--postgres URL]`.

Runs bot/simulator/fuzz.py against the real Relais on a fresh database and the fake Telegram,
prints the report as JSON and appends it to bench/results.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.simulator.fuzz import Fuzzer  # noqa: E402
from bot.simulator.harness import UNPACED, Harness  # noqa: E402

FAST = UNPACED


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="a PostgreSQL URL (postgresql+asyncpg://...) instead of SQLite")
    parser.add_argument("--precise", action="store_true", help="read the database after each forged update")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/results.jsonl")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="relais-fuzz-") as folder:
        url = args.postgres or f"sqlite+aiosqlite:///{Path(folder) / 'relais.db'}"
        async with Harness(url, flood_control=False, overrides=FAST) as h:
            report = await Fuzzer(h, seed=args.seed, precise=args.precise).run(args.updates)
            flagged = list(h.tg.flagged)
    result = report.as_dict() | {
        "bench": "fuzz",
        "database": "postgresql" if args.postgres else "sqlite",
        "flagged_by_fake": len(flagged),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}",
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if not args.no_record:
        with open(ROOT / "bench" / "results.jsonl", "a", encoding="utf-8") as out:
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0 if report.clean and not flagged else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
