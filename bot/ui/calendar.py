"""An .ics file for "Ajouter à mon agenda" (RFC 5545, via icalendar)."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from storage.models import Group, Meeting


def meeting_ics(group: Group, meeting: Meeting, duration_minutes: int, now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Relais//relais//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"relais-meeting-{meeting.id}@relais")
    event.add("dtstamp", now)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.starts_at + timedelta(minutes=duration_minutes))
    event.add("summary", f"{group.display_name} : {meeting.topic}")
    event.add("location", meeting.place)
    if meeting.agenda:
        event.add("description", meeting.agenda)
    event.add("status", "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
