"""How long matching takes for a large meeting: N offers and M requests spread over a department.

Runs the domain rules (bot/carpool.py) directly on a database, no Telegram: each request is
offered to the nearest driver with a free seat within the radius, and every driver accepts.
Prints one JSON line per run; append it to bench/results.jsonl and sum it up in RESULTS.md.

    .venv/bin/python bench/carpool_matching.py --offers 60 --requests 240
    .venv/bin/python bench/carpool_matching.py --database postgresql+asyncpg://postgres@127.0.0.1/relais_bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain import carpool as c
from bot.domain.meetings import create_meeting
from bot.domain.settings import MeetingsSection
from storage.db import create_engine, create_sessionmaker, migrate
from storage.models import Group, Meeting, Person, Place

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def run(url: str, offers: int, requests: int, places: int, seed: int) -> dict:
    rng = random.Random(seed)
    engine = create_engine(url)
    await migrate(engine)
    sessions = create_sessionmaker(engine)
    async with sessions.begin() as session:
        group = Group(chat_id=-1, title="Bench", timezone="Europe/Paris", language="fr", active=True, created_at=NOW)
        session.add(group)
        await session.flush()
        meeting = await create_meeting(
            session, group, NOW + timedelta(days=10), "Salle", "Bench", None, None, NOW, MeetingsSection()
        )
        # Departure points over about 60 x 60 km around Bourg-en-Bresse.
        points = [
            await c.add_place(
                session,
                group,
                c.PlaceSpec(f"Lieu {i}", 46.2 + rng.uniform(-0.27, 0.27), 5.2 + rng.uniform(-0.4, 0.4)),
                NOW,
            )
            for i in range(places)
        ]
        people = []
        for i in range(offers + requests):
            person = Person(telegram_id=10_000 + i, first_name=f"P{i}", created_at=NOW, private_status="started")
            session.add(person)
            people.append(person)
        await session.flush()
        for driver in people[:offers]:
            await c.create_offer(
                session,
                meeting,
                driver,
                rng.choice(points),
                rng.randint(1, 4),
                meeting.starts_at - timedelta(minutes=45),
                NOW,
            )
        meeting_id, rider_ids = meeting.id, [p.id for p in people[offers:]]
        point_ids = [p.id for p in points]
    timings, matched = [], 0
    for rider_id in rider_ids:
        started = time.perf_counter()
        async with sessions.begin() as session:  # one transaction per request, as in the bot
            meeting = await session.get(Meeting, meeting_id)
            request = await c.create_request(
                session,
                meeting,
                await session.get(Person, rider_id),
                await session.get(Place, rng.choice(point_ids)),
                NOW,
            )
            offer = await c.propose(session, request, 15.0)
            if offer is not None:
                driver = await session.get(Person, offer.driver_id)
                await c.accept(session, request, driver, NOW)
                matched += 1
        timings.append(time.perf_counter() - started)
    await engine.dispose()
    timings.sort()
    return {
        "bench": "carpool_matching",
        "database": url.split(":")[0],
        "offers": offers,
        "requests": requests,
        "places": places,
        "matched": matched,
        "ms_p50": round(1000 * statistics.median(timings), 2),
        "ms_p95": round(1000 * timings[int(0.95 * (len(timings) - 1))], 2),
        "ms_max": round(1000 * timings[-1], 2),
        "total_s": round(sum(timings), 2),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "date": datetime.now(UTC).date().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=60)
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--places", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        print(json.dumps(asyncio.run(run(url, args.offers, args.requests, args.places, args.seed))))


if __name__ == "__main__":
    main()
