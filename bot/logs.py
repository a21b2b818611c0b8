"""Logging set-up for the `onrust` command, with the promise that no message body is logged above DEBUG.

The bot's own code never logs bodies above DEBUG. Libraries do: matrix-nio logs a badly formed
event, body included, at WARNING ("Error validating event: ... On instance: {...}"), and the Agents
SDK logs activities and validation errors with their input. `RedactLibraryDetails` cuts such records
from `nio.*` and `microsoft_agents.*` down to their first line without quoted text or data.
"""

from __future__ import annotations

import logging
import re
from typing import TextIO

__all__ = ["REDACTED_LIBRARIES", "QuietLibraries", "RedactLibraryDetails", "configure_logging"]

REDACTED_LIBRARIES = ("nio", "microsoft_agents")
_NOISY = ("chromadb", "httpx", "httpcore", "urllib3", "alembic", "apscheduler", "nio", "sentence_transformers", "bm25s")
_DATA = re.compile(r"[\n{\[(<]")  # where a dump of an event, dict, list or model begins
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")  # a value from the event: kept only if it is a short identifier
_IDENTIFIER = re.compile(r"['\"][\w.$@:!-]{0,40}['\"]")
_MAX_CHARS = 160
NOTE = "[details logged at DEBUG only]"


class RedactLibraryDetails(logging.Filter):
    """Rewrites records above DEBUG from `REDACTED_LIBRARIES` to a detail-free first line; passes all records.

    A quoted value that is not a short identifier (a field name, an event id) becomes '…'; exception
    tracebacks are replaced by the exception's class name.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG or record.name.partition(".")[0] not in REDACTED_LIBRARIES:
            return True
        message = record.getMessage()
        kept = _DATA.split(message, maxsplit=1)[0]
        kept = _QUOTED.sub(lambda m: m.group(0) if _IDENTIFIER.fullmatch(m.group(0)) else "'…'", kept)
        kept = kept[:_MAX_CHARS].rstrip(" :")
        if record.exc_info and record.exc_info[0] is not None:
            kept += f" ({record.exc_info[0].__name__})"
        if kept != message:
            kept = f"{kept} {NOTE}"
        record.msg, record.args = kept, None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


class QuietLibraries(logging.Filter):
    """Drops records of chatty libraries below `threshold`, even when a library imported later sets its
    own logger's level (bm25s sets DEBUG on import, which would print its progress under `onrust -q`)."""

    def __init__(self, threshold: int) -> None:
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.threshold or record.name.partition(".")[0] not in _NOISY


def configure_logging(level: str, stream: TextIO) -> None:
    """Log to `stream` at `level`; chatty libraries at WARNING at most; library details redacted on every
    root handler (also ones a test runner installed before)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=stream)
    threshold = max(logging.WARNING, logging.getLogger().level)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(threshold)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactLibraryDetails) for f in handler.filters):
            handler.addFilter(RedactLibraryDetails())
        quiet = next((f for f in handler.filters if isinstance(f, QuietLibraries)), None)
        if quiet is None:
            handler.addFilter(QuietLibraries(threshold))
        else:
            quiet.threshold = threshold
