"""End to end: quick polls and proposal votes, the reminder to non-voters, closing at the deadline
(across a restart), the group's rule, priority rounds, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.simulator.harness import Harness
from storage.models import Poll, PollVote, PriorityPick, Proposal
from tests.conftest import assert_telegram_happy
from tests.support.helpers import group_with_bot, last_text, other_group

UTC = UTC
# The fake clock starts on Monday 2 November 2026, 10:00 in Paris.
TUESDAY_6PM = datetime(2026, 11, 3, 17, 0, tzinfo=UTC)


def polls_in(h, chat_id: int) -> list:
    return [m for m in h.tg.bot_messages(chat_id) if m.poll is not None]


async def all_polls(h) -> list[Poll]:
    async with h.services.sessionmaker() as session:
        return list(await session.scalars(select(Poll).order_by(Poll.id)))


def private_texts(h, user) -> list[str]:
    return [m.text for m in h.tg.bot_messages(user.id)] if user.id in h.tg.chats else []


async def test_poll_reminds_only_non_voters_and_closes_across_a_restart(database_url):
    clock = FakeClock()
    async with Harness(database_url, clock=clock) as h:
        chat, awa, (karim, julie, sami, lina) = await group_with_bot(h, members=4)
        tg = h.tg
        for person in (karim, julie, sami):
            tg.start_private(person)
        tg.say(chat, awa, "/sondage Quel jour pour la prochaine réunion ? | Mardi | Jeudi | jusqu'à demain 18h")
        await h.settle()
        intro = tg.bot_messages(chat.id)[-2]
        assert "Sondage ouvert jusqu'à demain à 18h" in intro.text and "le groupe voit qui a répondu quoi" in intro.text
        [message] = polls_in(h, chat.id)
        assert message.poll["is_anonymous"] is False and [o["text"] for o in message.poll["options"]] == [
            "Mardi",
            "Jeudi",
        ]
        [poll] = await all_polls(h)
        assert poll.closes_at == TUESDAY_6PM
        tg.vote(karim, message, [0])
        tg.vote(sami, message, [1])
        tg.vote(sami, message, [])  # Sami takes the vote back
        tg.vote(awa, message, [0])
        await h.settle()
        before = {u.id: len(private_texts(h, u)) for u in (karim, julie, sami)}
        # Half-way (the poll is shorter than two reminder delays): one reminder to who has not voted.
        clock.set(poll.created_at + (poll.closes_at - poll.created_at) / 2)
        report = await h.run_jobs()
        assert "Le groupe « Groupe ressources Oyonnax » attend votre avis" in private_texts(h, julie)[-1]
        assert "Quel jour pour la prochaine réunion ?" in private_texts(h, julie)[-1]
        assert len(private_texts(h, sami)) == before[sami.id] + 1  # took the vote back: reminded
        assert len(private_texts(h, karim)) == before[karim.id]  # voted: never reminded
        assert private_texts(h, lina) == []  # never started the bot
        assert report.sent == 2
        assert (await h.run_jobs()).sent == 0  # one reminder only
        await h.restart()
        tg.vote(julie, message, [1])
        await h.settle()
        clock.set(TUESDAY_6PM)
        await h.run_jobs()
        assert message.poll["is_closed"] is True
        summary = last_text(h, chat.id)
        assert "Sondage terminé" in summary and "• Mardi : 2 (67 %)" in summary and "• Jeudi : 1 (33 %)" in summary
        assert "Participation : 3 sur 5 membres (60 %)" in summary and "Résultat : Mardi" in summary
        [poll] = await all_polls(h)
        assert poll.status == "closed" and poll.outcome == "option:0"
        await h.restart()
        clock.advance(timedelta(hours=1))
        assert (await h.run_jobs()).sent == 0  # closed once
        assert_telegram_happy(h)


async def test_anonymous_poll_reminds_the_group_and_counts(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.start_private(julie)
    tg.say(chat, awa, "/sondage --anonyme Êtes-vous satisfaits du lieu ? | Oui | Non | Sans avis")
    await relais.settle()
    [message] = polls_in(relais, chat.id)
    assert message.poll["is_anonymous"] is True
    tg.vote(karim, message, [1])
    await relais.settle()
    [poll] = await all_polls(relais)
    assert poll.closes_at == relais.clock.now() + timedelta(hours=48)
    async with relais.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PollVote)) == 0  # nobody's vote is known
    relais.clock.set(poll.closes_at - timedelta(hours=24))
    await relais.run_jobs()
    reminder = tg.bot_messages(chat.id)[-1]
    assert reminder.text.startswith("⏳ Plus que quelques heures") and reminder.reply_to == message.message_id
    assert len(private_texts(relais, julie)) == 1  # only the welcome: no private reminder
    relais.clock.set(poll.closes_at)
    await relais.run_jobs()
    summary = last_text(relais, chat.id)
    assert "• Non : 1 (100 %)" in summary and "Résultat : Non" in summary


async def test_proposal_vote_decides_by_majority_and_tells_the_author(relais):
    chat, awa, (karim, julie, sami) = await group_with_bot(relais, members=3)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, karim, "/proposition Des horaires de bus adaptés")
    tg.say(chat, awa, "/vote 1 jusqu'à vendredi 18h")
    await relais.settle()
    [message] = polls_in(relais, chat.id)
    assert message.poll["question"] == "Proposition n°1 : Des horaires de bus adaptés"
    assert [o["text"] for o in message.poll["options"]] == ["Pour", "Contre", "Je ne sais pas"]
    tg.say(chat, awa, "/vote 1")
    await relais.settle()
    assert "Un vote est déjà ouvert sur la proposition n°1" in last_text(relais, chat.id)
    tg.vote(karim, message, [0])
    tg.vote(julie, message, [0])
    tg.vote(sami, message, [1])
    tg.vote(awa, message, [2])
    await relais.settle()
    relais.clock.set(datetime(2026, 11, 6, 17, 0, tzinfo=UTC))
    await relais.run_jobs()
    summary = last_text(relais, chat.id)
    assert "Vote terminé sur la proposition n°1" in summary and "• Pour : 2 (50 %)" in summary
    assert (
        "Participation : 4 sur 4 membres (100 %)" in summary
        and "La proposition n°1 est retenue par le groupe." in summary
    )
    async with relais.services.sessionmaker() as session:
        proposal = await session.scalar(select(Proposal))
    assert proposal.state == "adopted"
    assert "est retenue par le groupe" in private_texts(relais, karim)[-1]
    tg.say(chat, awa, "/vote 1")
    await relais.settle()
    assert "a déjà passé l'étape du vote" in last_text(relais, chat.id)


async def test_quorum_and_a_tie(relais):
    chat, awa, (karim, julie, sami) = await group_with_bot(relais, members=3)
    tg = relais.tg
    tg.say(chat, awa, "/quorum 60")
    tg.say(chat, karim, "/proposition Une garderie pendant les réunions")
    tg.say(chat, karim, "/proposition Un repas partagé")
    tg.say(chat, awa, "/vote 1")
    tg.say(chat, awa, "/vote 2 --anonyme")
    await relais.settle()
    first, second = polls_in(relais, chat.id)
    tg.vote(karim, first, [0])  # 1 voter of 4 members: below 60 %
    for person, choice in ((karim, 0), (julie, 1), (sami, 0), (awa, 1)):
        tg.vote(person, second, [choice])  # all 4 voted, but 2 against 2: not a majority
    await relais.settle()
    relais.clock.advance(timedelta(hours=48))
    await relais.run_jobs()
    texts = [m.text for m in tg.bot_messages(chat.id)[-2:]]
    assert any("Pas assez de votes (60 % des membres demandés)" in text for text in texts)
    assert any("La proposition n°2 n'est pas retenue" in text for text in texts)
    async with relais.services.sessionmaker() as session:
        states = list(await session.scalars(select(Proposal.state).order_by(Proposal.number)))
    assert states == ["new", "not_adopted"]


async def test_bad_poll_commands_change_nothing(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    other, other_admin = other_group(relais)
    tg.say(other, other_admin, "/proposition Une idée d'ailleurs")
    await relais.settle()
    thirteen = " | ".join(f"Choix {i}" for i in range(13))
    cases = {
        "/sondage Quel jour ? | Mardi": "Il faut entre 2 et 12 choix ; j'en compte 1",
        f"/sondage Quel jour ? | {thirteen}": "j'en compte 13",
        "/sondage Quel jour ? | Mardi | " + "j" * 101: "Le choix n°2 est trop long (101 caractères) : 100 au plus",
        "/sondage " + "q" * 301 + " | A | B": "La question est trop longue (301 caractères) : 300 au plus",
        "/sondage Quel jour ? | Mardi | mardi": "Deux choix sont identiques",
        "/sondage Quel jour ? | Mardi |  | Jeudi": "Le choix n°2 est vide",
        "/sondage Quel jour ?": "Écrivez la question puis au moins deux choix",
        "/sondage Quel jour ? | Mardi | Jeudi | jusqu'à hier 18h": "",
        "/sondage Quel jour ? | Mardi | Jeudi | pendant 0 min": "laissez au moins une minute",
        "/sondage Quel jour ? | Mardi | Jeudi | pendant longtemps": "Je ne comprends pas la durée",
        "/sondage Quel jour ? | Mardi | Jeudi | jusqu'au 30/12 18h": "30 jours au plus",
        "/vote 1": "Il n'y a pas de proposition n°1 dans ce groupe",  # n°1 is the other group's
        "/vote douze": "Écrivez le numéro de la proposition",
        "/vote 1 demain": "Écrivez le numéro de la proposition",
    }
    for command, expected in cases.items():
        tg.say(chat, awa, command)
        await relais.settle()
        assert expected in last_text(relais, chat.id), command
        assert "Exemple" in last_text(relais, chat.id), command
    tg.say(chat, karim, "/sondage Quel jour ? | Mardi | Jeudi")
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."
    assert polls_in(relais, chat.id) == [] and await all_polls(relais) == []


async def test_priorities_dot_vote(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/priorites")
    await relais.settle()
    assert "Il faut au moins deux propositions" in last_text(relais, chat.id)
    for text in (
        "Des bus adaptés",
        "Une garderie",
        "Un repas partagé",
        "Une salle plus grande",
        "Des comptes rendus simples",
    ):
        tg.say(chat, karim, f"/proposition {text}")
    tg.say(chat, awa, "/priorites jusqu'à jeudi 18h")
    await relais.settle()
    board = tg.bot_messages(chat.id)[-1]
    assert "Touchez jusqu'à 3 propositions" in board.text and len(board.labels()) == 6  # and 🔒
    tg.say(chat, awa, "/priorites")
    await relais.settle()
    assert "déjà en cours" in last_text(relais, chat.id)
    for label in ("n°2", "n°3", "n°1"):
        tg.press(karim, board, label)
        await relais.settle()
    assert tg.last_callback_answer() == "Choix enregistré (3 sur 3)."
    tg.press(karim, board, "n°4")
    await relais.settle()
    assert tg.last_callback_answer() == "Vous avez déjà 3 choix : touchez l'un d'eux pour le retirer."
    tg.press(karim, board, "n°1")  # taken back
    tg.press(julie, board, "n°3")
    tg.press(julie, board, "n°5")
    await relais.settle()
    assert "Membres qui ont choisi : 2" in board.text
    # Merging n°5 into n°3 carries Julie's pick (one pick, not two).
    tg.say(chat, awa, "/fusionner 5 3")
    await relais.settle()
    async with relais.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PriorityPick)) == 3
    relais.clock.set(datetime(2026, 11, 5, 17, 0, tzinfo=UTC))
    await relais.run_jobs()
    ranking = last_text(relais, chat.id)
    assert "Nos priorités" in ranking and ranking.index("1. n°3 Un repas partagé — 2 choix") < ranking.index(
        "2. n°2 Une garderie — 1 choix"
    )
    tg.press(julie, board, "n°2")
    await relais.settle()
    assert tg.last_callback_answer() == "Ce choix des priorités est terminé."
    tg.say(chat, awa, "/priorites fin")
    await relais.settle()
    assert "Aucun choix des priorités n'est en cours" in last_text(relais, chat.id)


async def test_typed_texts_are_never_parsed_as_html(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/sondage Lundi < mardi & co ? | <b>A</b> | B & C")
    tg.say(chat, karim, "/proposition Un <b>gras</b> & des chevrons < >")
    await relais.settle()
    assert "« Un <b>gras</b> & des chevrons < > »" in last_text(relais, chat.id)
    tg.say(chat, awa, "/vote 1")
    await relais.settle()
    first, second = polls_in(relais, chat.id)
    assert first.poll["question"] == "Lundi < mardi & co ?" and [o["text"] for o in first.poll["options"]] == [
        "<b>A</b>",
        "B & C",
    ]
    assert second.poll["question"] == "Proposition n°1 : Un <b>gras</b> & des chevrons < >"


async def test_small_commands_answer_and_refuse_plainly(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/quorum")
    await relais.settle()
    assert "Quorum : 0 % des membres" in last_text(relais, chat.id)
    for bad in ("/quorum beaucoup", "/quorum 150"):
        tg.say(chat, awa, bad)
        await relais.settle()
        assert last_text(relais, chat.id) == "Écrivez un pourcentage de 0 à 100. Exemple : /quorum 50", bad
    tg.say(chat, awa, "/quorum 50 %")
    await relais.settle()
    assert "au moins 50 % des membres" in last_text(relais, chat.id)
    tg.say(chat, awa, "/actions")
    tg.say(chat, awa, "/lieux")
    await relais.settle()
    assert next(m.text for m in tg.bot_messages(chat.id)[-2:]) == "Aucune action en cours."
    assert last_text(relais, chat.id).startswith("📍 Aucun lieu de départ pour l'instant.")
    # In private, someone in exactly one group proposes there.
    tg.start_private(karim)
    tg.say(tg.private_chat(karim), karim, "/proposition Des bancs devant la mairie")
    await relais.settle()
    assert "Votre proposition n°1 est enregistrée" in last_text(relais, karim.id)
    assert "Des bancs devant la mairie" in last_text(relais, chat.id)
    tg.say(chat, karim, "/proposition Une garderie")
    tg.say(chat, awa, "/priorites")
    await relais.settle()
    tg.press(julie, tg.bot_messages(chat.id)[-1], "n°2")
    tg.say(chat, awa, "/priorites fin")
    await relais.run_jobs()  # the ranking is posted as at the deadline, by the outbox
    assert "1. n°2 Une garderie — 1 choix" in last_text(relais, chat.id)
    relais.clock.advance(timedelta(hours=49))
    assert (await relais.run_jobs()).sent == 0  # the round's deadline finds it closed: no second ranking


# ----------------------------------------------------------------------------- quick votes in the meeting
async def test_a_three_minute_vote_closes_at_its_deadline(relais):
    chat, awa, (karim, julie, sami) = await group_with_bot(relais, members=3)
    tg = relais.tg
    tg.start_private(julie)
    tg.say(chat, karim, "/proposition Un café avant chaque réunion")
    tg.say(chat, awa, "/vote 1 pendant 3 min")
    await relais.settle()
    intro = tg.bot_messages(chat.id)[-2]
    assert "Sondage ouvert jusqu'à aujourd'hui à 10h03" in intro.text  # Monday 10:00 + 3 minutes
    [message] = polls_in(relais, chat.id)
    assert message.labels() == ["🔒 Clore le vote (animation)"]
    [poll] = await all_polls(relais)
    assert poll.closes_at - poll.created_at == timedelta(minutes=3)
    for person in (karim, sami):
        tg.vote(person, message, [0])
    await relais.settle()
    relais.clock.advance(timedelta(minutes=2))
    assert (await relais.run_jobs()).sent == 0  # a vote in the room: no reminder in private
    assert message.poll["is_closed"] is False
    relais.clock.advance(timedelta(minutes=1))
    await relais.run_jobs()
    assert message.poll["is_closed"] is True
    summary = last_text(relais, chat.id)
    assert "Vote terminé sur la proposition n°1" in summary and "La proposition n°1 est retenue" in summary
    assert [m.text for m in tg.bot_messages(julie.id)][1:] == []  # julie did not vote: not nudged


async def test_a_facilitator_closes_a_vote_early_and_a_participant_cannot(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, karim, "/proposition Des réunions le matin")
    tg.say(chat, awa, "/vote 1 10 minutes")
    await relais.settle()
    [message] = polls_in(relais, chat.id)
    tg.vote(karim, message, [0])
    tg.vote(julie, message, [1])
    tg.vote(awa, message, [0])
    await relais.settle()
    before = len(tg.bot_messages(chat.id))
    # A participant taps the button or types the command: refused, nothing closes.
    tg.press(julie, message, "Clore")
    await relais.run_jobs()
    assert tg.last_callback_answer() == "Seule l'animation du groupe peut clore un vote."
    tg.say(chat, julie, "/clore 1")
    await relais.run_jobs()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."
    assert message.poll["is_closed"] is False and len(tg.bot_messages(chat.id)) == before + 1
    # The facilitator taps it: the outcome is posted as at the deadline, once.
    relais.clock.advance(timedelta(minutes=4))
    tg.press(awa, message, "Clore")
    await relais.run_jobs()
    assert tg.last_callback_answer() == "🔒 C'est clos. Le résultat arrive dans le groupe."
    assert message.poll["is_closed"] is True
    summary = last_text(relais, chat.id)
    assert "Vote terminé sur la proposition n°1" in summary and "• Pour : 2 (67 %)" in summary
    assert "La proposition n°1 est retenue par le groupe." in summary
    assert "est retenue par le groupe" in tg.bot_messages(karim.id)[-1].text  # the author's news
    [poll] = await all_polls(relais)
    assert poll.status == "closed" and poll.closed_at == relais.clock.now()
    assert message.labels() == []  # the closed poll loses its 🔒
    relais.clock.advance(timedelta(minutes=10))
    assert (await relais.run_jobs()).sent == 0  # the deadline finds it closed: nothing more
    # /clore 1 once the vote is over, /clore 7 on no vote: said plainly.
    tg.say(chat, awa, "/clore 1")
    await relais.settle()
    assert "Aucun vote n'est ouvert sur la proposition n°1" in last_text(relais, chat.id)
    tg.say(chat, awa, "/clore maintenant")
    await relais.settle()
    assert "Écrivez /clore, /clore 12" in last_text(relais, chat.id)


async def test_clore_by_number_and_the_choice_when_several_are_open(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/clore")
    await relais.settle()
    assert last_text(relais, chat.id).startswith("Aucun sondage, vote ou choix des priorités n'est ouvert.")
    for text in ("Un bus le mardi", "Une garderie", "Un repas partagé"):
        tg.say(chat, karim, f"/proposition {text}")
    tg.say(chat, awa, "/vote 2 pendant 1 h")
    tg.say(chat, awa, "/sondage On fait une pause ? | Oui | Non | pendant 5 min")
    await relais.settle()
    vote, pause = polls_in(relais, chat.id)
    tg.vote(julie, pause, [0])
    tg.say(chat, awa, "/clore 2")
    await relais.run_jobs()
    assert vote.poll["is_closed"] is True and pause.poll["is_closed"] is False
    assert "Vote terminé sur la proposition n°2" in last_text(relais, chat.id)
    tg.say(chat, awa, "/priorites pendant 10 min")
    await relais.settle()
    round_message = tg.bot_messages(chat.id)[-1]
    assert "🔒 Clore le choix (animation)" in round_message.labels()
    tg.say(chat, awa, "/clore")
    await relais.settle()
    choice = tg.bot_messages(chat.id)[-1]
    assert choice.text == "Que faut-il clore ?"
    assert choice.labels() == ["🔒 Le sondage « On fait une pause ? »", "🔒 Le choix des priorités"]
    tg.press(awa, choice, "sondage")
    await relais.run_jobs()
    assert pause.poll["is_closed"] is True and "Résultat : Oui" in last_text(relais, chat.id)
    assert choice.text == "🔒 C'est clos. Le résultat arrive dans le groupe."  # its buttons are spent
    tg.press(julie, round_message, "n°1")
    tg.press(awa, round_message, "Clore")
    await relais.run_jobs()
    assert "1. n°1 Un bus le mardi — 1 choix" in last_text(relais, chat.id)
    tg.press(awa, choice if choice.labels() else round_message, "Clore")  # once more: already closed
    await relais.run_jobs()
    assert tg.last_callback_answer() == "C'est déjà clos."


async def test_until_a_time_today_or_tomorrow_once_it_has_passed(relais):
    chat, awa, _ = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, awa, "/sondage Quel jour ? | Mardi | Jeudi | jusqu'à 18h")
    await relais.settle()
    assert "Sondage ouvert jusqu'à aujourd'hui à 18h" in tg.bot_messages(chat.id)[-2].text
    relais.clock.set(datetime(2026, 11, 2, 18, 30, tzinfo=UTC))  # 19h30 in Paris: 18h has passed
    tg.say(chat, awa, "/sondage Quelle salle ? | La petite | La grande | jusqu'à 18h")
    await relais.settle()
    assert "Sondage ouvert jusqu'à demain à 18h" in tg.bot_messages(chat.id)[-2].text
    today, tomorrow = await all_polls(relais)
    assert today.closes_at == datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    assert tomorrow.closes_at == TUESDAY_6PM
