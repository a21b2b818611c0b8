"""No message body above DEBUG: matrix-nio's and the Agents SDK's log records are cut to a detail-free line."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest
from nio import Event

from bot.logs import NOTE, RedactLibraryDetails, configure_logging

pytestmark = pytest.mark.unit

SECRET = "Geheime vraag over de burgemeester van Ede"
# A badly formed event (no sender): nio logs the whole event, body included, at WARNING.
BAD_EVENT = {
    "type": "m.room.message",
    "event_id": "$abc",
    "origin_server_ts": 1,
    "content": {"msgtype": "m.text", "body": SECRET},
}


@pytest.fixture
def nio_output() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("nio")
    logger.addHandler(handler)
    try:
        yield out, handler
    finally:
        logger.removeHandler(handler)


def test_nio_logs_the_body_of_a_bad_event_unless_filtered(nio_output: tuple[io.StringIO, logging.Handler]) -> None:
    out, handler = nio_output
    Event.parse_event(BAD_EVENT)
    assert SECRET in out.getvalue()  # what the filter is for

    out.seek(0)
    out.truncate()
    handler.addFilter(RedactLibraryDetails())
    Event.parse_event(BAD_EVENT)
    logged = out.getvalue()
    assert SECRET not in logged and "Traceback" not in logged
    assert logged.strip() == f"Error validating event: 'sender' is a required property {NOTE}"


def test_sdk_records_lose_quoted_text_and_tracebacks() -> None:
    redact = RedactLibraryDetails()
    try:
        raise ValueError(SECRET)
    except ValueError:
        record = logging.getLogger("microsoft_agents.hosting.core").makeRecord(
            "microsoft_agents.hosting.core.app",
            logging.ERROR,
            __file__,
            1,
            "Error in turn for %s: %r",
            ("conv-1", SECRET),
            None,
        )
        record.exc_info = sys.exc_info()
    assert redact.filter(record)
    assert record.getMessage() == f"Error in turn for conv-1: '…' (ValueError) {NOTE}" and record.exc_info is None
    debug = logging.LogRecord("nio.rooms", logging.DEBUG, __file__, 1, "body %s", (SECRET,), None)
    ours = logging.LogRecord("bot.channels.matrix", logging.WARNING, __file__, 1, "event %s", ("$abc",), None)
    assert redact.filter(debug) and debug.getMessage() == f"body {SECRET}"
    assert redact.filter(ours) and ours.getMessage() == "event $abc"


def test_configure_logging_redacts_on_every_root_handler() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    extra = logging.StreamHandler(io.StringIO())
    root.addHandler(extra)
    try:
        configure_logging("INFO", io.StringIO())
        assert all(any(isinstance(f, RedactLibraryDetails) for f in h.filters) for h in root.handlers)
        assert logging.getLogger("nio").level == logging.WARNING
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for handler in saved_handlers:
            for f in [f for f in handler.filters if isinstance(f, RedactLibraryDetails)]:
                handler.removeFilter(f)


def test_a_library_that_resets_its_own_level_after_set_up_still_stays_quiet() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    out = io.StringIO()
    mine = logging.StreamHandler(out)
    root.handlers[:] = [mine]
    try:
        configure_logging("WARNING", out)
        logging.getLogger("bm25s").setLevel(logging.DEBUG)  # what `import bm25s` does
        logging.getLogger("bm25s").debug("Building index from tokens")
        logging.getLogger("bm25s").warning("index is corrupt")
        assert "Building index" not in out.getvalue() and "index is corrupt" in out.getvalue()
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        logging.getLogger("bm25s").setLevel(logging.NOTSET)
