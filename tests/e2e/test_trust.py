"""End to end: nobody is left out and nothing is said to the wrong people. A facilitator who never
opened a private chat is told in the group (once per kind of report) and gets the report when
they start the bot; a member stops and resumes private reminders with one tap, erasing nothing;
absence reasons reach only those the rule allows; /reunion says when the reminders go out; the
export comes with a readable summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.e2e.test_reminders import J1, J7, private_texts, setup_meeting
from tests.support.helpers import last_text

J2 = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)  # the day before the J-1 reminder: the list
AFTER = datetime(2026, 11, 12, 17, 0, tzinfo=UTC)  # after the meeting: the attendance checklist


def reach_outs(h, chat_id: int) -> list:
    return [m for m in h.tg.bot_messages(chat_id) if "Relais a un message pour vous" in m.text]


async def test_a_facilitator_never_reached_is_told_in_the_group_and_gets_the_report_on_start(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)  # Awa never started the bot
    tg = relais.tg
    tg.say(chat, awa, "/reunion 13/11 14h | Mairie | Transports")
    await relais.settle()
    relais.clock.set(J2)
    await relais.run_jobs()
    [told] = reach_outs(relais, chat.id)
    assert "Awa" in told.text and told.html and f"tg://user?id={awa.id}" in told.html
    # Nothing of the report in the group: no names of who cannot come, no reasons.
    assert "Sami" not in told.text and "Transport" not in told.text and "Julie" not in told.text
    [button] = told.buttons()
    assert button["url"].startswith(f"https://t.me/{tg.bot.username}?start=")
    # The second meeting's list, the next day: held too, and the group is not told again.
    relais.clock.set(J1)
    await relais.run_jobs()
    assert len(reach_outs(relais, chat.id)) == 1
    assert awa.id not in tg.chats  # nothing was attempted in private
    # Awa opens the private chat from the button: both lists arrive.
    tg.open_link(awa, button["url"])
    await relais.settle()
    await relais.run_jobs()
    lists = [text for text in private_texts(relais, awa) if "Pas encore répondu" in text]
    assert len(lists) == 2
    assert "Ne peuvent pas venir : Sami (Transport)" in lists[0]  # an administrator reads reasons
    # After the meeting the checklist goes straight to her: she can be reached now.
    relais.clock.set(AFTER)
    await relais.run_jobs()
    assert "Qui était là" in private_texts(relais, awa)[-1]
    assert len(reach_outs(relais, chat.id)) == 1


async def test_a_report_held_past_its_meeting_is_not_sent(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    relais.clock.set(J2)
    await relais.run_jobs()
    assert len(reach_outs(relais, chat.id)) == 1
    relais.clock.set(datetime(2026, 11, 12, 13, 30, tzinfo=UTC))  # the meeting has begun
    tg.start_private(awa)
    await relais.settle()
    await relais.run_jobs()
    assert not any("Pas encore répondu" in text for text in private_texts(relais, awa))


async def test_named_facilitators_get_the_list_without_reasons(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    tg.start_private(awa)
    tg.say(chat, awa, "/animateur @julie_m")
    await relais.settle()
    assert "sans les raisons d'absence" in last_text(relais, chat.id)
    relais.clock.set(J2)
    await relais.run_jobs()
    julies = [text for text in private_texts(relais, julie) if "Ne peuvent pas venir" in text]
    awas = [text for text in private_texts(relais, awa) if "Ne peuvent pas venir" in text]
    assert julies and "Ne peuvent pas venir : Sami" in julies[-1] and "Transport" not in julies[-1]
    assert awas and "Sami (Transport)" in awas[-1]
    assert reach_outs(relais, chat.id) == []


async def test_stop_and_resume_private_reminders_with_one_tap(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    relais.clock.set(J7)
    await relais.run_jobs()
    reminder = tg.bot_messages(karim.id)[-1]
    assert "🔕 Ne plus recevoir de rappels" in reminder.labels()
    tg.press(karim, reminder, "Ne plus recevoir de rappels")
    await relais.settle()
    assert "Relais ne vous écrira plus en privé" in last_text(relais, karim.id)
    assert "Rien n'est effacé" in last_text(relais, karim.id)
    before = len(private_texts(relais, karim))
    relais.clock.set(J1)
    await relais.run_jobs()
    assert len(private_texts(relais, karim)) == before  # no private reminder
    assert "C'est demain" in last_text(relais, chat.id)  # the group still has it
    tg.say(tg.private_chat(karim), karim, "/mesdonnees")
    await relais.settle()
    summary = tg.bot_messages(karim.id)[-2]
    assert "vous avez arrêté les messages privés" in summary.text
    assert "vous avez répondu à 1 réunion" in summary.text  # his answer is still there
    data = json.loads(tg.bot_messages(karim.id)[-1].document.content)
    assert data["person"]["private_messages_paused"] is True and data["meeting_answers"][0]["answer"] == "yes"
    tg.press(karim, summary, "Recevoir à nouveau")
    await relais.settle()
    assert "vous recevrez de nouveau ici les rappels" in last_text(relais, karim.id)
    tg.say(chat, awa, "/reunion 19/11 14h | Mairie | Transports")
    await relais.settle()
    relais.clock.set(datetime(2026, 11, 12, 9, 0, tzinfo=UTC))  # the second meeting's J-7
    await relais.run_jobs()
    assert "Transports" in last_text(relais, karim.id)


async def test_reunion_says_when_reminders_go_out_and_to_how_many(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    confirmation = tg.bot_messages(chat.id)[-2].text  # Awa cannot be written to: in the group
    assert confirmation.startswith("Rappels : jeudi 5 novembre à 10h et mercredi 11 novembre à 10h.")
    assert "3 membres sur 5 les recevront aussi en privé." in confirmation
    tg.start_private(awa)
    tg.say(chat, awa, "/reunion 19/11 14h | Mairie | Transports")
    await relais.settle()
    assert "4 membres sur 5" in last_text(relais, awa.id)  # now to her, in private
    assert "Transports" in last_text(relais, chat.id)


async def test_the_export_has_a_readable_summary(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    tg.say(tg.private_chat(sami), sami, "/mesdonnees")
    await relais.settle()
    summary = tg.bot_messages(sami.id)[-2].text
    assert summary.startswith("Ce que Relais garde sur vous, Sami")
    assert "vous êtes dans 1 groupe : Groupe ressources Oyonnax" in summary
    assert "vous avez dit 1 fois pourquoi vous ne pouviez pas venir" in summary and "30 jours" in summary
    assert "(s)" not in summary
    assert tg.bot_messages(sami.id)[-1].document.filename == "relais-mes-donnees.json"


async def test_absence_reasons_are_erased_by_the_job_thirty_days_after_the_meeting(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)  # Sami: "Transport"
    from sqlalchemy import select

    from storage.models import Rsvp

    async def reasons() -> list:
        async with relais.services.sessionmaker() as session:
            return [r.reason for r in await session.scalars(select(Rsvp).where(Rsvp.answer == "no"))]

    relais.clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))  # 28 days after the meeting
    await relais.run_jobs()
    assert (await relais.housekeep())["absence_reasons"] == 0
    assert await reasons() == ["transport"]
    relais.clock.set(datetime(2026, 12, 13, 9, 0, tzinfo=UTC))  # 31 days after
    await relais.run_jobs()
    assert await reasons() == ["transport"]  # sending is the dispatcher's business, not keeping
    assert (await relais.housekeep())["absence_reasons"] == 1
    assert await reasons() == [None]  # the answer stays, the reason is gone
