"""End to end, through the fake SMS gateway: a member Telegram cannot reach gets the reminders by
SMS once they said OUI, answers "1" and the group's count moves; a webhook delivered twice counts
once, a forged one changes nothing, an unknown number gets nothing; APPEL and a reason reach the
facilitator in private; STOP ends everything with one confirmation; the number never reaches the
group."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.domain import sms
from bot.domain.sms import segments
from bot.simulator.harness import Harness
from storage.models import Delivery, Group, SmsContact, SmsReceived
from tests.support.helpers import group_with_bot, last_text

KARIM = "+33612345678"
J7 = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
J1 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
async def texting(database_url, clock):
    async with Harness(database_url, clock=clock, sms=True) as h:
        yield h
        await h.settle()
        assert h.sms is not None and h.sms.problems == []


async def registered(h):
    """Awa's group; Karim never opened Relais' private chat; Awa gives his number."""
    chat, awa, (karim, julie) = await group_with_bot(h, members=2)
    tg = h.tg
    tg.start_private(awa)
    tg.start_private(julie)
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social Les Vennes | Bilan")
    await h.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    tg.say(chat, awa, "/sms @karim_m")
    await h.settle()
    assert "Je vous demande le numéro en privé" in last_text(h, chat.id)
    assert tg.bot_messages(awa.id)[-1].text.startswith("📱 Le numéro de portable de Karim")
    tg.say(tg.private_chat(awa), awa, "06 12 34 56")  # too short: asked again, nothing registered
    await h.settle()
    assert tg.bot_messages(awa.id)[-1].text.startswith("Je ne reconnais pas ce numéro")
    tg.say(tg.private_chat(awa), awa, "06 12 34 56 78")
    await h.settle()
    assert "Karim recevra un SMS au 06 12 34 56 78" in tg.bot_messages(awa.id)[-1].text
    await h.run_jobs()
    return chat, awa, karim, julie, announcement


async def texted_members(h, count: int = 6) -> list[str]:
    """`count` members without Telegram in the group, who said OUI long ago: their numbers."""
    numbers = [f"+3378122334{i}" for i in range(count)]
    async with h.services.sessionmaker.begin() as session:
        group = (await session.scalars(select(Group))).one()
        for i, number in enumerate(numbers):
            member = await sms.add_member_without_telegram(session, group, f"Membre {i}", h.clock.now())
            contact = await sms.register(session, group, member, number, h.clock.now())
            contact.status, contact.consented_at = sms.ACTIVE, h.clock.now()
    return numbers


async def counts(h, chat) -> str:
    return next(m.text for m in h.tg.bot_messages(chat.id) if "Réponses" in (m.text or ""))


async def test_consent_reminders_answers_and_stop(texting):
    h = texting
    chat, awa, karim, julie, announcement = await registered(h)
    gateway, tg = h.sms, h.tg
    assert gateway is not None
    (consent,) = gateway.to(KARIM)
    assert "répondez OUI" in consent and "STOP" in consent and segments(consent) == 1
    # Before a OUI nothing counts and nothing is sent: "1", a word.
    for text in ("1", "bonjour"):
        assert await gateway.answer(h.sms_webhook, KARIM, text) == 200
    await h.run_jobs()
    assert gateway.to(KARIM) == [consent] and "✅ 0 oui" in announcement.text
    assert await gateway.answer(h.sms_webhook, KARIM, " Oui ! ") == 200
    await h.run_jobs()
    assert gateway.to(KARIM)[-1].startswith("Merci ! Vous recevrez les rappels des réunions par SMS")
    # J-7: the reminder by SMS, in at most two SMS, with the day, time and place in words.
    h.clock.set(J7)
    await h.run_jobs()
    reminder = gateway.to(KARIM)[-1]
    assert reminder.startswith('Relais, groupe "Groupe ressources Oyonnax" : réunion jeudi 12 novembre à 14h')
    assert "Centre social Les Vennes. Répondez 1 je viens, 2 je ne peux pas, 3 peut-etre." in reminder
    assert segments(reminder) == 1  # GSM's own letters: é, à, è, ù; "ê" becomes "e"
    # "1": the same totals as a tap. The same SMS posted twice (the app has done it under a new
    # event id, its issue #291) counts once.
    arrived = "2026-11-05T10:30:00.000+01:00"
    assert await gateway.answer(h.sms_webhook, KARIM, " 1 ", event_id="evt-1", received_at=arrived) == 200
    assert await gateway.answer(h.sms_webhook, KARIM, " 1 ", event_id="evt-2", received_at=arrived) == 200
    await h.settle()
    assert "✅ 1 oui · ❌ 0 non" in announcement.text
    # A forged webhook (another key) and an unknown number change nothing.
    assert await gateway.answer(h.sms_webhook, KARIM, "2", key="not-the-gateway-key-at-all") == 401
    assert await gateway.answer(h.sms_webhook, "+33698765432", "2") == 200
    await h.settle()
    assert "✅ 1 oui · ❌ 0 non" in announcement.text
    # APPEL, and "2" with a reason: the facilitator is told in private; the count moves.
    assert await gateway.answer(h.sms_webhook, KARIM, "appel") == 200
    await h.settle()
    call = tg.bot_messages(awa.id)[-1]
    assert call.text == (
        "📞 Karim (groupe « Groupe ressources Oyonnax ») a répondu APPEL par SMS : rappelez le 06 12 34 56 78"
    )
    tg.send_callback(julie, call, call.buttons()[0]["callback_data"])  # not of the facilitation
    await h.settle()
    assert tg.last_callback_answer() == "Seule l'animation du groupe peut faire cela."
    tg.press(awa, call, "Rappel fait")
    await h.settle()
    assert call.text == "✅ Fait : Awa a rappelé Karim."
    assert await gateway.answer(h.sms_webhook, KARIM, "2 Malade, désolé") == 200
    await h.settle()
    assert "✅ 0 oui · ❌ 1 non" in announcement.text
    assert tg.bot_messages(awa.id)[-1].text.endswith("ne peut pas venir : « Malade, désolé »")
    assert await gateway.answer(h.sms_webhook, KARIM, "3") == 200
    # STOP: one confirmation, then nothing, not even the J-1 reminder.
    assert await gateway.answer(h.sms_webhook, KARIM, "Stop") == 200
    await h.run_jobs()
    assert gateway.to(KARIM)[-1] == "C'est noté : vous ne recevrez plus de SMS de Relais."
    sent = len(gateway.to(KARIM))
    h.clock.set(J1)
    await h.run_jobs()
    assert len(gateway.to(KARIM)) == sent
    async with h.services.sessionmaker() as session:
        assert await session.scalar(select(SmsContact.status)) == "stopped"
        assert await session.scalar(select(func.count(SmsReceived.id))) == 9  # the duplicate once
    # The figures: /bilan (in private) and /metrics count the SMS sent and received.
    tg.say(chat, awa, "/bilan")
    await h.settle()
    report = next(m.text for m in reversed(tg.bot_messages(awa.id)) if (m.text or "").startswith("📊"))
    # Sent: the consent, its thanks, the J-7 reminder, the STOP's confirmation; received: 8 events.
    assert "📱 SMS envoyés aux membres que Telegram ne joint pas : 4 · reçus en réponse : 8" in report
    async with aiohttp.ClientSession() as session, session.get(h.sms_webhook.split("/sms/")[0] + "/metrics") as got:
        metrics = await got.text()
    assert 'relais_sms_sent_total{outcome="ok"} 4.0' in metrics
    assert 'relais_sms_received_total{outcome="answered"} 3.0' in metrics
    assert 'relais_sms_received_total{outcome="duplicate"} 1.0' in metrics
    # The number is never shown in the group.
    group_texts = " ".join(m.text or "" for m in tg.bot_messages(chat.id))
    assert "12 34 56" not in group_texts and "+336" not in group_texts


async def test_gateway_down_then_back_sends_once(texting):
    h = texting
    gateway = h.sms
    assert gateway is not None
    gateway.refuse_next = [503]
    chat, awa, karim, julie, announcement = await registered(h)
    assert gateway.to(KARIM) == []  # refused: kept for a retry
    h.clock.set(datetime(2026, 11, 2, 10, 0, tzinfo=UTC))
    await h.run_jobs()
    assert len(gateway.to(KARIM)) == 1
    await h.restart()
    await h.run_jobs()
    assert len(gateway.to(KARIM)) == 1  # never twice, restart or not
    # A send again under the same id (the process died between the gateway's answer and the
    # record): the gateway says 409, it counts as sent, nothing goes twice.
    key = gateway.sent[0].key
    assert h.services.sms is not None and await h.services.sms.send(KARIM, "encore", key) == key
    assert len(gateway.to(KARIM)) == 1


async def test_a_member_without_telegram_counts_by_sms(texting):
    h = texting
    chat, awa, (karim,) = await group_with_bot(h, members=1)
    gateway, tg = h.sms, h.tg
    assert gateway is not None
    tg.start_private(awa)
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social Les Vennes | Bilan")
    await h.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    tg.say(chat, awa, "/sms ajouter Fatou D.")
    await h.settle()
    assert tg.bot_messages(awa.id)[-1].text.startswith("📱 Le numéro de portable de Fatou D.")
    tg.say(tg.private_chat(awa), awa, "07 81 22 33 44")
    await h.run_jobs()
    fatou = "+33781223344"
    assert "répondez OUI" in gateway.to(fatou)[0]
    assert await gateway.answer(h.sms_webhook, fatou, "oui") == 200
    await h.run_jobs()
    # The day-before list marks who is reached by SMS; the J-1 reminder goes to her phone.
    h.clock.set(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    await h.run_jobs()
    digest = next(m.text for m in reversed(tg.bot_messages(awa.id)) if "Pas encore répondu" in (m.text or ""))
    assert "Fatou D. (SMS)" in digest
    h.clock.set(J1)
    await h.run_jobs()
    assert "Répondez 1 je viens" in gateway.to(fatou)[-1]
    assert await gateway.answer(h.sms_webhook, fatou, "Je viens") == 200
    await h.settle()
    assert "✅ 1 oui" in announcement.text
    group_texts = " ".join(m.text or "" for m in tg.bot_messages(chat.id))
    assert "81 22 33" not in group_texts and "+337" not in group_texts


async def test_the_monthly_limit_stops_sending_and_the_facilitators_are_told_once(database_url, clock):
    async with Harness(database_url, clock=clock, sms=True, overrides={"sms": {"monthly_limit": 2}}) as h:
        chat, awa, karim, julie, announcement = await registered(h)
        gateway, tg = h.sms, h.tg
        assert gateway is not None
        assert await gateway.answer(h.sms_webhook, KARIM, "oui") == 200
        await h.run_jobs()
        assert len(gateway.to(KARIM)) == 2  # the consent and its thanks: the month's two
        h.clock.set(J7)
        await h.run_jobs()
        assert len(gateway.to(KARIM)) == 2
        told = [m.text for m in tg.bot_messages(awa.id) if (m.text or "").startswith("📱 Les SMS de ce mois")]
        assert told == [
            "📱 Les SMS de ce mois sont épuisés (2 au plus) : les rappels par SMS reprendront le 1er du mois "
            "prochain. À prévenir par téléphone : Karim."
        ]
        h.clock.set(J1)
        await h.run_jobs()
        assert len(gateway.to(KARIM)) == 2
        assert sum((m.text or "").startswith("📱 Les SMS de ce mois") for m in tg.bot_messages(awa.id)) == 1
        await h.settle()


async def test_a_meeting_moved_then_cancelled_is_told_by_sms(texting):
    h = texting
    chat, awa, karim, julie, announcement = await registered(h)
    gateway, tg = h.sms, h.tg
    assert gateway is not None
    assert await gateway.answer(h.sms_webhook, KARIM, "oui") == 200
    await h.run_jobs()
    tg.say(chat, awa, "/deplacer 1 vendredi 13 novembre 15h")
    await h.run_jobs()
    moved = gateway.to(KARIM)[-1]
    assert moved.startswith('Relais, groupe "Groupe ressources Oyonnax" : la réunion change de date, vendredi 13')
    assert "15h, Centre social Les Vennes. Répondez 1 je viens" in moved and segments(moved) <= 2
    assert await gateway.answer(h.sms_webhook, KARIM, "1") == 200  # counts for the meeting at its new date
    await h.settle()
    assert "✅ 1 oui" in announcement.text
    tg.say(chat, awa, "/annuler 1")
    await h.run_jobs()
    assert gateway.to(KARIM)[-1] == (
        'Relais, groupe "Groupe ressources Oyonnax" : la réunion du vendredi 13 novembre à 15h est annulée.'
    )
    h.clock.set(J7)
    await h.run_jobs()  # no reminder for a cancelled meeting
    assert gateway.to(KARIM)[-1].endswith("est annulée.")


async def test_a_restart_in_the_middle_of_a_wave_of_sms_sends_each_once(texting):
    """Six members get SMS. The gateway takes the J-7 wave's messages but answers none of them
    before the process dies; the next process sends them again under the same ids once their
    claims lapse: the gateway's 409 says they went, and each member gets the reminder once."""
    h = texting
    gateway = h.sms
    assert gateway is not None
    chat, awa, (karim,) = await group_with_bot(h, members=1)
    h.tg.say(chat, awa, "/reunion 12/11 14h | Centre social Les Vennes | Bilan")
    await h.settle()
    numbers = await texted_members(h)
    h.clock.set(J7)
    gateway.hold = asyncio.Event()
    wave = asyncio.create_task(h.run_jobs())
    async with asyncio.timeout(10):
        await gateway.taken(3)  # some taken by the gateway, none answered
    wave.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await wave
    await h.restart()  # the process dies with SMS in flight
    gateway.hold.set()
    h.clock.set(J7 + timedelta(minutes=2))  # their claims lapse
    await h.run_jobs()
    reminders = [sms_.number for sms_ in gateway.sent if "Répondez 1 je viens" in sms_.text]
    assert sorted(reminders) == sorted(numbers)  # each once
    async with h.services.sessionmaker() as session:
        statuses = await session.scalars(select(Delivery.status).where(Delivery.kind == "sms_reminder"))
        assert list(statuses) == ["sent"] * 6


