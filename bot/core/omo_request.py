"""Does a message ask, in words, for a person of the OMO (rather than ask something about the OMO)?

"Ik wil graag hulp van het OMO", "kan ik iemand van het OMO spreken?" and "graag escaleren" do; "Wat doet
het OMO?", "Hoe bereik ik het OMO?" and "Kan het OMO ons helpen?" do not: they are questions the
knowledge base answers. A request needs the official as the one asking (ik, we, graag, an imperative)
plus a person to reach and a way of reaching them, or an explicit escalation; a message that opens
with a question word is always a question. Pure text rules, no I/O; the caller confirms before it
starts an intake, so a false positive costs one question.
"""

from __future__ import annotations

import re

from bot.core.question_parts import OPEN_QUESTION

__all__ = ["asks_for_omo"]


# "escaleren" as something the official wants done, not escalation as a topic.
_ESCALATE = re.compile(
    r"^(graag\s+)?escal(eer|eren)\b"
    r"|\b(graag|wil|wilt|willen|kun|kunt|kan|kunnen|mag|zou|zouden)\b.{0,40}\bescaleren\b"
    r"|\b(zet|zetten|stuur|sturen|verbind|verbinden)\b.{0,40}\bdoor\b.{0,20}\b(omo|ondersteuningsteam)\b"
    r"|\bdoor(zetten|sturen|verbinden)\b.{0,20}\b(omo|ondersteuningsteam)\b(?!\s+weerbaar)"
)

# The official as the one asking: "ik wil", "kan ik", "we hebben … nodig", "graag", "help me".
_REQUEST = re.compile(
    r"\b(ik|we|wij)\s+(wil|willen|zou|zouden|wens|wensen|heb|hebben|zoek|zoeken)\b"
    r"|\b(kan|kun|mag|kunnen|mogen)\s+(ik|we|wij)\b"
    r"|\bgraag\b"
    r"|\b(help|breng|verbind)\s+(me|mij|ons)\b"
)

_PERSON = re.compile(
    r"\b(omo|ondersteuningsteam(?!\s+weerbaar)|iemand|een\s+(mens|medewerker|expert|adviseur|deskundige|specialist))\b"
)

_REACH = re.compile(
    r"\b(hulp|help\w*|spreken|spreek|praten|contact|bellen|bel|advies|ondersteun\w*|bijstand|mee(kijk|denk)\w*|"
    r"doorverbind\w*|gesprek)\b"
)


def asks_for_omo(text: str) -> bool:
    """True when `text` asks to be put in touch with the OMO or a person; see the module docstring."""
    words = " ".join(re.sub(r"[^\w\s-]", " ", text.lower()).split())
    if not words or OPEN_QUESTION.match(words):
        return False
    if _ESCALATE.search(words):
        return True
    return bool(_REQUEST.search(words) and _PERSON.search(words) and _REACH.search(words))
