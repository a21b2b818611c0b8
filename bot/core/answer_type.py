"""Answer-type check: a question that asks for a kind of fact is only answered if the quoted text holds one.

Similarity alone cannot tell "what does the OMO do?" from "what is the OMO's phone number?": both
retrieve the OMO text. If that text has no phone number, quoting it is not an answer, so the
pipeline refuses and offers escalation instead. The cues are Dutch and deliberately narrow: a
question without one of them is never refused here. The evidence patterns ignore what only looks
like a fact of the kind: a year or a year range ("2024-2026") is no phone number and no amount, and
neither is an article, paragraph or list number ("artikel 175", "lid 2", "1.").
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["AnswerType", "expected_type", "satisfies"]


class AnswerType(StrEnum):
    EMAIL = "e-mail address"
    PHONE = "phone number"
    LINK = "link"
    AMOUNT = "amount of money"
    PENALTY = "penalty"
    DURATION = "duration"
    DATE = "date"
    NUMBER = "number"
    PERSON = "person or organisation"


_NUMBER_WORDS = (
    r"één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|twintig|"
    r"dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig|honderd|duizend|miljoen|miljard|tientallen|"
    r"honderden|duizenden|dozijn|helft|derde|kwart|meerderheid|minderheid"
)
_UNITS = r"uur|uren|minuten|minuut|dag|dagen|werkdag|werkdagen|week|weken|maand|maanden|jaar|jaren|etmaal"
_MONTHS = r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
_DAYS = r"maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag"
_MARKER = re.compile(r"\[\d{1,3}\]")
# What looks like a number but is none of the facts asked for: years, year ranges, article/list numbers.
_NOT_A_FIGURE = re.compile(
    r"\b(?:19|20)\d\d(?:\s*[-–/]\s*(?:19|20)?\d\d)?\b"
    r"|\b(?:artikel|artikelen|art\.|lid|leden|onderdeel|hoofdstuk|paragraaf|bijlage|titel|stb\.|nr\.)\s*\d+[a-z]?"
    r"(?:\s*(?:,|en|t/m|tot en met|-)\s*\d+[a-z]?)*"
    r"|^\s*\d+[.)]\s",
    re.MULTILINE,
)

# Checked in this order: the most specific cue wins ("hoeveel kost" asks for money, "welk nummer" a phone).
_CUES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (AnswerType.EMAIL, re.compile(r"\b(e-?mailadres\w*|mailadres\w*|naar welk (e-?mail)?adres mail)")),
    (AnswerType.PHONE, re.compile(r"\b(telefoonnummer\w*|telefoonnr|welk nummer|nummer van|nummer bel\w*)\b")),
    (AnswerType.LINK, re.compile(r"\b(url|link|webadres|internetadres|website|webpagina)\b")),
    (
        AnswerType.AMOUNT,
        re.compile(
            r"\b(hoeveel (extra )?(geld|euro|subsidie|budget)|kost|kosten|boete|boetes|budget|"
            r"bedrag|hoe duur|vergoeding hoog|hoe hoog is de (boete|vergoeding|subsidie))\b"
        ),
    ),
    (
        AnswerType.PENALTY,
        re.compile(r"\b(wat staat (er ?)?op|welke straf|welke sanctie|strafmaat|maximale straf|hoeveel jaar cel)\b"),
    ),
    (
        AnswerType.DURATION,
        re.compile(
            r"\b(hoe ?lang|hoeveel (tijd|dagen|uur|uren|weken|maanden|jaar)|welke termijn|binnen welke termijn|"
            r"hoe snel|hoeveel van tevoren|hoe ver van tevoren|hoe lang van tevoren)\b"
        ),
    ),
    (
        AnswerType.DATE,
        re.compile(
            r"\b(welke datum|op welke dag|(tot|sinds|per|vanaf) wanneer|in welk jaar|welk jaar|hoe laat|"
            r"wanneer (is|begint|vindt) de volgende|"
            r"wanneer (is|was|gaat|treedt|trad|komt|kwam|werd|wordt) .*\b(in werking|ingevoerd|van kracht))\b"
        ),
    ),
    (AnswerType.NUMBER, re.compile(r"\b(hoeveel|percentage|welk aantal|hoe vaak|hoe groot is het aantal)\b")),
    (AnswerType.PERSON, re.compile(r"(^|[.?!]\s+)(en )?wie\b|\bbij wie\b|\bwelke (organisatie|instantie)\b")),
)

_ROLES = (
    r"burgemeester|raad|gemeenteraad|college|wethouder|officier|justitie|politie|openbaar ministerie|om|"
    r"rechter|minister|ministerie|commissaris|gedeputeerde|provincie|gemeente|griffier|voorzitter|"
    r"organisator|kabinet|staat|rijk|team|werkgever|korpschef|politiechef|driehoek|veiligheidsregio"
)
_EVIDENCE: dict[AnswerType, re.Pattern[str]] = {
    AnswerType.EMAIL: re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    AnswerType.PHONE: re.compile(r"(?<![\d-])(?:\+31|0)[\d\s-]{8,12}\d(?![\d-])|\b(112|144|0800|0900)\b"),
    AnswerType.LINK: re.compile(r"https?://|www\.|\b[\w-]+\.(nl|eu|org|com|net|info)\b"),
    AnswerType.AMOUNT: re.compile(
        r"€|\beuro\b|\bgratis\b|\bkosteloos\b|\bgeen kosten\b|\bcategorie\b|\d\s*(miljoen|miljard|duizend)\b"
    ),
    AnswerType.PENALTY: re.compile(
        r"\b(gevangenisstraf|hechtenis|geldboete|boete|taakstraf|werkstraf|categorie|celstraf|strafbaar)\b"
    ),
    AnswerType.DURATION: re.compile(
        rf"\b(\d+|{_NUMBER_WORDS}|een|enkele|paar)\s+({_UNITS})\b|\bonbepaalde tijd\b|\bdirect\b|\bonmiddellijk\b"
    ),
    AnswerType.DATE: re.compile(rf"\b(19|20)\d\d\b|\b({_MONTHS}|{_DAYS})\b|\b\d{{1,2}}[-/]\d{{1,2}}[-/]\d{{2,4}}\b"),
    AnswerType.NUMBER: re.compile(rf"\d|\b({_NUMBER_WORDS})\b|%|\bprocent\b|\bmeeste\b|\bgeen enkele?\b"),
    AnswerType.PERSON: re.compile(rf"(?i:\b({_ROLES})\b)|(?<=[a-z,] )[A-Z][\w-]+"),
}
# Kinds whose evidence must not come from years, year ranges or article and list numbers.
_FIGURES = frozenset({AnswerType.PHONE, AnswerType.AMOUNT, AnswerType.DURATION, AnswerType.NUMBER})


def expected_type(question: str) -> AnswerType | None:
    """What kind of fact the question asks for, if it asks for one of the checked kinds."""
    text = question.lower()
    return next((kind for kind, cue in _CUES if cue.search(text)), None)


def satisfies(kind: AnswerType | None, answer_text: str) -> bool:
    """Whether the text (its `[n]` markers aside) holds a fact of the asked kind; any text satisfies None."""
    if kind is None:
        return True
    text = _MARKER.sub(" ", answer_text)
    if kind is not AnswerType.PERSON:
        text = text.lower()
    if kind in _FIGURES:
        text = _NOT_A_FIGURE.sub(" ", text)
    return bool(_EVIDENCE[kind].search(text))
