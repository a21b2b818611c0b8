"""The default answerer without an LLM: quote the few sentences from the top passages that best answer the question.

Each sentence is scored by the question's content words it shares (weighted by how rare they are
among the candidate sentences), plus a bonus for the best-ranked passages and for a passage's
opening sentence, which usually states its point and answers the section heading above it. The
chosen sentences keep their passage order, each followed by its passage's marker. Deterministic,
no model calls: a few milliseconds.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.citations import Draft, split_sentences
from bot.core.models import Passage
from bot.core.text import terms

__all__ = ["ExtractiveAnswerer"]

_MIN_CHARS = 25
_MAX_CHARS = 400
_SHORT_CHARS = 80
_REPEAT_OVERLAP = 0.75
_HEADING_CHARS = 80


@dataclass(frozen=True, slots=True)
class _Candidate:
    passage_no: int  # 1-based, as cited
    position: int
    text: str
    terms: frozenset[str]


def _units(text: str) -> list[str]:
    """Sentences, with a list kept together with the line that introduces it."""
    units: list[str] = []
    for sentence in split_sentences(text):
        is_item = bool(re.match(r"^([-•*]|\d+[.)])\s+", sentence))
        if is_item and units and (units[-1].endswith(":") or units[-1].endswith(";")):
            units[-1] = f"{units[-1]} {sentence.lstrip('-•* ').rstrip('.;')};"
        else:
            units.append(sentence)
    return [_plain(u.rstrip(";") + ("." if u.endswith(";") else "")) for u in units]


def _plain(text: str) -> str:
    """Drop Markdown emphasis, which reads as noise when a sentence is quoted on its own."""
    return re.sub(r"(\*\*|__)(.+?)\1", r"\2", text).replace("**", "")


class ExtractiveAnswerer:
    """Builds a `Draft` from passages; `max_sentences` bounds the answer length."""

    name = "extractive"

    def __init__(self, max_sentences: int = 3) -> None:
        self._max_sentences = max_sentences

    def draft(self, question: str, passages: Sequence[Passage]) -> Draft:
        wanted = set(terms(question))
        candidates = [
            _Candidate(no, pos, unit, frozenset(terms(unit)) | (_heading_terms(passage) if pos == 0 else frozenset()))
            for no, passage in enumerate(passages, start=1)
            for pos, unit in enumerate(_units(passage.text))
            if _MIN_CHARS <= len(unit) <= _MAX_CHARS and not unit.startswith("#") and not _is_heading(unit)
        ]
        if not candidates:
            return Draft("", self.name)
        frequency = Counter(t for c in candidates for t in c.terms)
        total = len(candidates)

        def score(c: _Candidate) -> float:
            overlap = sum(math.log(1 + total / frequency[t]) for t in c.terms & wanted)
            rank_bonus = 1.5 / c.passage_no
            lead_bonus = 0.75 if c.position == 0 else 0.0
            return overlap + rank_bonus + lead_bonus

        ranked = sorted(candidates, key=lambda c: (-score(c), c.passage_no, c.position))
        # The best sentence always; more only when they share a word with the question. A short best
        # sentence ("De Maatschappelijke Impact Afweging.") is followed by the one after it, which explains it.
        best = ranked[0]
        follow = [c for c in candidates if (c.passage_no, c.position) == (best.passage_no, best.position + 1)]
        extra = follow if len(best.text) < _SHORT_CHARS else []
        chosen = [best, *extra]
        for c in ranked[1:]:
            if len(chosen) >= self._max_sentences:
                break
            if c.terms & wanted and c not in chosen and not any(_repeats(c, k) for k in chosen):
                chosen.append(c)
        chosen = chosen[: self._max_sentences]
        # Without any shared word, only the top passage's opening is quoted: it is what retrieval found.
        if not chosen[0].terms & wanted:
            chosen = [c for c in candidates if c.passage_no == 1][:1] or chosen[:1]
        chosen.sort(key=lambda c: (c.passage_no, c.position))
        text = " ".join(f"{_as_sentence(c.text)} [{c.passage_no}]" for c in chosen)
        return Draft(text, self.name)


def _repeats(candidate: _Candidate, kept: _Candidate) -> bool:
    """Says mostly what a chosen sentence says already (often the same fact in two documents)."""
    return bool(candidate.terms) and len(candidate.terms & kept.terms) / len(candidate.terms) >= _REPEAT_OVERLAP


def _is_heading(unit: str) -> bool:
    """A short line without closing punctuation is a heading carried into the chunk, not a sentence."""
    return len(unit) < _HEADING_CHARS and unit[-1:] not in ".!?:;)"


def _heading_terms(passage: Passage) -> frozenset[str]:
    """A section's opening sentence answers its heading ("## Wat is de MIA?"), so it inherits the heading's words."""
    section = passage.chunk.section
    return frozenset(terms(section.rsplit(" > ", 1)[-1])) if section else frozenset()


def _as_sentence(text: str) -> str:
    """Strip a trailing colon or marker so the citation follows the sentence's own full stop."""
    text = text.rstrip(" :")
    return text if text[-1:] in ".!?" else f"{text}."
