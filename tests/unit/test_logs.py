"""Logs carry ids only: python-telegram-bot's dump of an update it cannot parse loses its body,
and secrets are blanked from messages and tracebacks alike."""

from __future__ import annotations

import io
import logging

from bot.logs import RedactSecrets, quiet_libraries

TOKEN = "123456789:AAsecret-part-of-the-token_0123"


def test_an_update_that_cannot_be_parsed_is_not_logged_whole(caplog):
    quiet_libraries()
    body = [{"update_id": 5, "message": {"from": {"first_name": "Karim", "username": "karim_m"}, "text": "santé"}}]
    with caplog.at_level(logging.WARNING):
        logging.getLogger("telegram.Bot").critical("Error while parsing updates! Received data was %r", body)
    [record] = caplog.records
    text = record.getMessage()
    assert "Karim" not in text and "karim_m" not in text and "santé" not in text
    assert "1 received" in text


def test_secrets_are_blanked_in_messages_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets([TOKEN, "hook-secret-value"]))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        logger.error("GET https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise ValueError(f"The token `{TOKEN}` was rejected; secret hook-secret-value")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Traceback" in output and "ValueError" in output
    assert TOKEN not in output and "secret-part" not in output and "hook-secret-value" not in output


def test_a_library_thread_that_fails_logs_one_line_without_its_traceback(caplog):
    import threading

    from bot.cli import _thread_failed

    def worker() -> None:
        raise RuntimeError(f"Event loop is closed; token {TOKEN}")

    previous = threading.excepthook
    threading.excepthook = _thread_failed
    try:
        with caplog.at_level(logging.WARNING, logger="relais"):
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
    finally:
        threading.excepthook = previous
    [record] = caplog.records
    assert record.getMessage() == "a background thread stopped: RuntimeError"
    assert record.exc_info is None and TOKEN not in caplog.text


def test_json_logs_are_one_object_per_line_with_secrets_blanked():
    import json

    from bot.logs import JsonLines

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    handler.addFilter(RedactSecrets([TOKEN]))
    logger = logging.getLogger("test.json")
    logger.addHandler(handler)
    try:
        logger.warning("update %s handled for chat %s", 12, -1001)
        try:
            raise ValueError(f"token {TOKEN}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "update 12 handled for chat -1001" and first["level"] == "WARNING"
    assert first["logger"] == "test.json" and first["time"].endswith("+00:00")
    assert "ValueError" in second["error"] and TOKEN not in json.dumps(second)
