"""The decision-maker's answer: the deadline as facilitators type it, the answer form as a
browser posts it, the link's signature, French's "du / de la / de l'", and the figures by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import answers
from bot.domain.answers import AnswerError, Responsiveness, bare_name, parse_answer_form, split_deadline
from bot.domain.groups import register_group
from bot.domain.proposals import change_state, create_proposal
from bot.domain.settings import MeetingsSection, ProposalsSection
from bot.ui.deadlines import of_name
from storage.models import Proposal

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 2)


def test_the_deadline_as_facilitators_type_it():
    assert split_deadline("Service mobilité délai 30 jours") == ("Service mobilité", 30)
    assert split_deadline("Service mobilité, délai : 45 j") == ("Service mobilité", 45)
    assert split_deadline("Commission (Délai 90 jours)") == ("Commission", 90)
    assert split_deadline("Service mobilité") == ("Service mobilité", None)
    assert split_deadline("délai 20 jours") == (None, 20)
    assert split_deadline(None) == (None, None)
    for wrong in ("Élus délai 0 jours", "Élus délai 400 jours"):
        with pytest.raises(AnswerError):
            split_deadline(wrong)


@given(st.text(max_size=120))
def test_any_note_gives_a_deadline_or_a_clear_refusal(note):
    try:
        rest, days = split_deadline(note)
    except AnswerError as refused:
        assert refused.key == "answer.error.days"
        return
    assert days is None or 1 <= days <= 365
    assert rest is None or len(rest) <= len(note)


def test_the_addressee_without_its_preposition():
    assert bare_name("au Service mobilité") == "Service mobilité"
    assert bare_name("à la Direction de l'insertion") == "Direction de l'insertion"
    assert bare_name("aux Élus") == "Élus"
    assert bare_name("Mme Roux") == "Mme Roux"


def test_french_says_du_de_la_de_l():
    assert of_name("fr", "Service mobilité") == "du Service mobilité"
    assert of_name("fr", "Direction de l'insertion") == "de la Direction de l'insertion"
    assert of_name("fr", "Agence départementale") == "de l'Agence départementale"
    assert of_name("fr", "Élus") == "des Élus"
    assert of_name("fr", "Mme Roux") == "de Mme Roux"
    assert of_name("fr", "le Président") == "du Président"
    assert of_name("en", "Service mobilité") == "Service mobilité"


def test_the_answer_form_as_a_browser_posts_it():
    assert parse_answer_form({"etat": "acceptee", "reponse": "  Oui,  dès mars "}, TODAY) == answers.AnswerForm(
        "accepted", "Oui, dès mars", None
    )
    studying = parse_answer_form({"etat": "etude", "jusqu_au": "2027-01-15"}, TODAY)
    assert studying == answers.AnswerForm("studying", None, date(2027, 1, 15))
    for fields, key in (
        ({}, "answer.error.state"),
        ({"etat": "peut-etre"}, "answer.error.state"),
        ({"etat": "refusee", "reponse": "  "}, "answer.error.reason"),
        ({"etat": "etude"}, "answer.error.until"),
        ({"etat": "etude", "jusqu_au": "2026-11-01"}, "answer.error.until"),  # past
        ({"etat": "etude", "jusqu_au": "15/01/2027"}, "answer.error.until"),
        ({"etat": "acceptee", "reponse": "x" * 301}, "answer.error.long"),
    ):
        with pytest.raises(AnswerError) as refused:
            parse_answer_form(fields, TODAY)
        assert refused.value.key == key, fields


@given(st.dictionaries(st.sampled_from(["etat", "reponse", "jusqu_au", "csrf"]), st.text(max_size=400)))
def test_any_form_is_an_answer_or_a_clear_refusal(fields):
    try:
        form = parse_answer_form(fields, TODAY)
    except AnswerError as refused:
        assert refused.key.startswith("answer.error.")
        return
    assert form.state in answers.ANSWER_STATES.values()
    assert form.text is None or len(form.text) <= answers.TEXT_MAX


def _transmitted(days_ago: float, due_in: float, answered_after: float | None) -> Proposal:
    sent = NOW - timedelta(days=days_ago)
    answered = sent + timedelta(days=answered_after) if answered_after is not None else None
    return Proposal(transmitted_at=sent, answer_due=NOW + timedelta(days=due_in), answered_at=answered)


def test_the_figures_by_hand():
    record = Responsiveness("Service mobilité")
    for proposal in (
        _transmitted(50, 10, 12),  # answered in 12 days, in time
        _transmitted(80, -20, 70),  # answered after 70 days: late
        _transmitted(70, -10, None),  # overdue
        _transmitted(5, 55, None),  # waiting
        _transmitted(40, 20, 30),  # answered in 30 days, in time
    ):
        record.count(proposal, NOW)
    assert (record.transmitted, record.in_time, record.late, record.overdue, record.waiting) == (5, 2, 1, 1, 1)
    assert record.due == 4 and record.median_days == 30.0


async def test_a_link_is_for_its_proposal_and_its_transmission(session):
    group, _ = await register_group(session, -100123, "Groupe", NOW, "Europe/Paris", "fr")
    settings, meetings = ProposalsSection(), MeetingsSection()
    first, _ = await create_proposal(session, group, None, "Un bus le samedi", NOW, settings, meetings)
    second, _ = await create_proposal(session, group, None, "Une salle le soir", NOW, settings, meetings)
    for proposal in (first, second):
        await change_state(session, proposal, "sent", "Service mobilité", None, None, NOW, ProposalsSection())
    secret = b"s" * 32
    token = answers.answer_token(secret, first)
    assert await answers.proposal_for(session, secret, token, NOW, 30) is first
    number, stamp, mac = token.split("-", 2)
    other_mac = answers.answer_token(secret, second).split("-", 2)[2]
    for forged in (f"{number}-{stamp}-{other_mac}", f"{second.id}-{stamp}-{mac}", token + "x", "", "1-2", "a-b-c"):
        with pytest.raises(AnswerError) as refused:
            await answers.proposal_for(session, secret, forged, NOW, 30)
        assert refused.value.key == "answer.error.link", forged
    with pytest.raises(AnswerError) as refused:
        await answers.proposal_for(session, b"t" * 32, token, NOW, 30)  # another Relais' key
    assert refused.value.key == "answer.error.link"
    # Expired: past the deadline (60 days) and the grace (30 days).
    with pytest.raises(AnswerError) as refused:
        await answers.proposal_for(session, secret, token, NOW + timedelta(days=91), 30)
    assert refused.value.key == "answer.error.expired"
    # Transmitted again: the old link says it was replaced.
    await change_state(session, first, "sent", "Élus", None, None, NOW + timedelta(days=1), ProposalsSection())
    with pytest.raises(AnswerError) as refused:
        await answers.proposal_for(session, secret, token, NOW + timedelta(days=1), 30)
    assert refused.value.key == "answer.error.replaced"
