"""The values that tune the rules (reminder offsets, poll lengths, carpool radius), validated.

`bot/config.py` reads them from the file and the environment with the rest of the settings; they
live here because the domain's rules take them as parameters."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


_OFFSET_RE = re.compile(r"^(\d{1,3})(j|h|min)$")
_CLOCK_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class MeetingsSection(Section):
    # Reminders before each meeting: "7j" is 7 days before at reminder_time (local time of the
    # group), "2h" and "30min" are exactly that long before the start.
    default_reminders: str = "7j 1j"
    reminder_time: str = "10:00"
    duration_minutes: int = Field(default=120, ge=15, le=720)
    dispatch_interval_seconds: int = Field(default=20, ge=1, le=3600)
    send_concurrency: int = Field(default=60, ge=1, le=200)
    max_attempts: int = Field(default=5, ge=1, le=20)
    # Facilitators get the carpool requests still without a seat this many days before a meeting,
    # at reminder_time (drivers and passengers are reminded the day before).
    carpool_alert_days: int = Field(default=2, ge=2, le=14)
    # The minutes (/compterendu) go to those who came for their opinion this many days before
    # they are posted in the group (or sooner, on a facilitator's word).
    minutes_review_days: int = Field(default=3, ge=0, le=30)

    @field_validator("default_reminders")
    @classmethod
    def _offsets(cls, value: str) -> str:
        if not all(_OFFSET_RE.match(token) for token in value.split()) or not value.split():
            raise ValueError('offsets such as "7j 1j 2h 30min"')
        return value

    @field_validator("reminder_time")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK_RE.match(value):
            raise ValueError('a local time such as "10:00"')
        return value


class ProposalsSection(Section):
    # How long a poll (/sondage, /vote) or a priority round (/priorites) stays open unless the
    # command gives a deadline ("jusqu'à vendredi 18h").
    poll_hours: int = Field(default=48, ge=1, le=720)
    # Members who have not voted get one private reminder this long before the deadline (at the
    # poll's half-way point when the poll is shorter than twice this).
    poll_reminder_hours: int = Field(default=24, ge=1, le=168)
    # How many proposals each member may pick in a priority round.
    priority_picks: int = Field(default=3, ge=1, le=10)
    # Day of the month the digest "Où en sont nos propositions ?" is posted (at meetings.reminder_time).
    digest_day: int = Field(default=1, ge=1, le=28)
    # Longest proposal text, in characters.
    text_max: int = Field(default=600, ge=50, le=2000)
    # A transmitted proposal's answer is expected within this many days ("délai 30 jours" in
    # /suivi changes it for one proposal); the addressee is reminded answer_reminder_days before.
    answer_days: int = Field(default=60, ge=1, le=365)
    answer_reminder_days: int = Field(default=7, ge=1, le=60)
    # The answer link still opens this many days after the deadline (a late answer is welcome).
    answer_grace_days: int = Field(default=30, ge=0, le=365)


class CostsSection(Section):
    # A flat allowance per half-day of participation, in euros (one department pays 15 €); none
    # by default: members then claim their costs on receipts.
    allowance_per_half_day: float | None = Field(default=None, ge=0, le=500)
    # Claims and their receipts (Telegram file ids only) are erased this many months after they
    # were made, once the accounts are closed.
    keep_months: int = Field(default=13, ge=1, le=120)
    # The largest amount one claim may ask for, in euros (a typing slip is caught, not paid).
    max_claim_euros: float = Field(default=300, gt=0, le=10000)


class MembershipSection(Section):
    # Members' terms, in months (a department allows two years: 24); none by default. A month
    # before a term ends, the facilitators are told and the member asked whether they want to stay.
    term_months: int | None = Field(default=None, ge=1, le=120)
    # How a member who leaves can join another group (a phone number, an office), under the list
    # of the department's other groups (/groupes).
    other_groups_contact: str = Field(default="", max_length=300)


class CarpoolSection(Section):
    # A request is offered to drivers whose departure point is within this distance (km, as the
    # crow flies), nearest first.
    radius_km: float = Field(default=15.0, gt=0, le=200)
