"""The dashboard's access rules over a session, on every backend: a login link is signed,
expires, serves once and is stored only as a hash; a session ends after its idle time; who sees
which group is the chat's rule, and coordinators see every group."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.domain.web_access import (
    LoginError,
    Viewer,
    _checked_secret,
    check_login,
    forget_expired,
    issue_login,
    open_viewer,
    redeem_login,
    visible_groups,
)
from storage.models import Membership, WebLogin, WebSession
from tests.support.world import NOW, make_group, make_members

KEY = b"a key"
IDLE = timedelta(minutes=30)


async def no_admins(chat_id: int) -> frozenset[int]:
    return frozenset()


async def test_a_link_serves_once_within_its_minutes(session):
    group = await make_group(session)
    (awa,) = await make_members(session, group, "Awa")
    token = await issue_login(session, awa, KEY, NOW, 15)
    secret = token.split(".")[0]
    stored = await session.scalar(select(WebLogin))
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in stored.token_hash
    assert (await check_login(session, token, KEY, NOW + timedelta(minutes=14))).person_id == awa.id
    cookie, opened = await redeem_login(session, token, KEY, NOW + timedelta(minutes=1), "fr")
    assert opened.person_id == awa.id and len(opened.csrf) >= 24
    with pytest.raises(LoginError) as used:
        await redeem_login(session, token, KEY, NOW + timedelta(minutes=2), "fr")
    assert used.value.key == "web.login.used"
    late = await issue_login(session, awa, KEY, NOW, 15)
    with pytest.raises(LoginError) as expired:
        await check_login(session, late, KEY, NOW + timedelta(minutes=15))
    assert expired.value.key == "web.login.expired"
    with pytest.raises(LoginError) as other_key:
        await check_login(session, late, b"another key", NOW)
    assert other_key.value.key == "web.login.invalid"
    assert await session.scalar(select(func.count()).select_from(WebSession)) == 1  # refusals opened none


async def test_a_session_ends_after_its_idle_time(session):
    group = await make_group(session)
    (awa,) = await make_members(session, group, "Awa")
    cookie, _ = await redeem_login(session, await issue_login(session, awa, KEY, NOW, 15), KEY, NOW, "fr")
    seen = await open_viewer(session, cookie, NOW + timedelta(minutes=29), IDLE, frozenset())
    assert seen is not None and seen.person.id == awa.id and not seen.coordinator
    # Used at minute 29, then 58: each use gives it 30 more minutes, and no more.
    assert await open_viewer(session, cookie, NOW + timedelta(minutes=58), IDLE, frozenset()) is not None
    assert await open_viewer(session, cookie, NOW + timedelta(minutes=89), IDLE, frozenset()) is None
    assert await open_viewer(session, cookie, NOW + timedelta(minutes=90), IDLE, frozenset()) is None
    assert await open_viewer(session, "not a cookie", NOW, IDLE, frozenset()) is None
    await session.flush()
    assert await session.scalar(select(func.count()).select_from(WebSession)) == 0


async def test_a_session_ends_after_twelve_hours_however_busy(session):
    group = await make_group(session)
    (awa,) = await make_members(session, group, "Awa")
    cookie, _ = await redeem_login(session, await issue_login(session, awa, KEY, NOW, 15), KEY, NOW, "fr")
    for minutes in range(20, 12 * 60, 20):  # used every 20 minutes all day
        assert await open_viewer(session, cookie, NOW + timedelta(minutes=minutes), IDLE, frozenset()) is not None
    assert await open_viewer(session, cookie, NOW + timedelta(hours=12), IDLE, frozenset()) is None
    await session.flush()
    assert await session.scalar(select(func.count()).select_from(WebSession)) == 0


async def test_links_and_sessions_past_use_are_forgotten(session):
    group = await make_group(session)
    (awa,) = await make_members(session, group, "Awa")
    await issue_login(session, awa, KEY, NOW, 15)
    await redeem_login(session, await issue_login(session, awa, KEY, NOW, 15), KEY, NOW, "fr")
    await forget_expired(session, NOW + timedelta(hours=2), IDLE)
    assert await session.scalar(select(func.count()).select_from(WebSession)) == 0
    assert await session.scalar(select(func.count()).select_from(WebLogin)) == 2  # kept a day: "déjà servi"
    await forget_expired(session, NOW + timedelta(days=2), IDLE)
    assert await session.scalar(select(func.count()).select_from(WebLogin)) == 0


async def test_who_sees_which_group(session):
    ours = await make_group(session, chat_id=-1)
    theirs = await make_group(session, chat_id=-2)
    awa, karim = await make_members(session, ours, "Awa", "Karim")
    (zoe,) = await make_members(session, theirs, "Zoé")
    membership = await session.scalar(select(Membership).where(Membership.person_id == awa.id))
    membership.named_facilitator = True
    await session.flush()

    def viewer(person, coordinator=False):
        return Viewer(WebSession(csrf="c", language="fr"), person, coordinator)

    assert [g.id for g in await visible_groups(session, viewer(awa), no_admins)] == [ours.id]
    assert await visible_groups(session, viewer(karim), no_admins) == []

    async def zoe_admin(chat_id: int) -> frozenset[int]:
        return frozenset({zoe.telegram_id}) if chat_id == theirs.chat_id else frozenset()

    assert [g.id for g in await visible_groups(session, viewer(zoe), zoe_admin)] == [theirs.id]
    everyone = await visible_groups(session, viewer(karim, coordinator=True), no_admins)
    assert {g.id for g in everyone} == {ours.id, theirs.id}
    theirs.active = False  # the bot was removed: no longer shown
    assert [g.id for g in await visible_groups(session, viewer(karim, coordinator=True), no_admins)] == [ours.id]


@given(st.text(max_size=300))
def test_any_forged_token_is_refused_without_a_lookup(token):
    with pytest.raises(LoginError):
        _checked_secret(token, KEY, NOW)
