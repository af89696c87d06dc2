"""Measuring what people read: the catalogues' messages with their placeholders filled by
realistic values, cut into words and sentences, and the Kandel–Moles readability score (Flesch's
formula adapted to French: 207 − 1.015 × words per sentence − 73.6 × syllables per word).

Syllables are counted by Pyphen's French hyphenation dictionary (as textstat does for French): a
word has one syllable more than it has hyphenation points. Used by tests/unit/test_plain_words.py
and by `python -m tests.support.readability`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from io import BytesIO

import pyphen
from babel.messages.pofile import read_po

from bot.ui.audiences import audience

WORD_RE = re.compile(r"[^\W_]+(?:['’:-][^\W_]+)*")  # "l'animation", "peut-être", "13h15": one word each
SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s+|\n+")
TAG_RE = re.compile(r"<[^>]+>")
PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")

# The meeting every sample speaks of: Thursday 10 December 2026 at 14h, at the centre social.
MEETING_START = datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
WHEN = {"fr": "jeudi 10 décembre à 14h", "en": "Thursday 10 December at 14:00"}
MEETING_DATE = {"fr": "10 décembre", "en": "10 December"}
MEETING_TIME = {"fr": "14h", "en": "14:00"}
PLACE = "Centre social Jean Moulin"

SAMPLES: dict[str, dict[str, object]] = {
    "fr": {
        "contact": "Karim",
        "count": 3,
        "day": "jeudi 10 décembre",
        "distance": "à 4 km",
        "group": "Groupe ressources Oyonnax",
        "high": 8,
        "low": 1,
        "length": 612,
        "limit": 500,
        "name": "Julie",
        "names": "Julie, Karim et Sami",
        "note": "Commission insertion du 15 janvier",
        "number": 12,
        "place": PLACE,
        "question": "Quel jour pour la prochaine réunion ?",
        "reason": "Transport",
        "riders": "Julie et Karim",
        "seats": "3 places",
        "start": "14h",
        "target": 9,
        "text": "Des horaires de bus adaptés aux réunions",
        "time": "13h15",
        "token": "douze",
        "topic": "Le transport",
        "town": "Oyonax",
        "when": WHEN["fr"],
    },
    "en": {
        "contact": "Karim",
        "count": 3,
        "day": "Thursday 10 December",
        "distance": "4 km away",
        "group": "Groupe ressources Oyonnax",
        "high": 8,
        "low": 1,
        "length": 612,
        "limit": 500,
        "name": "Julie",
        "names": "Julie, Karim and Sami",
        "note": "Commission insertion of 15 January",
        "number": 12,
        "place": PLACE,
        "question": "Which day for the next meeting?",
        "reason": "Transport",
        "riders": "Julie and Karim",
        "seats": "3 seats",
        "start": "14:00",
        "target": 9,
        "text": "Bus times that suit the meetings",
        "time": "13:15",
        "token": "twelve",
        "topic": "Transport",
        "town": "Oyonax",
        "when": WHEN["en"],
    },
}


@dataclass(frozen=True)
class Message:
    key: str
    audience: str
    text: str  # filled and without tags: what the person reads


DEPARTURE = "Bellignat"  # a carpool message's {place} is where the car leaves from


def _sample(language: str, name: str, messages: dict[str, str], key: str) -> object:
    if name == "meeting":  # "la réunion du jeudi 10 décembre à 14h (Centre social Jean Moulin)"
        label = messages["carpool.meeting_label"]
        return PLACEHOLDER_RE.sub(
            lambda match: str(PLACE if match.group(1) == "place" else SAMPLES[language].get(match.group(1))), label
        )
    if name == "place" and key.startswith("carpool.") and key != "carpool.meeting_label":
        return DEPARTURE
    return SAMPLES[language].get(name, "Julie")


def fill(language: str, text: str, messages: dict[str, str], key: str = "") -> str:
    """The message as a person reads it: placeholders filled, tags removed, entities decoded."""
    filled = PLACEHOLDER_RE.sub(lambda match: str(_sample(language, match.group(1), messages, key)), text)
    return html.unescape(TAG_RE.sub("", filled))


def read_catalogue(content: bytes, language: str) -> dict[str, str]:
    """Each key's text; a plural message by its plural form (the longer one)."""
    found: dict[str, str] = {}
    for entry in read_po(BytesIO(content), locale=language):
        if not entry.id:
            continue
        key = str(entry.id[0] if isinstance(entry.id, tuple) else entry.id)
        text = entry.string[-1] if isinstance(entry.string, tuple) else entry.string
        found[key] = str(text or "")
    return found


@cache
def current(language: str) -> dict[str, str]:
    from bot.ui.i18n import LOCALES_DIR

    return read_catalogue((LOCALES_DIR / f"{language}.po").read_bytes(), language)


def messages(language: str, catalogue: dict[str, str] | None = None) -> list[Message]:
    catalogue = catalogue if catalogue is not None else current(language)
    return [
        Message(key, audience(key) or "unclassified", fill(language, text, catalogue, key))
        for key, text in sorted(catalogue.items())
    ]


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def sentences(text: str) -> list[list[str]]:
    """Sentences by their end (. ! ? …) or a line break, each as its words; lines without words
    (an emoji alone) are not sentences."""
    return [found for part in SENTENCE_END_RE.split(text) if (found := words(part))]


@cache
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="fr_FR")


def syllables(word: str) -> int:
    if word.isdigit():
        return len(word)  # "2026" is read as several syllables; one per digit is close enough
    return len(_dictionary().positions(word.lower())) + 1


@dataclass(frozen=True)
class Score:
    messages: int
    words: int
    sentences: int
    syllables: int

    @property
    def words_per_sentence(self) -> float:
        return self.words / self.sentences if self.sentences else 0.0

    @property
    def syllables_per_word(self) -> float:
        return self.syllables / self.words if self.words else 0.0

    @property
    def kandel_moles(self) -> float:
        return 207 - 1.015 * self.words_per_sentence - 73.6 * self.syllables_per_word


def score(texts: list[str]) -> Score:
    all_sentences = [sentence for text in texts for sentence in sentences(text)]
    all_words = [word for sentence in all_sentences for word in sentence]
    return Score(
        messages=len(texts),
        words=len(all_words),
        sentences=len(all_sentences),
        syllables=sum(syllables(word) for word in all_words),
    )
