"""The statements every update runs are plain SQL on their tables (storage/db.py, table_of): one
mapped attribute in them (`Rsvp.answer` for `table.c.answer`) makes them ORM statements again,
through the ORM's bulk path, a third more CPU each, with nothing failing."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain import meetings, polls
from bot.outbox import notices, refresh, say
from storage import db


def _is_orm(statement: Any) -> bool:
    return bool(statement._propagate_attrs.get("compile_state_plugin") == "orm")


class _Dialect:
    def __init__(self, name: str) -> None:
        self.name = name


class _Session:  # what UpsertPerDialect reads of a session: its dialect's name
    def __init__(self, name: str) -> None:
        self.bind = type("Bind", (), {"dialect": _Dialect(name)})()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_every_updates_statements_are_plain_sql(dialect: str) -> None:
    session: Any = _Session(dialect)
    statements = {
        "first handling": db._FIRST_HANDLING(session),
        "an answer": meetings._ANSWER(session),
        "the same answer again": meetings._ANSWERED_AGAIN,
        "a vote": polls._VOTE(session),
        "a vote taken back": polls._VOTE_TAKEN_BACK,
        "one more change to show": say._ONE_MORE,
        "a sent notice": notices._SENT,
        "an edit's end": refresh._EDITED,
        "an edit not needed": refresh._NOT_EDITED,
        "an edit later": refresh._AGAIN_LATER,
    }
    assert [name for name, statement in statements.items() if _is_orm(statement)] == []


def test_a_statement_with_a_mapped_attribute_is_seen_as_orm() -> None:
    from sqlalchemy import update

    from storage.models import Rsvp

    assert _is_orm(update(db.table_of(Rsvp)).where(Rsvp.id == 1))
    assert not _is_orm(update(db.table_of(Rsvp)).where(db.table_of(Rsvp).c.id == 1))
