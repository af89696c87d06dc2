"""End to end, through a fake of OVHcloud's SMS API (an operator a department contracts): the
same consent, reminders and answers as through SMS Gateway for Android, with what differs. The
operator has no idempotent send, so a message that may have gone before is looked for under its
tag (or among the pending jobs) before it is sent again; the answers wait in the operator's inbox,
are collected, count once even when read twice, and are cleared."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.domain.sms import segments
from bot.simulator.harness import Harness
from storage.models import Delivery
from tests.e2e.test_sms import J7, KARIM, registered, texted_members


@pytest.fixture
async def operator(database_url, clock):
    async with Harness(database_url, clock=clock, sms="ovh") as h:
        yield h
        await h.settle()
        assert h.sms is not None and h.sms.problems == []


async def test_consent_reminder_and_answers_through_the_operator(operator):
    h = operator
    chat, awa, karim, julie, announcement = await registered(h)
    ovh = h.sms
    (consent,) = ovh.to(KARIM)
    assert "répondez OUI" in consent and ovh.sent[0].key.startswith("relais-")
    ovh.answer(KARIM, "oui")
    assert await h.collect_sms() == 1
    await h.run_jobs()
    assert ovh.to(KARIM)[-1].startswith("Merci ! Vous recevrez les rappels")
    assert ovh.incoming == {}  # cleared once taken in
    h.clock.set(J7)
    await h.run_jobs()
    reminder = ovh.to(KARIM)[-1]
    assert "Répondez 1 je viens" in reminder and segments(reminder) == 1
    # An answer read twice (the clearing failed) counts once; the count moves in the group.
    ovh.answer(KARIM, "1")
    ovh.refuse_delete_next = 1
    assert await h.collect_sms() == 1
    assert len(ovh.incoming) == 1
    assert await h.collect_sms() == 1
    assert ovh.incoming == {}
    assert "✅ 1 oui · ❌ 0 non" in announcement.text
    ovh.answer(KARIM, "2 rendez-vous chez le médecin")
    ovh.answer("+33698765432", "1")  # a stranger: nothing
    assert await h.collect_sms() == 2
    assert "✅ 0 oui · ❌ 1 non" in announcement.text
    assert h.tg.bot_messages(awa.id)[-1].text.endswith("ne peut pas venir : « rendez-vous chez le médecin »")
    ovh.answer(KARIM, "STOP")
    await h.collect_sms()
    await h.run_jobs()
    assert ovh.to(KARIM)[-1] == "C'est noté : vous ne recevrez plus de SMS de Relais."


async def test_the_operator_down_then_a_crash_mid_wave_sends_each_once(operator):
    """Refused (503): sent at the retry, once. Then six members: the operator takes the J-7 jobs
    but the process dies before its answers; the next process finds them (pending, then sent
    under their tags) and sends none twice, though the operator would."""
    h = operator
    ovh = h.sms
    ovh.refuse_next = [503]
    chat, awa, karim, julie, announcement = await registered(h)
    assert ovh.to(KARIM) == []
    h.clock.set(h.clock.now() + timedelta(minutes=1))
    await h.run_jobs()
    assert len(ovh.to(KARIM)) == 1
    numbers = await texted_members(h)
    h.clock.set(J7)
    ovh.hold = asyncio.Event()
    wave = asyncio.create_task(h.run_jobs())
    async with asyncio.timeout(10):
        await ovh.taken(4)  # the consent, then three of the wave: taken, none answered
    wave.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await wave
    pending = len(ovh.jobs)
    await h.restart()
    h.clock.set(J7 + timedelta(minutes=2))  # the claims lapse; some jobs are still pending
    release = asyncio.get_running_loop().call_later(0.5, ovh.hold.set)
    await h.run_jobs()
    release.cancel()
    ovh.hold.set()
    reminders = [each.number for each in ovh.sent if "Répondez 1 je viens" in each.text]
    assert sorted(reminders) == sorted(numbers) and pending >= 1  # each once
    async with h.services.sessionmaker() as session:
        statuses = await session.scalars(select(Delivery.status).where(Delivery.kind == "sms_reminder"))
        assert list(statuses) == ["sent"] * 6


def test_an_operator_without_its_keys_is_refused_at_start():
    with pytest.raises(ValueError, match="sms.ovh_service, sms.ovh_consumer_key: needed"):
        Settings.model_validate(
            {
                "sms": {
                    "enabled": True,
                    "provider": "ovh",
                    "ovh_application_key": "k",
                    "ovh_application_secret": "s",
                }
            }
        )
    with pytest.raises(ValueError, match="an OVHcloud API region"):
        Settings.model_validate({"sms": {"ovh_endpoint": "eu.api.ovh.com"}})
