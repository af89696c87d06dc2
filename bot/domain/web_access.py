"""Who may open the dashboard, and for how long.

- /tableau gives a facilitator a one-time link: a random secret signed with the bot's key and
  its expiry. Only a hash of the secret is stored; the link is refused when forged, expired or
  already used (`used_at` is set by the one request that opens the session).
- The link opens a session: a second random secret in an HttpOnly cookie, again stored hashed,
  with the CSRF token every form must carry back. It ends after a time without use.
- Which groups a person sees is the chat's own rule (bot/domain/facilitators.py); coordinators,
  named in the configuration by Telegram user id, see every group.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import RefusalError
from bot.domain.facilitators import AdminLookup, is_facilitator
from storage.models import Group, Membership, Person, WebLogin, WebSession


class LoginError(RefusalError):
    """A login link that cannot open a session: web.login.<reason> says why, in French."""


@dataclass(frozen=True)
class Viewer:
    """The person behind a dashboard session, and what they may see."""

    session: WebSession
    person: Person
    coordinator: bool


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _signature(key: bytes, body: str) -> str:
    mac = hmac.new(hashlib.sha256(b"relais-dashboard:" + key).digest(), body.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:18]).decode()


# A dashboard session ends after this, however busy: a cookie taken from a shared computer, or a
# phone lent, cannot be used for ever (idle_minutes ends an unused one much sooner).
SESSION_MAX = timedelta(hours=12)


async def issue_login(session: AsyncSession, person: Person, key: bytes, now: datetime, minutes: int) -> str:
    """A new login link's token (its secret, its expiry, their signature), recorded unused."""
    secret = secrets.token_urlsafe(24)
    expires = now + timedelta(minutes=minutes)
    body = f"{secret}.{int(expires.timestamp())}"
    session.add(WebLogin(token_hash=_digest(secret), person_id=person.id, created_at=now, expires_at=expires))
    await session.flush()
    return f"{body}.{_signature(key, body)}"


def _checked_secret(token: str, key: bytes, now: datetime) -> str:
    """The secret of a well-signed, unexpired token; LoginError otherwise (no database read:
    a forged link costs nothing)."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(token) > 200:
        raise LoginError("web.login.invalid")
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2].encode(), _signature(key, body).encode()):
        raise LoginError("web.login.invalid")
    if int(parts[1]) <= now.timestamp():
        raise LoginError("web.login.expired")
    return parts[0]


async def check_login(session: AsyncSession, token: str, key: bytes, now: datetime) -> WebLogin:
    """The unused login a link names (before it is used: the page that asks to confirm)."""
    secret = _checked_secret(token, key, now)
    login = await session.scalar(select(WebLogin).where(WebLogin.token_hash == _digest(secret)))
    if login is None:
        raise LoginError("web.login.invalid")
    if login.used_at is not None:
        raise LoginError("web.login.used")
    if login.expires_at <= now:
        raise LoginError("web.login.expired")
    return login


async def redeem_login(
    session: AsyncSession, token: str, key: bytes, now: datetime, language: str
) -> tuple[str, WebSession]:
    """Use the link (once) and open a session: (the cookie's secret, the session)."""
    login = await check_login(session, token, key, now)
    # Used only if still unused, in the statement itself: two requests racing with the same link
    # both read it unused, but only one update finds `used_at` empty (on PostgreSQL the second
    # waits for the first's row lock, then re-reads the row and matches nothing).
    used = await session.execute(
        update(WebLogin).where(WebLogin.id == login.id, WebLogin.used_at.is_(None)).values(used_at=now)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise LoginError("web.login.used")
    secret = secrets.token_urlsafe(32)
    web_session = WebSession(
        token_hash=_digest(secret),
        person_id=login.person_id,
        csrf=secrets.token_urlsafe(24),
        language=language,
        created_at=now,
        last_seen_at=now,
    )
    session.add(web_session)
    await session.flush()
    return secret, web_session


async def open_viewer(
    session: AsyncSession, cookie: str, now: datetime, idle: timedelta, coordinators: frozenset[int]
) -> Viewer | None:
    """The session a cookie names, if it is still alive (its use is recorded); None otherwise."""
    if not cookie or len(cookie) > 100:
        return None
    found = await session.scalar(select(WebSession).where(WebSession.token_hash == _digest(cookie)))
    if found is None:
        return None
    if found.last_seen_at + idle <= now or found.created_at + SESSION_MAX <= now:
        await session.delete(found)  # idle too long, or open too long however busy
        return None
    if now - found.last_seen_at > timedelta(seconds=30):  # one write a half-minute, not one a page
        found.last_seen_at = now
    person = await session.get(Person, found.person_id)
    if person is None:
        return None
    return Viewer(found, person, person.telegram_id in coordinators)


async def close_session(session: AsyncSession, web_session: WebSession) -> None:
    await session.delete(web_session)


async def forget_expired(session: AsyncSession, now: datetime, idle: timedelta) -> None:
    """Links and sessions that can no longer serve are not kept (they point at a person)."""
    await session.execute(delete(WebLogin).where(WebLogin.expires_at < now - timedelta(days=1)))
    await session.execute(
        delete(WebSession).where(or_(WebSession.last_seen_at < now - idle, WebSession.created_at < now - SESSION_MAX))
    )


async def candidate_groups(session: AsyncSession, person: Person) -> list[Group]:
    """The active groups the person belongs to: the only ones they can facilitate."""
    return list(
        await session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.person_id == person.id, Membership.status == "member", Group.active.is_(True))
            .order_by(Group.name, Group.id)
        )
    )


async def facilitated_groups(session: AsyncSession, person: Person, admins: AdminLookup) -> list[Group]:
    """The active groups this person facilitates, by the chat's rule."""
    return [
        group
        for group in await candidate_groups(session, person)
        if await is_facilitator(session, group, person.telegram_id, admins)
    ]


async def visible_groups(session: AsyncSession, viewer: Viewer, admins: AdminLookup) -> list[Group]:
    """Every active group for a coordinator; for anyone else, the groups they facilitate."""
    if viewer.coordinator:
        return list(await session.scalars(select(Group).where(Group.active.is_(True)).order_by(Group.name, Group.id)))
    return await facilitated_groups(session, viewer.person, admins)


async def may_see(session: AsyncSession, viewer: Viewer, group: Group, admins: AdminLookup) -> bool:
    """The chat's rule, for one group's page."""
    if viewer.coordinator:
        return True
    return group.active and await is_facilitator(session, group, viewer.person.telegram_id, admins)
