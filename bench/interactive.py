"""How fast does Relais answer people, and does any group wait for another? Open-loop arrivals of
a realistic mix against the real bot, and the same stream against a bare python-telegram-bot bot.

    .venv/bin/python bench/interactive.py                 # everything, SQLite (about 8 minutes)
    .venv/bin/python bench/interactive.py --quick         # shorter runs, for a look
    .venv/bin/python bench/interactive.py --wave 15000    # the full reminder wave (adds ~9 minutes)

Three processes on the same machine: the fake Telegram (flood control on: 30 messages/s, 20 a
minute per group), the bot under test (`relais run` on SQLite, or the bare bot), and this driver.
The fake knows 5,000 members in 300 groups; each group has a meeting announcement with its
buttons and an open poll. The stream (fixed seed, the same for both bots) is 60 % taps on
"Je viens" / "Je ne peux pas" / "Peut-être" (acknowledged, then the counts edited), 20 % poll
answers, 15 % read commands (/prochaine, /reunions), 5 % proposals (/proposition ...).

Latency is measured inside the fake: from the moment getUpdates hands an update out to the
bot's first answering request (answerCallbackQuery for a tap; the first message in that chat for
a command). Poll answers get no answer and are not timed. Runs:

- 20, 50 and 100 updates/s for `--seconds` each (Poisson arrivals, open loop);
- saturation: a burst of 500 updates at once, answered updates per second;
- hot group: 10 updates/s, 10 % of them in one group, against the same run without it;
- a reminder wave (Relais only): `--wave` private messages falling due at once while commands
  arrive at 5/s in other groups: the replies' latency and the wave's pace.

The bare bot (`bare` phase) answers taps and then edits the message (every tap, in a task of its
own so that the handler does not wait for the limiter), replies to commands, with
python-telegram-bot's concurrent updates and AIORateLimiter and no database: the floor.
Prints one JSON line per bot; see bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_world import add_group  # noqa: E402 (beside this script)

MIX = (("tap", 0.60), ("poll_answer", 0.20), ("read", 0.15), ("proposal", 0.05))
# The issue's mix (60 groups of about 17 people): more proposals, fewer poll votes.
ISSUE_MIX = (("tap", 0.60), ("poll_answer", 0.15), ("read", 0.15), ("proposal", 0.10))
ANSWERS = ("y", "n", "m")


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))], 1)


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50": percentile(values, 0.5),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
    }


# ----------------------------------------------------------------------------- the fake, instrumented
def serve_fake(port: int, info_file: str, groups: int, members: int, wave_groups: int, wave_members: int) -> None:
    """Child process: the fake Telegram, its world, the stream injector and the stopwatch."""
    from aiohttp import web

    from bot.simulator.scenario import FakeTelegram

    class Stopwatch(FakeTelegram):
        """Times each update from its hand-out by getUpdates to the bot's first answer to it."""

        def __init__(self) -> None:
            super().__init__(flood_control=True)
            self.kind_of: dict[int, str] = {}
            self.group_of: dict[int, int] = {}
            self.handed: dict[int, float] = {}
            self.answered: dict[int, float] = {}
            self.by_query: dict[str, int] = {}
            self.by_chat: dict[int, deque[int]] = defaultdict(deque)
            self.wave_people: set[int] = set()
            self.send_times: list[float] = []  # every message accepted, to compare with the ceiling
            self.private_sends = 0
            self.first_wave_send: float | None = None
            self.last_wave_send: float | None = None

        async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
            ready = await super()._get_updates(params)
            now = time.monotonic()
            for update in ready:
                self.handed.setdefault(update["update_id"], now)
            return ready

        def _answer(self, update_id: int | None) -> None:
            if update_id is not None and update_id in self.handed:
                self.answered.setdefault(update_id, time.monotonic())

        async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:  # noqa: N802 (the fake's naming)
            self._answer(self.by_query.pop(str(params.get("callback_query_id")), None))
            return await super()._m_answerCallbackQuery(params)

        async def _m_editMessageText(self, params: dict[str, Any]) -> Any:  # noqa: N802
            result = await super()._m_editMessageText(params)
            self.send_times.append(time.monotonic())  # counted against the ceiling, as the limiter does
            return result

        async def _m_sendMessage(self, params: dict[str, Any]) -> Any:  # noqa: N802
            result = await super()._m_sendMessage(params)  # after flood control: a 429 is no answer
            self.send_times.append(time.monotonic())
            chat_id = int(params["chat_id"])
            waiting = self.by_chat.get(chat_id)
            if waiting:
                self._answer(waiting.popleft())
            if chat_id in self.wave_people:
                now = time.monotonic()
                self.private_sends += 1
                self.first_wave_send = self.first_wave_send or now
                self.last_wave_send = now
            return result

    async def main() -> None:
        from bot.ui import callbacks as cb

        tg = Stopwatch()
        rng = random.Random(7)
        world: dict[str, list[dict[str, Any]]] = {"groups": [], "wave": []}
        for kind, count, size in (("groups", groups, members), ("wave", wave_groups, wave_members)):
            for g in range(count):
                admin = tg.user(f"Anim{kind}{g}", f"anim_{kind}_{g}")
                chat = tg.group(f"Groupe {kind} {g}", creator=admin)
                chat.statuses[tg.bot.id] = "member"
                people = [tg.user(f"P{kind}{g}_{i}") for i in range(size)]
                if kind == "wave":
                    tg.wave_people.update(p.id for p in people)
                for person in [admin, *people]:
                    chat.statuses.setdefault(person.id, "member")
                    person.started = True
                    tg.private_chat(person)
                world[kind].append(
                    {
                        "chat_id": chat.id,
                        "title": chat.title,
                        "admin": [admin.id, admin.first_name],
                        "people": [[p.id, p.first_name] for p in people],
                    }
                )

        async def announce(request: web.Request) -> web.Response:
            """For each interactive group: its announcement (with the meeting's buttons) and a poll."""
            body = await request.json()
            out = []
            for chat_id, meeting_id in body["meetings"]:
                keys = [
                    [{"text": t, "callback_data": cb.Answer(meeting_id, c).encode()}]
                    for t, c in (("✅ Je viens", "y"), ("❌ Je ne peux pas", "n"), ("🤔 Peut-être", "m"))
                ]
                message = tg.record_message(
                    chat_id, tg.bot.id, text="📣 Prochaine réunion", reply_markup={"inline_keyboard": keys}
                )
                poll = await tg._m_sendPoll(
                    {
                        "chat_id": chat_id,
                        "question": "Quel jour ?",
                        "options": ["Lundi", "Jeudi"],
                        "is_anonymous": False,
                    }
                )
                out.append([message.message_id, poll["poll"]["id"], poll["message_id"]])
            return web.json_response(out)

        def inject(kind: str, entry: dict[str, Any], member: list[Any]) -> int:
            chat = tg.chats[entry["chat_id"]]
            user = tg.users[member[0]]
            if kind == "tap":
                message = entry["_announcement"]
                update_id = tg.send_callback(user, message, rng.choice(entry["_taps"]))
                tg.by_query[str(tg._updates[-1]["callback_query"]["id"])] = update_id
            elif kind == "poll_answer":
                update_id = tg.vote(user, entry["_poll"], [rng.randrange(2)])
            elif kind == "read":
                update_id = tg.say(chat, user, rng.choice(("/prochaine", "/reunions")))
                tg.by_chat[chat.id].append(update_id)
            else:
                update_id = tg.say(chat, user, f"/proposition Une idée numéro {rng.randrange(10**6)} pour le groupe")
                tg.by_chat[chat.id].append(update_id)
            tg.kind_of[update_id] = kind
            tg.group_of[update_id] = entry["chat_id"]
            return update_id

        def pick_kind(mix: list[list[Any]]) -> str:
            roll, total = rng.random(), 0.0
            for kind, share in mix:
                total += share
                if roll < total:
                    return kind
            return mix[-1][0]

        async def run(request: web.Request) -> web.Response:
            """Inject a stream (open loop), wait for the answers, return the latencies."""
            spec = await request.json()
            rate, seconds, burst = spec.get("rate", 0), spec.get("seconds", 0), spec.get("burst", 0)
            hot_share, kinds = spec.get("hot_share", 0.0), spec.get("kinds")
            mix = spec.get("mix", MIX)
            groups_ = world["groups"][1:] if spec.get("spare_hot") else world["groups"]
            hot = world["groups"][0]
            injected: list[int] = []
            start = time.monotonic()
            if burst:
                for _ in range(burst):
                    entry = rng.choice(groups_)
                    kind = rng.choice(kinds) if kinds else pick_kind(mix)
                    injected.append(inject(kind, entry, rng.choice(entry["people"])))
            else:
                moment = start
                while moment - start < seconds:
                    moment += rng.expovariate(rate)
                    delay = moment - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    entry = hot if hot_share and rng.random() < hot_share else rng.choice(groups_)
                    kind = rng.choice(kinds) if kinds else pick_kind(mix)
                    injected.append(inject(kind, entry, rng.choice(entry["people"])))
            timed = [u for u in injected if tg.kind_of[u] != "poll_answer"]
            deadline = time.monotonic() + spec.get("wait", 120)
            while time.monotonic() < deadline and not all(u in tg.answered for u in timed):
                await asyncio.sleep(0.05)
            latencies: dict[str, list[float]] = defaultdict(list)
            for u in timed:
                if u in tg.answered:
                    ms = 1000 * (tg.answered[u] - tg.handed[u])
                    latencies[tg.kind_of[u]].append(ms)
                    latencies["hot" if tg.group_of[u] == hot["chat_id"] and hot_share else "others"].append(ms)
            answered = [tg.answered[u] for u in timed if u in tg.answered]
            first = min((tg.handed[u] for u in injected if u in tg.handed), default=start)
            # Whether the bot kept up: its last tap acknowledged this long after the first update
            # (replies to commands may wait for their group's 20 messages a minute; taps do not).
            tap_answers = [tg.answered[u] for u in timed if u in tg.answered and tg.kind_of[u] == "tap"]
            taps_span = round(max(tap_answers, default=first) - first, 2)
            return web.json_response(
                {
                    "injected": len(injected),
                    "timed": len(timed),
                    "unanswered": len(timed) - len(answered),
                    "span_s": round(max(answered, default=first) - first, 2),
                    "taps_span_s": taps_span,
                    "achieved_per_s": round(len(injected) / taps_span, 1) if taps_span else None,
                    "latency": {kind: summary(values) for kind, values in latencies.items()},
                    "rate_limited": tg.rate_limited,
                }
            )

        async def wave_stats(request: web.Request) -> web.Response:
            first, last = tg.first_wave_send or 0.0, tg.last_wave_send or 0.0
            return web.json_response(
                {
                    "all_sends_in_span": sum(1 for t in tg.send_times if first <= t <= last),
                    "private_sends": tg.private_sends,
                    "first": tg.first_wave_send,
                    "last": tg.last_wave_send,
                    "now": time.monotonic(),
                    "rate_limited": tg.rate_limited,
                }
            )

        async def attach(request: web.Request) -> web.Response:
            body = await request.json()
            for entry, (message_id, poll_id, poll_message_id) in zip(world["groups"], body["ids"], strict=True):
                chat_id = entry["chat_id"]
                entry["_announcement"] = next(m for m in tg.messages[chat_id] if m.message_id == message_id)
                entry["_taps"] = [button["callback_data"] for button in entry["_announcement"].buttons()]
                entry["_poll"] = next(m for m in tg.messages[chat_id] if m.message_id == poll_message_id)
                assert entry["_poll"].poll["id"] == poll_id
            return web.json_response({"ok": True})

        app_routes = [
            ("POST", "/_bench/announce", announce),
            ("POST", "/_bench/attach", attach),
            ("POST", "/_bench/run", run),
            ("GET", "/_bench/wave", wave_stats),
        ]
        await tg.start(
            port=port,
            extra_routes=lambda app: [app.router.add_route(m, p, h) for m, p, h in app_routes],
        )
        plain_world = {k: [{x: y for x, y in e.items() if not x.startswith("_")} for e in v] for k, v in world.items()}
        Path(info_file).write_text(json.dumps({"token": tg.token, "base_url": tg.base_url, "world": plain_world}))
        await asyncio.Event().wait()

    asyncio.run(main())


