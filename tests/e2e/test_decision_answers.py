"""End to end: the decision-maker's answer, on the clock. A proposal transmitted with a deadline;
the link given to the facilitator in private and mailed to the addressee (a fake SMTP server);
the page opened and answered without an account; a form without its CSRF token, a forged or
altered link, a link for another proposal, a refusal without its reason: refused, nothing
changes; the group, the author and a follower told once, a crash between the answer and the
sends included; a second answer recorded as an update; a deadline passed with the group, the
facilitator and the coordinator told once; the department's figures equal a hand count."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import select

from bot.domain import answers
from bot.simulator.harness import Harness
from storage.models import Mail, Proposal, ProposalAnswer
from tests.conftest import assert_telegram_happy
from tests.e2e.test_dashboard import browser, log_in
from tests.e2e.test_durable_notices import Crash, restart_after_lease
from tests.support.helpers import group_with_bot, last_text, load_group
from tests.support.smtp import FakeSmtp

BUS = "Un bus le samedi matin pour aller au marché"
SALLE = "Une salle ouverte le soir pour les devoirs"
LINK_RE = re.compile(r"(http://\S+/reponse/(\S+))")
ACCEPTED = "est acceptée"


@pytest.fixture
async def answering(database_url, clock):
    with FakeSmtp() as smtp:
        overrides = {"mail": smtp.settings()}
        async with Harness(database_url, clock=clock, overrides=overrides) as h:
            h.smtp = smtp
            yield h
            await h.settle()
            assert_telegram_happy(h)


async def transmitted_world(h):
    """Awa's group; Karim proposes the bus, Julie follows it; the department lists the Service
    mobilité (with its address) and the Direction de l'insertion (without)."""
    chat, awa, (karim, julie) = await group_with_bot(h)
    tg = h.tg
    for person in (awa, karim, julie):
        tg.start_private(person)
    coordinator = tg.user("Claire", "claire_coord")
    h.services.settings.dashboard.coordinators.append(coordinator.id)  # as the configuration says,
    h.overrides["dashboard"] = {"coordinators": [coordinator.id]}  # and after a restart
    tg.start_private(coordinator)
    tg.say(chat, karim, f"/proposition {BUS}")
    tg.say(chat, julie, f"/proposition {SALLE}")
    await h.settle()
    bus_ack = next(m for m in tg.bot_messages(chat.id) if BUS in (m.text or ""))
    tg.press(julie, bus_ack, "Suivre")
    async with h.services.sessionmaker.begin() as session:
        now = h.clock.now()
        await answers.add_addressee(session, "Service mobilité", "mobilite@ain.fr", now)
        await answers.add_addressee(session, "Direction de l'insertion", "", now)
    tg.say(chat, awa, "/suivi 1 transmise au Service mobilité délai 30 jours")
    tg.say(chat, awa, "/suivi 2 transmise Direction de l'insertion")
    await h.settle()
    await h.run_jobs()
    return chat, awa, karim, julie, coordinator


async def open_page(client, url):
    async with client.get(url) as page:
        return page.status, await page.text()


