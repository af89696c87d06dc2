"""What /bilan shows: the report in a few plain lines, and its tables as CSV files that open
cleanly in French spreadsheet software (UTF-8 with a byte-order mark, `;` between fields)."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.domain.costs import euros
from bot.domain.periods import Period
from bot.domain.reports import PRIVATE_LABELS, GroupLine, Report, SheetLine
from bot.ui.i18n import plain, t, tn
from bot.ui.meetings import short_when
from bot.ui.proposals import excerpt
from storage.models import Group


def period_text(language: str, period: Period) -> str:
    return t(
        language,
        "report.period",
        start=format_date(period.start, "d MMMM y", locale=language),
        end=format_date(period.end, "d MMMM y", locale=language),
    )


def _rate(language: str, rate: int | None) -> str:
    return plain(language, "report.no_rate") if rate is None else f"{rate} %"


def useful_label(language: str, option: str) -> str:
    """An answer to "utile ?": the group poll's own option text, or, for answers given only in
    private, the same words in the reader's language."""
    if option in PRIVATE_LABELS:
        return plain(language, f"feedback.option{PRIVATE_LABELS.index(option) + 1}")
    return option


def report_text(language: str, group: Group, report: Report) -> str:
    lines = [t(language, "report.title", group=group.display_name), period_text(language, report.period), ""]
    lines.append(tn(language, "report.meetings", len(report.meetings), rate=_rate(language, report.attendance_rate)))
    for meeting in report.meetings[-12:]:
        values = {
            "when": short_when(meeting.starts_at, group.timezone, language),
            "topic": excerpt(meeting.topic, 40),
            "invited": meeting.invited,
            "coming": meeting.coming,
        }
        if meeting.present is None:
            lines.append(t(language, "report.meeting_line_no_sheet", **values))
        else:
            lines.append(
                t(
                    language,
                    "report.meeting_line",
                    present=meeting.present,
                    rate=_rate(language, meeting.rate),
                    **values,
                )
            )
        if meeting.evaluation:
            answers = " · ".join(f"{useful_label(language, option)} {votes}" for option, votes in meeting.evaluation)
            lines.append(t(language, "report.evaluation", answers=answers))
    lines.append("")
    lines.append(
        tn(language, "report.proposals", report.proposals_made, rate=_rate(language, report.taken_into_account_rate))
    )
    for proposal in report.transmitted[:15]:
        lines.append(
            t(
                language,
                "report.transmitted_line",
                number=proposal.number,
                text=excerpt(proposal.text, 50),
                state=plain(language, f"state.{proposal.state}"),
            )
        )
    lines.append("")
    lines.append(
        t(
            language,
            "report.contributions",
            proposals=report.proposals_made,
            votes=report.votes_cast,
            actions=report.actions_done,
        )
    )
    lines.append(
        t(
            language,
            "report.carpool",
            offers=report.ride_offers,
            seats=report.ride_seats,
            requests=report.ride_requests,
            matched=report.rides_matched,
            unmet=report.rides_unmet,
        )
    )
    if report.hopes:
        lines.append(tn(language, "report.hopes", len(report.hopes)))
        for hope in report.hopes[-5:]:
            who = hope.name or plain(language, "someone")
            lines.append(t(language, "report.hope_line", text=excerpt(hope.text, 120), who=who))
    if report.costs.claims:
        lines.append(
            t(
                language,
                "report.costs",
                claims=report.costs.claims,
                refunded=euros(report.costs.refunded_cents),
                pending=euros(report.costs.pending_cents),
                refused=report.costs.refused,
            )
        )
    if report.sms_sent or report.sms_answers:
        lines.append(t(language, "report.sms", sent=report.sms_sent, answers=report.sms_answers))
    if report.answers_due:
        lines.append(tn(language, "report.answers", report.answers_due, in_time=report.answers_in_time))
    if report.children_to_look_after or report.meal_needs:
        lines.append(t(language, "report.needs", children=report.children_to_look_after, diets=report.meal_needs))
    lines.append("")
    lines.append(t(language, "report.files"))
    return "\n".join(lines)


def _cell(value: object) -> object:
    """A text a member wrote that a spreadsheet would run as a formula ("=HYPERLINK(...)") is
    written as text, behind an apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_table(header: list[str], rows: list[list[object]]) -> bytes:
    """UTF-8 with a BOM and `;`: what French spreadsheet software opens without asking."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def _local_date(moment, group: Group) -> str:
    return moment.astimezone(ZoneInfo(group.timezone)).strftime("%d/%m/%Y %H:%M")


def meetings_csv(language: str, group: Group, report: Report) -> bytes:
    header = plain(language, "report.csv.meetings").split(";")
    return csv_table(
        header,
        [
            [
                m.number,
                _local_date(m.starts_at, group),
                m.topic,
                m.invited,
                m.coming,
                m.present,
                m.rate,
                " / ".join(f"{useful_label(language, option)} : {votes}" for option, votes in m.evaluation),
            ]
            for m in report.meetings
        ],
    )


def attendance_csv(language: str, group: Group, sheet: list[SheetLine]) -> bytes:
    header = plain(language, "report.csv.attendance").split(";")
    yes, no = plain(language, "report.csv.present"), plain(language, "report.csv.absent")
    return csv_table(
        header,
        [[line.number, _local_date(line.starts_at, group), line.name, yes if line.present else no] for line in sheet],
    )


def proposals_csv(language: str, group: Group, report: Report) -> bytes:
    header = plain(language, "report.csv.proposals").split(";")
    return csv_table(
        header,
        [
            [
                p.number,
                p.text,
                plain(language, f"state.{p.state}"),
                p.state_note or "",
                _local_date(p.created_at, group),
            ]
            for p in report.proposals
        ],
    )


def _group_row(language: str, line: GroupLine) -> list[object]:
    return [
        line.name or plain(language, "web.totals"),
        line.meetings,
        line.attendance_rate,
        line.proposals,
        line.transmitted,
        line.taken_rate,
        line.votes,
        line.actions,
        line.rides,
    ]


def groups_csv_head(language: str) -> bytes:
    """The department's CSV streamed: its header (with the BOM), then `groups_csv_rows` slices."""
    return csv_table(plain(language, "web.csv.groups").split(";"), [])


def groups_csv_rows(language: str, lines: list[GroupLine]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows([_cell(value) for value in _group_row(language, line)] for line in lines)
    return out.getvalue().encode("utf-8")


def groups_csv(language: str, lines: list[GroupLine], total: GroupLine) -> bytes:
    """The department's view: one line per group, then the total."""
    header = plain(language, "web.csv.groups").split(";")
    return csv_table(header, [_group_row(language, line) for line in [*lines, total]])