async def test_the_number_to_call_and_bad_input(texting):
    h = texting
    chat, awa, karim, julie, announcement = await registered(h)
    gateway, tg = h.sms, h.tg
    assert gateway is not None
    for command, expected in (
        ("/sms numero pas un numéro", "Je ne reconnais pas ce numéro"),
        ("/sms @personne", "Pour qu'un membre reçoive les rappels par SMS"),
        ("/sms ajouter A", "Donnez le prénom"),
    ):
        tg.say(chat, awa, command)
        await h.settle()
        assert last_text(h, chat.id).startswith(expected), command
    tg.say(chat, karim, "/sms numero 04 74 12 34 56")
    await h.settle()
    assert last_text(h, chat.id) == "Seule l'animation du groupe peut faire cela."
    tg.say(chat, awa, "/sms numero 04 74 12 34 56")
    await h.settle()
    assert last_text(h, chat.id) == "📞 C'est noté : les SMS donneront ce numéro à appeler."
    assert await gateway.answer(h.sms_webhook, KARIM, "oui") == 200
    h.clock.set(J7)
    await h.run_jobs()
    assert gateway.to(KARIM)[-1].endswith("Une question ? Appelez le 04 74 12 34 56.")
    assert segments(gateway.to(KARIM)[-1]) <= 2


