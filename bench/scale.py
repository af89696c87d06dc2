"""Does anything on an update's path grow with the database? A national-scale database, then the
bot's start-up, memory and each command's latency on it.

    .venv/bin/python bench/scale.py                      # SQLite in a temporary folder
    .venv/bin/python bench/scale.py --database postgresql+asyncpg://postgres@127.0.0.1/relais_scale
    .venv/bin/python bench/scale.py --groups 1000        # a smaller world, for a quick look

`build` fills the database with the project's own models (Core inserts in chunks): by default
10,000 groups of 15 members (150,000 people), 10 meetings per group (100,000; 4 ahead, with
their reminders, lists and checklists pending: about 370,000 scheduled events with the monthly
digests), 10 answers per meeting (1,000,000). `measure`, in a fresh process, starts the real bot
on that database against the fake Telegram (flood control on) and times:

- start-up: `Relais.start()` plus planning the dispatcher from every pending due time;
- the first update answered after polling starts;
- each command, end to end (the update handed to the bot until its transaction has committed;
  and, as `_sent_`, until what it says has been accepted by the fake too), in groups created for
  the run so that nothing of theirs is cached: a tap on ✅/❌, /prochaine, /rappels, /reunion,
  /deplacer, /indicateurs, /bilan (its figures, the chart and the CSV, sent in private);
- the dashboard: a group's page, and the department's view of every group as a coordinator
  sees it, over HTTP with a session cookie;
- peak memory (max RSS) of the measuring process.

Prints one JSON line; append it to bench/results.jsonl and sum it up in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHUNK = 5_000
COORDINATOR = 999_999_999  # sees every group in the dashboard


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# ----------------------------------------------------------------------------- build
async def build(url: str, groups: int, members: int, meetings: int, answers: int) -> dict[str, Any]:
    from sqlalchemy import insert

    from bot.domain.events import EventKind
    from storage.db import create_engine, migrate
    from storage.models import Group, Meeting, Membership, Person, Rsvp, ScheduledEvent

    engine = create_engine(url)
    await migrate(engine)
    started = time.monotonic()
    counts = {"groups": 0, "people": 0, "meetings": 0, "answers": 0, "pending_events": 0}
    ahead = 4  # of each group's meetings, this many are still to come (with pending events)
    offsets = (
        (EventKind.REMINDER, 7 * 24 * 60),
        (EventKind.REMINDER, 24 * 60),
        (EventKind.DIGEST, 0),
        (EventKind.RIDES_REMINDER, 0),
        (EventKind.RIDES_ALERT, 0),
        (EventKind.CHECKLIST, 0),
        (EventKind.FEEDBACK, 0),
        (EventKind.SERIES_NEXT, 0),
        (EventKind.RIDES_REMINDER, 1),
    )

    async def flush(table: Any, rows: list[dict[str, Any]]) -> None:
        async with engine.begin() as connection:
            for start in range(0, len(rows), CHUNK):
                await connection.execute(insert(table), rows[start : start + CHUNK])
        rows.clear()

    per_meeting = max(1, answers // max(1, groups * meetings))
    for first in range(0, groups, 500):  # 500 groups at a time keeps memory flat
        batch = range(first, min(groups, first + 500))
        group_rows, people, member_rows, meeting_rows, rsvp_rows, event_rows = [], [], [], [], [], []
        for g in batch:
            group_id = g + 1
            group_rows.append(
                {
                    "id": group_id,
                    "chat_id": -(10**12) - g,
                    "title": f"Groupe {g}",
                    "timezone": "Europe/Paris",
                    "language": "fr",
                    "active": True,
                    "created_at": NOW - timedelta(days=400),
                    "next_meeting_number": meetings + 1,
                    "next_proposal_number": 1,
                    "quorum_percent": 0,
                }
            )
            for k in range(members):
                person_id = g * members + k + 1
                people.append(
                    {
                        "id": person_id,
                        "telegram_id": 5 * 10**9 + person_id,
                        "first_name": f"P{person_id}",
                        "private_status": "started" if k % 3 else "unknown",
                        "created_at": NOW - timedelta(days=400),
                    }
                )
                member_rows.append(
                    {
                        "id": person_id,
                        "group_id": group_id,
                        "person_id": person_id,
                        "status": "member",
                        "named_facilitator": k == 0,
                        "private_reminders": True,
                        "joined_at": NOW - timedelta(days=400),
                    }
                )
            for n in range(meetings):
                meeting_id = g * meetings + n + 1
                # Groups meet on different days and hours, as they do: their reminders fall due apart.
                starts = NOW + timedelta(days=30 * (n - (meetings - ahead)) + 10 + g % 28, hours=4 + g % 7)
                meeting_rows.append(
                    {
                        "id": meeting_id,
                        "group_id": group_id,
                        "number": n + 1,
                        "starts_at": starts,
                        "place": "Salle",
                        "topic": "Sujet",
                        "status": "scheduled",
                        "created_at": NOW - timedelta(days=300),
                    }
                )
                for k in range(min(per_meeting, members)):
                    person_id = g * members + k + 1
                    rsvp_rows.append(
                        {
                            "meeting_id": meeting_id,
                            "person_id": person_id,
                            "answer": ("yes", "no", "maybe")[k % 3],
                            "answered_at": NOW - timedelta(days=1),
                        }
                    )
                if starts > NOW:
                    for kind, offset in offsets:
                        event_rows.append(
                            {
                                "meeting_id": meeting_id,
                                "group_id": None,
                                "subject_id": None,
                                "kind": kind,
                                "offset_minutes": offset,
                                "due_at": starts - timedelta(minutes=offset or 60),
                                "status": "pending",
                            }
                        )
            event_rows.append(
                {
                    "meeting_id": None,
                    "group_id": group_id,
                    "subject_id": group_id,
                    "kind": EventKind.PROPOSALS_DIGEST,
                    "offset_minutes": 202612,
                    "due_at": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
                    "status": "pending",
                }
            )
        counts["groups"] += len(group_rows)
        counts["people"] += len(people)
        counts["meetings"] += len(meeting_rows)
        counts["answers"] += len(rsvp_rows)
        counts["pending_events"] += len(event_rows)
        for table, rows in (
            (Group, group_rows),
            (Person, people),
            (Membership, member_rows),
            (Meeting, meeting_rows),
            (Rsvp, rsvp_rows),
            (ScheduledEvent, event_rows),
        ):
            await flush(table, rows)
    if url.startswith("postgresql"):
        async with engine.begin() as connection:
            from sqlalchemy import text

            for table in ("groups", "people", "memberships", "meetings"):  # ids were given: move the sequences on
                await connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
            await connection.execute(text("ANALYZE"))
    await engine.dispose()
    return {**counts, "build_s": round(time.monotonic() - started, 1)}


# ----------------------------------------------------------------------------- measure
async def measure(url: str, samples: int) -> dict[str, Any]:
    from bot.clock import FakeClock
    from bot.outbox.dispatch import pending_events_due
    from bot.simulator.harness import Harness
    from jobs.scheduler import JOB_NAME, start_dispatcher

    clock = FakeClock(NOW)
    h = Harness(url, clock=clock, overrides={"dashboard": {"coordinators": [COORDINATOR]}})
    started = time.monotonic()
    await h.start()
    start_s = time.monotonic() - started
    planned_at = time.monotonic()
    h.services.auto_dispatch = True  # what `relais run` does at start-up: plan every pending due time
    planned = await start_dispatcher(h.app)
    plan_s = time.monotonic() - planned_at
    for job in h.app.job_queue.jobs():
        if job.name == JOB_NAME:
            job.schedule_removal()
    h.services.auto_dispatch = False
    due_rows = len(await pending_events_due(h.services.sessionmaker))

    tg = h.tg
    first = tg.user("Première", "premiere_x")
    sent = time.monotonic()
    tg.start_private(first)
    await h.settle()
    first_answer_ms = 1000 * (time.monotonic() - sent)

    timings: dict[str, list[float]] = {
        k: [] for k in ("rsvp", "prochaine", "rappels", "reunion", "deplacer", "indicateurs", "bilan")
    }

    sent_timings: dict[str, list[float]] = {k: [] for k in timings}

    async def timed(kind: str, act: Any, *args: Any) -> None:
        """Handled: the update's transaction committed (what it says is sent after, without
        holding anything); sent: its messages accepted by the fake too."""
        began = time.monotonic()
        update_id = act(*args)
        await h.app.wait_processed(update_id)
        timings[kind].append(1000 * (time.monotonic() - began))
        await h.settle()
        sent_timings[kind].append(1000 * (time.monotonic() - began))

    # Fresh groups for the run, each used a few times only (Telegram allows 20 messages a minute
    # per group; the limiter would otherwise be what is measured).
    for i in range(samples):
        admin = tg.user(f"Anim{i}", f"anim_{i}")
        people = [tg.user(f"M{i}_{k}", f"m_{i}_{k}") for k in range(4)]
        chat = tg.group(f"Bench {i}", creator=admin)
        tg.add_bot(chat, admin)
        for person in people:
            tg.join(chat, person)
        tg.start_private(admin)  # /bilan goes to the facilitator in private
        await h.settle()
        await timed("reunion", tg.say, chat, admin, "/reunion 20/11 14h | Salle | Bilan")
        announcement = tg.bot_messages(chat.id)[-1]
        for person in people[:2]:
            await timed("rsvp", tg.press, person, announcement, "Je viens")
        await timed("rsvp", tg.press, people[2], announcement, "Je ne peux pas")
        await timed("prochaine", tg.say, chat, people[3], "/prochaine")
        await timed("rappels", tg.say, chat, admin, f"/rappels 7j {1 + i % 3}j")
        await timed("deplacer", tg.say, chat, admin, "/deplacer 1 21/11 15h")
        await timed("indicateurs", tg.say, chat, admin, "/indicateurs")
        await timed("bilan", tg.say, chat, admin, "/bilan")
    pages = await dashboard_timings(h, samples)
    flagged = len(tg.flagged)
    await h.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "start_s": round(start_s, 2),
        "plan_s": round(plan_s, 2),
        "startup_s": round(start_s + plan_s, 2),
        "planned_moments": planned,
        "pending_moments": due_rows,
        "first_update_ms": round(first_answer_ms, 1),
        "peak_rss_mb": round(peak_mb),
        "flagged": flagged,
        **{f"{kind}_p95_ms": round(p95(values), 1) for kind, values in timings.items() if values},
        **{f"{kind}_p50_ms": round(statistics.median(values), 1) for kind, values in timings.items() if values},
        **{f"{kind}_sent_p95_ms": round(p95(values), 1) for kind, values in sent_timings.items() if values},
        **pages,
    }


async def coordinator_session(h: Any) -> str:
    """A coordinator's dashboard session, as the one-time link opens it: its cookie's value."""
    from bot.domain.web_access import issue_login, redeem_login
    from storage.models import Person

    svc = h.services
    async with svc.sessionmaker.begin() as session:
        person = Person(telegram_id=COORDINATOR, first_name="Coordinatrice", created_at=NOW)
        session.add(person)
        await session.flush()
        token = await issue_login(session, person, svc.link_secret, NOW, 15)
        secret, _ = await redeem_login(session, token, svc.link_secret, NOW, "fr")
    return str(secret)


async def timed_gets(client: Any, url: str, runs: int) -> tuple[list[float], bytes]:
    """Each GET's time in ms, and the last body (each must answer 200)."""
    times, body = [], b""
    for _ in range(runs):
        began = time.monotonic()
        async with client.get(url) as response:
            body = await response.read()
            assert response.status == 200, (url, response.status)
        times.append(1000 * (time.monotonic() - began))
    return times, body


