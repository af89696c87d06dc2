"""The project's fuzzer (bot/simulator/fuzz.py), seeded and short: 2,000 generated updates through
the fake Telegram against the running Application. Nothing raises, the fake refuses nothing,
every button press is answered, and the forged or unauthorised half changes no row. The long run
(20,000 updates) is `python bench/fuzz.py`, its numbers in bench/RESULTS.md."""

from __future__ import annotations

import pytest

from bot.simulator.fuzz import Fuzzer
from bot.simulator.harness import UNPACED, Harness

FAST = UNPACED


async def test_two_thousand_hostile_updates_break_nothing_and_change_nothing_unallowed(database_url):
    async with Harness(database_url, flood_control=False, overrides=FAST) as h:
        report = await Fuzzer(h, seed=2026).run(2_000)
        flagged = list(h.tg.flagged)
    assert report.updates == 2_000 and report.forged == 1_000
    assert not report.exceptions, report.exceptions
    assert not report.refused, report.refused
    assert report.unanswered == 0
    assert report.changed_rows == [], report.changed_rows[:10]
    assert flagged == []
    # The run reached every kind of update it is meant to send.
    for kind in ("command", "press", "reply", "text", "location", "forged_data", "replay_forbidden"):
        assert report.kinds[kind] > 0, kind
    assert report.kinds["facilitator_command_by_participant"] > 0


async def test_the_fuzzer_finds_an_unauthorised_change(database_url, monkeypatch):
    """A fuzzer that cannot fail proves nothing: with the facilitator check broken, it reports."""
    if "postgresql" in database_url:
        pytest.skip("one backend is enough to show the fuzzer sees a broken rule")

    async def everyone_facilitates(*args, **kwargs) -> bool:
        return True

    monkeypatch.setattr("bot.domain.facilitators.is_facilitator", everyone_facilitates)
    async with Harness(database_url, flood_control=False, overrides=FAST) as h:
        report = await Fuzzer(h, seed=7, precise=True).run(300)
    assert report.changed_rows, "the fuzzer did not notice participants acting as facilitators"
    assert any("typed" in change for change in report.changed_rows)
