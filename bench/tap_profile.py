"""Where a tap's CPU goes: taps on a meeting's buttons, one after the other, against the real bot
and the fake Telegram in this process, for a sampling profiler.

    .venv/bin/py-spy record -o bench/tap_flame.svg -- .venv/bin/python bench/tap_profile.py --taps 1500

The fake Telegram's own frames (bot/simulator) are in the same process: read the bot's side of
the graph (bot/application.py `_handle_once` and below, the sender, the refresher).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def run(taps: int) -> None:
    from bot.clock import FakeClock
    from bot.simulator.harness import UNPACED, Harness
    from tests.support.helpers import group_with_bot

    folder = Path(tempfile.mkdtemp(prefix="relais-taps-"))
    async with Harness(
        f"sqlite+aiosqlite:///{folder / 'taps.db'}", clock=FakeClock(), flood_control=False, overrides=UNPACED
    ) as h:
        chat, awa, people = await group_with_bot(h, members=4)
        tg = h.tg
        tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
        await h.settle()
        announcement = tg.bot_messages(chat.id)[-1]
        for person in people:
            tg.start_private(person)
        await h.settle()
        labels = ["Je viens", "Je ne peux pas", "Peut-être"]
        began, cpu = time.perf_counter(), time.process_time()
        for i in range(taps):
            tg.press(people[i % 4], announcement, labels[i % 3])
            await h.app.wait_processed(tg.last_update_id, 10)
        await h.settle()
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(
        f"{taps} taps, one after the other: {1000 * took / taps:.1f} ms each, "
        f"{1000 * cpu / taps:.1f} ms of CPU (the fake and the edits included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taps", type=int, default=1500)
    asyncio.run(run(parser.parse_args().taps))


if __name__ == "__main__":
    main()
