"""Run-time outages are reported once when they start and once when they end, and tried again
with growing waits (bot/outages.py); the dispatcher job keeps to them when the database is away."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

from sqlalchemy.exc import OperationalError

from bot.outages import Outage
from bot.services import SERVICES
from jobs import scheduler


def test_an_outage_is_logged_once_and_its_waits_grow(caplog, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("bot.outages.time.monotonic", lambda: clock[0])
    outage = Outage("database")
    with caplog.at_level(logging.WARNING, logger="relais.outages"):
        waits = []
        for _ in range(8):
            outage.failed(ConnectionRefusedError())
            waits.append(outage.next_try - clock[0])
            assert not outage.may_try()
            clock[0] = outage.next_try
            assert outage.may_try()
        outage.recovered()
        outage.recovered()  # already back: nothing more to say
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "database unreachable (ConnectionRefusedError)" in messages[0]
    assert "database back after" in messages[1] and "8 failed tries" in messages[1]
    assert not outage.ongoing


async def test_the_dispatcher_job_waits_out_a_database_outage(caplog, monkeypatch):
    runs: list[str] = []
    failing = [True]

    async def dispatch_now(application):
        runs.append("run")
        if failing[0]:
            raise OperationalError("SELECT", {}, ConnectionRefusedError())

    svc = SimpleNamespace(dispatch_lock=asyncio.Lock(), database_outage=Outage("database"))
    context = SimpleNamespace(application=SimpleNamespace(bot_data={SERVICES: svc}))
    monkeypatch.setattr(scheduler, "dispatch_now", dispatch_now)
    with caplog.at_level(logging.WARNING, logger="relais.outages"):
        await scheduler.dispatch_job(context)
        await scheduler.dispatch_job(context)  # within the first wait: not tried
        assert runs == ["run"]
        svc.database_outage.next_try = 0  # the wait is over
        failing[0] = False
        await scheduler.dispatch_job(context)
    assert runs == ["run", "run"]
    assert [r.getMessage().split(" (")[0].split(" after")[0] for r in caplog.records] == [
        "database unreachable",
        "database back",
    ]
