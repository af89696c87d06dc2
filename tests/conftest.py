"""Fixtures: a database per backend (SQLite always; PostgreSQL when TEST_POSTGRES_URL is set) and
the running bot.

Migrating a database from nothing takes about half a second, longer than most tests: each test
process (pytest-xdist runs one per core) migrates one template per backend once, and every test
gets a copy of it (a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL, a few
milliseconds). Tests of the migrations themselves ask for `empty_database_url`."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest

from bot.clock import FakeClock
from bot.simulator.harness import Harness
from storage.db import create_engine, migrate

PG_ENV = "TEST_POSTGRES_URL"


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = urlparse(url.replace("postgresql+asyncpg://", "postgresql://"))
    if database is not None:
        parsed = parsed._replace(path=f"/{database}")
    return urlunparse(parsed)


def _sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


async def _migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


class PostgresDatabases:
    """The databases of one test process on the server of TEST_POSTGRES_URL: a migrated template,
    and a database per test, made from it or empty, each dropped when its test ends."""

    def __init__(self, url: str) -> None:
        self.admin = _asyncpg_dsn(url)
        self.prefix = f"relais_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.template = f"{self.prefix}_template"
        self._numbers = itertools.count(1)

    async def _execute(self, *statements: str) -> None:
        connection = await asyncpg.connect(self.admin)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    async def prepare(self) -> None:
        await self._execute(f'CREATE DATABASE "{self.template}"')
        await _migrated(_sqlalchemy_url(_asyncpg_dsn(self.admin, self.template)))

    async def create(self, *, migrated: bool) -> str:
        name = f"{self.prefix}_{next(self._numbers)}"
        # WAL_LOG copies a small template in a few milliseconds, without a checkpoint.
        source = f' TEMPLATE "{self.template}" STRATEGY WAL_LOG' if migrated else ""
        await self._execute(
            f'CREATE DATABASE "{name}"{source}',
            # A test's commits need not wait for the disk: a crash of the test server loses nothing
            # of value, and the wait is most of a PostgreSQL test's time.
            f'ALTER DATABASE "{name}" SET synchronous_commit TO off',
        )
        return name

    async def drop(self, name: str) -> None:
        await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url(self, name: str) -> str:
        return _sqlalchemy_url(_asyncpg_dsn(self.admin, name))


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases | None]:
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    databases = PostgresDatabases(url)
    asyncio.run(databases.prepare())
    try:
        yield databases
    finally:
        asyncio.run(databases.drop(databases.template))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, closed (its write-ahead log folded in), to copy for each test."""
    path = tmp_path_factory.mktemp("template") / "relais.db"
    asyncio.run(_migrated(f"sqlite+aiosqlite:///{path}"))
    return path


async def _database(
    backend: str, tmp_path: Path, pg: PostgresDatabases | None, template: Path | None
) -> AsyncIterator[str]:
    """The test's own database: a copy of the template, or empty when `template` is None."""
    if backend == "sqlite":
        path = tmp_path / "relais.db"
        if template is not None:
            shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    assert pg is not None
    name = await pg.create(migrated=template is not None)
    try:
        yield pg.url(name)
    finally:
        await pg.drop(name)


@pytest.fixture(params=backends())
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_databases: PostgresDatabases | None
) -> AsyncIterator[str]:
    """A database of the test's own, migrated to the latest schema."""
    async for url in _database(request.param, tmp_path, pg_databases, sqlite_template):
        yield url


@pytest.fixture(params=backends())
async def empty_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_databases: PostgresDatabases | None
) -> AsyncIterator[str]:
    """A database of the test's own with nothing in it: for the migrations' own tests."""
    async for url in _database(request.param, tmp_path, pg_databases, None):
        yield url


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


# The longest tests start first, so that a test process is not left with one of them at the end
# while the others are idle: they wait in real time (Telegram's limits) or play the fuzzer.
LONGEST_FIRST = (
    "test_nothing_twice.py",
    "test_fuzz.py",
    "test_scale_out.py",
    "test_dashboard_browser.py",
    "test_carpool.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)
