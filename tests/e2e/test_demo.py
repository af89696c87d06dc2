"""`relais demo`: the scripted session runs on the fake Telegram with every request valid, and its
transcript reads as people lived it: one story in time order across the group and the private
chats, with the taps, the short answers they got, the votes and the buttons under each message."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re

import pytest

from bot.demo import run_demo


def _index(lines: list[str], fragment: str, after: int = -1) -> int:
    return next(i for i, line in enumerate(lines) if i > after and fragment in line)


@pytest.fixture(scope="module")
def transcript() -> list[str]:
    """The demo, played once for the tests of this module: its printed lines."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert asyncio.run(run_demo()) == 0
    return printed.getvalue().splitlines()


def test_the_demo_transcript_reads_in_time_order(transcript):
    lines = transcript
    assert lines[-1] == "Fin de la démonstration : toutes les requêtes étaient valides pour Telegram."
    assert len(lines) <= 300  # a few minutes' reading
    # A tap, the short answer it got, then the announcement's counts updated: in that order.
    tap = _index(lines, "Karim touche [ ✅ Je viens ]")
    assert "Karim voit, en bref : C'est noté : vous venez." in lines[tap + 1]
    assert "(message mis à jour) : 📣 Prochaine réunion" in lines[tap + 2]
    assert "✅ 1 oui" in "\n".join(lines[tap + 2 : tap + 9])
    # Departure points by a town's name; Julie types her commune and gets the nearest point.
    assert "[Groupe ressources Oyonnax] 🤖 Relais : 📍 Lieu de départ ajouté : Bellignat." in lines
    nearest = _index(lines, "[privé Julie] 🤖 Relais : 📍 Le lieu de départ le plus proche est Oyonnax")
    assert lines[nearest - 1] == "[privé Julie] Julie : Arbent"
    # Across chats: Julie's request reaches Karim in private before his acceptance, then her.
    asked = _index(lines, "[privé Karim] 🤖 Relais : 🙋 Julie cherche une place depuis Oyonnax", nearest)
    accepted = _index(lines, "[privé Karim] Karim touche [ ✅ Accepter ]", asked)
    told = _index(lines, "[privé Julie] 🤖 Relais : ✅ Bonne nouvelle : Karim", accepted)
    assert asked < accepted < told
    # Buttons under messages, reply keyboards and the answer awaited in reply are shown; the
    # announcement's buttons are printed in full once, then named.
    assert any("[ ✅ Je viens ]  [ ❌ Je ne peux pas ]  [ 🤔 Peut-être ]" in line for line in lines)
    assert any("⌨️ [ 📍 Partager ma position ]" in line for line in lines)
    assert any("↩️" in line for line in lines)
    assert any("[ … les 8 boutons de l'annonce ]" in line for line in lines)
    # The same news to several people is printed once, with their names.
    news = _index(lines, "[privé Karim, Julie] 🤖 Relais : 📬 Du nouveau sur une proposition")
    assert "est retenue par le groupe" in lines[news + 1]
    # Around the meeting: the minutes agreed then published, a refund.
    published = _index(lines, "[Groupe ressources Oyonnax] 🤖 Relais : 📝 Compte rendu de la réunion")
    assert _index(lines, "Karim touche [ ✅ D'accord ]") < published
    refunded = _index(lines, "Awa touche [ ✅ Remboursé ]")
    assert "est remboursée" in lines[_index(lines, "[privé Karim] 🤖 Relais : 🧾 Votre demande", refunded)]
    # A newcomer: one welcome line naming nothing but her, then the card and the next meeting in private.
    welcome = _index(lines, "🤖 Relais : 👋 Bienvenue à Nadia dans le groupe !")
    card = _index(lines, "[privé Nadia] 🤖 Relais : 👋 Bienvenue dans le groupe", welcome)
    assert "Animation : Awa." in lines[card + 2]
    # A member without Telegram: her SMS answer moves the group's count.
    sms_in = _index(lines, "[SMS Fatou] Fatou : 1")
    assert _index(lines, "[SMS Fatou] 📱 Relais : Relais, groupe") < _index(lines, "Répondez 1 je viens") < sms_in
    assert "(message mis à jour) : 📣 Prochaine réunion" in lines[sms_in + 1] and "✅ 3 oui" in lines[sms_in + 2]
    # Nothing is printed before what caused it: every "voit" line follows a "touche" line.
    for index, line in enumerate(lines):
        if " voit, " in line:
            assert " touche [ " in lines[index - 1], line


def test_the_demo_shows_each_scene_s_time_the_report_the_dashboard_and_an_attestation(transcript):
    lines = transcript
    scenes = [line for line in lines if line.startswith("— ") and " · " in line]
    assert scenes and all(re.match(r"— \w+ \d+ \w+, \d+h\d\d · ", line) for line in scenes), scenes[:3]
    assert _index(lines, "[privé Awa] 🤖 Relais : 📊 Bilan du groupe") < _index(lines, "🖼 presence.png")
    assert "/connexion?jeton=" in "\n".join(lines[_index(lines, "[privé Awa] Awa : /tableau") :])
    attestation = _index(lines, "🤖 Relais : 📎 attestation-")
    assert attestation > _index(lines, "Karim touche [ ✅ Oui, c'est bon ]")
    assert lines[attestation].split("]")[0] in ("[privé Awa, Karim", "[privé Karim, Awa")  # the same PDF, to both
    assert lines[-3].startswith("— Ce que Relais a fait pour le groupe en un mois : ")
    # An edit shows what changed, not the whole message again.
    tap = _index(lines, "Karim touche [ ✅ Je viens ]")
    edited = lines[tap + 2 : _index(lines, "", tap + 2)]
    assert len(edited) <= 3, edited
