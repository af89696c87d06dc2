"""End to end: proposals (group command and private dialogue), the board, following, the
follow-up with its messages, editing, merging, withdrawing, and bad input."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.domain.deeplinks import PROPOSE, group_payload, start_url
from storage.models import Person, ProposalChange, ProposalFollower
from tests.support.helpers import (
    group_with_bot,
    last_text,
    load_person,
    other_group,
    proposals_of,
)

BUS = "Des horaires de bus adaptés pour venir aux réunions"


def private_texts(h, user) -> list[str]:
    return [m.text for m in h.tg.bot_messages(user.id)] if user.id in h.tg.chats else []


async def test_proposal_in_the_group_and_the_board(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, karim, f"/proposition {BUS}")
    await relais.settle()
    ack = tg.bot_messages(chat.id)[-1]
    assert "Proposition n°1" in ack.text and BUS in ack.text
    assert "🔔 Suivre" in ack.labels() and "💡 Faire une proposition" in ack.labels()
    [proposal] = await proposals_of(relais, chat.id)
    karim_row = await load_person(relais, karim.id)
    assert proposal.state == "new" and proposal.author_id == karim_row.id
    tg.say(chat, julie, "/proposition   Une salle avec une garderie  ")
    tg.say(chat, julie, "/propositions")
    await relais.settle()
    board = last_text(relais, chat.id)
    assert "Nouvelles (2)" in board and "n°1 Des horaires" in board and "n°2 Une salle avec une garderie" in board
    # Without text: how to do it, nothing stored. A huge text: refused with the limit, nothing stored.
    tg.say(chat, julie, "/proposition")
    await relais.settle()
    assert "Touchez le bouton pour écrire votre proposition en privé" in last_text(relais, chat.id)
    tg.say(chat, julie, "/proposition " + "très long " * 500)
    await relais.settle()
    assert "C'est trop long (4999 caractères) : 600 au plus" in last_text(relais, chat.id)
    assert len(await proposals_of(relais, chat.id)) == 2


async def test_proposal_written_in_private_from_the_button(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.say(chat, karim, "/propositions")
    await relais.settle()
    board = tg.bot_messages(chat.id)[-1]
    assert "Aucune proposition" in board.text
    tg.press(julie, board, "Faire une proposition")  # a deep link: Julie starts the bot
    await relais.settle()
    assert "Écrivez votre proposition pour le groupe « Groupe ressources Oyonnax »" in last_text(relais, julie.id)
    tg.say(tg.private_chat(julie), julie, "x" * 700)
    await relais.settle()
    assert "600 au plus" in last_text(relais, julie.id)
    assert await proposals_of(relais, chat.id) == []
    tg.say(tg.private_chat(julie), julie, "Un repas partagé après chaque réunion")
    await relais.settle()
    assert "Merci ! Votre proposition n°1 est enregistrée" in last_text(relais, julie.id)
    posted = tg.bot_messages(chat.id)[-1]
    assert "Proposition n°1" in posted.text and "Un repas partagé" in posted.text and "Julie" not in posted.text
    # The dialogue is over: another private text gets a pointer, not a second proposal.
    tg.say(tg.private_chat(julie), julie, "merci")
    await relais.settle()
    assert "Je ne lis pas les messages libres" in last_text(relais, julie.id)
    assert len(await proposals_of(relais, chat.id)) == 1
    # A forged link (signature of another purpose) does not open the dialogue.
    payload = group_payload(relais.services.link_secret, 999, PROPOSE)
    tg.start_private(karim, payload)
    await relais.settle()
    assert "Écrivez votre proposition" not in last_text(relais, karim.id)
    tampered = group_payload(relais.services.link_secret, 1, PROPOSE)[:-1] + "A"
    tg.open_link(karim, start_url(tg.bot.username, tampered))
    await relais.settle()
    assert "Écrivez votre proposition" not in last_text(relais, karim.id)


async def test_follow_up_reaches_author_and_followers_once(relais):
    chat, awa, (karim, julie, sami, lina) = await group_with_bot(relais, members=4)
    tg = relais.tg
    for person in (karim, julie):
        tg.start_private(person)
    tg.say(chat, karim, f"/proposition {BUS}")
    await relais.settle()
    ack = tg.bot_messages(chat.id)[-1]
    tg.press(julie, ack, "Suivre")
    await relais.settle()
    assert "Vous suivez la proposition n°1" in tg.last_callback_answer()
    tg.press(sami, ack, "Suivre")  # never started the bot: the answer opens the private chat
    await relais.settle()
    tg.say(chat, awa, "/suivi 1 transmise Commission insertion du 15/01")
    await relais.settle()
    sentence = last_text(relais, chat.id)
    assert sentence == f"📨 La proposition n°1 « {BUS} » est transmise (Commission insertion du 15/01)."
    before = {u.id: len(private_texts(relais, u)) for u in (karim, julie)}
    report = await relais.run_jobs()
    assert "Du nouveau sur une proposition du groupe" in private_texts(relais, karim)[-1]
    assert "transmise (Commission insertion du 15/01)" in private_texts(relais, julie)[-1]
    # Sami never started the bot: not even tried (Telegram would refuse), nothing breaks. The
    # third message tells the group that one waits for Awa in private (the answer link).
    assert report.sent == 3 and report.skipped == 1 and report.kinds["reach_out"] == 1
    assert (await load_person(relais, sami.id)).private_status == "unknown"
    assert private_texts(relais, lina) == []
    assert (await relais.run_jobs()).sent == 0  # never twice
    assert {u.id: len(private_texts(relais, u)) for u in (karim, julie)} == {k: v + 1 for k, v in before.items()}
    # Julie stops following: the next change reaches only the author.
    tg.press(julie, ack, "Suivre")
    await relais.settle()
    assert "ne suivez plus" in tg.last_callback_answer()
    tg.say(chat, awa, "/suivi 1 en cours 40%")
    await relais.settle()
    assert "en cours de réalisation. Avancement : 40 %." in last_text(relais, chat.id)
    assert (await relais.run_jobs()).sent == 1
    tg.say(chat, awa, "/suivi 1 réalisée")
    await relais.settle()
    assert last_text(relais, chat.id).startswith("🎉 Bravo ! La proposition n°1")
    tg.say(chat, awa, "/propositions")
    await relais.settle()
    assert "Réalisées (1)" in last_text(relais, chat.id)


async def test_follow_up_refusals_change_nothing(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    other, other_admin = other_group(relais)
    tg.say(chat, karim, f"/proposition {BUS}")
    tg.say(other, other_admin, "/proposition Une idée d'ailleurs")
    tg.say(other, other_admin, "/proposition Une autre idée d'ailleurs")
    await relais.settle()
    cases = {
        "/suivi 1 refusée": "Un refus se donne toujours avec sa raison",
        "/suivi 1 transmise": "Dites à qui la proposition n°1 est transmise",
        "/suivi 2 acceptée": "Il n'y a pas de proposition n°2 dans ce groupe",  # n°2 exists in the other group only
        "/suivi 99 acceptée": "Il n'y a pas de proposition n°99",
        "/suivi abc acceptée": "« abc » n'est pas un numéro de proposition",
        "/suivi 1 envolée": "Je ne connais pas l'étape « envolée »",
        "/suivi 1 en cours 140%": "L'avancement va de 0 à 100 %",
        "/suivi 1 nouvelle": "La proposition n°1 en est déjà là",
        "/suivi 1 transmise " + "x" * 400: "La précision est trop longue",
        "/retirer 1": "Dites pourquoi la proposition n°1 est retirée",
        "/fusionner 1 1": "ne peut pas être regroupée avec elle-même",
        "/fusionner 1": "Écrivez le numéro du doublon",
        "/modifier 1": "Écrivez le numéro puis le nouveau texte",
    }
    for command, expected in cases.items():
        tg.say(chat, awa, command)
        await relais.settle()
        assert expected in last_text(relais, chat.id), command
    # A member who is not a facilitator cannot move a proposal.
    tg.say(chat, julie, "/suivi 1 acceptée")
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."
    [proposal] = await proposals_of(relais, chat.id)
    assert proposal.state == "new" and proposal.text == BUS
    async with relais.services.sessionmaker() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(ProposalChange).where(ProposalChange.proposal_id == proposal.id)
            )
            == 1
        )
    tg.say(chat, awa, "/suivi 1 refusée budget non disponible cette année")
    await relais.settle()
    assert "est refusée. La raison donnée : budget non disponible cette année." in last_text(relais, chat.id)


async def test_follow_up_with_buttons_and_forged_buttons(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    other, other_admin = other_group(relais)
    tg.say(other, other_admin, "/proposition Une idée d'ailleurs")
    tg.say(chat, karim, f"/proposition {BUS}")
    await relais.settle()
    [mine] = await proposals_of(relais, chat.id)
    [foreign] = await proposals_of(relais, other.id)
    tg.say(chat, awa, "/suivi")
    await relais.settle()
    picker = tg.bot_messages(chat.id)[-1]
    tg.press(awa, picker, "n°1")
    await relais.settle()
    assert "Où en est la proposition n°1" in picker.text and "(aujourd'hui : nouvelle)" in picker.text
    # A member presses a state: refused, nothing changes.
    tg.press(karim, picker, "Retenue")
    await relais.settle()
    assert "animat" in tg.last_callback_answer().lower()
    for data in (
        f"sv:{foreign.id}:d",
        f"sv:{foreign.id}",
        f"sv:{mine.id}:z",
        f"fol:{foreign.id}",
        "fol:99999",
        f"prio:1:{mine.id}",
        f"act:{mine.id}:x",
    ):
        tg.send_callback(awa, picker, data)
        await relais.settle()
        assert tg.last_callback_answer() in ("Ce bouton n'est pas valable ici.", "Ce bouton n'est plus valable."), data
    [mine] = await proposals_of(relais, chat.id)
    assert mine.state == "new"
    tg.press(awa, picker, "Retenue")
    await relais.settle()
    assert picker.text == f"🗳 La proposition n°1 « {BUS} » est retenue par le groupe."
    tg.say(chat, awa, "/suivi 1")
    await relais.settle()
    tg.press(awa, tg.bot_messages(chat.id)[-1], "Transmise")
    await relais.settle()
    prompt = tg.bot_messages(chat.id)[-1]
    assert "répondez à ce message" in prompt.text
    assert tg.shows_prompt(prompt, awa.id) and not tg.shows_prompt(prompt, karim.id)  # named: only Awa's field opens
    tg.reply(chat, awa, tg.bot_messages(chat.id)[0], "Une réponse à autre chose")  # not the note
    await relais.settle()
    assert (await proposals_of(relais, chat.id))[0].state == "adopted"
    assert last_text(relais, chat.id) == "Pour que je lise votre réponse, répondez à ce message-ci."
    tg.answer_question(chat, awa, "Commission insertion du 15/01")  # the field the reminder opened
    await relais.settle()
    assert "est transmise (Commission insertion du 15/01)" in last_text(relais, chat.id)
    [mine] = await proposals_of(relais, chat.id)
    assert mine.state == "sent" and mine.state_note == "Commission insertion du 15/01"


async def test_edit_merge_and_withdraw(relais):
    chat, awa, (karim, julie, sami) = await group_with_bot(relais, members=3)
    tg = relais.tg
    tg.start_private(julie)
    tg.say(chat, karim, f"/proposition {BUS}")
    tg.say(chat, sami, "/proposition Plus de bus le samedi")
    await relais.settle()
    tg.press(julie, tg.bot_messages(chat.id)[-1], "Suivre")  # Julie follows the duplicate n°2
    tg.say(chat, awa, "/modifier 1 Des bus adaptés aux horaires des réunions")
    await relais.settle()
    assert "Proposition n°1 modifiée" in last_text(relais, chat.id)
    tg.say(chat, awa, "/fusionner 2 dans 1")
    await relais.settle()
    assert "La proposition n°2 « Plus de bus le samedi » rejoint la n°1" in last_text(relais, chat.id)
    first, second = await proposals_of(relais, chat.id)
    julie_row, sami_row = await load_person(relais, julie.id), await load_person(relais, sami.id)
    async with relais.services.sessionmaker() as session:
        followers = set(
            await session.scalars(select(ProposalFollower.person_id).where(ProposalFollower.proposal_id == first.id))
        )
    assert followers == {julie_row.id, sami_row.id}  # the duplicate's follower and author carry over
    assert second.state == "merged" and second.merged_into_id == first.id
    await relais.run_jobs()
    assert "rejoint la n°1" in private_texts(relais, julie)[-1]
    tg.say(chat, awa, "/suivi 2 acceptée")
    await relais.settle()
    assert "retirée ou regroupée" in last_text(relais, chat.id)
    tg.say(chat, awa, "/retirer 1 déjà obtenu par un autre groupe")
    await relais.settle()
    assert "est retirée. La raison : déjà obtenu par un autre groupe." in last_text(relais, chat.id)
    tg.say(chat, awa, "/propositions")
    await relais.settle()
    assert "Aucune proposition" in last_text(relais, chat.id)


async def test_indicators_in_private(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    for text in (BUS, "Une garderie", "Un repas partagé"):
        tg.say(chat, karim, f"/proposition {text}")
    tg.say(chat, awa, "/suivi 1 transmise Commission")
    tg.say(chat, awa, "/suivi 2 transmise Commission")
    tg.say(chat, awa, "/suivi 1 acceptée")
    tg.say(chat, awa, "/indicateurs")  # Awa never started the bot: she is asked to
    await relais.settle()
    assert "ouvrez d'abord une conversation avec moi" in last_text(relais, chat.id)
    tg.start_private(awa)
    tg.say(chat, awa, "/indicateurs")
    await relais.settle()
    assert last_text(relais, chat.id) == "📈 Je vous ai envoyé les indicateurs en privé."
    report = last_text(relais, awa.id)
    assert "Propositions : 3" in report and "• nouvelle : 1" in report and "• transmise : 1" in report
    assert "1 sur 2 transmises, soit 50 %" in report
    assert "Contributions du groupe — propositions : 3 · votes : 0 · actions réalisées : 0" in report
    assert "Karim" not in report  # counts for the group, not a score per member
    assert "Karim" not in "".join(m.text for m in tg.bot_messages(chat.id)[-2:])
    tg.say(chat, karim, "/indicateurs")
    await relais.settle()
    assert last_text(relais, chat.id) == "Seule l'animation du groupe peut faire cela."


async def test_export_and_erase_cover_proposals(relais):
    chat, awa, (karim, julie) = await group_with_bot(relais)
    tg = relais.tg
    tg.start_private(karim)
    tg.say(chat, karim, f"/proposition {BUS}")
    await relais.settle()
    tg.press(karim, tg.bot_messages(chat.id)[-1], "Suivre")
    tg.say(tg.private_chat(karim), karim, "/mesdonnees")
    await relais.settle()
    data = json.loads(tg.bot_messages(karim.id)[-1].document.content)
    assert data["proposals"][0]["text"] == BUS and data["proposals"][0]["number"] == 1
    assert data["following"] == [{"group": "Groupe ressources Oyonnax", "number": 1}]
    tg.say(tg.private_chat(karim), karim, "/oublier")
    await relais.settle()
    tg.press(karim, tg.bot_messages(karim.id)[-1], "Oui")
    await relais.settle()
    [proposal] = await proposals_of(relais, chat.id)
    assert proposal.text == BUS and proposal.author_id is None  # the group keeps the idea, not the name
    async with relais.services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProposalFollower)) == 0
        assert await session.scalar(select(func.count()).select_from(Person).where(Person.telegram_id == karim.id)) == 0