# ----------------------------------------------------------------------------- the bare bot
def serve_bare(token: str, base_url: str) -> None:
    """Child process: python-telegram-bot alone, concurrent updates, no database: the floor."""
    from telegram import Update
    from telegram.ext import AIORateLimiter, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

    counts: dict[int, int] = defaultdict(int)

    async def tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer("✅ C'est noté")
        counts[query.message.message_id] += 1
        # Not awaited: the handler is done once the tap is answered (as Relais' handlers are).
        context.application.create_task(
            query.edit_message_text(
                f"📣 Prochaine réunion\nRéponses : {counts[query.message.message_id]}",
                reply_markup=query.message.reply_markup,
            )
        )

    async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text("Aucune réunion prévue pour le moment.")

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .concurrent_updates(256)
        .rate_limiter(AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 29, max_retries=3))
        .build()
    )
    application.add_handler(CallbackQueryHandler(tap))
    application.add_handler(CommandHandler(["prochaine", "reunions", "proposition"], command))
    application.run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0, timeout=10)


# ----------------------------------------------------------------------------- the driver
async def populate(url: str, world: dict[str, list[dict[str, Any]]], wave_in: float) -> list[tuple[int, int]]:
    """The world in Relais' database: groups, members who started the bot, a meeting each (the
    wave groups' reminders fall due `wave_in` seconds from now)."""
    from bot.domain.meetings import create_meeting
    from bot.domain.settings import MeetingsSection
    from storage.db import create_engine, create_sessionmaker, migrate

    engine = create_engine(url)
    await migrate(engine)
    sessions = create_sessionmaker(engine)
    now = datetime.now(UTC)
    meetings = []
    async with sessions.begin() as session:
        for kind, entries in world.items():
            for entry in entries:
                group = await add_group(
                    session,
                    entry["chat_id"],
                    entry["title"],
                    [entry["admin"], *entry["people"]],
                    now,
                    "60min" if kind == "wave" else "1j",
                    private_reminders=kind == "wave",
                    facilitator_first=True,
                )
                if kind == "wave":
                    starts = now + timedelta(seconds=wave_in) + timedelta(minutes=60)
                    settings = MeetingsSection(default_reminders="60min")
                else:
                    starts = now + timedelta(days=20)
                    settings = MeetingsSection(default_reminders="1j")
                meeting = await create_meeting(
                    session, group, starts, "Centre social", "Bilan", None, None, now, settings
                )
                if kind == "groups":
                    meetings.append((entry["chat_id"], meeting.id))
    await engine.dispose()
    return meetings


