"""Latency of /bilan's figures and of an attestation for a group with two years of history, against
a group of one month beside it (the baseline): `python bench/reports.py [--postgres URL] [--runs N]`.

Two years: 24 monthly meetings, 15 members with answers and attendance, 120 proposals with their
follow-up, 40 polls with votes, 30 actions, rides every meeting. The database work is timed (the
domain functions over a session, as the handler calls them), and the PDF and chart apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.bench_world import add_group  # noqa: E402
from bot.domain.periods import Period  # noqa: E402
from bot.domain.reports import attendance_sheet, attestation_facts, group_report  # noqa: E402
from bot.ui.attestation import attestation_pdf  # noqa: E402
from bot.ui.charts import attendance_chart  # noqa: E402
from storage.db import create_engine, create_sessionmaker, migrate  # noqa: E402
from storage.models import (  # noqa: E402
    ActionItem,
    Attendance,
    Meeting,
    Membership,
    Person,
    Place,
    Poll,
    PollVote,
    Proposal,
    RideOffer,
    RideRequest,
    Rsvp,
)

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def history(session, chat_id: int, months: int):
    start = NOW - timedelta(days=30 * months)
    people = [(chat_id * 100 + i, f"Membre{i}") for i in range(15)]
    group = await add_group(session, chat_id, f"Groupe {chat_id}", people, start, "10080,1440", True, True)
    person_ids = list(await session.scalars(select(Membership.person_id).where(Membership.group_id == group.id)))
    place = Place(group_id=group.id, name="Centre", name_key="centre", latitude=46.2, longitude=5.6, created_at=start)
    session.add(place)
    await session.flush()
    for month in range(months):
        starts = start + timedelta(days=30 * month + 10)
        meeting = Meeting(
            group_id=group.id,
            number=month + 1,
            starts_at=starts,
            place="Salle",
            topic=f"Sujet {month}",
            created_at=start,
            attendance_rate=60,
            status="scheduled",
        )
        session.add(meeting)
        await session.flush()
        for index, person_id in enumerate(person_ids):
            session.add(
                Rsvp(
                    meeting_id=meeting.id, person_id=person_id, answer="yes" if index % 3 else "no", answered_at=starts
                )
            )
            session.add(Attendance(meeting_id=meeting.id, person_id=person_id, present=index % 3 != 0))
        offer = RideOffer(
            meeting_id=meeting.id,
            driver_id=person_ids[0],
            place_id=place.id,
            seats=3,
            departs_at=starts,
            created_at=start,
        )
        session.add(offer)
        await session.flush()
        session.add(
            RideRequest(
                meeting_id=meeting.id,
                person_id=person_ids[1],
                place_id=place.id,
                status="matched",
                offer_id=offer.id,
                created_at=start,
            )
        )
    for number in range(1, 5 * months + 1):
        made = start + timedelta(days=6 * number)
        session.add(
            Proposal(
                group_id=group.id,
                number=number,
                text=f"Proposition {number}",
                state=("new", "sent", "accepted", "done", "refused")[number % 5],
                created_at=made,
                state_changed_at=made,
                author_id=person_ids[number % 15],
            )
        )
    for index in range(2 * months):
        poll = Poll(
            group_id=group.id,
            telegram_poll_id=f"p{chat_id}-{index}",
            message_id=index,
            question="?",
            options='["a", "b"]',
            counts="[1, 1]",
            anonymous=False,
            created_at=start,
            closes_at=NOW,
        )
        session.add(poll)
        await session.flush()
        for person_id in person_ids[:10]:
            session.add(PollVote(poll_id=poll.id, person_id=person_id, option_ids="0", voted_at=start))
    for index in range(months + 6):
        session.add(
            ActionItem(
                group_id=group.id,
                owner_id=person_ids[index % 15],
                text="Faire",
                due_on=date(2026, 1, 1),
                status="done",
                done_at=start + timedelta(days=index),
                created_at=start,
            )
        )
    await session.flush()
    return group, person_ids


async def timed(runs: int, work) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2)}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="postgresql+asyncpg://... (an empty database) instead of SQLite")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relais-reports-") as folder:
        engine = create_engine(args.postgres or f"sqlite+aiosqlite:///{Path(folder) / 'r.db'}")
        await migrate(engine)
        sessions = create_sessionmaker(engine)
        async with sessions.begin() as session:
            small, _ = await history(session, -11, 1)
            large, large_people = await history(session, -22, 24)
        results: dict[str, dict[str, float]] = {}
        for label, group in (("one month", small), ("two years", large)):
            period = Period(date(2024, 11, 1), date(2026, 11, 2))

            async def report(group=group, period=period) -> None:
                async with sessions() as session:
                    await group_report(session, group, period)
                    await attendance_sheet(session, group, period)

            results[f"/bilan figures, {label}"] = await timed(args.runs, report)
        async with sessions() as session:
            person = await session.get(Person, large_people[2])

            async def attestation() -> None:
                async with sessions() as inner:
                    facts = await attestation_facts(inner, large, person, NOW)
                    attestation_pdf("fr", large, "Membre Deux", facts, "2 novembre 2026")

            results["attestation (facts + PDF), two years"] = await timed(max(5, args.runs // 5), attestation)
            full = await group_report(session, large, Period(date(2024, 11, 1), date(2026, 11, 2)))

            async def chart() -> None:
                attendance_chart("fr", large, full)

            results["chart (12 meetings), two years"] = await timed(max(5, args.runs // 5), chart)
        await engine.dispose()
    baseline = results["/bilan figures, one month"]["p50_ms"]
    out = {
        "bench": "reports",
        "database": "postgresql" if args.postgres else "sqlite",
        "results": results,
        "two_years_over_one_month_p50": round(results["/bilan figures, two years"]["p50_ms"] / baseline, 2),
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    with open(ROOT / "bench" / "results.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
