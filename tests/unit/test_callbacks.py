"""The callback-data codec: every declared button round-trips, and no data — forged, truncated,
from an old release or plain garbage — makes it raise."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ui import callbacks as cb


def field_values(kind: cb.FieldKind) -> st.SearchStrategy:
    if isinstance(kind, cb.Id):
        return st.integers(min_value=1, max_value=999_999_999)
    if isinstance(kind, cb.Number):
        return st.integers(min_value=kind.low, max_value=kind.high)
    if isinstance(kind, cb.Choice):
        return st.sampled_from(sorted(kind.words))
    if isinstance(kind, cb.IdOr):
        return st.one_of(st.just(kind.word), st.integers(min_value=1, max_value=999_999_999))
    if isinstance(kind, cb.InseeCode):
        mainland = st.integers(0, 99_999).map(lambda n: f"{n:05d}")
        corsica = st.tuples(st.sampled_from(("2A", "2B")), st.integers(0, 999)).map(lambda c: f"{c[0]}{c[1]:03d}")
        return st.one_of(mainland, corsica)
    raise AssertionError(f"no strategy for {kind!r}")


buttons = st.sampled_from(sorted(cb.REGISTRY.values(), key=lambda cls: cls.prefix)).flatmap(
    lambda cls: st.tuples(*(field_values(kind) for kind in cls.spec)).map(lambda values: cls(*values))
)


@given(buttons)
def test_every_button_round_trips_within_telegram_limit(button):
    data = button.encode()
    assert 1 <= len(data.encode()) <= 64
    assert cb.decode(data) == button
    assert type(button).matches(data)


@given(st.binary(max_size=64))
def test_any_bytes_decode_without_raising(raw):
    data = raw.decode("utf-8", "surrogateescape")
    decoded = cb.decode(data)
    # Either nothing of ours, or exactly what our own encoder would have written.
    assert isinstance(decoded, cb.Unknown) or decoded.encode() == data


@given(st.text(max_size=80))
def test_any_text_decodes_without_raising(data):
    decoded = cb.decode(data)
    assert isinstance(decoded, cb.Unknown) or decoded.encode() == data


@given(buttons, st.sampled_from(["", ":", ":x", "0", "9999999999"]))
def test_a_tampered_button_is_unknown_or_itself(button, suffix):
    data = button.encode() + suffix
    decoded = cb.decode(data)
    assert isinstance(decoded, cb.Unknown) or decoded.encode() == data


@pytest.mark.parametrize(
    "data",
    [
        None,
        42,
        "",
        "rsvp",
        "rsvp:12",
        "rsvp:12:y:extra",
        "rsvp:012:y",
        "rsvp:-1:y",
        "rsvp:+1:y",
        "rsvp:1234567890:y",
        "rsvp:١٢:y",  # Arabic-Indic digits pass str.isdigit()
        "rsvp:12:z",
        "why:3:santé",
        "cps:3:9",
        "cps:3:0",
        "att:3:ko",
        "zzz:1",
        "x" * 65,
    ],
)
def test_forged_data_is_unknown(data):
    assert isinstance(cb.decode(data), cb.Unknown)


def test_known_data_of_this_release_decodes():
    assert cb.decode("rsvp:12:y") == cb.Answer(12, "y")
    assert cb.decode("att:3:ok") == cb.Attendance(3, "ok")
    assert cb.decode("att:3:7") == cb.Attendance(3, 7)
    assert cb.decode("why:5:transport") == cb.AbsenceReason(5, "transport")


def test_every_button_is_declared_once_with_a_kind_per_field():
    assert len(cb.REGISTRY) == len({cls.prefix for cls in cb.REGISTRY.values()})
    for cls in cb.REGISTRY.values():
        assert len(cls.spec) == len(fields(cls)), cls.__name__
    with pytest.raises(ValueError, match="declared twice"):
        cb.button("rsvp", cb.Id())(cb.Follow)


@given(buttons, st.sampled_from(["\n", "\r\n", " ", "\t", "\u200b", "\x00"]), st.booleans())
def test_a_button_with_a_trailing_or_leading_extra_is_not_that_button(button, extra, at_end):
    """Forged data with a final newline (which a regular expression's `$` would have let through)
    or any other padding is no button: handlers never see it."""
    data = button.encode() + extra if at_end else extra + button.encode()
    assert not type(button).matches(data)
    assert isinstance(cb.decode(data), cb.Unknown)
