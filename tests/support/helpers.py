"""Scenario shortcuts shared by end-to-end tests."""

from __future__ import annotations

import io

from sqlalchemy import select

from bot.simulator.harness import Harness
from bot.simulator.server import SimChat, SimUser
from storage.models import Group, Meeting, Membership, Person, Proposal


async def group_with_bot(
    h: Harness, title: str = "Groupe ressources Oyonnax", members: int = 2
) -> tuple[SimChat, SimUser, list[SimUser]]:
    """A group created by an admin ("Awa"), the bot added, `members` members who joined."""
    awa = h.tg.user("Awa", "awa_anim")
    people = [h.tg.user(name, f"{name.lower()}_m") for name in ("Karim", "Julie", "Sami", "Lina")[:members]]
    chat = h.tg.group(title, creator=awa)
    h.tg.add_bot(chat, awa)
    for person in people:
        h.tg.join(chat, person)
    await h.settle()
    return chat, awa, people


def other_group(h: Harness) -> tuple[SimChat, SimUser]:
    """A second group with its own admin ("Zoé"), where forged buttons and numbers come from."""
    admin = h.tg.user("Zoé", "zoe_anim")
    chat = h.tg.group("Autre groupe", creator=admin)
    h.tg.add_bot(chat, admin)
    return chat, admin


async def load_group(h: Harness, chat_id: int) -> Group | None:
    async with h.services.sessionmaker() as session:
        return await session.scalar(select(Group).where(Group.chat_id == chat_id))


async def load_person(h: Harness, telegram_id: int) -> Person | None:
    async with h.services.sessionmaker() as session:
        return await session.scalar(select(Person).where(Person.telegram_id == telegram_id))


async def load_membership(h: Harness, chat_id: int, telegram_id: int) -> Membership | None:
    async with h.services.sessionmaker() as session:
        return await session.scalar(
            select(Membership)
            .join(Group, Group.id == Membership.group_id)
            .join(Person, Person.id == Membership.person_id)
            .where(Group.chat_id == chat_id, Person.telegram_id == telegram_id)
        )


def last_text(h: Harness, chat_id: int) -> str:
    messages = h.tg.bot_messages(chat_id)
    assert messages, f"the bot sent nothing in chat {chat_id}"
    return messages[-1].text


async def meetings_of(h, chat_id) -> list[Meeting]:
    group = await load_group(h, chat_id)
    async with h.services.sessionmaker() as session:
        return list(await session.scalars(select(Meeting).where(Meeting.group_id == group.id).order_by(Meeting.number)))


async def proposals_of(h, chat_id: int) -> list[Proposal]:
    group = await load_group(h, chat_id)
    async with h.services.sessionmaker() as session:
        return list(
            await session.scalars(select(Proposal).where(Proposal.group_id == group.id).order_by(Proposal.number))
        )


def pdf_text(document) -> str:
    """The words of a one-page PDF the bot sent (an attestation)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(bytes(document.content)))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())
