"""Does the evidence mention what the question hinges on? The names and figures no cited passage holds.

A paraphrase can replace most words of a question ("fake profiel" for "nepaccount"), but not a name
or a figure: "hoeveel boa's heeft Tilburg" is not answered by a text about boa's elsewhere, nor
"in 2027" by a text about 2024. Words are compared as Dutch stems; a word counts as found when a stem
in the passages starts with it or it with the stem ("Utrechtse" meets "Utrecht").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.models import Citation
from bot.core.text import terms

__all__ = ["missing_specifics"]

_MIN_PREFIX = 5
# A name (a capitalised word of five letters or more that does not start a sentence; shorter ones are
# mostly abbreviations such as "OT" or "Gemw") or a figure or year: the words a question hinges on,
# which a paraphrase cannot replace. (Compounds such as "XR-snelwegblokkade" often are paraphrases.)
_SPECIFIC = re.compile(r"(?<=[\w,] )[A-Z][\w']{4,}\b(?!-)|\b\d{2,}\b")


def missing_specifics(question: str, citations: Iterable[Citation]) -> list[str]:
    """The names, figures and years of the question that none of the cited passages holds."""
    found: set[str] = set()
    for c in citations:
        found |= set(terms(f"{c.passage.doc.title} {c.passage.chunk.section or ''} {c.passage.text}"))
    missing = []
    for word in _SPECIFIC.findall(question):
        stems = terms(word)
        if stems and not any(_found(stem, found) for stem in stems):
            missing.append(word)
    return missing


def _found(term: str, evidence: set[str]) -> bool:
    if term in evidence:
        return True
    if len(term) < _MIN_PREFIX:
        return False
    return any(len(e) >= _MIN_PREFIX and (e.startswith(term) or term.startswith(e)) for e in evidence)
