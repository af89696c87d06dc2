"""End to end: reminder waves, what survives restarts, time zones, failures, and two processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.simulator.harness import Harness
from jobs.scheduler import dispatch_now, start_dispatcher
from storage.models import Attendance, Delivery, Meeting, ScheduledEvent
from tests.support.helpers import group_with_bot, load_group, load_person

UTC = UTC
MEETING = "/reunion 12/11 14h | Centre social | Bilan"
J7 = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
J1 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


async def setup_meeting(h):
    """Awa's group with Karim (started, will come), Julie (started, silent), Sami (started, declines),
    Lina (never started)."""
    chat, awa, people = await group_with_bot(h, members=4)
    karim, julie, sami, lina = people
    tg = h.tg
    for person in (karim, julie, sami):
        tg.start_private(person)
    tg.say(chat, awa, MEETING)
    await h.settle()
    announcement = tg.bot_messages(chat.id)[-1]
    tg.press(karim, announcement, "Je viens")
    tg.press(sami, announcement, "Je ne peux pas")
    await h.settle()
    tg.press(sami, tg.bot_messages(sami.id)[-1], "Transport")
    await h.settle()
    return chat, awa, karim, julie, sami, lina


def private_texts(h, user) -> list[str]:
    return [m.text for m in h.tg.bot_messages(user.id)] if user.id in h.tg.chats else []


async def test_reminder_wave_group_private_and_nudges(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    before = {u.id: len(private_texts(relais, u)) for u in (karim, julie, sami)}
    relais.clock.set(J7 - timedelta(minutes=1))
    assert (await relais.run_jobs()).sent == 0
    relais.clock.set(J7)
    report = await relais.run_jobs()
    reminder = next(m for m in reversed(tg.bot_messages(chat.id)) if (m.text or "").startswith("⏰"))
    assert reminder.text.startswith("⏰ Dans une semaine :")
    assert "jeudi 12 novembre à 14h" in reminder.text and "Centre social" in reminder.text
    assert "✅ 1 oui · ❌ 1 non" in reminder.text and "Je viens" in " ".join(reminder.labels())
    # Karim said he comes: his own answer, and one button to change it rather than every button again.
    karims = tg.bot_messages(karim.id)[-1]
    assert karims.text.startswith("⏰ Dans une semaine :") and "jeudi 12 novembre à 14h" in karims.text
    assert "Centre social" in karims.text and karims.text.endswith("Vous avez dit : je viens ✅")
    assert karims.labels() == ["✏️ Changer ma réponse", "❓ Une question", "🔕 Ne plus recevoir de rappels"]
    assert "Vous venez ? Un appui sur un bouton suffit." in private_texts(relais, julie)[-1]  # the nudge
    assert "Je viens" in " ".join(tg.bot_messages(julie.id)[-1].labels())
    assert len(private_texts(relais, sami)) == before[sami.id]  # declined: never reminded
    assert lina.id not in tg.chats  # never started: nothing attempted
    # The group, Karim and Julie; and, Lina having never opened the private chat, the group's
    # "Recevoir mes rappels en privé" (Awa, who runs it, cannot be written to: no list for her yet).
    assert report.sent == 4 and report.failed == 0
    assert report.kinds["reach_nudge"] == 1
    # Julie answers from the private nudge; the group counts follow.
    tg.press(julie, tg.bot_messages(julie.id)[-1], "Je viens")
    await relais.settle()
    announcement = next(m for m in tg.bot_messages(chat.id) if (m.text or "").startswith("📣"))
    assert "✅ 2 oui" in announcement.text
    # The next run sends nothing more.
    assert (await relais.run_jobs()).sent == 0
    # Karim changes his mind from his reminder: the answer buttons come back, then "Peut-être".
    tg.press(karim, karims, "Changer ma réponse")
    await relais.settle()
    karims = tg.bot_messages(karim.id)[-1]
    assert "Peut-être" in " ".join(karims.labels())
    tg.press(karim, karims, "Peut-être")
    await relais.settle()
    assert "🤔 1 peut-être" in announcement.text


async def test_the_day_before_says_tomorrow_and_the_day_says_today(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    relais.clock.set(J1)
    await relais.run_jobs()
    reminder = [m for m in tg.bot_messages(chat.id) if m.text.startswith("⏰")][-1]
    assert reminder.text.startswith("⏰ C'est demain !") and "jeudi 12 novembre à 14h" in reminder.text
    assert tg.bot_messages(karim.id)[-1].text.startswith("⏰ C'est demain !")
    # A tap on the meeting's day: the reminder's counts are edited, and it now says "aujourd'hui".
    relais.clock.set(datetime(2026, 11, 12, 8, 0, tzinfo=UTC))
    tg.press(julie, reminder, "Je viens")
    await relais.settle()
    edited = next(m for m in tg.bot_messages(chat.id) if m.message_id == reminder.message_id)
    assert edited.text.startswith("⏰ C'est aujourd'hui !") and "✅ 2 oui" in edited.text


async def test_facilitator_digest_before_the_day_before(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    tg.start_private(awa)
    await relais.settle()
    relais.clock.set(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    await relais.run_jobs()
    digest = private_texts(relais, awa)[-1]
    assert "Pas encore répondu : Julie, Lina" in digest
    assert "Ne peuvent pas venir : Sami (Transport)" in digest
    assert all("Transport" not in m.text for m in tg.bot_messages(chat.id))


async def test_restart_sends_nothing_twice(database_url):
    clock = FakeClock()
    async with Harness(database_url, clock=clock) as h:
        chat, awa, karim, julie, sami, lina = await setup_meeting(h)
        clock.set(J7)
        await h.run_jobs()
        count = len(h.tg.bot_messages(chat.id)) + len(private_texts(h, karim)) + len(private_texts(h, julie))
        await h.restart()
        await h.run_jobs()
        clock.advance(timedelta(hours=1))
        await h.run_jobs()
        assert len(h.tg.bot_messages(chat.id)) + len(private_texts(h, karim)) + len(private_texts(h, julie)) == count
        # The rebuilt process still does the next reminder (and, Awa having never opened a private
        # chat, the group is told that the day-before list waits for her there).
        clock.set(J1)
        report = await h.run_jobs()
        assert report.sent == 4 and report.kinds["reach_out"] == 1
        assert h.tg.flagged == []


async def test_deliveries_in_flight_at_a_crash_are_sent_after_the_lease(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    relais.clock.set(J7)
    async with relais.services.sessionmaker.begin() as session:
        from bot.outbox.claims import claim_deliveries
        from bot.outbox.kinds import expand_due_events
        from jobs.scheduler import dispatcher

        await expand_due_events(session, relais.clock.now(), dispatcher(relais.services, relais.app.bot).outbox)
        claimed = await claim_deliveries(session, relais.clock.now(), 100, timedelta(seconds=60), "dead-process")
        # The group's reminder, Karim's and Julie's, and (Lina never opened the private chat) the
        # group's "Recevoir mes rappels en privé": a process took them, then died before sending.
        assert len(claimed) == 4
    assert (await relais.run_jobs()).sent == 0  # still leased
    relais.clock.advance(timedelta(seconds=61))
    assert (await relais.run_jobs()).sent == 4  # nothing missed


async def _none() -> frozenset[int]:
    return frozenset()


async def test_late_reminder_only_the_latest_and_only_if_still_ahead(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    # The bot was down from before J-7 until after J-1: only J-1 goes out, once.
    relais.clock.set(J1 + timedelta(hours=3))
    report = await relais.run_jobs()
    assert report.kinds.get("group_reminder") == 1
    async with relais.services.sessionmaker() as session:
        statuses = dict(
            (
                await session.execute(
                    select(ScheduledEvent.offset_minutes, ScheduledEvent.status).where(
                        ScheduledEvent.kind == "reminder"
                    )
                )
            ).all()
        )
    assert statuses == {7 * 1440: "skipped", 1440: "done"}
    # A reminder whose meeting has started is not sent at all.
    tg.say(chat, awa, "/reunion 13/11 14h | Mairie | Autre")
    await relais.settle()
    relais.clock.set(datetime(2026, 11, 13, 13, 30, tzinfo=UTC))
    group_before = len(tg.bot_messages(chat.id))
    await relais.run_jobs()
    assert not any(m.text.startswith("⏰") for m in tg.bot_messages(chat.id)[group_before:])  # no reminder


async def test_daylight_saving_keeps_local_time(database_url):
    clock = FakeClock(datetime(2026, 10, 20, 8, 0, tzinfo=UTC))  # Paris in summer time (UTC+2)
    async with Harness(database_url, clock=clock) as h:
        chat, awa, _ = await group_with_bot(h, members=1)
        h.tg.say(chat, awa, "/reunion 3/11 14h | Mairie | Après le changement d'heure")
        h.tg.say(chat, awa, "/reunion tous les mardis 14h | Mairie | Hebdo")
        await h.settle()
        async with h.services.sessionmaker() as session:
            meetings = list(await session.scalars(select(Meeting).order_by(Meeting.number)))
            events = {
                (e.meeting_id, e.kind, e.offset_minutes): e.due_at
                for e in await session.scalars(select(ScheduledEvent))
            }
        assert meetings[0].starts_at == datetime(2026, 11, 3, 13, 0, tzinfo=UTC)  # 14:00 CET
        # J-7 falls before the change (27 Oct is CET already; 25 Oct is the change): 10:00 local.
        assert events[(meetings[0].id, "reminder", 7 * 1440)] == datetime(2026, 10, 27, 9, 0, tzinfo=UTC)
        assert meetings[1].starts_at == datetime(2026, 10, 20, 12, 0, tzinfo=UTC)  # 14:00 CEST
        clock.set(meetings[1].starts_at)
        await h.run_jobs()
        async with h.services.sessionmaker() as session:
            weekly = list(
                await session.scalars(select(Meeting).where(Meeting.series_id.is_not(None)).order_by(Meeting.starts_at))
            )
        assert weekly[1].starts_at == datetime(2026, 10, 27, 13, 0, tzinfo=UTC)  # still 14:00 in Paris
        assert "mardi 27 octobre à 14h" in h.tg.bot_messages(chat.id)[-1].text


async def test_failures_during_a_wave(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    tg.block(julie)
    await relais.settle()
    tg.start_private(julie)  # she comes back...
    tg.block(julie)  # ...and blocks again without the bot noticing in time
    tg.script_fault("sendMessage", "429", retry_after=1, chat_id=chat.id)  # waited out by the limiter
    tg.script_fault("sendMessage", "500", times=1, chat_id=karim.id)  # retried later
    relais.clock.set(J7)
    report = await relais.run_jobs()
    assert any("Dans une semaine" in (m.text or "") for m in tg.bot_messages(chat.id))
    assert report.retried == 1
    relais.clock.advance(timedelta(seconds=10))
    report = await relais.run_jobs()
    assert report.sent == 1 and "Dans une semaine" in private_texts(relais, karim)[-1]
    assert (await load_person(relais, julie.id)).private_status == "unreachable"
    # A message that keeps failing is retried a bounded number of times, then recorded as failed.
    tg.script_fault("sendMessage", "500", times=50, chat_id=karim.id)
    relais.clock.set(J1)
    for _ in range(8):
        await relais.run_jobs()
        relais.clock.advance(timedelta(minutes=15))
    async with relais.services.sessionmaker() as session:
        failed = list(await session.scalars(select(Delivery).where(Delivery.status == "failed")))
    assert len(failed) == 1 and failed[0].attempts == relais.services.settings.meetings.max_attempts


async def test_wave_follows_a_migrated_group(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    tg.allowed_updates = ["callback_query"]  # the service messages are lost
    supergroup = tg.upgrade_to_supergroup(chat, awa)
    tg.allowed_updates = None
    relais.clock.set(J7)
    await relais.run_jobs()
    assert any("Dans une semaine" in (m.text or "") for m in tg.bot_messages(supergroup.id))
    assert (await load_group(relais, supergroup.id)) is not None


async def test_attendance_checklist_and_feedback_poll(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    tg = relais.tg
    tg.start_private(awa)
    await relais.settle()
    relais.clock.set(datetime(2026, 11, 12, 15, 0, tzinfo=UTC))  # two hours after the start
    await relais.run_jobs()
    checklist = tg.bot_messages(awa.id)[-1]
    assert "Qui était là" in checklist.text
    labels = checklist.labels()
    assert "✅ Karim" in labels and "⬜ Julie" in labels and "⬜ Sami" in labels
    tg.press(awa, checklist, "Julie")
    await relais.settle()
    assert "✅ Julie" in checklist.labels()
    tg.send_callback(karim, checklist, checklist.buttons()[-1]["callback_data"])  # not a facilitator
    await relais.settle()
    assert tg.last_callback_answer() == "Réservé à l'animation du groupe."
    tg.press(awa, checklist, "Enregistrer")
    await relais.settle()
    assert "Présence enregistrée pour la réunion n°1 : 2 sur 5 (40 %)" in checklist.text
    async with relais.services.sessionmaker() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting.attendance_rate == 40
        assert (
            await session.scalar(select(func.count()).select_from(Attendance).where(Attendance.present.is_(True))) == 2
        )
    relais.clock.set(datetime(2026, 11, 13, 9, 0, tzinfo=UTC))  # the next day, 10:00 in Paris
    await relais.run_jobs()
    # Karim and Julie came, and both can be written to: the evaluation goes to them in private,
    # and the group gets no poll (tests/e2e/test_evaluation.py follows it further).
    for person in (karim, julie):
        assert tg.bot_messages(person.id)[-1].text.startswith(
            "⭐ La réunion du jeudi 12 novembre à 14h (Centre social) vous a été utile ?"
        )
    assert not any((m.text or "").startswith("⭐") for m in tg.bot_messages(sami.id))  # he did not come
    assert tg.bot_messages(chat.id)[-1].poll is None
    assert (await relais.run_jobs()).sent == 0


async def test_feedback_poll_weeks_late_is_not_sent(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    relais.clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # the bot was down for a week
    await relais.run_jobs()
    assert all(m.poll is None for m in relais.tg.bot_messages(chat.id))
    async with relais.services.sessionmaker() as session:
        statuses = dict((await session.execute(select(ScheduledEvent.kind, ScheduledEvent.status))).all())
    assert statuses["feedback_poll"] == "skipped"


async def test_two_processes_on_postgresql_send_each_reminder_once(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite is for one process; several processes share PostgreSQL")
    from bot.application import build_application
    from bot.services import Services
    from storage.db import create_engine, create_sessionmaker

    clock = FakeClock()
    overrides = {"meetings": {"send_concurrency": 4}}
    async with Harness(database_url, clock=clock, overrides=overrides) as h:
        tg = h.tg
        chats = []
        for index in range(6):
            admin = tg.user(f"Anim{index}", f"anim_{index}")
            chat = tg.group(f"Groupe {index}", creator=admin)
            tg.add_bot(chat, admin)
            for member in range(10):
                person = tg.user(f"M{index}x{member}", f"m{index}x{member}")
                tg.join(chat, person)
                tg.start_private(person)
            tg.say(chat, admin, MEETING)
            chats.append(chat)
        await h.settle()
        # A second process: its own engine, connections and Application, the same database.
        engine = create_engine(database_url)
        other = Services(
            settings=h.services.settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            clock=clock,
            link_secret=h.services.link_secret,
            auto_dispatch=False,
        )
        second = build_application(other, with_updater=False)
        await second.initialize()
        await start_dispatcher(second)  # as the runtime does: its dispatcher (no periodic run here)
        try:
            clock.set(J7)
            # Each send takes Telegram 100 ms: the first process cannot have sent the whole wave
            # (72 messages in batches of four, two batches in flight: at least 0.9 s) before the
            # second starts at 0.3 s, however fast the machine (at 30 ms a quiet machine did).
            tg.script_fault("sendMessage", "slow", times=72, delay=0.1)

            async def a_moment_later():
                await asyncio.sleep(0.3)  # the wave is under way: rows are pending and being claimed
                return await dispatch_now(second)

            first_report, second_report = await asyncio.gather(dispatch_now(h.app), a_moment_later())
        finally:
            await second.shutdown()
            await engine.dispose()
        assert first_report.sent > 0 and second_report.sent > 0  # both did part of the work
        # Each group's reminder and its "Recevoir mes rappels en privé" (its facilitator never
        # opened the private chat), and the 60 private reminders: each once.
        assert first_report.sent + second_report.sent == 6 + 6 + 60
        for chat in chats:
            reminders = [m for m in tg.bot_messages(chat.id) if m.text.startswith("⏰ Dans une semaine :")]
            nudges = [m for m in tg.bot_messages(chat.id) if m.text.startswith("🔔 Pour recevoir")]
            assert len(reminders) == 1 and len(nudges) == 1
        reminded = [
            u
            for u in tg.users.values()
            if u.id in tg.chats and sum("Vous venez" in m.text for m in tg.bot_messages(u.id)) > 0
        ]
        assert len(reminded) == 60
        assert all(sum("Vous venez" in m.text for m in tg.bot_messages(u.id)) == 1 for u in reminded)
        async with h.services.sessionmaker() as session:
            assert (
                await session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status != "sent")) == 0
            )


async def test_scheduler_is_rebuilt_from_the_database(database_url):
    from jobs.scheduler import HORIZON, JOB_NAME

    clock = FakeClock()
    async with Harness(database_url, clock=clock) as h:
        chat, awa, _ = await group_with_bot(h, members=1)
        h.tg.say(chat, awa, MEETING)
        await h.settle()
        await h.restart()  # a new process: nothing in memory
        async with h.services.sessionmaker() as session:
            due = set(await session.scalars(select(ScheduledEvent.due_at).where(ScheduledEvent.status == "pending")))
        # Restarted half an hour before the first reminder: the moments of the next hour get a
        # job (the later ones are planned from the database when their hour comes).
        clock.set(min(due) - timedelta(minutes=30))
        near = {moment for moment in due if moment < clock.now() + HORIZON}
        assert near and near != due
        h.services.auto_dispatch = True
        try:
            assert await start_dispatcher(h.app) == len(near)
            jobs = [job for job in h.app.job_queue.jobs() if job.name == JOB_NAME]
            once = {job.next_t for job in jobs if job.job.trigger.__class__.__name__ == "DateTrigger"}
            assert once == near and len(jobs) == len(near) + 1  # plus the periodic run
        finally:
            h.services.auto_dispatch = False
            for job in h.app.job_queue.jobs():
                job.schedule_removal()


async def test_wave_to_a_group_that_removed_the_bot_unseen(relais):
    chat, awa, karim, julie, sami, lina = await setup_meeting(relais)
    chat.statuses[relais.tg.bot.id] = "left"  # removed while the bot was down: no update came
    relais.clock.set(J7)
    report = await relais.run_jobs()
    assert report.failed == 0 and report.skipped >= 1
    assert not (await load_group(relais, chat.id)).active
    assert (await relais.run_jobs()).sent == 0  # nothing more is tried for that group
