"""Benchmark: one reminder wave that goes by Telegram and by SMS at once, each at its own rate.

    python bench/sms_wave.py [--groups 100] [--members 15] [--texted 2] [--sms-per-minute 600]
                             [--json bench/results.jsonl]

Each group has `members` people who started the bot (the reminder reaches them in private) and
`texted` members without Telegram who said OUI (it reaches them by SMS). One reminder per group
falls due at once. The real Relais runs in this process against the fake Telegram (flood control
on: 30 messages a second, 20 a minute per group) and the fake SMS gateway (no limit of its own:
Relais' pacing, `sms.per_minute`, is what is measured).

Reports each channel's sustained rate and its ratio to the channel's limit, and for each channel
the recipients reached twice (duplicates) and not at all (misses). The issue's size is
--groups 1000 --texted 2 (15,000 Telegram messages beside 2,000 SMS: about nine minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_world import add_group, fake_group, write_result  # noqa: E402 (beside this script)

TELEGRAM_PER_SECOND = 30


async def run(args: argparse.Namespace) -> dict:

    from bot.domain import sms
    from bot.domain.meetings import create_meeting
    from bot.domain.settings import MeetingsSection
    from bot.simulator.harness import Harness

    folder = Path(tempfile.mkdtemp(prefix="relais-sms-bench-"))
    url = f"sqlite+aiosqlite:///{folder / 'relais.db'}"
    overrides = {"sms": {"per_minute": args.sms_per_minute, "monthly_limit": 1_000_000}}
    async with Harness(url, flood_control=True, overrides=overrides, sms=True) as h:
        tg, gateway = h.tg, h.sms
        assert gateway is not None
        now = h.clock.now()
        numbers: list[str] = []
        private: list[int] = []
        settings = MeetingsSection(default_reminders="60min")
        async with h.services.sessionmaker.begin() as session:
            for g in range(args.groups):
                chat, people = fake_group(tg, g, args.members)
                private += [person.id for person in people]
                names = [(p.id, p.first_name) for p in people]
                group = await add_group(session, chat.id, chat.title, names, now, "60min", True)
                await session.flush()
                for t in range(args.texted):
                    number = f"+3378{g:04d}{t:03d}"
                    member = await sms.add_member_without_telegram(session, group, f"S{g}_{t}", now)
                    contact = await sms.register(session, group, member, number, now)
                    contact.status, contact.consented_at = sms.ACTIVE, now
                    numbers.append(number)
                await create_meeting(
                    session, group, now + timedelta(minutes=70), "Centre social", "Bilan", None, None, now, settings
                )
        while (await h.run_jobs()).events:  # the consent events registering wrote (they said OUI already)
            pass
        consent_sent = len(gateway.sent)
        h.clock.set(now + timedelta(minutes=10, seconds=1))  # every reminder is due
        began = time.time()
        # One dispatcher run expands 200 due events; the periodic job then runs again: so here.
        while (await h.run_jobs()).events:
            pass
        took = time.time() - began
        private_sends = [
            (m.chat_id, m.at) for chat_id in private for m in tg.messages.get(chat_id, []) if m.sender_id == tg.bot.id
        ]
        texts = [s for s in gateway.sent[consent_sent:] if "Répondez 1" in s.text]
    per_chat = Counter(chat_id for chat_id, _ in private_sends)
    per_number = Counter(s.number for s in texts)

    def rate(moments: list[float]) -> float:
        return (len(moments) - 1) / (max(moments) - min(moments)) if len(moments) > 1 else 0.0

    telegram_rate = rate([at for _, at in private_sends])
    sms_rate = rate([s.at for s in texts])
    return {
        "bench": "sms_wave",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "groups": args.groups,
        "telegram_private": len(private_sends),
        "sms": len(texts),
        "wave_s": round(took, 1),
        "telegram_per_s": round(telegram_rate, 2),
        "telegram_ratio_to_limit": round(telegram_rate / TELEGRAM_PER_SECOND, 3),
        "sms_per_minute": round(sms_rate * 60, 1),
        "sms_ratio_to_limit": round(sms_rate * 60 / args.sms_per_minute, 3),
        "telegram_duplicates": sum(1 for n in per_chat.values() if n > 1),
        "telegram_misses": len(set(private) - set(per_chat)),
        "sms_duplicates": sum(1 for n in per_number.values() if n > 1),
        "sms_misses": len(set(numbers) - set(per_number)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--members", type=int, default=15)
    parser.add_argument("--texted", type=int, default=2)
    parser.add_argument("--sms-per-minute", type=int, default=600)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    write_result(asyncio.run(run(args)), args.json)


if __name__ == "__main__":
    main()
