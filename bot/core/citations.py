"""Citations are data: map every `[n]` in a draft to the passage it names, and drop what cannot be backed.

A draft numbers passages 1..N in the order they were given. `cite()` keeps only sentences that
carry at least one marker and whose markers all name a given passage; a sentence citing `[7]` of 3
passages, or citing nothing, is dropped. The kept markers are renumbered 1..M in order of first
use, so the source list under an answer has no gaps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.models import Citation, Passage

__all__ = ["CitedText", "Draft", "cite", "split_sentences"]

_MARKER = re.compile(r"\[(\d{1,3})\]")
# Split after sentence punctuation followed by space, unless a citation marker follows (it belongs to
# the sentence before: "... geregeld. [2]"); after a marker when a new sentence starts; at line breaks.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?!\[\d)|(?<=\])\s+(?=[A-ZÀ-Ý0-9\"'(•*-])|\n+")


@dataclass(frozen=True, slots=True)
class Draft:
    """Generated answer text with `[n]` markers into the passages it was given (1-based)."""

    text: str
    generator: str
    declined: bool = False
    lead_similarity: float | None = None  # extractive: the question's cosine to the lead sentence


@dataclass(frozen=True, slots=True)
class CitedText:
    """The checked text and its citations; `dropped` counts sentences removed for bad or missing markers."""

    text: str
    citations: tuple[Citation, ...]
    dropped: int


def split_sentences(text: str) -> list[str]:
    """Sentences and list lines of `text`, stripped, empty ones left out."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def cite(draft: Draft, passages: Sequence[Passage]) -> CitedText:
    """Check and renumber the markers of `draft` against `passages`; see the module docstring."""
    renumber: dict[int, int] = {}
    kept: list[str] = []
    dropped = 0
    for sentence in split_sentences(draft.text):
        refs = [int(m) for m in _MARKER.findall(sentence)]
        if not refs or any(not 1 <= r <= len(passages) for r in refs):
            if sentence.strip(" -•*:") and not _is_heading(sentence):
                dropped += 1
            continue
        for ref in refs:
            renumber.setdefault(ref, len(renumber) + 1)
        kept.append(_MARKER.sub(lambda m: f"[{renumber[int(m.group(1))]}]", _dedupe_markers(sentence)))
    citations = tuple(Citation(new, passages[old - 1]) for old, new in sorted(renumber.items(), key=lambda i: i[1]))
    return CitedText(" ".join(kept), citations, dropped)


def _dedupe_markers(sentence: str) -> str:
    """`[1][1]` or `[1] [1]` becomes `[1]`."""
    return re.sub(r"(\[\d{1,3}\])(\s*\1)+", r"\1", sentence)


def _is_heading(sentence: str) -> bool:
    """A short line ending in a colon ("Belangrijk:") introduces a list; not a claim to cite."""
    return sentence.endswith(":") and len(sentence) < 60
