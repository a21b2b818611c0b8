"""Answer-type check: a question that asks for a number, a date, a phone number, an e-mail address or a link is
only answered if the cited text contains one.

Similarity alone cannot tell "what does the OMO do?" from "what is the OMO's phone number?": both retrieve
the OMO text. If that text has no phone number, quoting it is not an answer, so the pipeline refuses and
offers escalation instead. The patterns are Dutch and deliberately narrow: a question without one of these
cues is never refused here.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["AnswerType", "expected_type", "satisfies"]


class AnswerType(StrEnum):
    NUMBER = "number"
    DATE = "date"
    PHONE = "phone"
    EMAIL = "email"
    LINK = "link"


_NUMBER_WORDS = (
    r"één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|twintig|"
    r"dertig|veertig|vijftig|honderd|duizend|miljoen|miljard|tientallen|honderden|duizenden|dozijn"
)
_MARKER = re.compile(r"\[\d{1,3}\]")
_MONTHS = r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
_DAYS = r"maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag"

# Checked in this order: the most specific cue wins ("hoeveel kost" asks for a number, "welk nummer" a phone).
_CUES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (AnswerType.EMAIL, re.compile(r"\b(e-?mailadres\w*|mailadres\w*)\b")),
    (AnswerType.PHONE, re.compile(r"\b(telefoonnummer\w*|telefoonnr|welk nummer|nummer bel\w*)\b")),
    (AnswerType.LINK, re.compile(r"\b(url|link|webadres|internetadres)\b")),
    (AnswerType.NUMBER, re.compile(r"\b(hoeveel|budget|bedrag|kosten|kost|prijs|percentage)\b")),
    # Not a bare "wanneer": in Dutch it mostly means "in which case" ("Wanneer moet ik ... aanvragen?").
    (
        AnswerType.DATE,
        re.compile(r"\b(welke datum|op welke dag|hoe laat|(tot|sinds|per) wanneer|wanneer is de volgende)\b"),
    ),
)

_EVIDENCE: dict[AnswerType, re.Pattern[str]] = {
    AnswerType.EMAIL: re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    AnswerType.PHONE: re.compile(r"(\+?\d[\d\s-]{7,}\d)|\b112\b"),
    AnswerType.LINK: re.compile(r"https?://|www\.|\b[\w-]+\.(nl|eu|org|com)\b"),
    AnswerType.NUMBER: re.compile(rf"\d|\b({_NUMBER_WORDS})\b|€|\bgratis\b|\bkosteloos\b"),
    AnswerType.DATE: re.compile(rf"\d|\b({_MONTHS}|{_DAYS}|dagelijks|wekelijks|maandelijks|jaarlijks)\b"),
}


def expected_type(question: str) -> AnswerType | None:
    """What kind of fact the question asks for, if it asks for one of the checked kinds."""
    text = question.lower()
    return next((kind for kind, cue in _CUES if cue.search(text)), None)


def satisfies(kind: AnswerType | None, answer_text: str) -> bool:
    """Whether the answer text (its `[n]` markers aside) contains a fact of the asked kind; any text satisfies None."""
    if kind is None:
        return True
    return bool(_EVIDENCE[kind].search(_MARKER.sub(" ", answer_text.lower())))
