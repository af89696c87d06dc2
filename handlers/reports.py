"""/bilan: the group's report for a period, sent in private to the facilitator who asks (the
attendance sheet names members), with its tables as CSV files."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler

from bot.domain.costs import of_meetings as cost_claims
from bot.domain.periods import PeriodError, parse_period
from bot.domain.reports import attendance_sheet, group_report
from bot.services import db, services
from bot.ui import charts
from bot.ui.costs import costs_csv
from bot.ui.i18n import t
from bot.ui.reports import attendance_csv, meetings_csv, proposals_csv, report_text
from handlers.common import (
    Context,
    command_args,
    private_reader,
    refuse,
    reply,
    require_facilitator,
    say,
    send,
    send_file_later,
)


async def report_command(update: Update, context: Context) -> None:
    group = await require_facilitator(update, context)
    if group is None:
        return
    svc = services(context)
    language = group.language
    today = svc.clock.now().astimezone(ZoneInfo(group.timezone)).date()
    try:
        period = parse_period(command_args(update), today)
    except PeriodError as exc:
        await refuse(update, language, exc)
        return
    asker = await private_reader(update, context, group, "report.start_first")
    if asker is None:
        return
    report = await group_report(db(), group, period, services(context).clock.now())
    sheet = await attendance_sheet(db(), group, period)
    say(asker.telegram_id, report_text(language, group, report))
    # The chart takes a quarter of a second to draw: once this update has committed, outside its
    # transaction (SQLite's writer turn is not held meanwhile), unless it is in the cache.
    inputs = charts.chart_inputs(language, group, report)
    if inputs is not None:
        send_file_later(
            context, lambda: charts.CHARTS.png(inputs), [asker.telegram_id], "send_photo", "photo", "presence.png"
        )
    stamp = f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    tables = [
        ("reunions", meetings_csv(language, group, report)),
        ("presences", attendance_csv(language, group, sheet)),
        ("propositions", proposals_csv(language, group, report)),
    ]
    if report.costs.claims:  # for the department's accounting
        tables.append(("frais", costs_csv(language, group, await cost_claims(db(), report.meeting_ids))))
    for name, content in tables:
        document = InputFile(io.BytesIO(content), filename=f"bilan-{name}-{stamp}.csv")
        send(asker.telegram_id, "send_document", document=document)
    reply(update, t(language, "report.sent"))


def register(application: Application) -> None:
    application.add_handler(CommandHandler("bilan", report_command))
