"""Benchmark: one reminder wave for 1,000 groups of 15 members who all started the bot.

    python bench/reminder_wave.py [--groups 1000] [--members 15] [--kill-at 0.5] [--database URL]
                                  [--processes 2] [--faults]

The fake Telegram (flood control on: 30 messages/s overall, 20/min per group) runs in its own
process; `relais run` runs in another, on its own SQLite file (or --database), exactly as
deployed. Every group's meeting has one reminder due a few seconds after the bot starts, so the
wave is 1,000 group messages and 15,000 private ones. With --kill-at F the bot is killed with
SIGKILL once a fraction F of the wave went out, and started again at once.

With --processes N (PostgreSQL) N bot processes share the database and the wave, in webhook
mode (only one process may long-poll); --kill-at then kills one of them for good. With --faults
the fake answers, at set fractions of the wave, a burst of 429s, 5xx errors, replies slower than
the client's timeout and dropped connections, and then the database is restarted (PostgreSQL) or
locked by another program (SQLite); the database then says what was retried and what failed.

Reports: sustained rate against Telegram's 30/s ceiling, 429s received, lateness (p50, p95) from
the due time, duplicates and misses, and for a kill the sends in flight at the kill.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_world import add_group, fake_group, stop_processes, write_result  # noqa: E402 (beside this script)


def serve_fake(port: int, groups: int, members: int, world_file: str) -> None:
    """Child process: the fake Telegram with its world, plus /_bench/stats."""
    from aiohttp import web

    from bot.simulator.scenario import FakeTelegram

    async def main() -> None:
        tg = FakeTelegram(flood_control=True)
        world = []
        for g in range(groups):
            chat, people = fake_group(tg, g, members)
            world.append({"chat_id": chat.id, "title": chat.title, "people": [[p.id, p.first_name] for p in people]})

        async def stats(request: web.Request) -> web.Response:
            if request.query.get("progress"):  # cheap, polled during the wave
                chats = [chat for chat, msgs in tg.messages.items() if any(m.sender_id == tg.bot.id for m in msgs)]
                sent = sum(1 for msgs in tg.messages.values() for m in msgs if m.sender_id == tg.bot.id)
                return web.json_response({"sent": sent, "recipients": len(chats)})
            sends = [(m.chat_id, m.at) for msgs in tg.messages.values() for m in msgs if m.sender_id == tg.bot.id]
            return web.json_response({"sends": sends, "rate_limited": tg.rate_limited, "flagged": tg.flagged[:20]})

        async def fault(request: web.Request) -> web.Response:
            spec = await request.json()  # {"method", "kind", "times", "retry_after", "delay"}
            tg.script_fault(
                spec.get("method", "sendMessage"),
                spec["kind"],
                spec.get("times", 1),
                retry_after=spec.get("retry_after", 1),
                delay=spec.get("delay", 0.0),
            )
            return web.json_response({"ok": True})

        def routes(app: web.Application) -> None:
            app.router.add_get("/_bench/stats", stats)
            app.router.add_post("/_bench/fault", fault)

        await tg.start(port=port, extra_routes=routes)
        Path(world_file).write_text(json.dumps({"token": tg.token, "base_url": tg.base_url, "world": world}))
        await asyncio.Event().wait()

    asyncio.run(main())


async def populate(database_url: str, world: list[dict], due_in: float) -> datetime:
    """Groups, members who started the bot, and one meeting each whose reminder falls due together."""
    from bot.domain.meetings import create_meeting
    from bot.domain.settings import MeetingsSection
    from storage.db import create_engine, create_sessionmaker, migrate

    engine = create_engine(database_url)
    await migrate(engine)
    sessions = create_sessionmaker(engine)
    now = datetime.now(UTC)
    due = now + timedelta(seconds=due_in)
    settings = MeetingsSection(default_reminders="60min")
    async with sessions.begin() as session:
        for entry in world:
            people = [(telegram_id, name) for telegram_id, name in entry["people"]]
            group = await add_group(session, entry["chat_id"], entry["title"], people, now, "60min", True)
            await create_meeting(
                session, group, due + timedelta(minutes=60), "Centre social", "Bilan", None, None, now, settings
            )
    await engine.dispose()
    return due


def into(began: float) -> str:
    return f"{time.time() - began:.0f} s into the wave"


def start_bot(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = open(log_path, "ab")
    return subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=log, stderr=log)


def in_flight(database_path: str) -> int:
    with sqlite3.connect(database_path) as connection:
        return connection.execute("SELECT count(*) FROM deliveries WHERE status = 'sending'").fetchone()[0]


async def delivery_outcomes(database_url: str) -> dict:
    """What the database says of the wave: deliveries by status, and how many needed a retry."""
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT status, count(*) FROM deliveries GROUP BY status"))
            by_status = {row[0]: row[1] for row in rows.all()}
            retried = await connection.scalar(text("SELECT count(*) FROM deliveries WHERE attempts > 1"))
            errors = await connection.execute(
                text("SELECT error, count(*) FROM deliveries WHERE error IS NOT NULL GROUP BY error")
            )
            by_error = {row[0]: row[1] for row in errors.all()}
    finally:
        await engine.dispose()
    return {"by_status": by_status, "retried": retried, "errors": by_error}


# The faults a wave meets with --faults, at these fractions of it (the database's own fault last).
FAULTS = [
    (0.15, {"kind": "429", "times": 40, "retry_after": 3}, "429 burst: 40 answers 'retry after 3 s'"),
    (0.30, {"kind": "500", "times": 60}, "5xx: 60 answers 500"),
    (0.45, {"kind": "slow", "times": 12, "delay": 7.0}, "timeouts: 12 answers after 7 s (the client waits 5 s)"),
    (0.60, {"kind": "drop", "times": 30}, "dropped connections: 30"),
]


async def post_fault(port: int, spec: dict) -> None:
    async with aiohttp.ClientSession() as session:
        await session.post(f"http://127.0.0.1:{port}/_bench/fault", json=spec)


def database_fault(database_url: str, database_path: Path) -> str:
    """PostgreSQL restarted under the bot, or the SQLite file locked by another program for 10 s."""
    if database_url.startswith("postgresql"):
        subprocess.run(["pg_ctlcluster", "15", "main", "restart", "--", "-m", "fast"], check=True)
        return "PostgreSQL restarted (pg_ctlcluster restart -m fast)"
    import threading

    def hold() -> None:
        with sqlite3.connect(database_path, timeout=30) as connection:
            connection.execute("BEGIN EXCLUSIVE")
            time.sleep(10)
            connection.rollback()

    threading.Thread(target=hold, daemon=True).start()
    return "SQLite file locked by another program for 10 s (BEGIN EXCLUSIVE)"


async def fetch_stats(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return await response.json()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="relais-bench-"))
    world_file = folder / "world.json"
    port = int(os.environ.get("BENCH_PORT", "18555"))
    fake = subprocess.Popen(
        [sys.executable, __file__, "--serve-fake", str(port), str(args.groups), str(args.members), str(world_file)],
        cwd=ROOT,
    )
    try:
        for _ in range(600):
            if world_file.exists():
                break
            await asyncio.sleep(0.1)
        info = json.loads(world_file.read_text())
        database_path = folder / "relais.db"
        database_url = args.database or f"sqlite+aiosqlite:///{database_path}"
        due = await populate(database_url, info["world"], due_in=8)
        expected_groups = len(info["world"])
        expected = expected_groups * (1 + args.members)
        env = {
            **os.environ,
            "RELAIS_TELEGRAM__TOKEN": info["token"],
            "RELAIS_TELEGRAM__API_BASE_URL": info["base_url"],
            "RELAIS_DATABASE__URL": database_url,
            "RELAIS_WEB__ENABLED": "false",
            "RELAIS_MEETINGS__DISPATCH_INTERVAL_SECONDS": "1",
            "RELAIS_LOGGING__LEVEL": "WARNING",
            "RELAIS_TELEGRAM__POLLING_TIMEOUT": "10",
            "PYTHONPATH": str(ROOT),
        }
        log_path = folder / "bot.log"
        envs = [env]
        if args.processes > 1:  # several processes: webhook mode (only one may long-poll), own ports
            envs = []
            for index in range(args.processes):
                web_port = port + 1 + index
                envs.append(
                    env
                    | {
                        "RELAIS_WEB__ENABLED": "true",
                        "RELAIS_WEB__PORT": str(web_port),
                        "RELAIS_WEBHOOK__URL": f"http://127.0.0.1:{web_port}/telegram/webhook",
                        "RELAIS_WEBHOOK__SECRET_TOKEN": "bench-secret",
                    }
                )
        bots = [start_bot(process_env, log_path) for process_env in envs]
        stats_url = f"http://127.0.0.1:{port}/_bench/stats"
        killed_in_flight = None
        kill_done = args.kill_at is None
        faults = list(FAULTS) if args.faults else []
        database_fault_done = not args.faults
        injected: list[str] = []
        deadline = time.time() + args.timeout
        wave_began = due.timestamp()
        while time.time() < deadline:
            await asyncio.sleep(1 if not kill_done or faults or not database_fault_done else 3)
            progress = await fetch_stats(stats_url + "?progress=1")
            sent = progress["sent"]
            while faults and sent >= faults[0][0] * expected:
                _, spec, label = faults.pop(0)
                await post_fault(port, spec)
                injected.append(f"{label} at {sent} sent, {into(wave_began)}")
            if not database_fault_done and sent >= 0.75 * expected:
                injected.append(f"{database_fault(database_url, database_path)} at {sent} sent, {into(wave_began)}")
                database_fault_done = True
            if not kill_done and sent >= args.kill_at * expected:
                bots[0].send_signal(signal.SIGKILL)
                bots[0].wait()
                killed_in_flight = in_flight(str(database_path)) if not args.database else None
                sent_at_kill = sent
                if len(bots) == 1:
                    bots[0] = start_bot(env, log_path)  # restarted at once
                else:
                    bots.pop(0)  # the other processes carry on without it
                injected.append(f"process killed (SIGKILL) at {sent} sent, {into(wave_began)}")
                kill_done = True
            if progress["recipients"] >= expected:
                await asyncio.sleep(3)  # let anything still in flight land, to count duplicates honestly
                break
        stats = await fetch_stats(stats_url)
        stop_processes(bots)
        outcomes = await delivery_outcomes(database_url)
    finally:
        fake.terminate()
        fake.wait()
    sends = stats["sends"]
    times = sorted(at for _, at in sends)
    per_recipient: dict[int, int] = {}
    for chat, _ in sends:
        per_recipient[chat] = per_recipient.get(chat, 0) + 1
    all_recipients = {entry["chat_id"] for entry in info["world"]} | {
        p[0] for entry in info["world"] for p in entry["people"]
    }
    duration = times[-1] - times[0] if len(times) > 1 else 0.0
    first_seen: dict[int, float] = {}
    for chat, at in sends:
        first_seen[chat] = min(at, first_seen.get(chat, at))
    lateness = [at - due.timestamp() for at in first_seen.values()]
    # When the second copies went (seconds after the wave's first send, per 10 s): which fault
    # they follow.
    copies: dict[int, int] = {}
    for chat, at in sorted(sends, key=lambda send: send[1]):
        if at > first_seen[chat]:
            bucket = int((at - times[0]) // 10 * 10)
            copies[bucket] = copies.get(bucket, 0) + 1
    result = {
        "groups": expected_groups,
        "members": args.members,
        "expected_messages": expected,
        "messages_sent": len(sends),
        "duration_s": round(duration, 1),
        "rate_per_s": round(len(sends) / duration, 2) if duration else None,
        "fraction_of_30": round(len(sends) / duration / 30, 3) if duration else None,
        "http_429": stats["rate_limited"],
        "lateness_p50_s": round(statistics.median(lateness), 1) if lateness else None,
        "lateness_p95_s": round(percentile(lateness, 0.95), 1) if lateness else None,
        "duplicates": sum(count - 1 for count in per_recipient.values() if count > 1),
        "duplicates_by_10s": copies,
        "misses": len(all_recipients - set(per_recipient)),
        "flagged": stats.get("flagged", []),
        "processes": args.processes,
        "database": "postgresql" if database_url.startswith("postgresql") else "sqlite",
        "faults": injected,
        "deliveries_by_status": outcomes["by_status"],
        "deliveries_retried": outcomes["retried"],
        "delivery_errors": outcomes["errors"],
        "killed": args.kill_at is not None,
        "in_flight_at_kill": killed_in_flight,
        "sent_before_kill": sent_at_kill if args.kill_at is not None else None,
    }
    return result


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-fake":
        serve_fake(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--members", type=int, default=15)
    parser.add_argument("--kill-at", type=float, default=None, help="SIGKILL the bot after this fraction of the wave")
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--processes", type=int, default=1, help="bot processes sharing the database (PostgreSQL)")
    parser.add_argument("--faults", action="store_true", help="inject Telegram's and the database's faults")
    parser.add_argument("--timeout", type=float, default=1500)
    parser.add_argument("--json", default=None, help="append the result as one JSON line to this file")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    result["machine"] = machine()
    result["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    write_result(result, args.json)


if __name__ == "__main__":
    main()
