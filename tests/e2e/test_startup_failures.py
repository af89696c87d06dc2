"""`relais run` when it cannot start: one line naming the cause and the setting to check, a
distinct exit code, and neither the token nor the webhook secret (nor a database password) in
anything it prints, logs included (they go to stderr)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from bot.failures import (
    EXIT_ALREADY_RUNNING,
    EXIT_DATABASE,
    EXIT_NETWORK,
    EXIT_TOKEN,
    EXIT_UNEXPECTED,
    EXIT_WEB,
    print_failure,
    redact,
)
from bot.simulator.harness import Harness, free_port
from bot.simulator.scenario import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAsecret-part-of-the-token_0123"
SECRET = "webhook-SECRET_value_42"
PASSWORD = "pg-PASSWORD-7"


async def run(env: dict[str, str], cwd: Path, *command: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *(command or ("run",)),
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "RELAIS_LOGGING__LEVEL": "DEBUG", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode() + err.decode()


def assert_plain(output: str, *needles: str) -> None:
    """One line from relais naming the cause, no traceback, no secret."""
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.startswith("relais: ")]
    assert len(lines) == 1, output
    for needle in needles:
        assert needle in lines[0], lines[0]
    for secret in (TOKEN, TOKEN.split(":")[1], SECRET, PASSWORD):
        assert secret not in output, f"a secret was printed: {output}"


def base_env(tmp_path: Path) -> dict[str, str]:
    return {
        "RELAIS_TELEGRAM__TOKEN": TOKEN,
        "RELAIS_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}",
        "RELAIS_WEB__PORT": str(free_port()),
    }


async def test_a_token_telegram_rejects(tmp_path):
    tg = FakeTelegram()  # knows another token: answers 401, as Telegram does
    await tg.start()
    try:
        env = base_env(tmp_path) | {
            "RELAIS_TELEGRAM__API_BASE_URL": tg.base_url,
            "RELAIS_WEBHOOK__URL": "https://relais.example.org/telegram/webhook",
            "RELAIS_WEBHOOK__SECRET_TOKEN": SECRET,
        }
        code, output = await run(env, tmp_path)
    finally:
        await tg.stop()
    assert code == EXIT_TOKEN
    assert_plain(output, "Telegram rejected the bot token", "telegram.token")


async def test_no_network(tmp_path):
    env = base_env(tmp_path) | {"RELAIS_TELEGRAM__API_BASE_URL": f"http://127.0.0.1:{free_port()}/bot"}
    code, output = await run(env, tmp_path)
    assert code == EXIT_NETWORK
    assert_plain(output, "cannot reach Telegram at 127.0.0.1", "telegram.api_base_url")


async def test_postgresql_down(tmp_path):
    url = f"postgresql+asyncpg://relais:{PASSWORD}@127.0.0.1:{free_port()}/relais"
    code, output = await run(base_env(tmp_path) | {"RELAIS_DATABASE__URL": url}, tmp_path)
    assert code == EXIT_DATABASE
    assert_plain(output, "cannot open the database (postgresql at 127.0.0.1", "connection refused", "database.url")


async def test_db_upgrade_with_the_database_down(tmp_path):
    url = f"postgresql+asyncpg://relais:{PASSWORD}@127.0.0.1:{free_port()}/relais"
    code, output = await run(base_env(tmp_path) | {"RELAIS_DATABASE__URL": url}, tmp_path, "db", "upgrade")
    assert code == EXIT_DATABASE
    assert_plain(output, "cannot open the database", "database.url")


async def test_an_sqlite_path_that_cannot_be_created(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'no-such-folder' / 'relais.db'}"
    code, output = await run(base_env(tmp_path) | {"RELAIS_DATABASE__URL": url}, tmp_path)
    assert code == EXIT_DATABASE
    assert_plain(output, "cannot open the database (sqlite at", "does its folder exist", "database.url")


async def test_a_web_port_already_taken(tmp_path):
    tg = FakeTelegram(token=TOKEN)
    await tg.start()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = base_env(tmp_path) | {
            "RELAIS_TELEGRAM__API_BASE_URL": tg.base_url,
            "RELAIS_WEB__LISTEN": "127.0.0.1",
            "RELAIS_WEB__PORT": str(port),
            "RELAIS_WEB__ENABLED": "true",
        }
        try:
            code, output = await run(env, tmp_path)
        finally:
            await tg.stop()
    assert code == EXIT_WEB
    assert_plain(output, f"cannot listen on 127.0.0.1:{port}", "web.port")


async def test_a_second_process_where_only_one_may_run(tmp_path, database_url):
    """On a SQLite file, a second process; on PostgreSQL, a second one long-polling. A process in
    webhook mode on the same PostgreSQL database is welcome (tests/e2e/test_scale_out.py)."""
    async with Harness(database_url) as h:  # long polling
        env = base_env(tmp_path) | {
            "RELAIS_TELEGRAM__TOKEN": h.tg.token,
            "RELAIS_TELEGRAM__API_BASE_URL": h.tg.base_url,
            "RELAIS_DATABASE__URL": database_url,
        }
        code, output = await run(env, tmp_path)
    assert code == EXIT_ALREADY_RUNNING
    if database_url.startswith("sqlite"):
        assert_plain(output, "another Relais process already runs on this database (sqlite at", "PostgreSQL")
    else:
        assert_plain(output, "already long polling", "only one may poll", "webhook")
    # Once the first one has stopped, the second starts: the lock went with it.
    async with Harness(database_url) as h:
        assert h.relais is not None and h.relais.application is not None


def test_an_unexpected_error_prints_its_traceback_without_secrets(capsys):
    try:
        raise RuntimeError(f"a library quoting the token `{TOKEN}` and postgresql://u:{PASSWORD}@h/db")
    except RuntimeError as exc:
        code = print_failure(exc, [TOKEN])
    err = capsys.readouterr().err
    assert code == EXIT_UNEXPECTED
    assert "Traceback" in err and "RuntimeError" in err and "please report it" in err
    assert TOKEN not in err and TOKEN.split(":")[1] not in err and PASSWORD not in err


@pytest.mark.parametrize(
    "text",
    [f"token {TOKEN}", f"url https://api.telegram.org/bot{TOKEN}/getMe", f"part {TOKEN.split(':')[1]}"],
)
def test_redact_blanks_every_form_of_the_token(text):
    assert "secret-part" not in redact(text, [TOKEN])
