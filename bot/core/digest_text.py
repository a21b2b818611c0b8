"""Digest text: scrub personal data from questions, render a `Digest` from templates, split long messages.

All three are pure. `scrub` is a best-effort filter for the knowledge-gap list that editors read; it
replaces what looks like an e-mail address, phone number, Matrix or Teams user id, IBAN, postcode with
house number, long digit run (a BSN) or link with a query string by a neutral placeholder, and leaves
the rest of the question intact. The web console shows knowledge gaps through it too.
"""

from __future__ import annotations

import re

from bot import prompts
from bot.core.digest import Digest

__all__ = ["render_digest", "scrub", "split_message"]

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # links with a query string may carry tokens, names or e-mail addresses
    (re.compile(r"\b(?:https?://|www\.)[^\s?#]*\?\S*", re.IGNORECASE), "[link]"),
    # Matrix user ids before e-mail addresses: @name:server.nl
    (re.compile(r"(?<![\w.+-])@[a-z0-9._=/+-]+:[a-z0-9.-]+(?::\d+)?", re.IGNORECASE), "[gebruiker]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE), "[e-mail]"),
    # Teams/Bot Framework ids (29:..., 8:orgid:...) and AAD object ids (GUIDs)
    (re.compile(r"\b(?:8:orgid:|2[89]:|a:)[\w-]{6,}", re.IGNORECASE), "[gebruiker]"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE), "[gebruiker]"),
    (re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{4}(?:\s?\d){10}\b"), "[rekeningnummer]"),
    # a postcode with a house number is an address: 1234 AB 12, 1234AB, 12a, 1234 AB nr. 5
    (re.compile(r"\b[1-9]\d{3}\s?[A-Z]{2}\b[\s,]*(?:nr\.?\s*|nummer\s*)?\d+(?:\s?[a-zA-Z]\b)?"), "[adres]"),
    # phone numbers: +31 6 1234 5678, 0031..., (0)20-123 45 67, 06-12345678, 020 123 4567
    (
        re.compile(r"(?:(?<!\w)\+|\b00)\d{2}[\s-]?(?:\(0\)[\s-]?)?\d(?:[\s-]?\d){7,9}\b"),
        "[telefoonnummer]",
    ),
    (re.compile(r"(?<![\w-])0\d(?:[\s-]?\d){8}\b"), "[telefoonnummer]"),
    # a BSN, a case or client number, a card number: six or more digits in a row
    (re.compile(r"\d{6,}"), "[nummer]"),
)


def scrub(text: str) -> str:
    """`text` with personal data replaced by placeholders (`[e-mail]`, `[telefoonnummer]`, ...)."""
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text


def _cut(line: str, max_chars: int) -> list[str]:
    """A line longer than `max_chars` in pieces, broken at the last space that fits, else hard."""
    pieces = []
    while len(line) > max_chars:
        cut = line.rfind(" ", 0, max_chars + 1)
        if cut <= 0:
            cut = max_chars
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    pieces.append(line)
    return pieces


def split_message(text: str, max_chars: int) -> list[str]:
    """`text` in parts of at most `max_chars` characters, split at line ends; nothing is dropped.

    Parts never start or end with blank lines. Only a single line longer than `max_chars` is broken
    inside, at a space where possible. Joining the parts with newlines gives back every non-blank line.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    parts: list[str] = []
    current: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal size
        while current and not current[-1].strip():
            current.pop()
        if current:
            parts.append("\n".join(current))
        current.clear()
        size = 0

    for raw in text.strip().splitlines():
        for line in _cut(raw.rstrip(), max_chars):
            extra = len(line) + (1 if current else 0)
            if current and size + extra > max_chars:
                flush()
                extra = len(line)
            if not current and not line.strip():
                continue  # no part starts with a blank line
            current.append(line)
            size += extra
    flush()
    return parts


def render_digest(digest: Digest, *, send_when_empty: bool, max_chars: int) -> list[str]:
    """The messages to send for `digest`: none or one short line when it is empty, else the full text split."""
    if digest.empty:
        return [prompts.render("digest_empty.nl.j2", digest=digest)] if send_when_empty else []
    return split_message(prompts.render("digest_message.nl.j2", digest=digest), max_chars)
