"""A session over a migrated database per backend (SQLite always, PostgreSQL with TEST_POSTGRES_URL):
the domain rules are tested over it, without Telegram."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import create_engine, create_sessionmaker


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)  # a copy of the migrated template (tests/conftest.py)
    async with create_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()
