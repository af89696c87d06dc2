"""What real groups do that a lenient fake never did (Telegram as it is, point by point): questions
that reach the person who asked, topics, members who were there before the bot, anonymous
administrators, upgrades, forwarded links, strangers' groups, long lists."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.helpers import group_with_bot, last_text, meetings_of


async def test_a_guided_meeting_completes_through_the_reply_field_the_facilitator_sees(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/reunion")
    await relais.settle()
    command = tg.chat_messages(chat.id)[-2]
    question = tg.bot_messages(chat.id)[-1]
    assert question.reply_to == command.message_id and command.text == "/reunion"  # it answers the command
    assert tg.shows_prompt(question, awa.id) and not tg.shows_prompt(question, karim.id)
    tg.answer_question(chat, awa, "hier 14h")
    await relais.settle()
    assert "Je ne trouve pas le jour" in last_text(relais, chat.id)  # asked again, quoting her answer
    tg.answer_question(chat, awa, "mardi prochain 9h30")
    await relais.settle()
    tg.answer_question(chat, awa, "Mairie de Bourg, salle 2")
    await relais.settle()
    tg.answer_question(chat, awa, "Transports")
    await relais.settle()
    tg.press(awa, tg.bot_messages(chat.id)[-1], "Publier")
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.place == "Mairie de Bourg, salle 2"
    assert meeting.starts_at == datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
    # Karim's client never showed him the questions: his keyboard stayed his own.
    try:
        tg.question_for(chat, karim)
    except AssertionError:
        pass
    else:
        raise AssertionError("a question of the guided meeting opened Karim's reply field")


async def test_a_question_after_a_tap_names_who_tapped(relais):
    chat, awa, (karim, _) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")
    await relais.settle()
    tg.say(chat, awa, "/deplacer")
    await relais.settle()
    tg.press(awa, tg.bot_messages(chat.id)[-1], "n°1")
    await relais.settle()
    question = tg.bot_messages(chat.id)[-1]
    assert f"tg://user?id={awa.id}" in question.html and question.text.startswith("Awa, quelle est la nouvelle date")
    assert tg.shows_prompt(question, awa.id) and not tg.shows_prompt(question, karim.id)
    tg.answer_question(chat, awa, "jeudi 19 novembre 15h")
    await relais.settle()
    [meeting] = await meetings_of(relais, chat.id)
    assert meeting.starts_at == datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
