"""Does the quoted text cover what was asked? The share of the question's content words found in the evidence.

The evidence is the answer's sentences plus the headings and titles of the passages they cite (a
sentence under "## Noodbevel" is about the noodbevel without naming it). Words are compared as
Dutch stems; a word counts as found when a stem in the evidence starts with it or it with the stem,
so "verlengen" meets "verlenging" and "demonstratie" meets "demonstraties". A question made only of
question words has nothing to check and is fully covered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.models import Citation
from bot.core.text import terms

__all__ = ["coverage", "evidence_terms", "missing_specifics"]

_MIN_PREFIX = 5
# A name (a capitalised word of five letters or more that does not start a sentence; shorter ones are
# mostly abbreviations such as "OT" or "Gemw") or a figure or year: the words a question hinges on,
# which a paraphrase cannot replace. (Compounds such as "XR-snelwegblokkade" often are paraphrases.)
_SPECIFIC = re.compile(r"(?<=[\w,] )[A-Z][\w']{4,}\b(?!-)|\b\d{2,}\b")


def evidence_terms(text: str, citations: Iterable[Citation]) -> set[str]:
    """Stems of the answer text and of the cited passages' titles and section paths."""
    found = set(terms(text))
    for c in citations:
        found |= set(terms(f"{c.passage.doc.title} {c.passage.chunk.section or ''}"))
    return found


def coverage(question: str, evidence: set[str]) -> float:
    """Share (0..1) of the question's content words that the evidence holds."""
    wanted = set(terms(question))
    if not wanted:
        return 1.0
    return sum(1 for term in wanted if _found(term, evidence)) / len(wanted)


def _found(term: str, evidence: set[str]) -> bool:
    if term in evidence:
        return True
    if len(term) < _MIN_PREFIX:
        return False
    return any(len(e) >= _MIN_PREFIX and (e.startswith(term) or term.startswith(e)) for e in evidence)


def missing_specifics(question: str, citations: Iterable[Citation]) -> list[str]:
    """The names, figures and hyphenated compounds of the question that none of the cited passages holds."""
    found: set[str] = set()
    for c in citations:
        found |= set(terms(f"{c.passage.doc.title} {c.passage.chunk.section or ''} {c.passage.text}"))
    missing = []
    for word in _SPECIFIC.findall(question):
        stems = terms(word)
        if stems and not any(_found(stem, found) for stem in stems):
            missing.append(word)
    return missing
