"""Running Relais: GET /metrics (Prometheus, protected), `relais status`, backups."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.failures import EXIT_ALREADY_RUNNING, EXIT_DATABASE, EXIT_FILE, EXIT_UNCONFIRMED, StartupError
from bot.operations import read_status, restore
from bot.simulator.harness import Harness
from tests.e2e.test_reminders import J7, setup_meeting
from tests.support.helpers import group_with_bot, load_group

ROOT = Path(__file__).resolve().parents[2]


async def scrape(h: Harness, token: str | None = None, proxied: bool = False) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if proxied:  # as a reverse proxy on this machine passes a request on
        headers["X-Forwarded-For"] = "203.0.113.7"
    url = f"http://127.0.0.1:{h.relais.web_port}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_updates_sends_and_the_backlog(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    status, text = await scrape(relais)  # from loopback, no token configured
    assert status == 200
    figures = samples(text)
    assert figures[("relais_updates_total", (("kind", "message"),))] >= 2
    assert figures[("relais_updates_total", (("kind", "callback_query"),))] >= 2
    assert figures[("relais_handler_seconds_count", (("kind", "message"),))] >= 2
    assert figures[("relais_sends_total", (("outcome", "ok"),))] >= 3
    assert figures[("relais_sends_total", (("outcome", "403"),))] == 0
    assert figures[("relais_outbox_backlog", (("what", "events_due"),))] == 0
    assert figures[("relais_last_send_timestamp_seconds", ())] > 0
    # The J-7 reminder is due and not yet sent: the backlog shows it, with its age.
    relais.clock.set(J7 + timedelta(minutes=5))
    figures = samples((await scrape(relais))[1])
    assert figures[("relais_outbox_backlog", (("what", "events_due"),))] >= 1
    assert figures[("relais_outbox_oldest_due_seconds", ())] == 300
    # Julie blocked the bot (Relais learns it from the 403): counted; the backlog is empty after.
    julie.blocked = True
    await relais.run_jobs()
    figures = samples((await scrape(relais))[1])
    assert figures[("relais_sends_total", (("outcome", "403"),))] == 1
    assert figures[("relais_outbox_backlog", (("what", "events_due"),))] == 0
    assert figures[("relais_outbox_oldest_due_seconds", ())] == 0
    # A database error met at run time is counted (the outage itself is logged once).
    assert figures[("relais_database_errors_total", ())] == 0
    relais.services.database_outage.failed(OSError("connection reset"))
    relais.services.database_outage.recovered()
    figures = samples((await scrape(relais))[1])
    assert figures[("relais_database_errors_total", ())] == 1
    # No label names a person or a chat.
    assert str(karim.id) not in text and str(chat.id) not in text and "Karim" not in text


async def test_without_a_token_metrics_are_for_this_machine_not_for_a_proxy_s_clients(relais):
    assert (await scrape(relais))[0] == 200  # loopback, straight
    assert (await scrape(relais, proxied=True))[0] == 403  # loopback too, but for someone behind a proxy


async def test_metrics_need_the_token_when_one_is_set(database_url, clock):
    overrides = {"web": {"metrics_token": "scrape-token_12345"}}
    async with Harness(database_url, clock=clock, overrides=overrides) as h:
        assert (await scrape(h))[0] == 401
        assert (await scrape(h, "wrong"))[0] == 401
        status, text = await scrape(h, "scrape-token_12345")
        assert status == 200 and "relais_sends_total" in text


def status_head() -> str:
    from alembic.script import ScriptDirectory

    from storage.migrations.runner import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


async def relais_command(database_url: str, *command: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *command,
        env={**os.environ, "PYTHONPATH": str(ROOT), "RELAIS_DATABASE__URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_status_says_what_waits_and_when_the_last_message_went(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    relais.clock.set(J7)
    code, output = await relais_command(relais.database_url, "status")  # while the bot runs
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].startswith("Relais ") and f"revision {status_head()} (up to date)" in lines[0]
    if relais.database_url.startswith("sqlite"):  # the running bot holds the file
        assert lines[1] == "bot: running (a Relais process holds the database file)"
    else:
        assert lines[1].startswith("bot: ")
    assert "events due" in lines[2] and "0 events due" not in lines[2]  # the J-7 reminder waits
    assert lines[4].startswith("last message sent: ")
    await relais.run_jobs()
    status = await read_status(relais.database_url, "test", relais.clock)
    assert status.backlog.events_due == 0 and status.backlog.deliveries == 0
    assert status.last_sent_at is not None and status.revision == status.head


async def test_a_backup_taken_while_running_restores_the_database(database_url, clock, tmp_path):
    target = tmp_path / "relais-backup.db"
    async with Harness(database_url, clock=clock) as h:
        chat, awa, _ = await group_with_bot(h)
        h.tg.say(chat, awa, "/configurer Avant la sauvegarde")
        await h.settle()
        code, output = await relais_command(database_url, "db", "backup", str(target))  # online
        assert code == 0 and "backup written to" in output, output
        h.tg.say(chat, awa, "/configurer Après la sauvegarde")
        await h.settle()
        assert (await load_group(h, chat.id)).name == "Après la sauvegarde"
        if database_url.startswith("sqlite"):  # a restore under a running bot is refused
            code, output = await relais_command(database_url, "db", "restore", "--yes", str(target))
            assert code == EXIT_ALREADY_RUNNING and "stop it before restoring" in output
        # A second backup to the same file never overwrites it; a folder that is not there is said.
        code, output = await relais_command(database_url, "db", "backup", str(target))
        assert code == EXIT_FILE and "a backup never overwrites" in output
        code, output = await relais_command(database_url, "db", "backup", str(tmp_path / "nofolder" / "b.db"))
        assert code == EXIT_FILE and output.count("\n") == 1 and "no folder" in output, output
    # Without --yes nothing is replaced; with it, what was replaced is kept.
    code, output = await relais_command(database_url, "db", "restore", str(target))
    assert code == EXIT_UNCONFIRMED and "--yes" in output, output
    async with Harness(database_url, clock=clock) as h:
        assert (await load_group(h, chat.id)).name == "Après la sauvegarde"
    code, output = await relais_command(database_url, "db", "restore", "--yes", str(target))
    assert code == 0 and "restored from" in output and "what it replaced: " in output, output
    kept = Path(output.split("what it replaced: ", 1)[1].split(")", 1)[0])
    assert kept.is_file() and kept != target  # noqa: ASYNC240 (a test's one look at a file)
    async with Harness(database_url, clock=clock) as h:
        assert (await load_group(h, chat.id)).name == "Avant la sauvegarde"
    # The copy kept is the database as it was: restored, it brings the later name back.
    code, output = await relais_command(database_url, "db", "restore", "--yes", str(kept))
    assert code == 0, output
    async with Harness(database_url, clock=clock) as h:
        assert (await load_group(h, chat.id)).name == "Après la sauvegarde"


async def test_status_never_creates_a_database_and_says_when_none_runs(tmp_path):
    missing = tmp_path / "relais.db"
    code, output = await relais_command(f"sqlite+aiosqlite:///{missing}", "status")
    assert code == EXIT_DATABASE and f"no database at {missing}" in output and output.count("\n") == 1
    assert not missing.exists()
    code, output = await relais_command(f"sqlite+aiosqlite:///{missing}", "db", "upgrade")
    assert code == 0, output
    code, output = await relais_command(f"sqlite+aiosqlite:///{missing}", "status")
    assert code == 0 and output.splitlines()[1] == "bot: not running", output


def test_a_file_that_is_not_a_backup_is_refused(tmp_path):
    bogus = tmp_path / "not-a-backup.db"
    bogus.write_bytes(b"hello")
    with pytest.raises(StartupError, match="not a sound Relais backup"):
        restore(f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}", bogus, tmp_path / "kept.db")