def csrf_of(body: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', body).group(1)


async def proposal(h, number: int) -> Proposal:
    async with h.services.sessionmaker() as session:
        return (await session.scalars(select(Proposal).where(Proposal.number == number))).one()


async def test_transmitted_answered_and_told_once(answering, monkeypatch):
    h = answering
    chat, awa, karim, julie, coordinator = await transmitted_world(h)
    tg = h.tg
    sent = await proposal(h, 1)
    assert sent.addressee_name == "Service mobilité" and sent.state_note == "au Service mobilité"
    assert sent.answer_due == sent.transmitted_at + timedelta(days=30)
    assert "📨 La proposition n°1" in " ".join(m.text or "" for m in tg.bot_messages(chat.id))
    # The facilitator gets the link in private; the Service mobilité gets it by mail.
    link_message = next(m.text for m in tg.bot_messages(awa.id) if "n°1 du groupe" in (m.text or ""))
    assert "Relais lui a envoyé ce lien par e-mail" in link_message
    url, token = LINK_RE.search(link_message).groups()
    [mail] = h.smtp.mailbox.to("mobilite@ain.fr")
    assert mail["Subject"].startswith("Proposition du groupe « Groupe ressources Oyonnax »")
    assert url in mail.get_content() and BUS in mail.get_content()
    assert "Karim" not in mail.get_content() and "Julie" not in mail.get_content()
    other = next(m.text for m in tg.bot_messages(awa.id) if "n°2 du groupe" in (m.text or ""))
    assert "Transférez-lui ce lien par e-mail" in other  # no address listed: the facilitator forwards it
    other_url, other_token = LINK_RE.search(other).groups()
    # The board says by when.
    tg.say(chat, awa, "/propositions")
    await h.settle()
    assert "réponse du Service mobilité attendue avant le" in last_text(h, chat.id)
    assert "réponse de la Direction de l'insertion attendue avant le" in last_text(h, chat.id)

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        status, page = await open_page(client, url)
        assert status == 200 and BUS in html.unescape(page) and "Groupe ressources Oyonnax" in html.unescape(page)
        assert "Karim" not in page and "Julie" not in page  # the group's words, never its members' names
        csrf = csrf_of(page)
        # A form without its CSRF token, a forged token, a token altered, another proposal's
        # signature on this one: refused, nothing changes.
        async with client.post(url, data={"etat": "acceptee", "reponse": "Oui"}, allow_redirects=False) as no_csrf:
            assert no_csrf.status == 403
        forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
        assert (await open_page(client, forged))[0] == 404
        number, stamp, mac = token.split("-", 2)
        _, _, other_mac = other_token.split("-", 2)
        assert (await open_page(client, url.replace(token, f"{number}-{stamp}-{other_mac}")))[0] == 404
        assert (await open_page(client, url.replace(token, f"{number}-{int(stamp) + 1}-{mac}")))[0] == 404
        # A refusal without its reason: the page says why, nothing changes.
        async with client.post(url, data={"etat": "refusee", "reponse": " ", "csrf": csrf}) as no_reason:
            assert no_reason.status == 400 and "donnez la raison" in await no_reason.text()
        assert (await proposal(h, 1)).state == "sent"
        # The answer, with a crash between its commit and the sends: told exactly once after.
        crash = Crash(monkeypatch, 0)
        base = h.services.dashboard_url
        words = "Une navette le samedi dès mars, à l'essai six mois"
        async with client.post(url, data={"etat": "acceptee", "reponse": words, "csrf": csrf}) as answered:
            assert answered.status == 200 and "Merci : votre réponse est enregistrée" in await answered.text()
        assert (await proposal(h, 1)).state == "accepted"
        assert not any(ACCEPTED in (m.text or "") for m in tg.bot_messages(chat.id))
        crash.undo()
        await restart_after_lease(h)
        url = url.replace(base, h.services.dashboard_url)  # the new process listens on another port
        told = [m.text for m in tg.bot_messages(chat.id) if ACCEPTED in (m.text or "")]
        assert told == [f"👍 La proposition n°1 « {BUS} » est acceptée ! (réponse du Service mobilité : « {words} »)"]
        for person in (karim, julie):
            news = [m.text for m in tg.bot_messages(person.id) if ACCEPTED in (m.text or "")]
            assert len(news) == 1, person.first_name
        # The answered link shows the answer; a second answer is an update, told once too.
        status, page = await open_page(client, url)
        assert status == 200 and "Votre réponse" in page and words in html.unescape(page)
        async with client.post(
            url, data={"etat": "en_cours", "reponse": "La navette roule depuis lundi", "csrf": csrf_of(page)}
        ) as updated:
            assert updated.status == 200
        await h.run_jobs()
        await h.settle()
        assert sum("en cours de réalisation" in (m.text or "") for m in tg.bot_messages(chat.id)) == 1
    async with h.services.sessionmaker() as session:
        recorded = list(await session.scalars(select(ProposalAnswer).order_by(ProposalAnswer.id)))
    assert [(a.state, a.is_update, a.in_time) for a in recorded] == [
        ("accepted", False, True),
        ("in_progress", True, True),
    ]

    # Proposal 2's deadline (60 days): a week before, the facilitator is asked to forward the
    # link again (no address listed); at the deadline the group, the facilitator and the
    # coordinator are told, once.
    due = (await proposal(h, 2)).answer_due
    h.clock.set(due - timedelta(days=7) + timedelta(minutes=1))
    await h.run_jobs()
    forward = [m.text for m in tg.bot_messages(awa.id) if "Transférez-lui à nouveau" in (m.text or "")]
    assert len(forward) == 1 and other_token in forward[0]
    h.clock.set(due + timedelta(minutes=1))
    await h.run_jobs()
    await h.run_jobs()
    overdue = [m.text for m in tg.bot_messages(chat.id) if "Pas encore de réponse" in (m.text or "")]
    assert overdue == [
        f"⏰ Pas encore de réponse de la Direction de l'insertion, 60 jours après. C'est pour la proposition n°2 "
        f"« {SALLE} ». L'animation va relancer."
    ]
    for reader in (awa, coordinator):
        reports = [m.text for m in tg.bot_messages(reader.id) if "Le délai est dépassé" in (m.text or "")]
        assert len(reports) == 1, reader.first_name
    assert (await proposal(h, 2)).overdue_at is not None
    tg.say(chat, awa, "/propositions")
    await h.settle()
    assert "pas de réponse de la Direction de l'insertion, attendue avant le" in last_text(h, chat.id)
    # The department's figures, by hand: the Service mobilité answered one of one in time, the
    # same day; the Direction de l'insertion, none of one, overdue.
    async with h.services.sessionmaker() as session:
        records = {r.name: r for r in await answers.by_addressee(session, h.clock.now())}
        mails = list(await session.scalars(select(Mail)))
    direction, mobility = records["Direction de l'insertion"], records["Service mobilité"]
    assert (direction.transmitted, direction.in_time, direction.overdue, direction.median_days) == (1, 0, 1, None)
    assert (mobility.transmitted, mobility.in_time, mobility.late, mobility.overdue) == (1, 1, 0, 0)
    assert mobility.median_days == 0.0
    assert mails == []  # the link's mail went two months ago: kept a week (it holds a work address)
    assert len(h.smtp.mailbox.to("mobilite@ain.fr")) == 1  # no reminder: it was answered
    # /bilan: the group's answers in time.
    tg.say(chat, awa, "/bilan")
    await h.settle()
    report = next(m.text for m in reversed(tg.bot_messages(awa.id)) if (m.text or "").startswith("📊"))
    assert "📬 Réponses des décideurs dans les délais : 1 sur 2" in report


async def test_transmitted_again_replaces_the_link(answering):
    h = answering
    chat, awa, karim, julie, coordinator = await transmitted_world(h)
    link_message = next(m.text for m in h.tg.bot_messages(awa.id) if "n°2 du groupe" in (m.text or ""))
    url, _ = LINK_RE.search(link_message).groups()
    h.clock.advance(timedelta(days=1))
    h.tg.say(chat, awa, "/suivi 2 transmise Service mobilité")
    await h.settle()
    await h.run_jobs()
    async with aiohttp.ClientSession() as client:
        status, page = await open_page(client, url)
    assert status == 410 and "transmise à nouveau" in html.unescape(page)
    assert len(h.smtp.mailbox.to("mobilite@ain.fr")) == 2  # the new link, mailed
    # A deadline that is no number of days refuses the change, and changes nothing.
    h.tg.say(chat, awa, "/suivi 1 transmise Service mobilité délai 0 jours")
    await h.settle()
    assert "Le délai de réponse va de 1 à 365 jours" in last_text(h, chat.id)
    # A week before the new deadline: the Service mobilité is reminded by mail, and the
    # facilitator is not asked to forward anything.
    due = (await proposal(h, 2)).answer_due
    h.clock.set(due - timedelta(days=7) + timedelta(minutes=1))
    await h.run_jobs()
    # Its two links, then the reminders of both proposals (n°1's at day 23 of its 30, n°2's now).
    subjects = [mail["Subject"] for mail in h.smtp.mailbox.to("mobilite@ain.fr")]
    assert len(subjects) == 4 and all(s.startswith("Rappel : proposition du groupe") for s in subjects[2:])
    assert not any("Transférez-lui à nouveau" in (m.text or "") for m in h.tg.bot_messages(awa.id))


async def test_coordinators_keep_the_list_of_addressees(answering):
    h = answering
    chat, awa, karim, julie, coordinator = await transmitted_world(h)
    base = h.services.dashboard_url
    group = await load_group(h, chat.id)
    async with browser() as client:
        await log_in(h, client, awa)
        async with client.get(f"{base}/destinataires") as page:
            assert page.status == 403  # a facilitator, not a coordinator
        # The group's page says by when, and offers the list in the transmission's note.
        async with client.get(f"{base}/groupes/{group.id}") as page:
            body = html.unescape(await page.text())
        assert "réponse du Service mobilité attendue avant le" in body
        assert '<option value="Direction de l\'insertion">' in body
    async with browser() as client:
        landed = await log_in(h, client, coordinator)
        assert 'href="/destinataires"' in landed
        async with client.get(f"{base}/destinataires") as page:
            body = await page.text()
        assert page.status == 200 and "Direction de l&#39;insertion" in body
        # Each addressee's record: one transmitted each, waiting.
        assert re.search(r"Service mobilité</th>\s*<td[^>]*>1</td>", body)
        async with client.post(f"{base}/destinataires", data={"nom": "Cabinet du président"}) as no_csrf:
            assert no_csrf.status == 403
        bad = {"nom": "Cabinet du président", "email": "pas une adresse", "csrf": csrf_of(body)}
        async with client.post(f"{base}/destinataires", data=bad) as refused:
            assert refused.status == 400 and "adresse e-mail n&#39;est pas valable" in await refused.text()
        good = {**bad, "email": "cabinet@ain.fr"}
        async with client.post(f"{base}/destinataires", data=good) as added:
            body = await added.text()
            assert added.status == 200 and "cabinet@ain.fr" in body
        number = re.search(r'action="/destinataires/(\d+)/retirer"', body.split("Cabinet du président")[1]).group(1)
        async with client.post(f"{base}/destinataires/{number}/retirer", data={"csrf": csrf_of(body)}) as removed:
            assert removed.status == 200 and "cabinet@ain.fr" not in await removed.text()
    async with h.services.sessionmaker() as session:
        assert [a.name for a in await answers.addressees(session)] == ["Direction de l'insertion", "Service mobilité"]
