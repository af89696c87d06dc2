"""/bilan: the group's report for a period, sent in private to the facilitator who asks (the
attendance sheet names members), with its tables as CSV files."""

from __future__ import annotations

import asyncio
import io
from zoneinfo import ZoneInfo

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler

from bot.domain.costs import of_meetings as cost_claims
from bot.domain.periods import PeriodError, parse_period
from bot.domain.reports import attendance_sheet, group_report
from bot.services import db, services
from bot.ui.charts import attendance_chart
from bot.ui.costs import costs_csv
from bot.ui.i18n import t
from bot.ui.reports import attendance_csv, meetings_csv, proposals_csv, report_text
from handlers.common import Context, command_args, private_reader, refuse, reply, require_facilitator, say, send


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
    # Drawing takes a quarter of a second: in a thread, so that other chats are not held meanwhile.
    chart = await asyncio.to_thread(attendance_chart, language, group, report)
    if chart is not None:
        send(asker.telegram_id, "send_photo", photo=InputFile(io.BytesIO(chart), filename="presence.png"))
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
