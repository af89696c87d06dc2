"""One process where only one may run: a SQLite file has one Relais process (several processes
need PostgreSQL), and on PostgreSQL only one process may long-poll Telegram (the others run in
webhook mode behind a load balancer). A second one is refused at start-up in one plain line.

PostgreSQL: a session-level advisory lock, held on a connection of its own for the life of the
process (if the database restarts, the lock goes with the connection; the process keeps polling
and a second one could then start: the installation guide says so). SQLite: an exclusive `flock` on a file
beside the database."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.failures import EXIT_ALREADY_RUNNING, StartupError, where

POLLING_LOCK_KEY = 0x52454C41  # "RELA": the advisory lock's key, the same in every process


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for memory or another database)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[-1]
    return None if not path or ":memory:" in path else Path(path)


class ProcessLock:
    def __init__(self) -> None:
        self._connection: AsyncConnection | None = None
        self._fd: int | None = None

    async def acquire(self, engine: AsyncEngine, url: str, polling: bool) -> None:
        path = sqlite_file(url)
        if path is not None:
            self.lock_file(path, url)
        elif engine.dialect.name == "postgresql" and polling:
            await self._lock_polling(engine, url)

    def lock_file(self, path: Path, url: str) -> None:
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StartupError(
                EXIT_ALREADY_RUNNING,
                f"another Relais process already runs on this database ({where(url)}): one process per "
                "SQLite file; stop the other one, or move to PostgreSQL to run several "
                "(docs/installation.md: Several processes)",
            ) from None
        self._fd = fd

    async def _lock_polling(self, engine: AsyncEngine, url: str) -> None:
        connection = await engine.connect()
        got = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": POLLING_LOCK_KEY})
        await connection.commit()  # the lock is the session's, not the transaction's
        if not got:
            await connection.close()
            raise StartupError(
                EXIT_ALREADY_RUNNING,
                f"another Relais process is already long polling Telegram for this database ({where(url)}): "
                "only one may poll; stop it, or run every process in webhook mode (set webhook.url) "
                "behind a load balancer (docs/installation.md: Several processes)",
            )
        self._connection = connection

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # the database may be gone: the lock went with it
                await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": POLLING_LOCK_KEY})
                await self._connection.close()
            self._connection = None
        self.release_file()

    def release_file(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the flock
            self._fd = None
