"""Latency of the dashboard's pages, over HTTP against the real aiohttp app:
`python bench/dashboard.py [--postgres URL] [--runs N] [--groups N]`.

- a group's page (and its chart) for a group with two years of history, against a group of one
  month (the baseline beside it), both from bench/reports.py's history;
- the department's view (every group side by side, as a coordinator sees it) for 300 groups of
  two months each, against the same view for 10 of them (the baseline).

The pages are requested through a real HTTP connection with a session cookie, as a browser does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bench.reports import NOW, history  # noqa: E402
from bench.reports import timed as timed_work  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.domain.people import find_person  # noqa: E402
from bot.domain.web_access import issue_login, redeem_login  # noqa: E402
from bot.services import Services  # noqa: E402
from handlers.dashboard.routes import setup_dashboard  # noqa: E402
from storage.db import create_engine, create_sessionmaker, migrate  # noqa: E402
from storage.models import Person  # noqa: E402

KEY = b"bench-key"


async def no_admins(chat_id: int) -> frozenset[int]:
    return frozenset()  # facilitators here are named ones (bench/reports.py names the first member)


async def session_cookie(sessions, person: Person) -> str:
    async with sessions.begin() as session:
        token = await issue_login(session, person, KEY, NOW, 15)
        secret, _ = await redeem_login(session, token, KEY, NOW, "fr")
    return secret


async def timed(runs: int, client: aiohttp.ClientSession, url: str, cookie: str) -> dict[str, float]:
    """bench/reports.py's timing, of one page fetched as a browser with its session does."""

    async def fetch() -> None:
        async with client.get(url, headers={"Cookie": f"relais_session={cookie}"}) as response:
            await response.read()
            assert response.status == 200, (url, response.status)

    return await timed_work(runs, fetch)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="postgresql+asyncpg://... (an empty database) instead of SQLite")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--groups", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relais-dashboard-") as folder:
        url = args.postgres or f"sqlite+aiosqlite:///{Path(folder) / 'd.db'}"
        engine = create_engine(url)
        await migrate(engine)
        sessions = create_sessionmaker(engine)
        began = time.perf_counter()
        async with sessions.begin() as session:
            small, small_people = await history(session, -11, 1)
            large, large_people = await history(session, -22, 24)
        department = []
        for index in range(args.groups):
            async with sessions.begin() as session:
                group, _ = await history(session, -1000 - index, 2)
                department.append(group)
        written = time.perf_counter() - began
        coordinator_id = 999_999
        async with sessions.begin() as session:
            session.add(Person(telegram_id=coordinator_id, first_name="Coordinatrice", created_at=NOW))
        async with sessions() as session:
            facilitator = await session.get(Person, large_people[0])
            small_facilitator = await session.get(Person, small_people[0])
            coordinator_person = await find_person(session, coordinator_id)
        cookies = {
            "large": await session_cookie(sessions, facilitator),
            "small": await session_cookie(sessions, small_facilitator),
            "coordinator": await session_cookie(sessions, coordinator_person),
        }
        settings = Settings.model_validate({"dashboard": {"coordinators": [coordinator_id]}})
        services = Services(settings, engine, sessions, FakeClock(NOW), link_secret=KEY)
        app = web.Application()
        setup_dashboard(app, services, no_admins)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        period = "?periode=01/11/2024 02/11/2026"
        results: dict[str, dict[str, float]] = {}
        async with aiohttp.ClientSession() as client:
            results["group page, one month"] = await timed(
                args.runs, client, f"{base}/groupes/{small.id}{period}", cookies["small"]
            )
            results["group page, two years"] = await timed(
                args.runs, client, f"{base}/groupes/{large.id}{period}", cookies["large"]
            )
            results["group chart, two years"] = await timed(
                max(5, args.runs // 3), client, f"{base}/groupes/{large.id}/presence.png{period}", cookies["large"]
            )
            # The department's view for its first 10 groups (the baseline), then all of them.
            await set_active(sessions, [*department[10:], small, large], False)
            results["department view, 10 groups"] = await timed(
                args.runs, client, f"{base}/groupes", cookies["coordinator"]
            )
            await set_active(sessions, department[10:], True)
            results[f"department view, {args.groups} groups"] = await timed(
                max(5, args.runs // 3), client, f"{base}/groupes", cookies["coordinator"]
            )
        await runner.cleanup()
        await engine.dispose()
    page_ratio = results["group page, two years"]["p50_ms"] / results["group page, one month"]["p50_ms"]
    department_ratio = (
        results[f"department view, {args.groups} groups"]["p50_ms"] / results["department view, 10 groups"]["p50_ms"]
    )
    out = {
        "bench": "dashboard",
        "database": "postgresql" if args.postgres else "sqlite",
        "setup_seconds": round(written, 1),
        "results": results,
        "group_page_two_years_over_one_month_p50": round(page_ratio, 2),
        f"department_{args.groups}_over_10_groups_p50": round(department_ratio, 2),
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    with open(ROOT / "bench" / "results.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


async def set_active(sessions, groups, active: bool) -> None:
    """Groups out of the department's view (a group that removed the bot is not shown)."""
    async with sessions.begin() as session:
        for group in groups:
            (await session.get(type(group), group.id)).active = active


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
