"""The `relais` command as an operator uses it, in subprocesses."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from bot.simulator.harness import free_port
from bot.simulator.scenario import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


async def relais(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()


async def test_check_config_bad_file_exits_2_with_one_clear_message(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[telegram]\ntoken = "123:abc"\n[web]\nport = "huit"\n', encoding="utf-8")
    code, out, err = await relais("--config", str(bad), "check-config")
    assert code == 2 and out == ""
    assert "web.port is 'huit', but it should be a valid integer" in err and "123:abc" not in err
    assert "Traceback" not in err


async def test_check_config_good_file_hides_token(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[telegram]\ntoken = "123456:SECRET-xyz"\n', encoding="utf-8")
    code, out, err = await relais("check-config", env={"RELAIS_CONFIG": str(good)})
    assert code == 0 and "Configuration OK" in out and "long polling" in out
    assert "SECRET" not in out + err
    code, out, err = await relais("check-config", env={"RELAIS_CONFIG": str(tmp_path / "none.toml")})
    assert code == 2 and "was not found" in err


async def test_db_upgrade_creates_schema(tmp_path):
    database = tmp_path / "relais.db"
    code, out, err = await relais("db", "upgrade", env={"RELAIS_DATABASE__URL": f"sqlite+aiosqlite:///{database}"})
    assert code == 0 and "up to date" in out and database.exists()
    code, out, err = await relais("db", "upgrade", env={"RELAIS_DATABASE__URL": f"sqlite+aiosqlite:///{database}"})
    assert code == 0
    # What Relais writes is its user's alone: the database, and a backup of it.
    backup = tmp_path / "backup.db"
    code, out, err = await relais(
        "db", "backup", str(backup), env={"RELAIS_DATABASE__URL": f"sqlite+aiosqlite:///{database}"}
    )
    assert code == 0, err
    for written in (database, backup):
        assert written.stat().st_mode & 0o777 == 0o600, oct(written.stat().st_mode)


async def test_run_serves_then_stops_cleanly_on_sigterm(tmp_path):
    tg = FakeTelegram()
    await tg.start()
    port = free_port()
    env = {
        "RELAIS_TELEGRAM__TOKEN": tg.token,
        "RELAIS_TELEGRAM__API_BASE_URL": tg.base_url,
        "RELAIS_TELEGRAM__POLLING_TIMEOUT": "1",
        "RELAIS_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
        "RELAIS_WEB__PORT": str(port),
        "RELAIS_LOGGING__LEVEL": "DEBUG",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):  # 30 s: a loaded CI machine takes several seconds to import and migrate
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("relais run never became healthy")
        awa = tg.user("Awa", "awa_anim")
        chat = tg.group("Groupe", creator=awa)
        tg.add_bot(chat, awa)
        for _ in range(100):
            if tg.bot_messages(chat.id):
                break
            await asyncio.sleep(0.05)
        assert "Je suis Relais" in tg.bot_messages(chat.id)[0].text
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
        await tg.stop()
    logs = err.decode()
    assert process.returncode == 0, logs
    assert "signal received, shutting down" in logs and "stopped" in logs
    # The start-up says in a few lines what runs where: one line for the migrations, one naming
    # the bot, its mode, database and dashboard, and what will surprise.
    assert "Running upgrade" not in logs and logs.count("database migrated from revision none") == 1
    assert f"running as @{tg.bot.username}: long polling, database sqlite at " in logs
    assert f"dashboard http://127.0.0.1:{port}" in logs and "dashboard.public_url is empty" in logs
    assert tg.token not in logs and tg.token.split(":")[1] not in logs
    assert "Awa" not in logs and "Groupe" not in logs
    assert tg.flagged == []


async def test_config_before_or_after_the_command_version_and_descriptions(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[telegram]\ntoken = "123456:SECRET-xyz"\n', encoding="utf-8")
    for args in (("--config", str(good), "check-config"), ("check-config", "--config", str(good))):
        code, out, err = await relais(*args)
        assert code == 0 and str(good) in out, (args, err)
    code, out, err = await relais("--version")
    assert code == 0 and out.startswith("relais ") and out.strip() != "relais"
    code, out, _ = await relais("--help")
    for summary in ("run the bot", "play a scripted group session", "check the configuration", "database maintenance"):
        assert summary in out
    code, out, _ = await relais("run", "--help")
    assert "long polling, or a webhook when webhook.url is set" in out and "--config" in out


async def test_a_bad_value_from_the_environment_names_its_variable_and_sentences(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[telegram]\ntoken = "123456:SECRET-xyz"\n', encoding="utf-8")
    code, _, err = await relais("check-config", "--config", str(good), env={"RELAIS_WEB__PORT": "huit"})
    assert code == 2 and "web.port (from RELAIS_WEB__PORT) is 'huit'" in err
    code, _, err = await relais(
        "check-config",
        "--config",
        str(good),
        env={"RELAIS_WEBHOOK__URL": "http://relais.example.org/hook", "RELAIS_WEBHOOK__SECRET_TOKEN": "s3cret"},
    )
    assert code == 2 and "but Relais expects an https:// address (Telegram calls no other)" in err
    assert "s3cret" not in err and "found (hidden); expected" not in err
    code, _, err = await relais(
        "check-config", "--config", str(good), env={"RELAIS_WEBHOOK__URL": "https://relais.example.org/hook"}
    )
    assert code == 2 and "webhook.secret_token must be set when webhook.url is (it proves" in err
    for line in err.strip().splitlines()[1:]:
        assert line.rstrip().endswith("."), line  # each problem reads as a sentence


async def test_check_config_warns_and_online_asks_telegram_and_the_database(tmp_path):
    tg = FakeTelegram()
    await tg.start()
    database = tmp_path / "relais.db"
    env = {
        "RELAIS_TELEGRAM__TOKEN": tg.token,
        "RELAIS_TELEGRAM__API_BASE_URL": tg.base_url,
        "RELAIS_DATABASE__URL": f"sqlite+aiosqlite:///{database}",
    }
    try:
        code, out, err = await relais("check-config", env=env, cwd=tmp_path)
        assert code == 0 and "warning: dashboard.public_url is empty" in out, out + err
        public = {**env, "RELAIS_DASHBOARD__PUBLIC_URL": "https://relais.example.org"}
        code, out, err = await relais("check-config", "--online", env=public, cwd=tmp_path)
        assert code == 0 and "warning" not in out, out + err
        assert f"Telegram: the token is @{tg.bot.username}'s" in out and "privacy mode on" in out
        assert f"database: none yet at {database}" in out and not database.exists()  # nothing created
        code, out, err = await relais("db", "upgrade", env=env, cwd=tmp_path)
        code, out, err = await relais("check-config", "--online", env=public, cwd=tmp_path)
        assert code == 0 and "(up to date); bot not running" in out, out + err
        wrong = {**public, "RELAIS_TELEGRAM__TOKEN": "123456:not-the-token"}
        code, out, err = await relais("check-config", "--online", env=wrong, cwd=tmp_path)
        assert code == 3 and "Telegram rejected the bot token" in err and "not-the-token" not in out + err
    finally:
        await tg.stop()
    assert tg.token not in out + err
