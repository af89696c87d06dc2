"""Two Relais processes on one PostgreSQL database sharing the updates, against one (the baseline
beside it), behind nginx as in deploy/nginx.conf.

    .venv/bin/python bench/two_processes.py [--database URL] [--rates 20,50,100,200] [--seconds 20]

The driver plays Telegram's webhook: it posts updates, open loop (Poisson arrivals), to nginx,
which spreads them over the processes (`upstream` with both ports; without nginx on the machine,
the driver alternates itself). An update's latency is its POST's round trip: Relais answers once
the update's transaction has committed. The mix, over 1,000 groups of 15 people (so that
Telegram's 20 messages a minute per group are not what is measured): 50 % /prochaine (reads),
30 % /proposition (writes a proposal), 20 % /aide in private. Every update is posted once; the
database then says how many were handled (`handled_updates`), which must be all, once each.

The fake Telegram, nginx, the driver, PostgreSQL and the bots share the machine's cores: with
2 cores, two processes cannot double anything; the figures say what they do bring.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_world import add_group, fake_group, stop_processes, write_result  # noqa: E402 (beside this script)

SECRET = "bench-secret"
NGINX_PORT = 18590


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def populate(url: str, world: list[dict]) -> None:
    from storage.db import create_engine, create_sessionmaker, migrate

    engine = create_engine(url)
    await migrate(engine)
    async with create_sessionmaker(engine).begin() as session:
        for entry in world:
            await add_group(session, entry["chat_id"], entry["title"], entry["people"], datetime.now(UTC), "7j", True)
    await engine.dispose()


def nginx_config(folder: Path, ports: list[int]) -> Path | None:
    """deploy/nginx.conf's webhook location, in plain HTTP on loopback (no certificate here)."""
    if shutil.which("nginx") is None:
        return None
    servers = "\n".join(f"        server 127.0.0.1:{port};" for port in ports)
    config = folder / "nginx.conf"
    config.write_text(
        f"""worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    upstream relais {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{NGINX_PORT};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location = /telegram/webhook {{
            proxy_pass http://relais;
            proxy_next_upstream error timeout http_502 http_503 non_idempotent;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""
    )
    return config


def command(update_id: int, chat: dict, person: tuple[int, str], text: str) -> dict:
    sender = {"id": person[0], "first_name": person[1], "is_bot": False}
    entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            "text": text,
            "entities": entities,
        },
    }


async def run_processes(args: argparse.Namespace, processes: int, url: str) -> dict:
    from bot.simulator.scenario import FakeTelegram

    folder = Path(tempfile.mkdtemp(prefix="relais-two-"))
    tg = FakeTelegram(flood_control=True)
    await tg.start()
    rng = random.Random(11)
    world = []
    for g in range(args.groups):
        chat, people = fake_group(tg, g, args.members)
        world.append(
            {
                "chat_id": chat.id,
                "title": chat.title,
                "chat": chat.as_api(),
                "people": [(p.id, p.first_name) for p in people],
            }
        )
    await populate(url, world)
    ports = [NGINX_PORT + 1 + index for index in range(processes)]
    bots = []
    for port in ports:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RELAIS_TELEGRAM__TOKEN": tg.token,
            "RELAIS_TELEGRAM__API_BASE_URL": tg.base_url,
            "RELAIS_DATABASE__URL": url,
            "RELAIS_WEB__PORT": str(port),
            "RELAIS_WEBHOOK__URL": f"http://127.0.0.1:{port}/telegram/webhook",
            "RELAIS_WEBHOOK__SECRET_TOKEN": SECRET,
            "RELAIS_LOGGING__LEVEL": "WARNING",
        }
        log = open(folder / f"bot-{port}.log", "ab")
        bots.append(subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=log, stderr=log))
    config = nginx_config(folder, ports)
    nginx = subprocess.Popen(["nginx", "-c", str(config), "-g", "daemon off;"]) if config else None
    targets = (
        [f"http://127.0.0.1:{NGINX_PORT}/telegram/webhook"]
        if nginx
        else [f"http://127.0.0.1:{port}/telegram/webhook" for port in ports]
    )
    results: dict = {"processes": processes, "through": "nginx" if nginx else "the driver, alternating"}
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512)) as session:
            for _ in range(300):  # until every process answers /healthz
                try:
                    statuses = []
                    for port in ports:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                            statuses.append(response.status)
                    if all(status == 200 for status in statuses):
                        break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            update_ids = iter(range(1, 10**9))
            posted = 0
            statuses_seen: dict[int, int] = {}

            async def post(update: dict, latencies: list[float], target: str) -> None:
                nonlocal posted
                began = time.monotonic()
                async with session.post(target, json=update, headers=headers) as response:
                    await response.read()
                    statuses_seen[response.status] = statuses_seen.get(response.status, 0) + 1
                latencies.append(1000 * (time.monotonic() - began))
                posted += 1

            def next_update() -> dict:
                entry = rng.choice(world)
                person = rng.choice(entry["people"])
                kind = rng.random()
                if kind < 0.5:
                    return command(next(update_ids), entry["chat"], person, "/prochaine")
                if kind < 0.8:
                    return command(
                        next(update_ids), entry["chat"], person, f"/proposition Idée {rng.randint(1, 10**6)}"
                    )
                private = {"id": person[0], "first_name": person[1], "type": "private"}
                return command(next(update_ids), private, person, "/aide")

            for rate in args.rates:
                latencies: list[float] = []
                tasks = []
                began = time.monotonic()
                index = 0
                while time.monotonic() - began < args.seconds:
                    target = targets[index % len(targets)]
                    index += 1
                    tasks.append(asyncio.create_task(post(next_update(), latencies, target)))
                    await asyncio.sleep(rng.expovariate(rate))
                await asyncio.gather(*tasks)
                elapsed = time.monotonic() - began
                results[f"rate_{rate}"] = {
                    "offered_per_s": rate,
                    "handled_per_s": round(len(latencies) / elapsed, 1),
                    "p50_ms": round(statistics.median(latencies), 1),
                    "p95_ms": round(percentile(latencies, 0.95) or 0, 1),
                    "p99_ms": round(percentile(latencies, 0.99) or 0, 1),
                }
                print(json.dumps({"processes": processes, **results[f"rate_{rate}"]}), flush=True)
                await asyncio.sleep(3)
            results["posted"] = posted
            results["http_statuses"] = statuses_seen
            results["updates_per_process"] = [await updates_handled(session, port) for port in ports]
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(timeout=10)
        stop_processes(bots)
        results["flagged"] = list(tg.flagged[:10])
        await tg.stop()
    results["handled_in_database"] = await handled_count(url)
    return results


async def updates_handled(session: aiohttp.ClientSession, port: int) -> int:
    """What this process handled, from its own /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "relais_updates_total"
        )
    )


async def handled_count(url: str) -> int:
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(text("SELECT count(*) FROM handled_updates")) or 0)
    finally:
        await engine.dispose()


async def fresh_database(admin_url: str, name: str) -> str:
    import asyncpg

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base = dsn.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)


async def main_async(args: argparse.Namespace) -> dict:
    runs = {}
    for processes in (1, 2):
        url = await fresh_database(args.database, "relais_two")
        runs[f"{processes}_process"] = await run_processes(args, processes, url)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rates", default="20,50,100,200")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--members", type=int, default=15)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    args.rates = [int(rate) for rate in args.rates.split(",")]
    result = {
        "bench": "two_processes",
        **asyncio.run(main_async(args)),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    write_result(result, args.json)


if __name__ == "__main__":
    main()
