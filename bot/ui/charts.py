"""The report's chart: attendance per meeting, as a PNG readable on a phone. matplotlib's Figure is
used without pyplot: no global state, no interactive backend, safe on a server without a screen."""

from __future__ import annotations

import asyncio
import io
from collections import OrderedDict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.domain.reports import Report
from bot.ui.i18n import plain
from storage.models import Group

WIDTH, HEIGHT, DPI = 6.4, 4.8, 150  # 960 x 720 pixels: sharp on a phone, small to send


@dataclass(frozen=True)
class ChartInputs:
    """Everything the chart shows, as plain values: the same inputs draw the same PNG, so they are
    its cache key (a changed sheet, name or language is another chart: nothing to invalidate)."""

    language: str
    title: str
    labels: tuple[str, ...]
    bars: tuple[tuple[int, int, int | None], ...]  # invited, present, rate


def chart_inputs(language: str, group: Group, report: Report) -> ChartInputs | None:
    """None with no meeting to show."""
    meetings = [m for m in report.meetings if m.invited][-12:]
    if not meetings:
        return None
    zone = ZoneInfo(group.timezone)
    labels = tuple(format_date(m.starts_at.astimezone(zone).date(), "d MMM", locale=language) for m in meetings)
    bars = tuple((m.invited, m.present or 0, m.rate) for m in meetings)
    return ChartInputs(language, plain(language, "chart.title", group=group.display_name)[:60], labels, bars)


class ChartCache:
    """The charts drawn lately, by their inputs (least recently used first out): a group's page
    or /bilan asked again for the same figures costs a lookup, not a quarter-second's drawing."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._charts: OrderedDict[ChartInputs, bytes] = OrderedDict()
        self.hits = self.misses = 0

    async def png(self, inputs: ChartInputs | None) -> bytes | None:
        if inputs is None:
            return None
        found = self._charts.get(inputs)
        if found is not None:
            self._charts.move_to_end(inputs)
            self.hits += 1
            return found
        self.misses += 1
        drawn = await asyncio.to_thread(draw, inputs)  # CPU work: other chats go on meanwhile
        self._charts[inputs] = drawn
        while len(self._charts) > self.size:
            self._charts.popitem(last=False)
        return drawn


CHARTS = ChartCache()  # the process's


async def attendance_png(language: str, group: Group, report: Report) -> bytes | None:
    """The report's chart, from the cache or drawn in a thread; None with no meeting to show."""
    return await CHARTS.png(chart_inputs(language, group, report))


def attendance_chart(language: str, group: Group, report: Report) -> bytes | None:
    """Bars of members present (and invited, behind) per meeting; None with no meeting to show."""
    inputs = chart_inputs(language, group, report)
    return draw(inputs) if inputs is not None else None


def draw(inputs: ChartInputs) -> bytes:
    """The PNG (matplotlib's Figure, without pyplot)."""
    # Imported at the first chart, not at start-up (matplotlib takes over a second to import).
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    language = inputs.language
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    axes = figure.subplots()
    positions = range(len(inputs.bars))
    axes.bar(positions, [bar[0] for bar in inputs.bars], color="#d9e2ec", label=plain(language, "chart.invited"))
    axes.bar(
        positions,
        [bar[1] for bar in inputs.bars],
        color="#1f6f8b",
        label=plain(language, "chart.present"),
    )
    for position, (_, present, rate) in zip(positions, inputs.bars, strict=True):
        if rate is not None:
            axes.annotate(f"{rate} %", (position, present), ha="center", va="bottom")
    axes.set_xticks(list(positions), list(inputs.labels), rotation=45 if len(inputs.bars) > 6 else 0)
    # A group's name is people's words: never read as matplotlib's math ("$\\alpha^^$" would
    # fail the drawing, and with it /bilan and the dashboard).
    axes.set_title(inputs.title, parse_math=False)
    axes.set_ylabel(plain(language, "chart.people"))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_ylim(0, max(bar[0] for bar in inputs.bars) * 1.3)  # room above the bars for the legend
    axes.legend(frameon=False, loc="upper left", ncol=2)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
