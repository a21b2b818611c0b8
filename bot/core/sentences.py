"""Sentence units of a chunk: what the extractive answerer may quote, and what ingest embeds one by one.

Ingest and the answerer must cut a chunk the same way, because stored sentence vectors are matched
to units by position. A list stays with the line that introduces it ("De partners zijn: a; b; c."),
and Markdown emphasis is dropped, which reads as noise in a quoted sentence.
"""

from __future__ import annotations

import re

from bot.core.citations import split_sentences

__all__ = ["is_quotable", "quotable_sentences", "sentence_units"]

_MIN_CHARS = 25
_MAX_CHARS = 400
_MAX_LIST_CHARS = 600  # a list with the line that introduces it ("De verschillen: a; b; c.") is one claim
_HEADING_CHARS = 80
_ITEM = re.compile(r"^([-•*]|\d+[.)])\s+")
_LIST_UNIT = re.compile(r":\s.*;")


def sentence_units(text: str) -> list[str]:
    """The sentences of `text` in order, each list joined to its introducing line."""
    units: list[str] = []
    for sentence in split_sentences(text):
        if _ITEM.match(sentence) and units and units[-1].endswith((":", ";")):
            units[-1] = f"{units[-1]} {sentence.lstrip('-•* ').rstrip('.;')};"
        else:
            units.append(sentence)
    return [_plain(u.rstrip(";") + ("." if u.endswith(";") else "")) for u in units]


def is_quotable(unit: str) -> bool:
    """A claim that can stand as an answer: not a heading, not a question, neither a fragment nor a wall."""
    longest = _MAX_LIST_CHARS if _LIST_UNIT.search(unit) else _MAX_CHARS
    if not _MIN_CHARS <= len(unit) <= longest or unit.startswith("#"):
        return False
    if unit.rstrip().endswith("?"):
        return False
    # A short line without closing punctuation is a heading carried into the chunk, not a sentence.
    return not (len(unit) < _HEADING_CHARS and unit[-1:] not in ".!:;")


def quotable_sentences(text: str) -> list[tuple[int, str]]:
    """(position, text) of the quotable sentence units of `text`: the ones ingest gives a vector of their own."""
    return [(pos, unit) for pos, unit in enumerate(sentence_units(text)) if is_quotable(unit)]


def _plain(text: str) -> str:
    return re.sub(r"(\*\*|__)(.+?)\1", r"\2", text).replace("**", "")
