"""Answer-type check: a question that asks for a kind of fact is only answered if the quoted text holds one.

Similarity alone cannot tell "what does the OMO do?" from "what is the OMO's phone number?": both
retrieve the OMO text. If that text has no phone number, quoting it is not an answer, so the
pipeline refuses and offers escalation instead. The cues are Dutch and deliberately narrow: a
question without one of them is never refused here. The evidence patterns ignore what only looks
like a fact of the kind: a year or a year range ("2024-2026") is no phone number and no amount, and
neither is an article, paragraph or list number ("artikel 175", "lid 2", "1."). A count asks about
something ("hoeveel leden", "hoeveel gemeenten"): then the figure must stand in a sentence that
names what is counted, or "het forum kent drie thema's" would answer "hoeveel leden heeft het forum?".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from bot.core.text import STOPWORDS

__all__ = ["AnswerType", "counted", "expected_type", "satisfies"]


class AnswerType(StrEnum):
    EMAIL = "e-mail address"
    PHONE = "phone number"
    LINK = "link"
    AMOUNT = "amount of money"
    PENALTY = "penalty"
    DURATION = "duration"
    DATE = "date"
    TIME = "time of day"
    NUMBER = "number"
    NAME = "person's name"
    PLACE = "place name"
    MINISTRY = "ministry"
    PERSON = "person or organisation"


_NUMBER_WORDS = (
    r"één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|twintig|"
    r"dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig|honderd|duizend|miljoen|miljard|tientallen|"
    r"tienduizenden|honderdduizenden|honderden|duizenden|dozijn|helft|derde|kwart|meerderheid|minderheid"
)
_UNITS = r"uur|uren|minuten|minuut|dag|dagen|werkdag|werkdagen|week|weken|maand|maanden|jaar|jaren|etmaal"
MONTHS = r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
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
            r"\b(hoeveel (extra )?(geld|euro|subsidie|budget)|kost|kosten|(?<!hoeveel )boetes?|budget|"
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
            r"\b(welke datum|op welke dag|(tot|sinds|per|vanaf) wanneer|in welk jaar|welk jaar|"
            r"wanneer (is|begint|vindt) de volgende|"
            r"wanneer (is|was|gaat|treedt|trad|komt|kwam|werd|wordt) .*\b(in werking|ingevoerd|van kracht))\b"
        ),
    ),
    (AnswerType.TIME, re.compile(r"\b(hoe laat|om welke tijd|hoe vroeg)\b")),
    (AnswerType.NUMBER, re.compile(r"\b(hoeveel|percentage|welk aantal|hoe vaak|hoe groot is het aantal)\b")),
    (
        AnswerType.NAME,
        re.compile(
            r"\b(hoe heet|wie is (\w+ ){0,3}(de|het) (huidige )?(voorzitter|directeur|coördinator|contactpersoon|"
            r"woordvoerder|moderator)|wie (zit|zitten) (er )?(allemaal )?in|wie modereert|wie leidt)\b"
        ),
    ),
    (
        AnswerType.PLACE,
        re.compile(r"\b(in )?welke (gemeente|gemeenten|stad|steden|plaats|plaatsen|provincies?|wijk)\b"),
    ),
    (AnswerType.MINISTRY, re.compile(r"\bwelke? (ministerie|ministeries|departement|departementen)\b")),
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
    AnswerType.DATE: re.compile(rf"\b(19|20)\d\d\b|\b({MONTHS}|{_DAYS})\b|\b\d{{1,2}}[-/]\d{{1,2}}[-/]\d{{2,4}}\b"),
    AnswerType.TIME: re.compile(
        r"\b\d{1,2}[.:]\d{2}\b|\bom \d{1,2} uur\b|\bmiddernacht\b|\b's (ochtends|middags|avonds)\b"
    ),
    AnswerType.NUMBER: re.compile(rf"\d|\b({_NUMBER_WORDS})\b|%|\bprocent\b|\bmeeste\b|\bgeen enkele?\b"),
    # Two capitalised words, perhaps with "van", "de", "der" between: "Jan de Vries", "Ahmed Marcouch".
    AnswerType.NAME: re.compile(r"\b[A-Z][a-zà-ÿ]+\s+(?:(?:van|de|der|den|ter|ten|op)\s+){0,3}[A-Z][a-zà-ÿ]+"),
    # A capitalised name after a word that places it ("in Heerlen", "In Steenbergen", "gemeente Ede").
    AnswerType.PLACE: re.compile(
        r"\b(?i:in|te|uit|naar|van|gemeente|gemeenten|stad|provincie|wijk) [A-Z][a-zà-ÿ]+(?:[- ][A-Z][a-zà-ÿ]+)*"
    ),
    AnswerType.MINISTRY: re.compile(
        r"(?i:\bministerie|\bminister\b|\bdepartement)|\b(BZK|JenV|J&V|SZW|OCW|VWS|EZK|LNV|IenW|AZ|BuZa|Defensie)\b"
    ),
    AnswerType.PERSON: re.compile(rf"(?i:\b({_ROLES})\b)|(?<=[a-z,] )[A-Z][\w-]+"),
}
# Kinds whose evidence must not come from years, year ranges or article and list numbers.
_FIGURES = frozenset({AnswerType.PHONE, AnswerType.AMOUNT, AnswerType.DURATION, AnswerType.NUMBER})


# "Wie zit er in de driehoek?" asks who takes part: functions answer it as names do.
_MEMBERS = re.compile(r"\bwie (zit|zitten) (er )?(allemaal )?in\b")
_FUNCTIONS = re.compile(
    r"\b(burgemeester|wethouder|officier van justitie|hoofdofficier|politiechef|korpschef|griffier|commissaris|"
    r"gedeputeerde|minister|voorzitter|secretaris|commandant|directeur|teamchef|wijkagent)\b",
    re.IGNORECASE,
)


# "Wie is de voorzitter van ...?": the name must be given as the holder of that role, not of another one.
_ROLE_ASKED = re.compile(
    r"\b(?:wie is|hoe heet)\b.*?\b(voorzitter|directeur|coördinator|contactpersoon|woordvoerder|moderator)"
)


_NO_NAMES = frozenset({"nederland", "europa", "rijksoverheid"})
_ADJECTIVE = re.compile(r"(lijke|ische|se|ige|ele|ale|are|ere)$")  # Nederlandse, Maatschappelijke, Openbare


_PREFIX = 5  # words compared by their first letters: "gewelddadig" meets "geweld", "gemeenten" "gemeente"


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"\w{4,}", text.lower()) if w not in STOPWORDS and w != "hoeveel"]


def _counts(sentence: str, about: str, question: str) -> bool:
    """A figure within two words of what is counted ("65 procent van de burgemeesters", "400 leden"), in
    a sentence that shares another word with the question: "de helft van de gemeenten kwam desinformatie
    tegen" does not answer "hoeveel gemeenten doen mee met de agenda?". Words are compared by their
    first letters, so "gemeenten" meets "gemeente" and "soevereinen" "soevereine".
    """
    prefix = "|".join(re.escape(word[: max(4, len(word) - 2)]) for word in _alike(about))
    prefix = f"(?:{prefix})"
    figure = rf"(\d[\d.,]*|{_NUMBER_WORDS})(\s*%|\s+procent)?"
    near = re.compile(rf"\b{figure}\s+(\S+\s+){{0,2}}{prefix}|\b{prefix}\w*\s+(\S+\s+){{0,2}}{figure}")
    if not near.search(_NOT_A_FIGURE.sub(" ", sentence.lower())):
        return False
    return _shares_word(sentence, question, besides=_alike(about))


def _shares_word(sentence: str, question: str, besides: Iterable[str]) -> bool:
    """Whether `sentence` shares a word of `question` other than `besides` (true if the question has none).

    Words meet by their first letters; "jaar" meets "jaarlijks": a word shorter than the prefix meets the
    words it starts.
    """
    others = {w[:_PREFIX] for w in _words(question)} - {w[:_PREFIX] for w in besides}
    own = {w[:_PREFIX] for w in _words(sentence)}
    return not others or any(o == w or (len(o) < _PREFIX and w.startswith(o)) for o in others for w in own)


_MONEY_WORDS = frozenset({"geld", "euro", "budget", "kost", "kosten", "bedrag", "extra", "subsidie", "hoog"})


def _amount_about(sentence: str, question: str) -> bool:
    """A sum of money in a sentence that shares a word with the question besides the money words."""
    if not _EVIDENCE[AnswerType.AMOUNT].search(_NOT_A_FIGURE.sub(" ", sentence.lower())):
        return False
    return _shares_word(sentence, question, besides=_MONEY_WORDS)


# Things counted under more than one name: "hoeveel casussen" is answered by "25 zaken per jaar".
_ALIKE = (frozenset({"casussen", "casus", "zaken", "zaak", "gevallen", "geval"}),)


def _alike(word: str) -> list[str]:
    return next((sorted(group) for group in _ALIKE if word in group), [word])


def _holds_new_name(text: str, question: str, kind: AnswerType) -> bool:
    """A name (`kind`'s evidence) that is not the question's own, an adjective or the country.

    A person's name has two words besides function words ("Jan de Vries", not "Het Forum"); a place one.
    """
    given = {w.lower() for w in re.findall(r"\w+", question)} | _NO_NAMES
    needed = 2 if kind is AnswerType.NAME else 1
    for match in _EVIDENCE[kind].finditer(text):
        words = [w for w in re.findall(r"[A-Z][a-zà-ÿ]+", match.group(0)) if w.lower() not in STOPWORDS]
        if len(words) >= needed and not any(w.lower() in given or _ADJECTIVE.search(w) for w in words):
            return True
    return False


def _names_who(answer_text: str, question: str) -> bool:
    """Whether the text gives the person asked for: a new name; for "wie is de voorzitter van ...?" a name in
    a sentence naming that role; for "wie zit er in ...?" also two functions or more."""
    asked = question.lower()
    if _MEMBERS.search(asked) and len({m.lower() for m in _FUNCTIONS.findall(answer_text)}) >= 2:
        return True  # "de burgemeester, de officier van justitie en de politiechef"
    role = _ROLE_ASKED.search(asked)
    sentences = _MARKER.split(answer_text) if role else [_MARKER.sub(" ", answer_text)]
    return any(
        (role is None or role.group(1) in s.lower()) and _holds_new_name(s, question, AnswerType.NAME)
        for s in sentences
    )


_COUNTED = re.compile(r"\bhoeveel\s+(?:extra\s+|nieuwe\s+)?([a-zà-ÿ][\w'-]{2,})(?:\s+([a-zà-ÿ][\w'-]{2,}))?")
# Words after "hoeveel" that are no thing counted: money and time have their own evidence, people are
# counted under many names ("500 aanhoudingen", "dertig demonstranten"), the rest are verbs.
_NOT_COUNTED = frozenset(
    {"geld", "euro", "subsidie", "budget", "tijd", "keer", "dagen", "uur", "uren", "weken", "maanden", "jaar"}
    | {"jaren", "procent", "kost", "kosten", "is", "zijn", "heeft", "hebben", "mag", "moet", "mogen", "moeten"}
    | {"wordt", "worden", "krijgt", "krijg", "krijgen", "kan", "kunnen", "van", "er", "mensen", "personen"}
    | {"was", "waren", "werd", "werden", "gaat", "gaan", "doet", "doen", "komt", "komen", "staan", "zitten", "had"}
    | {"daarvan", "ervan", "daar", "hiervan", "ongeveer", "zo'n", "echt"}
)


def counted(question: str) -> str | None:
    """What a "hoeveel ..." question counts ("leden" in "hoeveel leden heeft het forum?"), if anything."""
    match = _COUNTED.search(question.lower())
    if match is None:
        return None
    first, second = match.groups()
    # "hoeveel zelfverklaarde soevereinen": an inflected adjective stands before the noun.
    word = second if first.endswith("e") and second and second not in _NOT_COUNTED else first
    return None if word in _NOT_COUNTED else word


def expected_type(question: str) -> AnswerType | None:
    """What kind of fact the question asks for, if it asks for one of the checked kinds."""
    text = question.lower()
    return next((kind for kind, cue in _CUES if cue.search(text)), None)


def satisfies(kind: AnswerType | None, answer_text: str, about: str | None = None, question: str = "") -> bool:
    """Whether the text (its `[n]` markers aside) holds a fact of the asked kind; any text satisfies None.

    With `about` (see `counted`), a figure counts only in a sentence that also holds that word's stem.
    A name asked for is a new one: not made of the `question`'s own words, and not an organisation's
    name of adjective and noun ("Maatschappelijke Onrust"); who takes part in a body is also told by two
    functions or more ("de burgemeester en de officier van justitie"). A name asked for by its role ("wie is
    de voorzitter van ...?") stands in a sentence that names that role.
    """
    if kind is None:
        return True
    if kind is AnswerType.NAME:
        return _names_who(answer_text, question)
    if kind is AnswerType.PLACE:
        return _holds_new_name(_MARKER.sub(" ", answer_text), question, kind)
    if about is not None and kind is AnswerType.NUMBER:
        return any(_counts(sentence, about, question) for sentence in _MARKER.split(answer_text))
    if kind is AnswerType.AMOUNT and question:
        # The sum must be about what the question is about: "de VNG vroeg 5,8 miljoen voor de aanpak van
        # onrust" does not answer "hoeveel budget heeft de VNG voor deze agenda uitgetrokken?".
        return any(_amount_about(sentence, question) for sentence in _MARKER.split(answer_text))
    text = _MARKER.sub(" ", answer_text)
    if kind not in (AnswerType.PERSON, AnswerType.MINISTRY):
        text = text.lower()
    if kind in _FIGURES:
        text = _NOT_A_FIGURE.sub(" ", text)
    return bool(_EVIDENCE[kind].search(text))
