"""Does the evidence mention what the question hinges on?

A paraphrase can replace most words of a question ("fake profiel" for "nepaccount"), but not a name or a
figure: "hoeveel boa's heeft Tilburg" is not answered by a text about boa's elsewhere, nor "in 2027" by a
text about 2024 (`missing_specifics`). Names every Dutch government text takes for granted ("Nederland",
"Rijksoverheid") are no such hinge, and a name followed by its abbreviation ("Basisregistratie Personen
(BRP)") is found when the abbreviation is. A follow-up searched together with the question before it must
still share a word with what it quotes (`shares_words`), or the earlier question would carry an unrelated
message; and what it quotes must share one with the conversation ("en hoe lang mag dat duren?" after "Wat is
een noodbevel?" is not answered about another power). A fact of the kind asked for must be about what the
question names: "het telefoonnummer van het OMO" is not answered by the NGB's number quoted from a text that
never mentions the OMO (`typed_off_subject`). Words are compared as Dutch stems; a word counts as found when
a stem in the evidence starts with it or it with the stem ("Utrechtse" meets "Utrecht").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.answer_type import AnswerType, satisfies
from bot.core.citations import quoted_sentences, split_sentences
from bot.core.models import Citation
from bot.core.text import terms

__all__ = [
    "admits_gap",
    "long_past",
    "missing_predicate",
    "missing_specifics",
    "shares_words",
    "status_asked",
    "typed_off_subject",
]

_MIN_PREFIX = 4
# A name (a capitalised word of five letters or more that does not start a sentence; shorter ones are
# mostly abbreviations such as "OT" or "Gemw") or a figure or year: the words a question hinges on,
# which a paraphrase cannot replace. (Compounds such as "XR-snelwegblokkade" often are paraphrases.)
_SPECIFIC = re.compile(r"(?<=[\w,] )[A-Z][\w']{4,}\b(?!-)|\b\d{2,}\b")
# An age ("een kind van 11", "15-jarigen") is weighed against a rule's bounds ("kinderen onder de twaalf"),
# not looked up in the text: it is no hinge.
_AGE = re.compile(
    r"\b(?:kind|kinderen|jongen|jongens|meisje|meisjes|jongere|jongeren|zoon|dochter|tiener|tieners)"
    r"(?:\s+\w+)?\s+van\s+\d{1,2}\b|\b\d{1,2}\s*-?\s*jarig\w*|\b\d{1,2}\s+jaar\s+oud\b",
    re.IGNORECASE,
)
# A platform is one place online: "bedreigd via Facebook" is answered by a text on threats made online.
_PLATFORMS = frozenset(
    {"facebook", "instagram", "tiktok", "twitter", "whatsapp", "telegram", "youtube", "snapchat", "linkedin", "discord"}
)
_ONLINE = ("online", "sociale media", "social media", "internet")
_TAKEN_FOR_GRANTED = frozenset(
    {"nederland", "nederlandse", "nederlanders", "rijksoverheid", "kabinet", "europese", "europa", "tweede", "eerste"}
)
# A sentence that says the sources are silent ("de gebruikte bronnen noemen geen datum", "de VNG-pagina
# somt die actielijnen niet op"): quoted as the answer, it is an honest "dat weet ik niet".
_GAP = re.compile(
    r"\b(bronnen|bron|pagina|website)\s+(\S+\s+){0,6}(noem\w*|vermeld\w*|geven|geeft|bevat\w*|zeggen|zegt|somt)\s+"
    r"(\S+\s+){0,4}(geen|niets|niet)\b|\bin de (gebruikte |genoemde )?bronnen\s+(\S+\s+){0,2}(niet|geen)\b",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r";\s*|,\s*maar\s+|:\s+|\s*\[\d+\]\s*")
# A law by its name: "de Wet tijdelijk huisverbod" is not answered from a text about another law.
_LAW = re.compile(r"\bWet\s+([a-zà-ÿ][\w-]+(?:\s+[a-zà-ÿ][\w-]+)?)")
# "Is de MIA verplicht?" asks whether a status holds: a text that never says it does not answer.
_STATUS = re.compile(
    r"^(?:is|zijn|wordt|worden)\b.*\b(verplicht|strafbaar|toegestaan|verboden|openbaar|gratis|nodig|mogelijk|"
    r"geldig|rechtmatig|legaal|bindend|vertrouwelijk|anoniem)\b",
    re.IGNORECASE,
)
# The words a text may use to state a status ("gemeenten moeten ..." says they are obliged to).
_SAID_AS = {
    "verplicht": ("verplicht", "verplichting", "plicht", "moet", "moeten", "taak"),
    "toegestaan": ("toegestaan", "mag", "mogen", "bevoegd"),
    "verboden": ("verboden", "verbod", "verbieden", "toegestaan"),
    "strafbaar": ("strafbaar", "straf", "misdrijf", "overtreding", "boete"),
    "mogelijk": ("mogelijk", "kan", "kunnen", "mag", "mogen"),
    "nodig": ("nodig", "moet", "moeten", "vereist", "verplicht"),
}
# The thing of a compound with a name: "het MIA-formulier" is not answered by a text about the MIA alone.
_COMPOUND_TAIL = re.compile(r"\b([A-Z]{3,})-([a-zà-ÿ]{4,})\b")
_UPCOMING = re.compile(r"\b(volgende|eerstvolgende|komende|aankomende|nieuwe ronde)\b", re.IGNORECASE)
# "Per welke datum gaat het verbod in?" asks when a rule takes effect; "sinds 1 januari 2024" says it has.
_TAKES_EFFECT = re.compile(r"\b(gaat|gaan)\b.*\bin\s*\?*\s*$|\bin werking\b|\bvan kracht\b", re.IGNORECASE)
_IN_FORCE = re.compile(r"\b(sinds|vanaf|met ingang van|in werking getreden|van kracht geworden)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
_ACRONYM = re.compile(r"\b[A-Z]{3,6}\b")
_ABBREVIATED = re.compile(r"((?:[A-Z][\w']+\s+){1,4})\(([A-Z][A-Za-z]{1,9})\)")


def missing_specifics(question: str, citations: Iterable[Citation]) -> list[str]:
    """The names, figures, years, law names and named things ("MIA-formulier") no cited passage holds; an
    age and, where the passages speak of threats online, a platform's name are no such hinge."""
    found = _passage_terms(citations, with_text=True)
    for names, abbreviation in _ABBREVIATED.findall(question):
        if _found(terms(abbreviation)[0], found):
            question = question.replace(names, " ")
    # A thing of a named whole ("MIA-formulier") counts when the passages speak of that whole ("MIA").
    parts = [tail for whole, tail in _COMPOUND_TAIL.findall(question) if _holds(whole, found)]
    missing = [name for name in [*_LAW.findall(question), *parts] if not _holds(name, found)]
    online = any(_holds(words, found) for words in _ONLINE)
    specifics = _hinges(_SPECIFIC.findall(_AGE.sub(" ", question)))
    missing += [w for w in specifics if not _mentions(w, found) and not (online and w.lower() in _PLATFORMS)]
    return missing


