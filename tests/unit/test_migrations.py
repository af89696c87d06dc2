"""Every Alembic migration, on each backend: applied from an empty database one after another,
each one undone (downgrade one step) and applied again, and the schema at the end is the
models' own. A migration whose downgrade fails, or leaves something behind that its upgrade
then trips on, fails here."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import create_engine
from storage.migrations.runner import alembic_config
from storage.models import Base


def revisions() -> list[str]:
    """Oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def test_the_revisions_form_one_line():
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    found = revisions()
    assert found[0] == "0001" and found == sorted(found) and len(found) == len(set(found))


async def test_each_migration_upgrades_downgrades_one_step_and_upgrades_again(empty_database_url):
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as connection:

            def walk(sync) -> list[str]:
                config = alembic_config(sync)
                seen = []
                for revision in revisions():
                    command.upgrade(config, revision)
                    tables_up = set(inspect(sync).get_table_names())
                    command.downgrade(config, "-1")
                    command.upgrade(config, revision)
                    assert set(inspect(sync).get_table_names()) == tables_up, revision
                    assert MigrationContext.configure(sync).get_current_revision() == revision
                    seen.append(revision)
                command.downgrade(config, "base")  # and all the way down: nothing is left
                assert set(inspect(sync).get_table_names()) <= {"alembic_version"}
                command.upgrade(config, "head")
                assert compare_metadata(MigrationContext.configure(sync), Base.metadata) == []
                return seen

            seen = await connection.run_sync(walk)
            await connection.commit()
    finally:
        await engine.dispose()
    assert seen == revisions()


async def test_processes_starting_together_migrate_one_at_a_time(empty_database_url):
    """Several processes starting at once (a deployment of two) all migrate: none fails on a
    table another is creating."""
    import asyncio

    from storage.db import migrate

    engines = [create_engine(empty_database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate(engine) for engine in engines))
        async with engines[0].connect() as connection:
            revision = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        for engine in engines:
            await engine.dispose()
    assert revision == revisions()[-1]
