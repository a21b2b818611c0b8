"""Is a message a follow-up? Only an elliptic or referring message may borrow words from the question before it.

"En hoe lang mag dat dan duren?" cannot be understood alone; "Wie won de Tour de France?" can, and is judged
alone however topical the conversation was. The test is on the wording only: a message that starts like a
continuation ("en", "maar", "oké", "wat als"), is short and points back ("dat", "die", "zo'n", "daarvoor",
"dan"), or is a bare question of a few words ("voor hoe lang?"). A follow-up is still held to the same
evidence as any question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.question_parts import OPEN_QUESTION
from bot.core.text import terms

__all__ = ["context_of", "is_followup", "needs_context"]

_CONTINUATION = re.compile(
    r"^\s*(en|maar|oké|oke|ok|okay|dus|ook|verder|tot slot|nog een vraag|en als|wat als|hoe zit het|geldt dat|"
    r"stel dat|en wat|en hoe|en wie|en waar|en wanneer|en mag|en kan|en moet)\b[\s,:]*",
    re.IGNORECASE,
)
# Words that point back on their own, and those that mostly stand before a noun or a time ("Geeft deze
# assistent ook juridisch advies?" names its subject; "die" and "deze" point back only at the end or before an
# adverb: "wat kost die dan?").
_POINTERS = (
    r"dat|dit|daar|daarvoor|daarna|daarbij|daarmee|daarover|daaraan|daarvan|ervan|erover|ervoor|eraan|erbij|"
    r"zoiets|hij|zij|ze|hem|haar|hun|diegene|hetzelfde|datzelfde"
)
_REFERRING = re.compile(rf"\b({_POINTERS}|die|deze|zo'n|zulke|dan)\b", re.IGNORECASE)
_POINTS_ALONE = re.compile(
    rf"\b({_POINTERS})\b|\b(die|deze)\b(?=\s*(?:[?.!,]|$)|\s+(?:dan|ook|nog|wel|niet|eigenlijk|precies)\b)",
    re.IGNORECASE,
)
# "dit weekend", "deze week": a demonstrative that points at a time, not back into the conversation.
_DEICTIC_TIME = re.compile(
    r"\b(dit|deze|die|dat)\s+(weekend|week|jaar|maand|moment|keer|avond|ochtend|middag|nacht|zomer|winter|"
    r"najaar|voorjaar)\b",
    re.IGNORECASE,
)
_SHORT_WORDS = 15
# Only this short does a pointing word surely point back: in "Mag ik een demonstratie verbieden die niet gemeld
# is?" "die" opens a relative clause, and the question stands on its own.
_POINTING_WORDS = 6
# "voor hoe lang?", "hoeveel?", "bij wie?": a question of a few words that names nothing asks about the last one
# ("Wat is doxing?" names its subject).
_ELLIPTIC_WORDS = 3
_NAMES_NOTHING = frozenset(
    terms("lang vaak snel veel ver laat duur duren duurt groot hoog oud kost kosten geld termijn periode gebeurt")
)
_LEADING_PREPOSITION = re.compile(
    r"^\s*(voor|tot|bij|met|van|naar|om|in|op|sinds|vanaf|per|door|binnen|na|tegen)\s+", re.IGNORECASE
)
_CHAIN = 3  # a follow-up is read with the question it follows and at most the latest follow-ups after it


def is_followup(message: str) -> bool:
    """True when `message` reads as a continuation of the conversation rather than a question of its own."""
    if _CONTINUATION.match(message) or needs_context(message):
        return True
    return _points_back(message, _SHORT_WORDS, _REFERRING)


def needs_context(message: str) -> bool:
    """True when `message` cannot be answered alone: short, pointing back and naming nothing but what it asks
    ("kost dat geld?", "hoe lang duurt dat?"), or a bare question of a few words ("voor hoe lang?"). "En wat is
    de MIA?" continues, but stands on its own."""
    rest = _CONTINUATION.sub("", message, count=1)  # "en binnen welke termijn?" asks "binnen welke termijn?"
    asked = _LEADING_PREPOSITION.sub("", rest)
    if len(rest.split()) <= _ELLIPTIC_WORDS and OPEN_QUESTION.match(asked) and set(terms(asked)) <= _NAMES_NOTHING:
        return True
    # "En wie moet die dan bekrachtigen?" names what it asks about, and may be answered alone.
    return _points_back(message, _POINTING_WORDS, _POINTS_ALONE) and set(terms(message)) <= _NAMES_NOTHING


def _points_back(message: str, max_words: int, pointing: re.Pattern[str]) -> bool:
    """At most `max_words` words, one of which `pointing` finds ("dat", "daarvoor")."""
    return len(message.split()) <= max_words and pointing.search(_DEICTIC_TIME.sub(" ", message)) is not None


def context_of(asked: Sequence[str]) -> str | None:
    """What the next message of a conversation is read with, given the questions asked so far (oldest first).

    The last question that stood on its own, with the follow-ups since (the latest `_CHAIN - 1` of them):
    "hoe snel moet dat?" after "en wie moet die bekrachtigen?" after "Wat is een noodverordening?" needs all
    three. None before the first question.
    """
    if not asked:
        return None
    start = next((i for i in range(len(asked) - 1, -1, -1) if not is_followup(asked[i])), 0)
    chain = list(asked[start:])
    if len(chain) > _CHAIN:
        chain = [chain[0], *chain[1 - _CHAIN :]]
    return "\n".join(chain)
