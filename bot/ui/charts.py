"""The report's chart: attendance per meeting, as a PNG readable on a phone. matplotlib's Figure is
used without pyplot: no global state, no interactive backend, safe on a server without a screen."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.domain.reports import Report
from bot.ui.i18n import plain
from storage.models import Group

WIDTH, HEIGHT, DPI = 6.4, 4.8, 150  # 960 x 720 pixels: sharp on a phone, small to send


def attendance_chart(language: str, group: Group, report: Report) -> bytes | None:
    """Bars of members present (and invited, behind) per meeting; None with no meeting to show."""
    # Imported at the first chart, not at start-up (matplotlib takes over a second to import).
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    meetings = [m for m in report.meetings if m.invited][-12:]
    if not meetings:
        return None
    zone = ZoneInfo(group.timezone)
    labels = [format_date(m.starts_at.astimezone(zone).date(), "d MMM", locale=language) for m in meetings]
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    axes = figure.subplots()
    positions = range(len(meetings))
    axes.bar(positions, [m.invited for m in meetings], color="#d9e2ec", label=plain(language, "chart.invited"))
    axes.bar(
        positions,
        [m.present or 0 for m in meetings],
        color="#1f6f8b",
        label=plain(language, "chart.present"),
    )
    for position, meeting in zip(positions, meetings, strict=True):
        if meeting.rate is not None:
            axes.annotate(f"{meeting.rate} %", (position, meeting.present or 0), ha="center", va="bottom")
    axes.set_xticks(list(positions), labels, rotation=45 if len(meetings) > 6 else 0)
    # A group's name is people's words: never read as matplotlib's math ("$\\alpha^^$" would
    # fail the drawing, and with it /bilan and the dashboard).
    axes.set_title(plain(language, "chart.title", group=group.display_name)[:60], parse_math=False)
    axes.set_ylabel(plain(language, "chart.people"))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_ylim(0, max(m.invited for m in meetings) * 1.3)  # room above the bars for the legend
    axes.legend(frameon=False, loc="upper left", ncol=2)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
