"""Decode bytes to text and normalise whitespace lightly, the same way for every format."""

from __future__ import annotations

import codecs
import re

from bot.errors import IngestError

__all__ = [
    "collapse_blank_lines",
    "decode_text",
    "first_line_title",
    "normalize_line",
    "normalize_text",
]

_NOT_TEXT = "not UTF-8 text (binary data?)"
_MAX_TITLE_CHARS = 120

# Horizontal whitespace, including no-break and typographic spaces that PDFs and Word love.
_SPACES = re.compile(r"[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Invisible characters that only split words for search: soft hyphen, zero-width space/joiners, BOM.
_INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_BLANK_RUNS = re.compile(r"\n{3,}")


def decode_text(data: bytes, source: str, charset: str | None = None) -> str:
    """Decode `data` as `charset` (default UTF-8, an unknown charset counts as UTF-8), dropping a UTF-8 BOM.

    Raises `IngestError(source, "not UTF-8 text (binary data?)")` for NUL bytes or bytes that do not decode.
    """
    if b"\x00" in data:
        raise IngestError(source, _NOT_TEXT)
    encoding = _codec(charset)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise IngestError(source, _NOT_TEXT) from exc


def normalize_line(line: str) -> str:
    """Collapse runs of spaces inside a line and strip its end; leading indentation (lists, code) is kept."""
    line = _INVISIBLE.sub("", line)
    body = line.lstrip(" \t")
    if not body.strip():
        return ""
    indent = line[: len(line) - len(body)].replace("\t", "    ")
    return indent + _SPACES.sub(" ", body).rstrip()


def normalize_text(text: str) -> str:
    """Normalise every line, keep paragraph breaks as one blank line, and trim blank lines at both ends."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return collapse_blank_lines("\n".join(normalize_line(line) for line in lines))


def collapse_blank_lines(text: str) -> str:
    """Reduce runs of blank lines to one and trim blank lines at both ends."""
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")


def first_line_title(text: str) -> str | None:
    """The first non-empty line, if it is short enough to be a title."""
    for line in text.split("\n"):
        candidate = line.strip()
        if candidate:
            return candidate if len(candidate) < _MAX_TITLE_CHARS else None
    return None


def _codec(charset: str | None) -> str:
    if charset is None:
        return "utf-8-sig"
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return "utf-8-sig"
    return "utf-8-sig" if name == "utf-8" else name