async def dashboard_timings(h: Any, samples: int) -> dict[str, float]:
    """A group's page and the department's view (every group, as a coordinator sees it), fetched
    over HTTP with a session cookie as a browser does, on the national-scale database."""
    import aiohttp
    from sqlalchemy import func, select

    from storage.models import Group

    secret = await coordinator_session(h)
    async with h.services.sessionmaker() as session:
        group_id = await session.scalar(select(func.min(Group.id)))
    base = f"http://127.0.0.1:{h.relais.web_port}"
    results: dict[str, float] = {}
    async with aiohttp.ClientSession(headers={"Cookie": f"relais_session={secret}"}) as client:
        for name, path, runs in (
            ("group_page", f"/groupes/{group_id}", samples),
            ("department_view", "/groupes", max(3, samples // 5)),
        ):
            times, body = await timed_gets(client, base + path, runs)
            results[f"{name}_p50_ms"] = round(statistics.median(times), 1)
            results[f"{name}_p95_ms"] = round(p95(times), 1)
            results[f"{name}_kb"] = round(len(body) / 1024)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", nargs="?", default="all", choices=("all", "build", "measure"))
    parser.add_argument("--database", default="")
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=15)
    parser.add_argument("--meetings", type=int, default=10)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=25)
    args = parser.parse_args()
    if args.phase == "build":
        print(json.dumps(asyncio.run(build(args.database, args.groups, args.members, args.meetings, args.answers))))
        return
    if args.phase == "measure":
        print(json.dumps(asyncio.run(measure(args.database, args.samples))))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite+aiosqlite:///{Path(folder) / 'scale.db'}"
        sizes = ["--groups", str(args.groups), "--members", str(args.members), "--meetings", str(args.meetings)]
        common = [sys.executable, __file__, "--database", url]
        built = json.loads(
            subprocess.run(
                [*common[:2], "build", *common[2:], *sizes, "--answers", str(args.answers)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout
        )
        measured = json.loads(
            subprocess.run(
                [*common[:2], "measure", *common[2:], "--samples", str(args.samples)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout
        )
    result = {
        "bench": "scale",
        "database": url.split("://")[0],
        **built,
        **measured,
        "machine": f"{platform.machine()} {platform.python_version()}",
        "date": datetime.now(UTC).date().isoformat(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
