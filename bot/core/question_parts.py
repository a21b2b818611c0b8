"""The parts of a question that asks several things at once.

Officials often ask two things in one message: "Waar staat de driehoek in de wet? En heb ik iets te
zeggen over de officier?", "hoe stemde de raad over opvang in Heerle, en waarom moest er een locatie
komen?". An answer that covers one part only reads as an answer but is not one, so the answerer looks
for a sentence per part. A part is a question of its own: split at question marks, then before "en"
or a comma where a new question starts (a question word or a verb first). A statement that sets the
scene ("Raadslid heeft een doodsbedreiging gekregen.") is no part. Pure text rules.
"""

from __future__ import annotations

import re

__all__ = ["OPEN_QUESTION", "question_parts"]

_ASKING_WORDS = r"wat|wie|welke?|waar\w*|wanneer|waarom|hoe\w*|hoeveel"
_QUESTION_WORDS = (
    rf"{_ASKING_WORDS}|"
    r"is|zijn|was|waren|mag|mogen|kan|kun|kunt|kunnen|moet|moeten|heb|heeft|hebben|"
    r"wordt|worden|werd|telt|tellen|komt|komen|gaat|gaan|doet|doen|staat|zit|zitten|geldt|gelden|bestaat"
)
_PREPOSITION = r"(?:om|in|op|met|voor|bij|van|tot|naar|uit|sinds)\s+"
OPEN_QUESTION = re.compile(rf"^\s*(?:{_ASKING_WORDS})\b", re.IGNORECASE)
"""A question that opens with a word that asks ("Wat ...", "Hoe ..."): not one answered by yes or no."""
# Where a new question starts inside a sentence: ", en wie ...", " en hoeveel ...", ", komt er ...", and
# after a preposition only with a word that asks (", en met hoeveel ...", not ", en op zijn website").
_NEW_QUESTION = re.compile(
    rf"(?:,\s*(?:en\s+)?|\s+en\s+(?:ook\s+)?)(?=(?:{_QUESTION_WORDS})\b|{_PREPOSITION}(?:{_ASKING_WORDS})\b)",
    re.IGNORECASE,
)
_STARTS_AS_QUESTION = re.compile(
    rf"^(?:en\s+|of\s+|maar\s+)?(?:{_PREPOSITION})?(?:{_QUESTION_WORDS}|als|stel)\b",
    re.IGNORECASE,
)
_MIN_WORDS = 2


def question_parts(question: str) -> list[str]:
    """The questions inside `question`, in order; a single-part question gives a list of one (or none)."""
    sentences = [s.strip() for s in re.split(r"(?<=[?!.])\s+", question.strip()) if s.strip()]
    asked = [s for s in sentences if s.endswith("?")] or sentences[-1:]
    parts: list[str] = []
    for sentence in asked:
        pieces = [p.strip(" ,?") for p in _NEW_QUESTION.split(sentence)]
        merged: list[str] = []
        for piece in pieces:
            # A piece too short to be a question ("en waarom") stays with the one before it, and so does
            # whatever follows an opening that is no question ("oké, hoe lang ...", "We verwachten ..., kan ...").
            if merged and (len(piece.split()) < _MIN_WORDS or not _STARTS_AS_QUESTION.match(merged[-1])):
                merged[-1] = f"{merged[-1]}, {piece}"
            elif piece:
                merged.append(piece)
        parts.extend(merged)
    return parts