async def record_messages(url: str, meetings: list[tuple[int, int]], ids: list[list[Any]]) -> None:
    """Announcement message ids and polls, as Relais would have recorded them when it sent them."""
    from bot.domain import polls
    from bot.domain.settings import ProposalsSection
    from storage.db import create_engine, create_sessionmaker
    from storage.models import Group, Meeting

    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        for (_chat_id, meeting_id), (message_id, poll_id, poll_message_id) in zip(meetings, ids, strict=True):
            meeting = await session.get(Meeting, meeting_id)
            meeting.announcement_message_id = message_id
            group = await session.get(Group, meeting.group_id)
            await polls.record_poll(
                session,
                group,
                poll_id,
                poll_message_id,
                "Quel jour ?",
                ["Lundi", "Jeudi"],
                False,
                None,
                None,
                now,
                now + timedelta(days=2),
                polls.reminder_time(now, now + timedelta(days=2), ProposalsSection()),
            )
    await engine.dispose()


async def post(url: str, body: dict[str, Any] | None = None, timeout: float = 900) -> Any:
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        if body is None:
            async with session.get(url) as response:
                return await response.json()
        async with session.post(url, json=body) as response:
            return await response.json()


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = open(log, "ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=handle)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def cpu_seconds(pid: int, task: int | None = None) -> float:
    """User and system CPU the process (or one of its threads) has used so far (Linux /proc)."""
    where = f"/proc/{pid}/task/{task}/stat" if task is not None else f"/proc/{pid}/stat"
    fields = Path(where).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed_run(base: str, pid: int, spec: dict[str, Any]) -> dict[str, Any]:
    """One run, with the bot's CPU per injected update (its sends that follow included: the
    measure waits two seconds after the last answer for the edits to go)."""
    before, loop_before = cpu_seconds(pid), cpu_seconds(pid, pid)
    result = await post(f"{base}/run", spec)
    await asyncio.sleep(2)
    used, loop_used = cpu_seconds(pid) - before, cpu_seconds(pid, pid) - loop_before
    result["cpu_ms_per_update"] = round(1000 * used / max(1, result["injected"]), 2)
    # The event loop's thread alone (the rest: the database driver's threads, SQLite's work).
    result["loop_cpu_ms_per_update"] = round(1000 * loop_used / max(1, result["injected"]), 2)
    return result


async def measure_bot(base: str, pid: int, args: argparse.Namespace, profile: str = "") -> dict[str, Any]:
    """The same runs, in the same order and with the same seed, for whichever bot is polling."""
    seconds, quick = args.seconds, args.quick
    mix = ISSUE_MIX if args.issue_mix else MIX
    results: dict[str, Any] = {}
    await post(f"{base}/run", {"rate": 5, "seconds": 3, "wait": 30, "mix": mix})  # warm-up
    for rate in args.rates:
        spy = None
        if profile and rate == args.rates[0]:
            # Collapsed stacks of the bot's process during the first rate (py-spy, 200 a second).
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--duration",
                    str(int(seconds)),
                    "-o",
                    profile,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        if args.cprofile and rate == args.rates[0]:
            os.kill(pid, signal.SIGUSR1)
        results[f"rate_{rate}"] = await timed_run(base, pid, {"rate": rate, "seconds": seconds, "mix": mix})
        if args.cprofile and rate == args.rates[0]:
            os.kill(pid, signal.SIGUSR2)
        if spy:
            spy.wait()
    if args.rates_only:
        return results
    results["burst_500"] = await post(f"{base}/run", {"burst": 500, "kinds": ["tap"], "wait": 300})
    hot_seconds = 20 if quick else 60
    results["calm_10"] = await post(f"{base}/run", {"rate": 10, "seconds": hot_seconds, "spare_hot": True})
    results["hot_10"] = await post(
        f"{base}/run", {"rate": 10, "seconds": hot_seconds, "hot_share": 0.1, "spare_hot": True, "wait": 300}
    )
    return results


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    folder = Path(tempfile.mkdtemp(prefix="relais-interactive-"))
    info_file = folder / "world.json"
    port = args.port
    wave_groups = max(1, args.wave // args.wave_members) if args.wave else 0
    fake = start(
        [
            sys.executable,
            __file__,
            "fake",
            "--port",
            str(port),
            "--info",
            str(info_file),
            "--groups",
            str(args.groups),
            "--members",
            str(args.members),
            "--wave-groups",
            str(wave_groups),
            "--wave-members",
            str(args.wave_members),
        ],
        dict(os.environ, PYTHONPATH=str(ROOT)),
        folder / "fake.log",
    )
    base = f"http://127.0.0.1:{port}/_bench"
    lines = []
    try:
        for _ in range(1200):
            if info_file.exists():
                break
            await asyncio.sleep(0.1)
        info = json.loads(info_file.read_text())
        url = f"sqlite+aiosqlite:///{folder / 'relais.db'}"
        # The wave falls due after the interactive runs: each of those is about `seconds` long.
        wave_in = 30 if args.only_wave else 6 * args.seconds + (60 if args.quick else 160) + 120
        meetings = await populate(url, info["world"], wave_in)
        ids = await post(f"{base}/announce", {"meetings": meetings})
        await record_messages(url, meetings, ids)
        await post(f"{base}/attach", {"ids": ids})
        env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            RELAIS_TELEGRAM__TOKEN=info["token"],
            RELAIS_TELEGRAM__API_BASE_URL=info["base_url"],
            RELAIS_DATABASE__URL=url,
            RELAIS_WEB__ENABLED="false",
            RELAIS_LOGGING__LEVEL="WARNING",
            RELAIS_TELEGRAM__POLLING_TIMEOUT="10",
        )
        # -- Relais
        command = ["-m", "bot", "run"]
        if args.cprofile:  # cProfile over the first rate's run only (SIGUSR1 on, SIGUSR2 off and written)
            command = [str(ROOT / "bench" / "profiled_run.py"), args.cprofile]
        bot = start([sys.executable, *command], env, folder / "relais.log")
        began = time.monotonic()
        relais = {} if args.only_wave else await measure_bot(base, bot.pid, args, args.profile)
        if args.wave:
            relais["wave"] = await measure_wave(base, args, began + wave_in)
        stop(bot)
        lines.append({"bench": "interactive", "bot": "relais", **relais})
        print(json.dumps(lines[-1]), file=sys.stderr, flush=True)  # kept even if the bare run fails
        # -- the bare bot, on the same fake and stream
        if not (args.only_wave or args.relais_only):
            bare_bot = start(
                [sys.executable, __file__, "bare", "--token", info["token"], "--base-url", info["base_url"]],
                env,
                folder / "bare.log",
            )
            bare = await measure_bot(base, bare_bot.pid, args)
            stop(bare_bot)
            lines.append({"bench": "interactive", "bot": "bare", **bare})
    finally:
        fake.terminate()
    stamp = {
        "machine": f"{platform.machine()} {platform.python_version()}",
        "date": datetime.now(UTC).date().isoformat(),
    }
    return [dict(line, **stamp) for line in lines]


async def measure_wave(base: str, args: argparse.Namespace, due_at: float) -> dict[str, Any]:
    """Commands in the interactive groups at 5/s while the wave goes out; then the wave's pace."""
    while time.monotonic() < due_at + 5:
        await asyncio.sleep(0.5)
    during = await post(f"{base}/run", {"rate": 5, "seconds": 60, "kinds": ["read", "tap"], "spare_hot": True})
    stats = await post(f"{base}/wave")
    deadline = time.monotonic() + args.wave / 20 + 120
    while stats["private_sends"] < args.wave and time.monotonic() < deadline:
        await asyncio.sleep(2)
        stats = await post(f"{base}/wave")
    span = (stats["last"] or 0) - (stats["first"] or 0)
    return {
        "replies_during_wave": during,
        "private_sends": stats["private_sends"],
        "wave_span_s": round(span, 1),
        "wave_rate": round(stats["private_sends"] / span, 2) if span else None,
        # Everything Telegram accepted while the wave went out (the wave, its group messages,
        # the replies, the edits): the share of the 30 messages/s ceiling used.
        "all_sends_in_span": stats["all_sends_in_span"],
        "of_ceiling": round(stats["all_sends_in_span"] / span / 30, 3) if span else None,
        "rate_limited": stats["rate_limited"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", nargs="?", default="all", choices=("all", "fake", "bare"))
    parser.add_argument("--port", type=int, default=18655)
    parser.add_argument("--info", default="")
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--members", type=int, default=16)  # + the admin: 17 a group, 5,100 people
    parser.add_argument("--wave", type=int, default=3000)
    parser.add_argument("--wave-groups", type=int, default=0)
    parser.add_argument("--wave-members", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rates", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--profile", default="", help="py-spy's collapsed stacks of the bot during the first rate")
    parser.add_argument("--cprofile", default="", help="run Relais under cProfile, its statistics written here")
    parser.add_argument("--relais-only", action="store_true", help="no bare bot")
    parser.add_argument("--rates-only", action="store_true", help="only the open-loop rates (no burst, no hot group)")
    parser.add_argument(
        "--issue-mix", action="store_true", help="60 %% taps, 15 %% votes, 15 %% reads, 10 %% proposals"
    )
    parser.add_argument("--only-wave", action="store_true", help="Relais during the wave only (no rates, no bare bot)")
    parser.add_argument("--token", default="")
    parser.add_argument("--base-url", default="")
    args = parser.parse_args()
    if args.phase == "fake":
        serve_fake(args.port, args.info, args.groups, args.members, args.wave_groups, args.wave_members)
        return
    if args.phase == "bare":
        serve_bare(args.token, args.base_url)
        return
    if args.quick:
        args.seconds = min(args.seconds, 10)
    for line in asyncio.run(run(args)):
        print(json.dumps(line))


if __name__ == "__main__":
    main()
