"""aiosqlite with one trip to its thread per statement.

aiosqlite runs each call on a sqlite3 connection in a thread of its own, and SQLAlchemy's adapter
makes four calls for every statement (open a cursor, execute, fetch the rows, close): four trips
across threads, each a queue put, a wake-up of the event loop through its self-pipe and a task
step. On a tap's path (about fifteen statements) those trips were a tenth of the bot's CPU
(bench/RESULTS.md, issue 30). The cursor below does the four in one trip: the statement runs, its
rows are read and the cursor closed in the thread, and SQLAlchemy then reads rows already there.
Everything else (transactions, the thread, errors) is aiosqlite's.

An update's statements skip the thread (`in_the_loop`): an update holds SQLite's one writer turn
for its transaction anyway (bot/update_order.py), its statements take tens of microseconds, and
handing each to a thread and back cost more than running it: the queue, the thread's wake-up, the
GIL passed twice and the loop woken through its self-pipe, a sixth of a tap's CPU. In the loop a
statement never waits for another process's lock (busy timeout 0): a busy database sends it to the
thread, which waits as long as the engine allows. Everything else (the dashboard's reads, exports,
jobs) keeps the thread, so that a long read never stops the loop.

It leans on aiosqlite's `Connection._execute` (run a function in the connection's thread), which
its own cursor uses; pyproject.toml bounds aiosqlite's version.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url

Outcome = tuple[list[Any], Any, int, int | None]  # rows, description, rowcount, lastrowid

_IN_THE_LOOP: ContextVar[bool] = ContextVar("relais_sqlite_in_the_loop", default=False)


@contextmanager
def in_the_loop() -> Iterator[None]:
    """Statements run here (an update's, short by design) skip aiosqlite's thread."""
    token = _IN_THE_LOOP.set(True)
    try:
        yield
    finally:
        _IN_THE_LOOP.reset(token)


def _busy(error: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock (SQLITE_BUSY, SQLITE_LOCKED and their extended codes)."""
    return getattr(error, "sqlite_errorcode", 0) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _run(connection: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> Outcome:
    """In the connection's thread: the statement, all its rows, the cursor closed."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return rows, description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor:
    """The DB-API cursor SQLAlchemy's aiosqlite adapter expects, one thread trip per execute."""

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def __await__(self) -> Generator[Any, None, OneTripCursor]:
        if False:  # pragma: no cover (a generator that returns at once: `await connection.cursor()`)
            yield
        return self

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _trip(self, sql: str, parameters: Any, many: bool) -> OneTripCursor:
        outcome = await self._connection.run(_run, sql, parameters, many)
        rows, self.description, self.rowcount, self.lastrowid = outcome
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        return await self._trip(sql, parameters, many=False)

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> OneTripCursor:
        return await self._trip(sql, parameters, many=True)

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = min(self.arraysize if size is None else size, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()

    async def setinputsizes(self, *sizes: Any) -> None:
        return None


class OneTripConnection(aiosqlite.Connection):
    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int, timeout: float) -> None:
        super().__init__(connector, iter_chunk_size)
        # A connection left open (an engine never disposed) must not keep the interpreter from
        # exiting; SQLite's journal keeps the file whole whatever the thread was doing.
        self._thread.daemon = True
        self._timeout_ms = int(timeout * 1000)
        self._waits = True  # the busy timeout set now: `timeout` (the thread), or 0 (the loop)

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    def _wait_for_locks(self, wait: bool) -> None:
        # One statement's connection is used by one task at a time (SQLAlchemy's pool), from the
        # loop or from the thread, never both at once.
        if self._waits != wait:
            self._conn.execute(f"PRAGMA busy_timeout = {self._timeout_ms if wait else 0}")
            self._waits = wait

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(sqlite3 connection, *args)`: in the loop for an update's statements, unless
        the database is busy; in the connection's thread otherwise."""
        if _IN_THE_LOOP.get():
            try:
                self._wait_for_locks(False)
                return function(self._conn, *args)
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    raise
        return await self._in_the_thread(function, *args)

    async def _in_the_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        def waiting_for_locks() -> Any:
            self._wait_for_locks(True)
            return function(self._conn, *args)

        return await self._execute(waiting_for_locks)

    # With nothing written since the transaction's end (reads only, or the pool's reset after a
    # commit), sqlite3's commit and rollback do nothing: no trip to the thread for them. The pool
    # hands the connection to one task at a time, so its state is read while nothing runs on it.

    async def commit(self) -> None:
        if not self._conn.in_transaction:
            return
        # In the thread: a commit may checkpoint the WAL into the file (a write and an fsync
        # every thousand pages), which must not stop the loop.
        await self._in_the_thread(sqlite3.Connection.commit)

    async def rollback(self) -> None:
        if not self._conn.in_transaction:
            return
        await self.run(sqlite3.Connection.rollback)


def one_trip_creator(url: str, timeout: float) -> Callable[[], Any]:
    """For create_async_engine(async_creator=...): connections made as SQLAlchemy's aiosqlite
    dialect makes them (same file, same sqlite3 arguments), with the one-trip cursor."""
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    kwargs = {**kwargs, "timeout": timeout}

    async def connect() -> OneTripConnection:
        database = args[0]
        connection = OneTripConnection(lambda: sqlite3.connect(database, **kwargs), 64, timeout)
        await connection  # starts its thread and opens the file there
        return connection

    return connect
