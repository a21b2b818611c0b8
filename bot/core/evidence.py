"""Does the evidence mention what the question hinges on?

A paraphrase can replace most words of a question ("fake profiel" for "nepaccount"), but not a name
or a figure: "hoeveel boa's heeft Tilburg" is not answered by a text about boa's elsewhere, nor
"in 2027" by a text about 2024 (`missing_specifics`). Names every Dutch government text takes for
granted ("Nederland", "Rijksoverheid") are no such hinge, and a name followed by its abbreviation
("Basisregistratie Personen (BRP)") is found when the abbreviation is. A follow-up searched together
with the question before it must still share a word with what it quotes (`shares_words`), or the
earlier question would carry an unrelated message. Words are compared as Dutch stems; a word counts
as found when a stem in the evidence starts with it or it with the stem ("Utrechtse" meets "Utrecht").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.models import Citation
from bot.core.text import terms

__all__ = ["missing_specifics", "shares_words"]

_MIN_PREFIX = 4
# A name (a capitalised word of five letters or more that does not start a sentence; shorter ones are
# mostly abbreviations such as "OT" or "Gemw") or a figure or year: the words a question hinges on,
# which a paraphrase cannot replace. (Compounds such as "XR-snelwegblokkade" often are paraphrases.)
_SPECIFIC = re.compile(r"(?<=[\w,] )[A-Z][\w']{4,}\b(?!-)|\b\d{2,}\b")
_TAKEN_FOR_GRANTED = frozenset(
    {"nederland", "nederlandse", "nederlanders", "rijksoverheid", "kabinet", "europese", "europa", "tweede", "eerste"}
)
_ABBREVIATED = re.compile(r"((?:[A-Z][\w']+\s+){1,4})\(([A-Z][A-Za-z]{1,9})\)")


def missing_specifics(question: str, citations: Iterable[Citation]) -> list[str]:
    """The names, figures and years of the question that none of the cited passages holds."""
    found = _passage_terms(citations, with_text=True)
    for names, abbreviation in _ABBREVIATED.findall(question):
        if _found(terms(abbreviation)[0], found):
            question = question.replace(names, " ")
    missing = []
    for word in _SPECIFIC.findall(question):
        stems = terms(word)
        if word.lower() in _TAKEN_FOR_GRANTED or not stems:
            continue
        if not any(_found(stem, found) for stem in stems):
            missing.append(word)
    return missing


def shares_words(question: str, text: str, citations: Iterable[Citation]) -> bool:
    """Whether a content word of `question` occurs in `text` or the cited passages' titles and sections."""
    evidence = set(terms(text)) | _passage_terms(citations, with_text=False)
    return any(_found(term, evidence) for term in terms(question))


def _passage_terms(citations: Iterable[Citation], *, with_text: bool) -> set[str]:
    found: set[str] = set()
    for c in citations:
        body = c.passage.text if with_text else ""
        found |= set(terms(f"{c.passage.doc.title} {c.passage.chunk.section or ''} {body}"))
    return found


def _found(term: str, evidence: set[str]) -> bool:
    if term in evidence:
        return True
    if len(term) < _MIN_PREFIX:
        return False
    return any(len(e) >= _MIN_PREFIX and (e.startswith(term) or term.startswith(e)) for e in evidence)
