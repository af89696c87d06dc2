"""Running Relais: GET /metrics (Prometheus, protected), `relais status`, backups."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.simulator.harness import Harness
from tests.e2e.test_reminders import J7, setup_meeting


async def scrape(h: Harness, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
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
    # No label names a person or a chat.
    assert str(karim.id) not in text and str(chat.id) not in text and "Karim" not in text


async def test_metrics_need_the_token_when_one_is_set(database_url, clock):
    overrides = {"web": {"metrics_token": "scrape-token_1"}}
    async with Harness(database_url, clock=clock, overrides=overrides) as h:
        assert (await scrape(h))[0] == 401
        assert (await scrape(h, "wrong"))[0] == 401
        status, text = await scrape(h, "scrape-token_1")
        assert status == 200 and "relais_sends_total" in text
