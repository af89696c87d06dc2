"""The report's figures over a session, on every backend: who was invited is who was a member on
the day, the attendance rate counts only filled sheets, proposals are those made in the period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain import department
from bot.domain.department import Filters, department_page, every_line
from bot.domain.people import find_membership, record_departure
from bot.domain.periods import Period
from bot.domain.reports import attendance_sheet, group_line, group_report
from storage.models import Attendance, Proposal, Rsvp
from tests.support.world import NOW, make_group, make_meeting, make_members

PERIOD = Period(date(2026, 11, 1), date(2026, 12, 31))


async def test_figures_of_a_period(session):
    group = await make_group(session)
    awa, karim, julie, sami = await make_members(session, group, "Awa", "Karim", "Julie", "Sami")
    first = await make_meeting(session, group, days=10)
    second = await make_meeting(session, group, days=20)
    later = await make_meeting(session, group, days=80)  # in February: outside the period
    await record_departure(session, group, sami.telegram_id, NOW + timedelta(days=15))  # gone for the second
    for person, answer in ((karim, "yes"), (julie, "yes"), (sami, "no")):
        session.add(Rsvp(meeting_id=first.id, person_id=person.id, answer=answer, answered_at=NOW))
    for person, present in ((awa, True), (karim, True), (julie, False), (sami, False)):
        session.add(Attendance(meeting_id=first.id, person_id=person.id, present=present))
    first.attendance_rate = 50
    session.add(Proposal(group_id=group.id, number=1, text="A", state="accepted", created_at=NOW, state_changed_at=NOW))
    session.add(Proposal(group_id=group.id, number=2, text="B", state="refused", created_at=NOW, state_changed_at=NOW))
    old = NOW - timedelta(days=60)
    session.add(Proposal(group_id=group.id, number=3, text="C", state="new", created_at=old, state_changed_at=old))
    await session.flush()
    report = await group_report(session, group, PERIOD)
    assert [(m.number, m.invited, m.coming, m.present, m.rate) for m in report.meetings] == [
        (first.number, 4, 2, 2, 50),
        (second.number, 3, 0, None, None),  # Sami had left; no sheet filled
    ]
    assert later.number not in [m.number for m in report.meetings]
    assert report.attendance_rate == 50  # over the filled sheet only
    assert report.proposals_made == 2 and report.taken_into_account_rate == 50
    assert [p.number for p in report.transmitted] == [1, 2]
    sheet = await attendance_sheet(session, group, PERIOD)
    assert [(line.name, line.present) for line in sheet] == [
        ("Awa", True),
        ("Julie", False),
        ("Karim", True),
        ("Sami", False),
    ]
    assert (await find_membership(session, group, sami)).status == "left"  # the world is as meant


async def test_the_department_view_gives_each_group_its_own_report_figures(session, monkeypatch):
    """The department's view counts every group at once, in the database; each line must equal
    that group's own report, in groups with different time zones, departures, sheets and
    carpools. Sorted, filtered and paged in the database, with the totals of every group kept."""
    paris = await make_group(session, chat_id=-1)
    reunion = await make_group(session, chat_id=-2, timezone="Indian/Reunion")
    quiet = await make_group(session, chat_id=-3)
    paris.name, reunion.name, quiet.name = "Bourg centre", "Saint-Denis", "Ambérieu"
    paris.territory = reunion.territory = "Bresse"
    a1, a2, a3 = await make_members(session, paris, "Awa", "Karim", "Julie")
    (b1, b2) = await make_members(session, reunion, "Zoé", "Théo")
    held = await make_meeting(session, paris, days=10)
    unsheeted = await make_meeting(session, paris, days=20)
    there = await make_meeting(session, reunion, days=12, creator=b1)
    await record_departure(session, paris, a3.telegram_id, NOW + timedelta(days=15))
    for meeting, person, present in ((held, a1, True), (held, a2, False), (held, a3, True), (there, b1, True)):
        session.add(Attendance(meeting_id=meeting.id, person_id=person.id, present=present))
    held.attendance_rate, there.attendance_rate = 66, 50
    states = ("new", "sent", "accepted", "refused", "done")
    for number, state in enumerate(states, start=1):
        session.add(
            Proposal(group_id=paris.id, number=number, text="P", state=state, created_at=NOW, state_changed_at=NOW)
        )
    session.add(Proposal(group_id=reunion.id, number=1, text="R", state="sent", created_at=NOW, state_changed_at=NOW))
    await session.flush()
    found = await department_page(session, PERIOD)
    by_name = [quiet, paris, reunion]  # Ambérieu, Bourg centre, Saint-Denis
    expected = [group_line(group, await group_report(session, group, PERIOD)) for group in by_name]
    assert found.lines == expected and (found.groups, found.page, found.pages) == (3, 1, 1)
    assert [(line.meetings, line.invited, line.present, line.transmitted, line.taken) for line in found.lines] == [
        (0, 0, 0, 0, 0),
        (2, 3, 2, 4, 2),
        (1, 2, 1, 1, 0),
    ]
    total = found.total
    assert (total.meetings, total.invited, total.present, total.proposals) == (3, 5, 3, 6)
    assert total.attendance_rate == 60 and total.taken_rate == 40  # from summed counts, not averaged rates
    assert unsheeted.attendance_rate is None
    # Sorted in the database: largest first, a group without the figure last, then by name.
    names = lambda page: [line.name for line in page.lines]  # noqa: E731
    assert names(await department_page(session, PERIOD, sort="presence")) == ["Bourg centre", "Saint-Denis", "Ambérieu"]
    assert names(await department_page(session, PERIOD, sort="reunions")) == ["Bourg centre", "Saint-Denis", "Ambérieu"]
    assert names(await department_page(session, PERIOD, sort="prises")) == ["Bourg centre", "Saint-Denis", "Ambérieu"]
    # Filtered: a part of the name, a territory, a facilitator (who planned a meeting there); the
    # totals are those of the groups kept.
    kept = await department_page(session, PERIOD, Filters.of("saint", "", ""))
    assert names(kept) == ["Saint-Denis"] and kept.total.meetings == 1
    assert names(await department_page(session, PERIOD, Filters.of("", "Bresse", ""))) == [
        "Bourg centre",
        "Saint-Denis",
    ]
    assert names(await department_page(session, PERIOD, Filters.of("", "", "zoé"))) == ["Saint-Denis"]
    assert names(await department_page(session, PERIOD, Filters.of("100%_", "", ""))) == []  # LIKE's signs are text
    # Paged: the page asked, the totals of all.
    monkeypatch.setattr(department, "PAGE_SIZE", 2)
    second = await department_page(session, PERIOD, page=2)
    assert names(second) == ["Saint-Denis"] and (second.page, second.pages) == (2, 2) and second.total.meetings == 3
    assert (await department_page(session, PERIOD, page=99)).page == 2
    # A facilitator sees the groups they facilitate only.
    assert names(await department_page(session, PERIOD, among=[paris.id])) == ["Bourg centre"]
    # The CSV's slices: every group, in the view's order.
    monkeypatch.setattr(department, "SLICE", 2)
    slices = [[line.name for line in lines] async for lines in every_line(session, PERIOD)]
    assert slices == [["Ambérieu", "Bourg centre"], ["Saint-Denis"]]


@pytest.mark.parametrize("name", ["$\\alpha^^$", "Groupe $5 $ de Bourg", "a_b^c {x}"])
def test_a_group_name_is_never_read_as_math_in_the_chart(name):
    """People's words in a title: matplotlib's mathtext would fail on "$\\alpha^^$"."""
    from types import SimpleNamespace

    from bot.ui.charts import attendance_chart

    meeting = SimpleNamespace(invited=8, present=5, rate=62, starts_at=datetime(2026, 11, 3, 13, tzinfo=UTC))
    group = SimpleNamespace(display_name=name, timezone="Europe/Paris")
    png = attendance_chart("fr", group, SimpleNamespace(meetings=[meeting]))  # type: ignore[arg-type]
    assert png is not None and png.startswith(b"\x89PNG")


async def test_the_chart_cache_draws_each_set_of_figures_once(monkeypatch):
    """The same inputs are the same PNG: a hit costs no drawing; other figures, another name or
    another language draw again; the least recently used goes first past its size."""
    from types import SimpleNamespace

    from bot.ui import charts

    calls: list[charts.ChartInputs] = []
    monkeypatch.setattr(charts, "draw", lambda inputs: calls.append(inputs) or f"png{len(calls)}".encode())
    cache = charts.ChartCache(size=2)
    meeting = SimpleNamespace(invited=8, present=5, rate=62, starts_at=datetime(2026, 11, 3, 13, tzinfo=UTC))
    group = SimpleNamespace(display_name="Groupe", timezone="Europe/Paris")

    def report(present: int) -> SimpleNamespace:
        return SimpleNamespace(meetings=[SimpleNamespace(**{**vars(meeting), "present": present})])

    first = charts.chart_inputs("fr", group, report(5))  # type: ignore[arg-type]
    assert await cache.png(first) == await cache.png(charts.chart_inputs("fr", group, report(5))) == b"png1"
    assert len(calls) == 1 and (cache.hits, cache.misses) == (1, 1)
    assert await cache.png(charts.chart_inputs("fr", group, report(6))) == b"png2"  # a sheet changed
    assert await cache.png(charts.chart_inputs("en", group, report(5))) == b"png3"  # another language
    assert await cache.png(first) == b"png4"  # pushed out by the two after it (size 2)
    assert await cache.png(charts.chart_inputs("fr", group, SimpleNamespace(meetings=[]))) is None  # type: ignore[arg-type]


async def test_the_totals_are_kept_until_a_figure_may_change(session, monkeypatch):
    """Every page and sort of one set of filters shares its totals: counted once, counted again
    after a write to what they count (a meeting here), and after KEEP_SECONDS at most."""
    group = await make_group(session)
    group.name = "Bourg"
    await make_meeting(session, group, days=10)
    await session.flush()
    counted = []
    real = department.totals

    async def counting(*args):
        counted.append(1)
        return await real(*args)

    monkeypatch.setattr(department, "totals", counting)
    first = await department_page(session, PERIOD)
    again = await department_page(session, PERIOD, sort="presence")
    assert first.total.meetings == again.total.meetings == 1 and len(counted) == 1
    await make_meeting(session, group, days=12)
    await session.flush()
    assert (await department_page(session, PERIOD)).total.meetings == 2 and len(counted) == 2
    # Another process's write is not seen here: what was kept is counted again once it is old.
    for key, (version, _expires, total) in list(department._KEPT.items()):
        department._KEPT[key] = (version, 0.0, total)
    monkeypatch.setattr(department, "KEEP_SECONDS", -1.0)
    await department_page(session, PERIOD)
    await department_page(session, PERIOD)
    assert len(counted) == 4


async def test_the_order_by_a_figure_is_kept_until_a_figure_may_change(session, monkeypatch):
    """A sort by a figure counts it for every group once: the next pages are a slice of the order
    kept, until a write to what it counts (a meeting here) or KEEP_SECONDS."""
    monkeypatch.setattr(department, "PAGE_SIZE", 1)
    first, second = await make_group(session, chat_id=-1), await make_group(session, chat_id=-2)
    first.name, second.name = "Ambérieu", "Bourg"
    await make_meeting(session, second, days=10)
    await session.flush()
    ordered = []
    real = department.ordered_ids

    async def counting(*args):
        ordered.append(args[3])
        return await real(*args)

    monkeypatch.setattr(department, "ordered_ids", counting)
    pages = [await department_page(session, PERIOD, sort="reunions", page=page) for page in (1, 2)]
    assert [[line.name for line in page.lines] for page in pages] == [["Bourg"], ["Ambérieu"]]
    assert ordered == ["reunions"]  # once for both pages
    for days in (11, 12):
        await make_meeting(session, first, days=days)
    await session.flush()
    assert [line.name for line in (await department_page(session, PERIOD, sort="reunions")).lines] == ["Ambérieu"]
    assert ordered == ["reunions", "reunions"]
    assert [line.name for line in (await department_page(session, PERIOD)).lines] == [
        "Ambérieu"
    ]  # by name: paged by the database
    assert ordered == ["reunions", "reunions", "groupe"]
