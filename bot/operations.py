"""What an operator runs beside the bot: `relais status` (is it running, is it keeping up?) and
`relais db backup | restore` (a consistent copy while it runs, and putting one back).

SQLite: the backup goes through SQLite's online backup API, so it is consistent while Relais
writes (WAL included); a restore needs Relais stopped (it checks the process lock). PostgreSQL:
`pg_dump --format=custom` and `pg_restore --clean`, run with the password in the environment,
never on the command line. A restore first keeps a copy of what it replaces, beside the backup.

Nothing here creates a database: `status` on a path where there is none says so."""

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
from sqlalchemy import func, select

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.failures import EXIT_ALREADY_RUNNING, EXIT_DATABASE, EXIT_FILE, StartupError, where
from bot.outbox.backlog import Backlog, last_sent_at, read_backlog
from bot.outbox.workers import ALIVE_WITHIN
from bot.process_lock import ProcessLock, sqlite_file
from storage.db import create_engine, create_sessionmaker
from storage.migrations.runner import alembic_config
from storage.models import Worker


@dataclass(frozen=True)
class Status:
    version: str
    database: str
    revision: str | None
    head: str
    backlog: Backlog
    last_sent_at: datetime | None
    now: datetime
    running: str  # whether a bot runs on this database, as far as it can be told

    def lines(self) -> list[str]:
        state = "up to date" if self.revision == self.head else f"behind {self.head}: run `relais db upgrade`"
        b = self.backlog
        oldest = b.oldest_due_seconds(self.now)
        return [
            f"Relais {self.version}, database {self.database}, revision {self.revision or 'none'} ({state})",
            f"bot: {self.running}",
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
    """The figures, read without migrating or writing anything (nor creating a database)."""
    now = (clock or SystemClock()).now()
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise StartupError(
            EXIT_DATABASE, f"no database at {path}: check database.url (`relais db upgrade` creates one)"
        )
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            revision = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
        async with create_sessionmaker(engine)() as session:
            backlog = await read_backlog(session, now) if revision else Backlog(0, 0, 0, None, 0)
            last = await last_sent_at(session) if revision else None
            if path is not None:
                running = _sqlite_running(path, url)
            elif revision:
                seen = await session.scalar(select(func.count()).where(Worker.seen_at >= now - ALIVE_WITHIN))
                running = f"{seen} process(es) seen in the last {ALIVE_WITHIN.seconds} s" if seen else "no process seen"
            else:
                running = "not running (the database has no schema)"
    except Exception as exc:
        raise StartupError(
            EXIT_DATABASE, f"cannot read the database ({where(url)}): {exc.__class__.__name__}"
        ) from None
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head() or ""
    return Status(version, where(url), revision, head, backlog, last, now, running)


def _sqlite_running(path: Path, url: str) -> str:
    """Whether a Relais process holds the SQLite file (each one locks it while it runs)."""
    lock = ProcessLock()
    try:
        lock.lock_file(path, url)
    except StartupError:
        return "running (a Relais process holds the database file)"
    lock.release_file()
    return "not running"


async def check_online(settings: Settings) -> list[str]:
    """`check-config --online`: whose token it is (Telegram's getMe) and what the database holds,
    read only. A failure raises StartupError with the exit code `relais run` would give."""
    from telegram import Bot

    from bot.runtime import telegram_phase

    token = settings.telegram.token.get_secret_value()
    bot = Bot(token, base_url=settings.telegram.api_base_url, base_file_url=settings.telegram.api_file_url)
    async with telegram_phase(settings), bot:
        me = await bot.get_me()
    lines = [
        f"Telegram: the token is @{me.username}'s ({me.first_name}); it can read groups' messages: "
        f"{'yes (privacy mode off)' if me.can_read_all_group_messages else 'no (privacy mode on, as advised)'}"
    ]
    url = settings.database.url
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return [*lines, f"database: none yet at {path}; `relais run` (or `relais db upgrade`) creates it"]
    status = await read_status(url, "")
    state = "up to date" if status.revision == status.head else "behind the code: `relais run` migrates it"
    return [
        *lines,
        f"database: {status.database}, revision {status.revision or 'none'} ({state}); bot {status.running}",
    ]


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
            f"or run it where they are (docs/installation.md: Backups)",
        )
    target, env = _libpq(url)
    done = subprocess.run([tool, *arguments, "--dbname", target], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["failed"])[0]
        raise StartupError(EXIT_DATABASE, f"{tool} failed on {where(url)}: {first}")


def _new_file(path: Path) -> None:
    """A backup's file: new, in a folder that exists."""
    if path.exists():
        raise StartupError(EXIT_FILE, f"{path} exists already: choose a new file, a backup never overwrites")
    if not path.parent.is_dir():
        raise StartupError(EXIT_FILE, f"no folder {path.parent} to write {path.name} in: create it first")


def backup(url: str, path: Path) -> str:
    """A consistent copy of the database at `path`, while Relais may be running."""
    _new_file(path)
    source = sqlite_file(url)
    if source is None:
        _run_pg_tool("pg_dump", ["--format=custom", "--no-owner", "--file", str(path)], url)
        return f"PostgreSQL backup written to {path} (pg_dump custom format; `relais db restore {path}` puts it back)"
    if not source.exists():
        raise StartupError(EXIT_DATABASE, f"no database at {source}: check database.url")
    try:
        with sqlite3.connect(source, timeout=30) as live, sqlite3.connect(path) as copy:
            live.backup(copy)  # page by page, consistent even while Relais writes
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except sqlite3.Error as exc:
        raise StartupError(EXIT_FILE, f"cannot write the backup {path}: {exc}") from None
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


def safety_copy(url: str, path: Path, now: datetime) -> Path:
    """Where a restore keeps what it replaces: beside the SQLite database, or beside the backup
    for PostgreSQL (the database has no folder of its own)."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    target = sqlite_file(url)
    folder, stem, suffix = (
        (target.parent, f"{target.stem}.before-restore-{stamp}", target.suffix or ".db")
        if target is not None
        else (path.parent, f"relais-before-restore-{stamp}", ".dump")
    )
    found, number = folder / f"{stem}{suffix}", 1
    while found.exists():  # a second restore within the second
        number += 1
        found = folder / f"{stem}-{number}{suffix}"
    return found


def restore(url: str, path: Path, keep: Path) -> str:
    """Put a backup back in place of the database, after keeping a copy of the database at `keep`
    (`safety_copy`). Relais must be stopped (SQLite: checked)."""
    if not path.exists():
        raise StartupError(EXIT_FILE, f"no backup at {path}")
    target = sqlite_file(url)
    if target is None:
        backup(url, keep)
        _run_pg_tool("pg_restore", ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(path)], url)
        return (
            f"PostgreSQL database {where(url)} restored from {path} (what it replaced: {keep}); "
            "start Relais (it migrates if needed)"
        )
    _check_sqlite_backup(path)
    lock = ProcessLock()
    try:
        lock.lock_file(target, url)
    except StartupError:
        raise StartupError(
            EXIT_ALREADY_RUNNING, f"Relais is running on {where(url)}: stop it before restoring"
        ) from None
    try:
        kept = ""
        if target.exists():
            backup(url, keep)
            kept = f" (what it replaced: {keep})"
        with sqlite3.connect(path) as copy, sqlite3.connect(target, timeout=30) as live:
            copy.backup(live)  # through SQLite: the WAL of the old file is handled too
    finally:
        lock.release_file()
    return f"SQLite database {target} restored from {path}{kept}; start Relais (it migrates if needed)"