async def test_sms_off_says_so(relais):
    chat, awa, (karim,) = await group_with_bot(relais, members=1)
    relais.tg.say(chat, awa, "/sms @karim_m")
    await relais.settle()
    assert last_text(relais, chat.id) == "Les SMS ne sont pas activés sur ce Relais : voyez avec la coordination."


async def test_a_wave_larger_than_what_is_left_of_the_month_sends_what_is_left(database_url, clock):
    """Six members by SMS, four SMS left this month: one claim renders the whole wave, and four go."""
    async with Harness(database_url, clock=clock, sms=True, overrides={"sms": {"monthly_limit": 4}}) as h:
        gateway = h.sms
        assert gateway is not None
        chat, awa, (karim,) = await group_with_bot(h, members=1)
        h.tg.say(chat, awa, "/reunion 12/11 14h | Centre social Les Vennes | Bilan")
        await h.settle()
        await texted_members(h)
        h.clock.set(J7)
        await h.run_jobs()
        reminders = [each for each in gateway.sent if "Répondez 1 je viens" in each.text]
        assert len(reminders) == 4
        await h.run_jobs()
        assert len([each for each in gateway.sent if "Répondez 1 je viens" in each.text]) == 4
        await h.settle()


async def test_the_number_in_my_data_then_erased_with_me(texting):
    """/mesdonnees lists the number; /oublier erases it and the SMS received from it: an SMS from
    that number afterwards is a stranger's, and gets nothing."""
    h = texting
    chat, awa, karim, julie, announcement = await registered(h)
    gateway, tg = h.sms, h.tg
    assert gateway is not None
    assert await gateway.answer(h.sms_webhook, KARIM, "oui") == 200
    await h.run_jobs()
    tg.start_private(karim)
    tg.say(tg.private_chat(karim), karim, "/mesdonnees")
    await h.settle()
    data = json.loads(tg.bot_messages(karim.id)[-1].document.content)
    [number] = data["sms_numbers"]
    assert number["number"] == KARIM and number["status"] == "active"
    assert number["group"] == "Groupe ressources Oyonnax"
    tg.say(tg.private_chat(karim), karim, "/oublier")
    await h.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Oui, tout effacer")
    await h.settle()
    async with h.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(SmsContact)) == 0
        assert await session.scalar(select(func.count()).select_from(SmsReceived)) == 0
    sent = len(gateway.sent)
    assert await gateway.answer(h.sms_webhook, KARIM, "1") == 200
    h.clock.set(J7)
    await h.run_jobs()
    assert len(gateway.sent) == sent and "✅ 0 oui" in announcement.text
