"""Engine and session factory. SQLite gets WAL and foreign keys; PostgreSQL goes through asyncpg."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, TypeVar

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Table, bindparam, delete, event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.migrations.runner import upgrade_to_head
from storage.models import HandledUpdate
from storage.sqlite_driver import one_trip_creator

log = logging.getLogger("relais.storage")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, echo: bool = False) -> AsyncEngine:
    """hide_parameters: query parameters hold names and texts; keep them out of logs and errors."""
    if is_sqlite(url):
        # A generous busy timeout: the bot, its jobs and `relais db upgrade` may share the file.
        # Each statement in one trip to aiosqlite's thread (storage/sqlite_driver.py).
        engine = create_async_engine(
            url, echo=echo, hide_parameters=True, async_creator=one_trip_creator(url, timeout=30)
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=10)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


MIGRATION_LOCK_KEY = 0x52454C4D  # "RELM": processes starting together migrate one at a time


async def migrate(engine: AsyncEngine) -> None:
    """Apply every Alembic migration not yet applied (idempotent). On PostgreSQL, processes that
    start at the same moment take turns (a transaction-level advisory lock): the first migrates,
    the others then find the schema current."""
    async with _sqlite_migration_turn(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        before = await connection.run_sync(_revision)
        await connection.run_sync(upgrade_to_head)
        after = await connection.run_sync(_revision)
    if before != after:  # one line, not one per migration
        log.info("database migrated from revision %s to %s", before or "none (a new database)", after)


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _migration_lock_path(engine: AsyncEngine) -> str | None:
    """Beside a SQLite file; none in memory, on PostgreSQL, or where the folder does not exist
    (SQLite then says so itself, in the start-up failure's words)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or not os.path.isdir(os.path.dirname(os.path.abspath(database))):
        return None
    return f"{database}.migrate.lock"


@contextlib.asynccontextmanager
async def _sqlite_migration_turn(engine: AsyncEngine) -> AsyncIterator[None]:
    """SQLite runs DDL outside a transaction: `relais db upgrade` and a starting bot take turns
    on a lock file beside the database (taken in a thread: the wait must not block the loop)."""
    path = _migration_lock_path(engine)
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


_UPSERT_INSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


def _upsert_dialect(session: AsyncSession) -> str:
    return "postgresql" if session.bind.dialect.name == "postgresql" else "sqlite"  # type: ignore[union-attr]


def upsert_insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL's or SQLite's)."""
    return _UPSERT_INSERTS[_upsert_dialect(session)]


class UpsertPerDialect:
    """An INSERT ... ON CONFLICT built once per dialect (from `build(insert)`, given the dialect's
    INSERT), for the statements that run on every update: building one costs as much as running it."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self._built = {name: build(insert) for name, insert in _UPSERT_INSERTS.items()}

    def __call__(self, session: AsyncSession) -> Any:
        return self._built[_upsert_dialect(session)]


def table_of(model: Any) -> Table:
    """The model's table. A statement built on it (its columns as `table.c.name`, never the
    model's attributes, which would make it an ORM statement again) runs as plain SQL: no ORM bulk
    path, no autoflush, no syncing of loaded objects, a third less CPU for a small statement. For
    the statements every update runs that touch no object loaded in the session."""
    table: Table = model.__table__
    return table


async def insert_if_absent(session: AsyncSession, model: Any, values: dict[str, Any], unique: list[str]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: two updates about the same person handled at once (a
    webhook delivers them concurrently) must not fail on the unique key the other just used. Plain
    SQL on the table: what the caller then needs, it reads (an ORM read flushes first)."""
    insert = upsert_insert(session)
    await session.execute(insert(table_of(model)).values(**values).on_conflict_do_nothing(index_elements=unique))


Row = TypeVar("Row")


async def get_row(session: AsyncSession, model: type[Row], row_id: int | None) -> Row:
    """The row a foreign key points to: it exists, or the database is inconsistent (an error)."""
    row = await session.get(model, row_id) if row_id is not None else None
    if row is None:
        raise LookupError(f"{model.__name__} {row_id} is missing")
    return row


# Every update runs it first.
_HANDLED = table_of(HandledUpdate)
_FIRST_HANDLING = UpsertPerDialect(
    lambda insert: (
        insert(_HANDLED)
        .values(update_id=bindparam("b_update_id"), handled_at=bindparam("b_handled_at"))
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(_HANDLED.c.update_id)
    )
)


async def first_handling(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record, in the update's own transaction, that this update is handled; False when another
    transaction already committed it (Telegram re-sent it, maybe to another process). On
    PostgreSQL a copy handled at the same moment elsewhere waits here on the unique key until the
    other transaction ends: it then proceeds only if that one rolled back."""
    found = await session.execute(_FIRST_HANDLING(session), {"b_update_id": update_id, "b_handled_at": now})
    return found.scalar() is not None


async def forget_handled_updates(session: AsyncSession, before: datetime) -> int:
    """Telegram keeps an update for a day at most: older records can never match a copy."""
    result = await session.execute(delete(HandledUpdate).where(HandledUpdate.handled_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def database_away(error: BaseException | None) -> bool:
    """Whether this error says the database (or the connection to it) is away for a moment."""
    return isinstance(error, DBAPIError | OSError)
