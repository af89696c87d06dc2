"""What an operator runs beside the bot: `relais status` (is it keeping up?) and `relais db
backup | restore` (a consistent copy while it runs, and putting one back).

SQLite: the backup goes through SQLite's online backup API, so it is consistent while Relais
writes (WAL included); a restore needs Relais stopped (it checks the process lock). PostgreSQL:
`pg_dump --format=custom` and `pg_restore --clean`, run with the password in the environment,
never on the command line."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.clock import Clock, SystemClock
from bot.failures import EXIT_ALREADY_RUNNING, EXIT_DATABASE, StartupError, where
from bot.outbox.backlog import Backlog, last_sent_at, read_backlog
from bot.process_lock import ProcessLock, sqlite_file
from storage.db import create_engine, create_sessionmaker
from storage.migrations.runner import alembic_config


@dataclass(frozen=True)
class Status:
    version: str
    database: str
    revision: str | None
    head: str
    backlog: Backlog
    last_sent_at: datetime | None
    now: datetime

    def lines(self) -> list[str]:
        state = "up to date" if self.revision == self.head else f"behind {self.head}: run `relais db upgrade`"
        b = self.backlog
        oldest = b.oldest_due_seconds(self.now)
        return [
            f"Relais {self.version}, database {self.database}, revision {self.revision or 'none'} ({state})",
            f"waiting to go out: {b.deliveries} planned messages, {b.notices} notices, {b.events_due} events due",
            "oldest due and not out: "
            + (f"{_age(oldest)} ago ({_utc(b.oldest_due_at)})" if b.oldest_due_at else "none"),
            "last message sent: " + (_utc(self.last_sent_at) if self.last_sent_at else "none yet"),
            f"open dialogues: {b.dialogues}",
        ]


def _utc(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


async def read_status(url: str, version: str, clock: Clock | None = None) -> Status:
    """The figures, read without migrating or writing anything."""
    now = (clock or SystemClock()).now()
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            revision = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
        async with create_sessionmaker(engine)() as session:
            backlog = await read_backlog(session, now) if revision else Backlog(0, 0, 0, None, 0)
            last = await last_sent_at(session) if revision else None
    except Exception as exc:
        raise StartupError(
            EXIT_DATABASE, f"cannot read the database ({where(url)}): {exc.__class__.__name__}"
        ) from None
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head() or ""
    return Status(version, where(url), revision, head, backlog, last, now)


# --- backups ---------------------------------------------------------------------------------


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without its password (which goes in PGPASSWORD) for pg_dump and pg_restore."""
    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    env = dict(os.environ)
    netloc = parts.netloc
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        user = f"{parts.username}@" if parts.username else ""
        netloc = f"{user}{parts.hostname}{f':{parts.port}' if parts.port else ''}"
    return urlunsplit(parts._replace(netloc=netloc)), env


def _run_pg_tool(tool: str, arguments: list[str], url: str) -> None:
    if shutil.which(tool) is None:
        raise StartupError(
            EXIT_DATABASE,
            f"{tool} is not installed here: install PostgreSQL's client tools (Debian: postgresql-client), "
            f"or run it where they are (README: Backups)",
        )
    target, env = _libpq(url)
    done = subprocess.run([tool, *arguments, "--dbname", target], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["failed"])[0]
        raise StartupError(EXIT_DATABASE, f"{tool} failed on {where(url)}: {first}")


def backup(url: str, path: Path) -> str:
    """A consistent copy of the database at `path`, while Relais may be running."""
    if path.exists():
        raise StartupError(EXIT_DATABASE, f"{path} exists already: choose a new file, a backup never overwrites")
    source = sqlite_file(url)
    if source is None:
        _run_pg_tool("pg_dump", ["--format=custom", "--no-owner", "--file", str(path)], url)
        return f"PostgreSQL backup written to {path} (pg_dump custom format; `relais db restore {path}` puts it back)"
    if not source.exists():
        raise StartupError(EXIT_DATABASE, f"no database at {source}: check database.url")
    with sqlite3.connect(source, timeout=30) as live, sqlite3.connect(path) as copy:
        live.backup(copy)  # page by page, consistent even while Relais writes
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    _check_sqlite_backup(path)
    return f"SQLite backup written to {path} ({path.stat().st_size} bytes, checked)"


def _check_sqlite_backup(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as copy:
            ok = copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            revision = copy.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        ok, revision = False, None
    if not ok or revision is None:
        raise StartupError(EXIT_DATABASE, f"{path} is not a sound Relais backup (an SQLite file with its revision)")


def restore(url: str, path: Path) -> str:
    """Put a backup back in place of the database. Relais must be stopped (SQLite: checked)."""
    if not path.exists():
        raise StartupError(EXIT_DATABASE, f"no backup at {path}")
    target = sqlite_file(url)
    if target is None:
        _run_pg_tool("pg_restore", ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(path)], url)
        return f"PostgreSQL database {where(url)} restored from {path}; start Relais (it migrates if needed)"
    _check_sqlite_backup(path)
    lock = ProcessLock()
    try:
        lock.lock_file(target, url)
    except StartupError:
        raise StartupError(
            EXIT_ALREADY_RUNNING, f"Relais is running on {where(url)}: stop it before restoring"
        ) from None
    try:
        with sqlite3.connect(path) as copy, sqlite3.connect(target, timeout=30) as live:
            copy.backup(live)  # through SQLite: the WAL of the old file is handled too
    finally:
        lock.release_file()
    return f"SQLite database {target} restored from {path}; start Relais (it migrates if needed)"
