"""Storage on every backend: migrations, time zones, constraints."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from storage.db import create_engine, create_sessionmaker, migrate
from storage.models import Base, Group, Membership, Person


@pytest.fixture
async def engine(database_url):
    engine = create_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


async def test_migrations_match_models_and_are_idempotent(engine):
    await migrate(engine)
    async with engine.connect() as connection:
        diff = await connection.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    assert diff == []


async def test_datetimes_come_back_aware_utc(engine):
    sessions = create_sessionmaker(engine)
    paris = datetime(2026, 10, 25, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    async with sessions.begin() as session:
        session.add(Group(chat_id=-1, title="G", timezone="Europe/Paris", language="fr", active=True, created_at=paris))
    async with sessions() as session:
        group = await session.scalar(select(Group))
    assert group.created_at == paris and group.created_at.tzinfo is not None
    assert group.created_at.utcoffset() == timedelta(0)
    with pytest.raises(Exception, match="naive datetime"):
        async with sessions.begin() as session:
            session.add(
                Group(
                    chat_id=-2,
                    title="G",
                    timezone="Europe/Paris",
                    language="fr",
                    active=True,
                    created_at=datetime(2026, 1, 1),
                )
            )


async def test_constraints_hold(engine):
    sessions = create_sessionmaker(engine)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    async with sessions.begin() as session:
        group = Group(chat_id=-10, title="G", timezone="Europe/Paris", language="fr", active=True, created_at=now)
        person = Person(telegram_id=42, first_name="Karim", private_status="unknown", created_at=now)
        session.add_all([group, person])
        await session.flush()
        session.add(
            Membership(
                group_id=group.id,
                person_id=person.id,
                status="member",
                joined_at=now,
                named_facilitator=False,
                private_reminders=False,
            )
        )
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                Membership(
                    group_id=group.id,
                    person_id=person.id,
                    status="member",
                    joined_at=now,
                    named_facilitator=False,
                    private_reminders=False,
                )
            )
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                Membership(
                    group_id=999,
                    person_id=person.id,
                    status="member",
                    joined_at=now,
                    named_facilitator=False,
                    private_reminders=False,
                )
            )
    async with sessions.begin() as session:  # deleting a person cascades to memberships
        await session.execute(text("DELETE FROM people WHERE telegram_id = 42"))
    async with sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM memberships"))).scalar() == 0


async def test_the_same_person_seen_by_two_updates_at_once(engine):
    """A webhook handles updates concurrently: a join and a /start from one person must both
    succeed, with one person and one membership."""
    from bot.domain.people import UserInfo, record_presence, upsert_person

    sessions = create_sessionmaker(engine)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    async with sessions.begin() as session:
        session.add(Group(chat_id=-20, title="G", timezone="Europe/Paris", language="fr", active=True, created_at=now))
    first_inserted = asyncio.Event()
    # On SQLite, Relais' updates take turns for their transaction (one writer: Services.update_turn),
    # as here; two transactions that read then write at once would fail there by design.
    turn = asyncio.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()

    async def seen(delay: bool) -> None:
        async with turn, sessions.begin() as session:
            if not delay and engine.dialect.name != "sqlite":
                # The other transaction inserts first and holds its rows: this one meets them. (It
                # used to wait after its own insert: when it happened to insert first, each waited
                # for the other for ever.)
                await first_inserted.wait()
            group = await session.scalar(select(Group).where(Group.chat_id == -20))
            person = await upsert_person(session, UserInfo(telegram_id=77, first_name="Julie"), now)
            await record_presence(session, group, person, now)
            if delay:  # hold the transaction open while the other one inserts the same keys
                first_inserted.set()
                await asyncio.sleep(0.2)

    await asyncio.gather(seen(True), seen(False))
    async with sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM people WHERE telegram_id = 77"))).scalar() == 1
        assert (await session.execute(text("SELECT count(*) FROM memberships"))).scalar() == 1


async def test_an_update_is_handled_once_and_its_record_kept_a_day(engine):
    from storage.db import first_handling, forget_handled_updates

    sessions = create_sessionmaker(engine)
    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    async with sessions.begin() as session:
        assert await first_handling(session, 2**40, now)  # Telegram's ids exceed 32 bits
        assert not await first_handling(session, 2**40, now)
    async with sessions() as session:  # a transaction that rolls back leaves no record
        assert await first_handling(session, 7, now)
        await session.rollback()
    async with sessions.begin() as session:
        assert await first_handling(session, 7, now + timedelta(hours=2))
        assert await forget_handled_updates(session, now + timedelta(hours=1)) == 1
        assert await first_handling(session, 2**40, now)  # forgotten: would be handled again
        assert not await first_handling(session, 7, now)
