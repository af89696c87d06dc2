"""Catalogues: complete in both languages, every key used exists, plain words in group messages."""

from __future__ import annotations

import re
from pathlib import Path

from bot.simulator import telegram_html
from bot.ui.i18n import LANGUAGES, Markup, catalogue, pick_language, placeholders, t

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_GROUPS = ("rsa", "allocataire", "bénéficiaire", "beneficiaire", "usager")
KEY_RE = re.compile(r"""\b(?:t|plain)\(\s*[^,()]+,\s*f?["']([a-z_.]+[a-z_.{}A-Z/]*)["']""")


def test_same_keys_and_placeholders_in_every_language():
    french = catalogue("fr")
    for language in LANGUAGES:
        other = catalogue(language)
        assert other.keys() == french.keys(), f"{language}: {other.keys() ^ french.keys()}"
        for key in french:
            assert placeholders(other[key]) == placeholders(french[key]), key


def test_every_key_used_in_code_exists():
    used = set()
    for path in (
        list((ROOT / "bot").rglob("*.py"))
        + list((ROOT / "handlers").rglob("*.py"))
        + list((ROOT / "jobs").rglob("*.py"))
    ):
        used.update(KEY_RE.findall(path.read_text(encoding="utf-8")))
    assert used, "the scan found no keys: the pattern is broken"
    static = {key for key in used if "{" not in key}
    missing = static - catalogue("fr").keys()
    assert not missing
    prefixes = {key.split("{")[0] for key in used if "{" in key}
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in catalogue("fr")), prefix


def test_every_message_is_valid_telegram_html_and_short():
    for language in LANGUAGES:
        for key, text in catalogue(language).items():
            rendered = text.format(**dict.fromkeys(placeholders(text), "x"))
            parsed = telegram_html.parse(rendered)
            assert telegram_html.utf16_length(parsed.text) < 1500, key


def test_no_stigmatising_words():
    for language in LANGUAGES:
        for key, text in catalogue(language).items():
            lowered = text.lower()
            for word in FORBIDDEN_IN_GROUPS:
                assert not re.search(rf"\b{word}\b", lowered), f"{language}:{key} says {word!r}"


def test_values_are_escaped_unless_markup():
    assert (
        t("fr", "facilitator.named", name="<b>Zoé & co</b>")
        == "&lt;b&gt;Zoé &amp; co&lt;/b&gt; anime aussi le groupe désormais."
    )
    assert t("fr", "facilitator.named", name=Markup("<b>Zoé</b>")).startswith("<b>Zoé</b>")


def test_pick_language():
    assert pick_language("en-GB") == "en" and pick_language("fr") == "fr"
    assert pick_language("pt-BR") == "fr" and pick_language(None, "en") == "en"


TN_RE = re.compile(r"""\btn\(\s*[^,()]+,\s*["']([a-z_.]+)["']""")


def test_plural_messages_exist_in_every_language_with_their_forms():
    from bot.ui.i18n import plurals, tn

    french, _ = plurals("fr")
    assert french, "no plural message found: the catalogue reader is broken"
    for language in LANGUAGES:
        forms, rule = plurals(language)
        assert forms.keys() == french.keys(), f"{language}: {forms.keys() ^ french.keys()}"
        for key, texts in forms.items():
            assert len(texts) == 2, key
            assert all(placeholders(text) == placeholders(french[key][0]) for text in texts), key
    used = set()
    for path in list((ROOT / "bot").rglob("*.py")) + list((ROOT / "handlers").rglob("*.py")):
        used.update(TN_RE.findall(path.read_text(encoding="utf-8")))
    assert used and used <= french.keys(), used - french.keys()
    # French says "0 réunion" and "1 réunion", English "0 meetings" and "1 meeting".
    assert tn("fr", "privacy.summary.answers", 0) == "• vous avez répondu à 0 réunion"
    assert tn("fr", "privacy.summary.answers", 2) == "• vous avez répondu à 2 réunions"
    assert tn("en", "privacy.summary.answers", 0) == "• you answered 0 meetings"
    assert tn("en", "privacy.summary.answers", 1) == "• you answered 1 meeting"
