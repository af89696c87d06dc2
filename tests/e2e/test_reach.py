"""End to end: reaching everyone. /joignables and each meeting's first reminder give those who
run the group the members no private reminder reaches (never opened the chat, blocked the bot,
stopped reminders); the group is offered "Recevoir mes rappels en privé" at most once a month."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.helpers import group_with_bot, last_text


async def test_the_unreachable_are_listed_for_facilitators_and_the_group_nudged_monthly(relais):
    chat, awa, (karim, julie, sami, lina) = await group_with_bot(relais, members=4)
    tg = relais.tg
    for person in (awa, karim, sami, lina):
        tg.start_private(person)
    await relais.settle()
    tg.say(chat, sami, "/aide")  # Sami is seen by the bot, then blocks it
    await relais.settle()
    tg.block(sami)
    tg.say(tg.private_chat(lina), lina, "/aide")
    await relais.settle()
    tg.press(lina, tg.bot_messages(lina.id)[-1], "Ne plus recevoir de rappels")
    await relais.settle()
    tg.say(chat, awa, "/reunion 12/11 14h | Centre social | Bilan")  # Sami's 403 comes with it
    await relais.settle()
    tg.say(chat, karim, "/joignables")
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."
    tg.say(chat, awa, "/joignables")
    await relais.settle()
    assert last_text(relais, chat.id) == "📵 Je vous ai envoyé la liste en privé."
    listing = last_text(relais, awa.id)
    assert listing.startswith("📵 Qui ne reçoit pas les rappels en privé")
    assert "• Julie @julie_m : n'a jamais ouvert la conversation avec Relais" in listing
    assert "• Sami @sami_m : a bloqué Relais" in listing
    assert "• Lina @lina_m : a arrêté les rappels" in listing
    assert "Karim" not in listing and "Un appel ou un SMS peut les prévenir." in listing
    # With the J-7 reminder: the list in private, and the group offered the private reminders.
    relais.clock.set(datetime(2026, 11, 5, 9, 0, tzinfo=UTC))
    await relais.run_jobs()
    before = next(m.text for m in reversed(tg.bot_messages(awa.id)) if m.text.startswith("📵 Avant"))
    assert before.startswith("📵 Avant la réunion du jeudi 12 novembre à 14h (Centre social)")
    nudge = tg.bot_messages(chat.id)[-2]  # just before the reminder
    assert nudge.text.startswith("🔔 Pour recevoir les rappels des réunions en privé, un toucher suffit.\n👋 Vous êtes")
    assert nudge.labels() == ["👋 Je suis membre du groupe", "🔔 Recevoir mes rappels en privé"]
    tg.press(julie, nudge, "Recevoir mes rappels")
    await relais.settle()
    assert any(m.text.startswith("C'est noté ! Vous recevrez ici les rappels") for m in tg.bot_messages(julie.id))
    # The J-1 reminder brings no list; a meeting a week later brings the list but no second nudge.
    relais.clock.set(datetime(2026, 11, 11, 9, 0, tzinfo=UTC))
    await relais.run_jobs()
    assert sum("🔔 Pour recevoir" in (m.text or "") for m in tg.bot_messages(chat.id)) == 1
    tg.say(chat, awa, "/reunion 19/11 14h | Centre social | Suite")
    await relais.settle()
    relais.clock.set(datetime(2026, 11, 12, 9, 0, tzinfo=UTC))
    await relais.run_jobs()
    second = next(m.text for m in reversed(tg.bot_messages(awa.id)) if m.text.startswith("📵 Avant"))
    assert second.startswith("📵 Avant la réunion du jeudi 19 novembre")
    assert "Julie" not in second  # she opened the chat
    assert sum("🔔 Pour recevoir" in (m.text or "") for m in tg.bot_messages(chat.id)) == 1
