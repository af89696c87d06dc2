"""Answers written down for a later send (bot/outbox/calls.py): every argument Relais passes comes
back the same after a trip through JSON (the database), an explicit None parse mode included, so
that a process sending it after a crash makes the very call the first would have made."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputPollOption,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram._utils.defaultvalue import DEFAULT_NONE

from bot.outbox.calls import decode_call, encode_call


def trip(kwargs: dict) -> dict:
    return decode_call(json.loads(json.dumps(encode_call(kwargs))))


texts = st.text(min_size=1, max_size=50)
buttons = st.builds(InlineKeyboardButton, texts, callback_data=st.text(min_size=1, max_size=64))
keyboards = st.lists(st.lists(buttons, min_size=1, max_size=4), min_size=1, max_size=4).map(InlineKeyboardMarkup)
markups = st.one_of(
    keyboards,
    st.builds(ForceReply, selective=st.booleans(), input_field_placeholder=st.none() | st.text(max_size=64)),
)


@given(
    texts,
    markups,
    st.integers(1, 2**31),
    st.none() | st.integers(1, 2**31),
)
def test_a_reply_comes_back_the_same(text, markup, message_id, thread):
    kwargs = {
        "text": text,
        "reply_markup": markup,
        "reply_parameters": ReplyParameters(message_id, allow_sending_without_reply=True),
        "message_thread_id": thread,
        "link_preview_options": LinkPreviewOptions(is_disabled=True),
    }
    assert trip(kwargs) == kwargs
    assert trip(kwargs)["reply_markup"].to_dict() == markup.to_dict()


def test_a_poll_keeps_people_s_words_out_of_html():
    options = [InputPollOption("a < b", text_parse_mode=None), InputPollOption("Jeudi")]
    back = trip({"question": "Q ?", "options": options, "question_parse_mode": None, "is_anonymous": False})
    assert back["question_parse_mode"] is None and back["is_anonymous"] is False
    assert back["options"][0].text == "a < b" and back["options"][0].text_parse_mode is None
    assert back["options"][1].text_parse_mode is DEFAULT_NONE  # the bot's default applies, as before


@given(st.binary(max_size=2000))
def test_a_file_keeps_its_bytes_and_name(content):
    back = trip({"document": InputFile(io.BytesIO(content), filename="attestation.pdf"), "caption": "x"})
    assert back["document"].input_file_content == content and back["document"].filename == "attestation.pdf"


def test_what_cannot_be_sent_again_is_refused():
    with pytest.raises(TypeError):
        encode_call({"text": "x", "when": object()})
    with pytest.raises(ValueError):
        decode_call({"reply_markup": {"$type": "Application", "args": {}}})