def long_past(question: str, text: str, this_year: int) -> bool:
    """Whether a question for the next occasion ("wanneer is de volgende leerkring?") is met only by
    years gone by: "in december 2020 al actief" tells nothing about what comes next. So is a question for
    when a rule takes effect, unless the text says since when it applies ("sinds 1 januari 2024")."""
    takes_effect = _TAKES_EFFECT.search(question.strip()) and not _IN_FORCE.search(text)
    if not _UPCOMING.search(question) and not takes_effect:
        return False
    years = [int(y) for y in _YEAR.findall(text)]
    return bool(years) and max(years) < this_year


def status_asked(question: str) -> re.Pattern[str] | None:
    """For a yes/no question about a status ("Is de MIA verplicht?"), the words a text states it with."""
    status = _status(question)
    return status[1] if status else None


def missing_predicate(question: str, text: str) -> str | None:
    """The status a yes/no question asks about ("verplicht" in "Is de MIA verplicht?") if `text` lacks it."""
    status = _status(question)
    return status[0] if status and not status[1].search(text) else None


def _status(question: str) -> tuple[str, re.Pattern[str]] | None:
    # The question after a scene set first: "Een inwoner stuurt dreigende mails. Is dat strafbaar?"
    match = _STATUS.search((split_sentences(question) or [""])[-1])
    if match is None:
        return None
    word = match.group(1).lower()
    return word, re.compile(r"\b(" + "|".join(_SAID_AS.get(word, (word,))) + r")", re.IGNORECASE)


