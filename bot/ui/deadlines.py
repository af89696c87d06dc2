"""A transmitted proposal's deadline in words: on the board, the dashboard and the answer page
(bot/ui/answers.py has the messages around it)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.domain.dates import normalise
from bot.ui.i18n import t
from storage.models import Proposal

# French says "du Service mobilité", "de la Direction de l'insertion", "de l'Agence…", "de Mme Roux".
_MASCULINE = frozenset(
    [
        "service",
        "conseil",
        "pole",
        "departement",
        "cabinet",
        "centre",
        "bureau",
        "secretariat",
        "president",
        "vice-president",
        "maire",
    ]
)
_FEMININE = frozenset(
    ["direction", "commission", "mission", "maison", "mairie", "delegation", "presidente", "vice-presidente", "cellule"]
)


def of_name(language: str, name: str) -> str:
    """'du Service mobilité' (French); the English catalogue says 'from {name}' itself."""
    if language != "fr" or not name:
        return name
    words = normalise(name).split()
    first = words[0] if words else ""
    if first in ("le", "les") and len(name) > len(first) + 1:
        return ("du " if first == "le" else "des ") + name[len(first) + 1 :]
    if first == "la" or first in _FEMININE:
        return "de " + name if first == "la" else "de la " + name
    if first in ("elus", "services", "elues"):
        return "des " + name
    if first in _MASCULINE:
        return "du " + name
    if first[:1] in "aeiouyh":
        return "de l'" + name
    return "de " + name


def due_day(proposal: Proposal, zone: str, language: str) -> str:
    """'12 février' (with the year when it is not this one's)."""
    assert proposal.answer_due is not None
    local = proposal.answer_due.astimezone(ZoneInfo(zone))
    transmitted = proposal.transmitted_at.astimezone(ZoneInfo(zone)) if proposal.transmitted_at else local
    pattern = "d MMMM" if local.year == transmitted.year else "d MMMM y"
    return format_date(local.date(), pattern, locale=language)


def waiting_line(language: str, proposal: Proposal, zone: str) -> str:
    """On /propositions and the dashboard, for a transmitted proposal without its answer."""
    if proposal.answer_due is None or proposal.answered_at is not None or proposal.state != "sent":
        return ""
    key = "answer.overdue_line" if proposal.overdue_at is not None else "answer.due_line"
    name = proposal.addressee_name or ""
    return t(language, key, name=name, of_name=of_name(language, name), day=due_day(proposal, zone, language))
