"""SQLite has one writer: a transaction takes its turn (an asyncio lock) at its first write, not
before. Its reads, and other transactions' reads, run side by side; writes go one at a time, each
turn held from the first write to the end of the transaction, which is short since nothing in an
update's transaction waits for Telegram's send limits.

The turn is taken from inside SQLAlchemy (a flush with changes, or an INSERT/UPDATE/DELETE
statement), where the code runs in SQLAlchemy's greenlet and may await (`await_only`). A session
takes part when `use_writer_turn(session, lock)` was called; `release_writer_turn(session)` ends
its turn. pysqlite opens its transaction at the first write too, so reads before it hold no
snapshot and the writes that follow never meet a stale one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.util import await_only

_LOCK = "relais.writer_turn"
_HELD = "relais.writer_turn_held"


def use_writer_turn(session: AsyncSession, lock: asyncio.Lock) -> None:
    session.info[_LOCK] = lock


def release_writer_turn(session: AsyncSession) -> None:
    """End of the transaction (after commit or rollback): the next writer may go."""
    if session.info.pop(_HELD, False):
        session.info[_LOCK].release()


def _take_turn(session: Session) -> None:
    lock = session.info.get(_LOCK)
    if lock is None or session.info.get(_HELD):
        return
    await_only(lock.acquire())
    session.info[_HELD] = True


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    _take_turn(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _take_turn(state.session)