# The words a sentence that admits a gap uses for the kind of fact missing ("noemen geen bedrag").
_KIND_WORDS: dict[AnswerType, re.Pattern[str]] = {
    AnswerType.AMOUNT: re.compile(r"\b(bedrag\w*|subsidie\w*|budget\w*|geld|euro|kosten)\b", re.IGNORECASE),
    AnswerType.DATE: re.compile(r"\b(datum|data|jaartal|dag)\b", re.IGNORECASE),
    AnswerType.NUMBER: re.compile(r"\b(aantal\w*|cijfer\w*|percentage\w*)\b", re.IGNORECASE),
    AnswerType.PHONE: re.compile(r"\b(telefoonnummer\w*|nummer)\b", re.IGNORECASE),
    AnswerType.EMAIL: re.compile(r"\b(e-?mailadres\w*|mailadres\w*)\b", re.IGNORECASE),
    AnswerType.NAME: re.compile(r"\b(naam|namen)\b", re.IGNORECASE),
}


def admits_gap(text: str, kind: AnswerType | None, about: str | None, question: str) -> bool:
    """Whether the first quoted sentence says the sources do not hold the answer, and nothing else does.

    "De agenda onderscheidt zeven actielijnen, maar de pagina somt ze niet op" still answers "hoeveel
    actielijnen?": the fact asked for (`kind`) stands in the text outside the admission.
    """
    sentences = quoted_sentences(text)
    named = _KIND_WORDS.get(kind) if kind is not None else None
    # A later sentence saying the sources name no such fact ("De bronnen noemen geen subsidie of bedrag per
    # gemeente") outweighs a figure quoted beside it from another context.
    if named is not None and any(_GAP.search(s) and named.search(s) for s, _ in sentences[1:]):
        return True
    if not sentences or not _GAP.search(sentences[0][0]):
        return False
    if kind is None:
        return True
    rest = " ".join(clause for clause in _CLAUSE.split(text) if not _GAP.search(clause))
    return not satisfies(kind, rest, about, question)


def typed_off_subject(
    question: str, kind: AnswerType, about: str | None, text: str, citations: Iterable[Citation]
) -> list[str]:
    """The names and acronyms of the question that no passage holding a fact of `kind` mentions.

    Empty when some quoted sentence of that kind comes from a passage that names them all (or the
    question names nothing). A sentence that names another organisation and none of the question's
    names holds that organisation's fact, not theirs.
    """
    subjects = _hinges(dict.fromkeys([*_ACRONYM.findall(question), *_SPECIFIC.findall(question)]))
    subjects = [w for w in subjects if not w.isdigit()]
    if not subjects:
        return []
    passages = {c.ref: c for c in citations}
    missing: list[str] = list(subjects)
    for sentence, refs in quoted_sentences(text):
        cited = [passages[r] for r in refs if r in passages]
        if not cited or not satisfies(kind, sentence, about, question):
            continue
        own = set(terms(sentence))
        if not any(_mentions(w, own) for w in subjects) and set(_ACRONYM.findall(sentence)) - set(subjects):
            continue  # the fact belongs to another organisation the sentence names ("het piketnummer van het NGB")
        found = _passage_terms(cited, with_text=True)
        unmet = [w for w in subjects if not _mentions(w, found)]
        if len(unmet) < len(missing):
            missing = unmet
    return missing


def shares_words(question: str, text: str, citations: Iterable[Citation], ignore: frozenset[str] = frozenset()) -> bool:
    """Whether a content word of `question` (other than the stems in `ignore`) occurs in `text` or the cited
    passages' titles and sections."""
    evidence = set(terms(text)) | _passage_terms(citations, with_text=False)
    return any(_found(term, evidence) for term in terms(question) if term not in ignore)


def _passage_terms(citations: Iterable[Citation], *, with_text: bool) -> set[str]:
    found: set[str] = set()
    for c in citations:
        body = c.passage.text if with_text else ""
        found |= set(terms(f"{c.passage.doc.title} {c.passage.chunk.section or ''} {body}"))
    return found


def _hinges(words: Iterable[str]) -> list[str]:
    """The words a question hinges on: names every government text takes for granted left out."""
    return [w for w in words if w.lower() not in _TAKEN_FOR_GRANTED and terms(w)]


def _mentions(word: str, evidence: set[str]) -> bool:
    """Some stem of `word` is found in the evidence."""
    return any(_found(stem, evidence) for stem in terms(word))


def _holds(words: str, evidence: set[str]) -> bool:
    """Every stem of `words` is found in the evidence."""
    return all(_found(stem, evidence) for stem in terms(words))


def _found(term: str, evidence: set[str]) -> bool:
    if term in evidence:
        return True
    if len(term) < _MIN_PREFIX:
        return False
    return any(len(e) >= _MIN_PREFIX and (e.startswith(term) or term.startswith(e)) for e in evidence)
