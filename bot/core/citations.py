"""Citations are data: map every `[n]` in a draft to the passage it names, and drop what cannot be backed.

A draft numbers passages 1..N in the order they were given. `cite()` keeps only sentences that
carry at least one marker and whose markers all name a given passage; a sentence citing `[7]` of 3
passages, or citing nothing, is dropped. The kept markers are renumbered 1..M in order of first
use, so the source list under an answer has no gaps.

A sentence that carries a link, an e-mail address or markup (an HTML tag such as `<script>`, a
markdown link) is dropped as well unless that text occurs in a passage it cites (its text or URL):
a model must not put invented links or markup in front of an official.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.models import Citation, Passage

__all__ = ["CitedText", "Draft", "cite", "quoted_sentences", "split_sentences"]

_MARKER = re.compile(r"\[(\d{1,3})\]")
# Split after sentence punctuation followed by space, unless a citation marker follows (it belongs to
# the sentence before: "... geregeld. [2]"); after a marker when a new sentence starts; at line breaks.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?!\[\d)|(?<=\])\s+(?=[A-ZÀ-Ý0-9\"'(•*-])|\n+")


# Text a sentence may carry only when a cited passage has it: links, e-mail addresses, HTML tags, markdown links.
_VERBATIM_ONLY = re.compile(
    r"\[[^\]]*\]\([^)]*\)"  # markdown link
    r"|</?[A-Za-z!][^>]*>?"  # HTML tag or comment, also an unclosed one
    r"|(?:https?|ftp|javascript|data):\S+|www\.\S+"  # links, also script and data URLs
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # e-mail address
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)'\""


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


def quoted_sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Each sentence of a cited text without its markers, with the passage numbers it cites."""
    return [
        (_MARKER.sub("", sentence).strip(), tuple(int(m) for m in _MARKER.findall(sentence)))
        for sentence in split_sentences(text)
    ]


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
        if not _backed_verbatim(sentence, [passages[r - 1] for r in refs]):
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


def _backed_verbatim(sentence: str, cited: Sequence[Passage]) -> bool:
    """Every link, e-mail address and piece of markup in `sentence` occurs in a cited passage's text or URL."""
    haystack = " ".join(f"{p.chunk.text} {p.doc.url or ''}" for p in cited).casefold()
    for match in _VERBATIM_ONLY.finditer(_MARKER.sub(" ", sentence)):
        token = match.group(0).rstrip(_TRAILING).casefold()
        if token and token not in haystack:
            return False
    return True
