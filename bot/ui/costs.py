"""🧾 Mes frais: the member's questions, what facilitators read and decide, the period's CSV."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.domain.costs import ALLOWANCE, CATEGORIES, euros
from bot.ui import callbacks as cb
from bot.ui.carpool import meeting_label
from bot.ui.i18n import plain, t
from bot.ui.meetings import short_when
from bot.ui.reports import csv_table
from storage.models import CostClaim, Group, Meeting, Person


def category_name(language: str, category: str) -> str:
    return plain(language, f"costs.category.{category}")


def ask_category(language: str, group: Group, meeting: Meeting) -> str:
    return t(language, "costs.ask_category", meeting=meeting_label(language, group, meeting))


def category_keyboard(language: str, meeting: Meeting, allowance_cents: int | None) -> InlineKeyboardMarkup:
    buttons = [cb.key(category_name(language, c), cb.CostCategory(meeting.id, c)) for c in CATEGORIES]
    rows = [buttons[:2], buttons[2:4], buttons[4:]]
    if allowance_cents is not None:
        label = plain(language, "costs.allowance_button", amount=euros(allowance_cents))
        rows.insert(0, [cb.key(label, cb.CostCategory(meeting.id, ALLOWANCE))])
    return InlineKeyboardMarkup(rows)


def claim_saved(language: str, group: Group, meeting: Meeting, claim: CostClaim) -> str:
    return t(
        language,
        "costs.saved",
        amount=euros(claim.amount_cents),
        category=category_name(language, claim.category).lower(),
        meeting=meeting_label(language, group, meeting),
    )


def claim_for_facilitators(language: str, group: Group, meeting: Meeting, person: Person, claim: CostClaim) -> str:
    return t(
        language,
        "costs.to_facilitators",
        number=claim.id,
        name=person.first_name,
        amount=euros(claim.amount_cents),
        category=category_name(language, claim.category).lower(),
        meeting=meeting_label(language, group, meeting),
    )


def decision_keyboard(language: str, claim: CostClaim) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                cb.key(plain(language, "button.cost_refund"), cb.CostDecision(claim.id, "refund")),
                cb.key(plain(language, "button.cost_refuse"), cb.CostDecision(claim.id, "refuse")),
            ]
        ]
    )


def decision_for_member(language: str, group: Group, meeting: Meeting, claim: CostClaim) -> str:
    key = "costs.refunded" if claim.status == "refunded" else "costs.refused"
    return t(
        language,
        key,
        amount=euros(claim.amount_cents),
        meeting=meeting_label(language, group, meeting),
        reason=claim.reason or "",
    )


def pending_text(language: str, group: Group, rows: list[tuple[CostClaim, Meeting, Person]]) -> str:
    if not rows:
        return t(language, "costs.none_pending", group=group.display_name)
    lines = [t(language, "costs.pending_title", group=group.display_name)]
    for claim, meeting, person in rows:
        lines.append(
            t(
                language,
                "costs.pending_line",
                number=claim.id,
                when=short_when(meeting.starts_at, group.timezone, language),
                name=person.first_name,
                amount=euros(claim.amount_cents),
                category=category_name(language, claim.category).lower(),
            )
        )
    return "\n".join(lines)


def costs_csv(language: str, group: Group, rows: list[tuple[CostClaim, Meeting, Person]]) -> bytes:
    """For the department's accounting: one line per claim (UTF-8 with BOM, ";")."""
    header = plain(language, "report.csv.costs").split(";")
    lines: list[list[object]] = [
        [
            str(meeting.number),
            short_when(meeting.starts_at, group.timezone, language),
            person.first_name,
            category_name(language, claim.category),
            f"{claim.amount_cents / 100:.2f}".replace(".", ","),
            plain(language, f"costs.status.{claim.status}"),
            claim.reason or "",
            claim.created_at.date().isoformat(),
            claim.decided_at.date().isoformat() if claim.decided_at else "",
        ]
        for claim, meeting, person in rows
    ]
    return csv_table(header, lines)
