"""Property-based tests for the parsers and encoders."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.deeplinks import derive_secret, group_payload, parse_group_payload
from bot.domain.groups import GroupSettingError, validate_setup
from bot.simulator import telegram_html
from bot.ui.lengths import split_text, visible_length

SECRET = derive_secret("123:abc")
PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@given(st.text())
def test_escaped_text_always_parses_back_to_itself(text):
    assert telegram_html.parse(html.escape(text, quote=False)).text == text


@given(st.text())
def test_html_parser_never_crashes(text):
    try:
        telegram_html.parse(text)
    except telegram_html.HTMLParseError as exc:
        assert str(exc).startswith("can't parse entities")


@given(st.integers(min_value=1, max_value=10**12))
def test_group_payload_round_trip_and_fits_telegram(group_id):
    payload = group_payload(SECRET, group_id)
    assert PAYLOAD_RE.match(payload)
    assert parse_group_payload(SECRET, payload) == group_id
    assert parse_group_payload(derive_secret("other:token"), payload) is None


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=11), st.sampled_from("AZaz09_-"))
def test_tampered_payload_rejected(group_id, position, replacement):
    payload = group_payload(SECRET, group_id)
    signature_start = payload.index("-") + 1
    index = signature_start + position
    tampered = payload[:index] + replacement + payload[index + 1 :]
    if tampered != payload:
        assert parse_group_payload(SECRET, tampered) is None


@given(st.text(max_size=300))
def test_any_text_is_a_valid_payload_or_none(text):
    result = parse_group_payload(SECRET, text)
    assert result is None or (isinstance(result, int) and result >= 0)


@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=40)))
def test_setup_validation_accepts_or_names_the_problem(name, zone):
    try:
        setup = validate_setup(name, zone, "Europe/Paris")
    except GroupSettingError as exc:
        assert exc.key.startswith("setup.error.")
    else:
        assert 1 <= len(setup.name) <= 80 and setup.name == setup.name.strip()


LINE = st.one_of(
    st.builds(
        lambda text: html.escape(text, quote=False),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=300),
    ),
    st.builds(lambda word: f"<b>{html.escape(word, quote=False)}</b>", st.text(max_size=40)),
    st.just("😀" * 40),
)


@given(st.lists(LINE, max_size=60), st.integers(min_value=60, max_value=4096))
def test_a_long_message_splits_into_valid_parts_under_the_limit_with_nothing_lost(lines, limit):
    text = "\n".join(lines)
    parts = split_text(text, limit)
    for part in parts:
        parsed = telegram_html.parse(part)  # every part is whole Telegram HTML
        assert telegram_html.utf16_length(parsed.text) <= limit or "<b>" in part  # a marked line is never cut
    seen = "".join("".join(telegram_html.parse(part).text.split()) for part in parts)
    assert seen == "".join(telegram_html.parse(text).text.split())
    if visible_length(text) <= limit:
        assert parts == [text]


def test_length_is_counted_as_telegram_counts():
    assert visible_length("<b>Caf&amp;é</b> 😀") == len("Caf&é ") + 2


@given(st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=200), st.integers(min_value=10, max_value=120))
def test_an_excerpt_fits_and_never_cuts_a_word_it_could_keep_whole(text, limit):
    from bot.ui.proposals import excerpt

    shown = excerpt(text, limit)
    assert len(shown) <= limit
    if len(text) <= limit:
        assert shown == text
        return
    assert shown.endswith("…")
    kept = shown[:-1]
    assert text.startswith(kept)
    rest = text[len(kept) :]
    # Cut between two words, unless the last word is longer than half the room.
    assert rest[:1].isspace() or kept.rfind(" ") <= limit // 2


def test_a_digest_line_stops_between_words():
    from bot.ui.proposals import excerpt

    assert excerpt("Des horaires de bus adaptés aux réunions du soir", 30) == "Des horaires de bus adaptés…"
