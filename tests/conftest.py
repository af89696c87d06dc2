"""Fixtures: a database per backend (SQLite always; PostgreSQL when TEST_POSTGRES_URL is set,
with one database created for the run and a fresh schema per test) and the running bot."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest

from bot.clock import FakeClock
from bot.simulator.harness import Harness

PG_ENV = "TEST_POSTGRES_URL"


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = urlparse(url.replace("postgresql+asyncpg://", "postgresql://"))
    if database is not None:
        parsed = parsed._replace(path=f"/{database}")
    return urlunparse(parsed)


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """Create one PostgreSQL database for this run, drop it at the end."""
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    name = f"relais_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _asyncpg_dsn(url)

    async def execute(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        yield _asyncpg_dsn(url, name).replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def reset_pg_schema(url: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(params=backends())
async def database_url(request: pytest.FixtureRequest, tmp_path, pg_database: str | None) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}"
    assert pg_database is not None
    await reset_pg_schema(pg_database)
    return pg_database


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# python-telegram-bot adds the default parse_mode to every method its generic send path handles,
# poll and markup edits included; Telegram ignores it. Any other unknown parameter is a defect.
KNOWN_IGNORED = {("sendPoll", "parse_mode"), ("editMessageReplyMarkup", "parse_mode"), ("stopPoll", "parse_mode")}


def assert_telegram_happy(h: Harness) -> None:
    """What real Telegram would have refused, and buttons left spinning."""
    assert h.tg.flagged == [], f"requests the fake Telegram flagged as invalid: {h.tg.flagged}"
    assert set(h.tg.reported) <= KNOWN_IGNORED, f"unknown parameters sent: {set(h.tg.reported) - KNOWN_IGNORED}"
    assert not h.tg.pending_callbacks, f"callback queries never answered: {h.tg.pending_callbacks}"


@pytest.fixture
async def relais(database_url: str, clock: FakeClock) -> AsyncIterator[Harness]:
    """The real bot, long polling the fake Telegram."""
    async with Harness(database_url, clock=clock) as h:
        yield h
        await h.settle()
        assert_telegram_happy(h)
