"""Plain words for everyone who is not running the group: over both catalogues, every group or
participant message is at most 60 words, every sentence at most 20, none of the words that label
people ("RSA", "allocataire"...) or the written forms that are hard to read ("(s)", "·e"), and
every message about one meeting carries its date, time and place. The messages built from several
pieces (the announcement, the reminders) are checked as sent."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.domain.meetings import Counts
from bot.ui import audiences
from bot.ui.i18n import LANGUAGES, placeholders
from bot.ui.meetings import announcement_text, private_reminder_text, reminder_text
from storage.models import Group, Meeting
from tests.support.plain_words import (
    MEETING_DATE,
    MEETING_START,
    MEETING_TIME,
    PLACE,
    current,
    fill,
    messages,
    sentences,
    words,
)

MAX_WORDS, MAX_SENTENCE = 60, 20
READERS = (audiences.GROUP, audiences.PARTICIPANT)
# Words that label people (field notes: never in a group message), and written forms many misread.
FORBIDDEN = re.compile(r"\bRSA\b|allocataire|bénéficiaire|usager|\(s\)|·e", re.IGNORECASE)
# Placeholders that name a meeting; a message with one is about a meeting unless it says otherwise.
MEETING_PLACEHOLDERS = {"meeting", "when", "topic"}
NOT_ABOUT_A_MEETING = {
    "poll.intro": "{when} is the poll's deadline",
    "poll.intro_anonymous": "{when} is the poll's deadline",
    "poll.group_reminder": "{when} is the poll's deadline",
    "poll.nudge": "{when} is the poll's deadline",
    "priorities.intro": "{when} is the round's deadline",
    "when.poll": "{until} is the choice's deadline; the dates are its buttons",
    "when.none_chosen": "no meeting: none was chosen",
}
# A command to type, in a text for participants: they are given buttons instead.
TYPED_COMMAND = re.compile(r"(?:^|[\s(«“])/[a-z]")


def readers_messages(language: str) -> list:
    return [m for m in messages(language) if m.audience in READERS]


def test_every_message_has_an_audience():
    for language in LANGUAGES:
        unplaced = [key for key in current(language) if audiences.audience(key) is None]
        assert unplaced == [], f"{language}: place these keys in bot/ui/audiences.py: {unplaced}"
    assert set(audiences.RULES.values()) <= set(audiences.AUDIENCES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_group_and_participant_messages_are_short(language):
    found = readers_messages(language)
    assert len(found) > 120, "the catalogue reader or the audiences lost messages"
    too_long = {m.key: len(words(m.text)) for m in found if len(words(m.text)) > MAX_WORDS}
    assert too_long == {}, f"over {MAX_WORDS} words"
    long_sentences = {
        m.key: " ".join(sentence) for m in found for sentence in sentences(m.text) if len(sentence) > MAX_SENTENCE
    }
    assert long_sentences == {}, f"sentences over {MAX_SENTENCE} words"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_labelling_words_and_no_hard_written_forms(language):
    seen = [m for m in messages(language) if m.audience in (*READERS, audiences.PIECE)]
    assert {m.key: m.text for m in seen if FORBIDDEN.search(m.text)} == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_participants_are_offered_buttons_not_commands(language):
    seen = [m for m in messages(language) if m.audience in (*READERS, audiences.PIECE)]
    assert {m.key: m.text for m in seen if TYPED_COMMAND.search(m.text)} == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_about_a_meeting_says_its_date_time_and_place(language):
    catalogue = current(language)
    for key, text in catalogue.items():
        if audiences.audience(key) in READERS and placeholders(text) & MEETING_PLACEHOLDERS:
            assert key in audiences.ABOUT_A_MEETING or key in NOT_ABOUT_A_MEETING, (
                f"{key} names a meeting: add it to audiences.ABOUT_A_MEETING (or say why not here)"
            )
    for key in audiences.ABOUT_A_MEETING:
        shown = fill(language, catalogue[key], catalogue, key)
        missing = [part for part in (MEETING_DATE[language], MEETING_TIME[language], PLACE) if part not in shown]
        assert missing == [], f"{key} lacks {missing}: {shown}"


def test_the_checks_can_fail():
    """The measures see what they are meant to see."""
    assert len(sentences("Une phrase. Une autre ! Et la troisième ?\nUne ligne")) == 4
    assert words("L'animation vient à 13h15, peut-être.") == ["L'animation", "vient", "à", "13h15", "peut-être"]
    assert FORBIDDEN.search("2 place(s)") and FORBIDDEN.search("bloqué·e") and FORBIDDEN.search("les allocataires")
    assert not FORBIDDEN.search("la réunion du jeudi")
    assert TYPED_COMMAND.search("Écrivez /proposition suivi de votre idée") and not TYPED_COMMAND.search("1/2 et 12/12")


GROUP = Group(id=1, chat_id=-1, title="Groupe ressources Oyonnax", timezone="Europe/Paris", language="fr")


def _meeting() -> Meeting:
    return Meeting(
        id=3,
        group_id=1,
        number=4,
        starts_at=MEETING_START,
        place=PLACE,
        topic="Le transport",
        agenda="Les horaires de bus\nLa garde des enfants",
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_announcement_and_reminders_as_sent(language):
    group = Group(id=1, chat_id=-1, title=GROUP.title, timezone="Europe/Paris", language=language)
    meeting, counts = _meeting(), Counts(yes=5, no=1, maybe=2)
    sent = {
        "announcement": announcement_text(group, meeting, counts),
        "J-7 in the group": reminder_text(group, meeting, counts, MEETING_START - timedelta(days=7)),
        "J-1 in the group": reminder_text(group, meeting, counts, MEETING_START - timedelta(days=1)),
        "J-1 in private, answered": private_reminder_text(
            language, group, meeting, "yes", MEETING_START - timedelta(days=1)
        ),
        "J-1 in private, no answer": private_reminder_text(
            language, group, meeting, None, MEETING_START - timedelta(days=1)
        ),
    }
    for name, html_text in sent.items():
        text = fill(language, html_text, current(language))
        assert len(words(text)) <= MAX_WORDS, name
        assert all(len(sentence) <= MAX_SENTENCE for sentence in sentences(text)), name
        assert MEETING_DATE[language] in text and MEETING_TIME[language] in text and PLACE in text, name
        assert not FORBIDDEN.search(text), name
    if language == "fr":
        assert "C'est demain !" in sent["J-1 in the group"] and "Dans une semaine" in sent["J-7 in the group"]
