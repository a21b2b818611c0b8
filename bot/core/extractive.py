"""The default answerer without an LLM: quote the one to three sentences of the top passages that answer best.

Each quotable sentence (no heading, no question; see `bot.core.sentences`) is scored by meaning: the
cosine of the question to the sentence's own vector, stored at ingest. Words the sentence shares with
the question (weighted by how rare they are among the candidates) and the rank of its passage add a
little, and they are all there is for a passage without sentence vectors. The best sentence leads;
at most `max_sentences - 1` more follow, each only if it scores close to the lead, brings a question
word or a figure the answer does not have yet, and comes from the lead's document unless another
document scores clearly better. A question asking what something is ("Wat regelt artikel 172a?") is led by
the opening of the section whose heading asks just that. Deterministic, no model calls: well under a millisecond
per answer.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.core.answer_type import MONTHS, AnswerType, counted, expected_type, satisfies
from bot.core.citations import Draft
from bot.core.evidence import status_asked
from bot.core.models import ChunkId, Passage
from bot.core.question_parts import OPEN_QUESTION, question_parts
from bot.core.sentences import is_quotable, sentence_units
from bot.core.text import terms

__all__ = ["ExtractiveAnswerer"]

_LEXICAL_WEIGHT = 0.08  # a sentence sharing every question word gains this much cosine
_RANK_WEIGHT = 0.02  # the top passage's sentences gain this much over the fourth passage's
_LEAD_BONUS = 0.01  # a section's opening sentence usually states its point
_TYPE_BONUS = 0.04  # the sentence holds the kind of fact asked for (a figure, a duration, ...)
_DEFINITION_BONUS = 0.04  # "Wat regelt artikel 172a?" is answered where a section asks that of its subject
_CASE_PENALTY = 0.03  # a past case ("In Zeist vorderde de griffier in 2015 ...") does not say what to do
_FOLLOW_MARGIN = 0.05  # an extra sentence scores at most this much below the lead
_OTHER_DOC_MARGIN = 0.02  # ... and at most this much when it comes from another document
_PART_MARGIN = 0.08  # a sentence answering another part of the question may score this much below the lead
_PART_COVERED = 0.005  # a part counts as answered by a chosen sentence this close to the part's best one
_PART_FLOOR = 0.06  # the best sentence for a part is quoted only this close to the lead's own similarity
_REPEAT_OVERLAP = 0.6
_SHORT_CHARS = 80
_MAX_ANSWER_CHARS = 750  # companions join the lead only while the quoted text stays this short
_FIGURE = re.compile(r"\d")
# A lead that ends by announcing things it does not name ("... een woning sluiten op drie gronden.") is
# told by the sentence after it; a figure of time or money ("maximaal twee jaar.") is a fact of its own.
_ANNOUNCES = re.compile(
    r"\b(twee|drie|vier|vijf|zes|zeven|acht|negen|tien|\d+)\s+"
    r"(?!(?:uur|uren|minuten|dagen|werkdagen|weken|maanden|jaar|jaren|euro|procent)\b)[a-zà-ÿ]+[.:]$",
    re.IGNORECASE,
)
# "Ja, ..." answers a yes/no question; quoted after "Wat kan ...?" or "Hoe ...?" the word only jars.
_ANSWER_WORD = re.compile(r"^(?:ja|nee)\s*[,:]\s*(?=\w)", re.IGNORECASE)
# "Wat kan ik doen ...?", "wat moet ik communiceren?", "Hoe ga je om met ...?", "... wat nu?": the official asks what
# to do, not what happened.
_ASKS_WHAT_TO_DO = re.compile(
    r"\b(wat\s+(kan|kun|kunt|kunnen|moet|moeten|mag|mogen)\b.*\b(doen|regelen|communiceren|zeggen)|wat\s+doe\s+(ik|je|we|jij)|hoe\s+ga\s+(ik|je|we|jij)\s+om|"
    r"hoe\s+(pak|pakken|reageer|reageren|handel|handelen)\b|wat\s+nu\b)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(19|20)\d\d\b")
# "Wat is ...?", "wat houdt artikel 172a in?", "wat regelt artikel 174a?": the official asks what something is. The
# embedder favours any short sentence that opens with the same words ("Artikel 172a is op 1 september 2010
# ingevoerd ..."); the answer opens the section whose heading asks what that subject is or regulates.
_WHAT_IT_IS = r"\bwat\s+(is|zijn|betekent|betekenen|regelt|regelen|zegt|houdt|houden|staat)\b"
_ASKS_WHAT_IT_IS = re.compile(rf"^\s*{_WHAT_IT_IS}", re.IGNORECASE)
_HEADING_ASKS_WHAT_IT_IS = re.compile(_WHAT_IT_IS, re.IGNORECASE)
_ARTICLE = re.compile(r"\b(?:artikel|art\.)\s*(\d+[a-z]?)\b(?:,?\s*lid\s*(\d+)\b)?", re.IGNORECASE)
_NO_SUBJECT = frozenset(
    terms("is zijn betekent betekenen regelt regelen zegt houdt houden in staat er precies eigenlijk nou artikel lid")
    + terms("gemeentewet gemw wom sr wetboek strafrecht")  # "artikel 175 Gemeentewet" is "artikel 175"
)

# When a past case happened ("in 2015", "in oktober 2019", "op 26 januari 2021"); "sinds 1 januari 2024" dates a rule.
_HAPPENED_IN = re.compile(rf"\b(in|op\s+\d{{1,2}})\s+(?:(?:{MONTHS})\s+)?(19|20)\d\d\b", re.IGNORECASE)
_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")  # "(EenVandaag, maart 2025)" after a title line
# A section that lists sources ("Waar vind ik meer informatie?", "Bronnen") answers only a question for them:
# its titles ("VNG: 6 miljoen nodig voor ...") would otherwise pass for facts.
_SOURCES_SECTION = re.compile(
    r"^(waar vind ik meer (informatie|over)|meer informatie|meer lezen|verder lezen|lees meer|bronnen|bron|"
    r"bronvermelding|literatuur|referenties|zie ook|links|gebruikte bronnen)\b",
    re.IGNORECASE,
)
_ASKS_FOR_SOURCES = re.compile(
    r"\b(meer informatie|meer lezen|nalezen|verder lezen|waar (vind|lees) ik|bronn?e?n?|link|website|url|pdf|"
    r"publicatie|documentatie)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Candidate:
    passage_no: int  # 1-based, as cited
    position: int
    text: str
    terms: frozenset[str]
    doc_id: str
    score: float = 0.0
    parts: tuple[float, ...] = ()  # similarity to each part of a question that asks several things


class ExtractiveAnswerer:
    """Builds a `Draft` from passages; `max_sentences` bounds the answer length."""

    name = "extractive"

    def __init__(self, max_sentences: int = 3) -> None:
        self._max_sentences = max_sentences

    def draft(
        self,
        question: str,
        passages: Sequence[Passage],
        similarity: Mapping[ChunkId, Mapping[int, float]] | None = None,
        part_similarity: Sequence[Mapping[ChunkId, Mapping[int, float]]] = (),
    ) -> Draft:
        """The lead sentence and its companions, each followed by its passage's `[n]`; empty text if none fits.

        A sentence that holds the kind of fact the question asks for (`expected_type`), or states the status
        a yes/no question asks about ("verplicht"), is preferred. With
        `part_similarity` (a question in several parts), a part no chosen sentence answers gets its own.
        """
        similarity = similarity or {}
        wanted = set(terms(question))
        asked = expected_type(question)
        about = counted(question)
        sources = bool(_ASKS_FOR_SOURCES.search(question))
        status = status_asked(question)
        what_to_do = bool(_ASKS_WHAT_TO_DO.search(question)) and not _YEAR.search(question)
        defined = _subject(question) if _ASKS_WHAT_IT_IS.match(question) else None
        raw = [
            _Candidate(no, pos, unit, _unit_terms(unit, passage, pos), str(passage.doc.doc_id))
            for no, passage in enumerate(passages, start=1)
            for pos, unit in enumerate(sentence_units(passage.text))
            if is_quotable(unit) and not _is_title(unit, passage) and (sources or not _lists_sources(passage))
        ]
        if not raw:
            return Draft("", self.name)
        rarity = _rarity(raw)
        unseen = math.log(1 + len(raw) / 0.5)  # a question word no candidate has weighs most

        def weight(term: str) -> float:
            return rarity.get(term, unseen)

        total = sum(weight(t) for t in wanted) or 1.0
        # Without stored sentence vectors, a passage's sentences stand in with its own similarity.
        base = {p.chunk.chunk_id: p.similarity if p.similarity is not None else p.score for p in passages}

        def meaning(c: _Candidate) -> float:
            chunk_id = passages[c.passage_no - 1].chunk.chunk_id
            return similarity.get(chunk_id, {}).get(c.position, base[chunk_id])

        def score(c: _Candidate) -> float:
            lexical = sum(weight(t) for t in c.terms & wanted) / total
            rank = _RANK_WEIGHT * (1.0 - min(c.passage_no - 1, 3) / 3)
            typed = _TYPE_BONUS if asked is not None and satisfies(asked, c.text, about, question) else 0.0
            if status is not None and status.search(c.text):
                typed = _TYPE_BONUS
            case = _CASE_PENALTY if what_to_do and _HAPPENED_IN.search(c.text) else 0.0
            lead = _LEAD_BONUS if c.position == 0 else 0.0
            return meaning(c) + _LEXICAL_WEIGHT * lexical + rank + typed + lead - case

        def parts(c: _Candidate) -> tuple[float, ...]:
            chunk_id = passages[c.passage_no - 1].chunk.chunk_id
            return tuple(by_part.get(chunk_id, {}).get(c.position, 0.0) for by_part in part_similarity)

        def defines(c: _Candidate) -> bool:
            return defined is not None and c.position == 0 and _defines(passages[c.passage_no - 1], *defined)

        # The definition decides which sentence leads; companions are still measured against the lead's own score.
        candidates = sorted(
            (replace(c, score=score(c), parts=parts(c)) for c in raw),
            key=lambda c: (-c.score - (_DEFINITION_BONUS if defines(c) else 0.0), c.passage_no, c.position),
        )
        chosen = self._choose(candidates, wanted, question, meaning(candidates[0]), status)
        open_question = bool(OPEN_QUESTION.match(question))
        text = " ".join(f"{_as_sentence(c.text, open_question)} [{c.passage_no}]" for c in chosen)
        return Draft(text, self.name, lead_similarity=meaning(chosen[0]))

    def _choose(
        self,
        ranked: list[_Candidate],
        wanted: set[str],
        question: str,
        lead_meaning: float,
        status: re.Pattern[str] | None,
    ) -> list[_Candidate]:
        lead = ranked[0]
        chosen = [lead]
        covered = set(lead.terms & wanted)

        def take(c: _Candidate | None) -> None:
            if c is None or len(chosen) >= self._max_sentences or c in chosen or any(_repeats(c, k) for k in chosen):
                return
            if sum(len(k.text) for k in chosen) + len(c.text) > _MAX_ANSWER_CHARS:
                return  # a short answer: a companion that would make it a wall of text stays out
            chosen.append(c)
            covered.update(c.terms & wanted)

        # A question that asks several things gets, for each part no chosen sentence answers, the
        # sentence closest to that part in meaning, if it is about as close as the lead is to the whole.
        for part in range(len(lead.parts)):
            closest = _closest(ranked, part, lead.doc_id)
            answered = any(k.parts[part] >= closest.parts[part] - _PART_COVERED for k in chosen)
            if not answered and closest.parts[part] >= lead_meaning - _PART_FLOOR:
                take(closest)
        # ... and a sentence per kind of fact it asks for ("... 's nachts bellen? En hoeveel zaken per
        # jaar?"), when no chosen sentence holds it yet.
        for kind in _part_types(question):
            if not any(satisfies(kind, c.text, question=question) for c in chosen):
                take(
                    next(
                        (
                            c
                            for c in ranked
                            if c.score >= lead.score - _PART_MARGIN and satisfies(kind, c.text, question=question)
                        ),
                        None,
                    )
                )
        if status is not None and not any(status.search(c.text) for c in chosen):
            take(next((c for c in ranked if c.score >= lead.score - _PART_MARGIN and status.search(c.text)), None))
        if len(lead.text) < _SHORT_CHARS or _ANNOUNCES.search(lead.text):
            # A short lead ("De Maatschappelijke Impact Afweging.") or one that announces a list is explained by
            # the sentence after it.
            take(next((c for c in ranked if (c.passage_no, c.position) == (lead.passage_no, lead.position + 1)), None))
        for c in ranked[1:]:
            margin = _FOLLOW_MARGIN if c.doc_id == lead.doc_id else _OTHER_DOC_MARGIN
            if c.score < lead.score - margin:
                continue
            new_words = (c.terms & wanted) - covered
            new_figure = bool(_FIGURE.search(c.text)) and not any(_FIGURE.search(k.text) for k in chosen)
            if new_words or new_figure:
                take(c)
        # The lead first; companions from its passage keep their order, others follow.
        rest = sorted(chosen[1:], key=lambda c: (c.passage_no != lead.passage_no, c.passage_no, c.position))
        return [lead, *rest]


def _closest(ranked: Sequence[_Candidate], part: int, doc_id: str) -> _Candidate:
    """The sentence closest in meaning to one part of the question, preferring the lead's document."""
    return max(ranked, key=lambda c: c.parts[part] - (0.0 if c.doc_id == doc_id else _OTHER_DOC_MARGIN))


def _part_types(question: str) -> list[AnswerType]:
    """The kinds of fact asked for by each part of a question that asks several things, in order, once each."""
    kinds = [expected_type(part) for part in question_parts(question)]
    return list(dict.fromkeys(k for k in kinds if k is not None))


def _unit_terms(unit: str, passage: Passage, position: int) -> frozenset[str]:
    """A sentence's words; a section's opening sentence answers its heading, so it inherits the heading's words."""
    own = frozenset(terms(unit))
    if position == 0 and passage.chunk.section:
        return own | frozenset(terms(_heading(passage)))
    return own


def _rarity(candidates: Sequence[_Candidate]) -> dict[str, float]:
    """Inverse frequency of each word among the candidate sentences: rare words say more about a match."""
    frequency = Counter(t for c in candidates for t in c.terms)
    return {t: math.log(1 + len(candidates) / f) for t, f in frequency.items()}


def _subject(question: str) -> tuple[set[str], set[tuple[str, str]]] | None:
    """What a "wat is ...?" question asks about: its words and the articles it names ("172", "lid 3"); None if
    it names nothing."""
    words, articles = set(terms(question)) - _NO_SUBJECT, _articles(question)
    return (words, articles) if words or articles else None


def _defines(passage: Passage, words: set[str], articles: set[tuple[str, str]]) -> bool:
    """The passage's section asks what the subject is or regulates ("Wat is artikel 172a van de Gemeentewet?"),
    and names the articles asked about and no others ("artikel 154a en artikel 176a" is not "artikel 154a")."""
    heading = _heading(passage)
    if not _HEADING_ASKS_WHAT_IT_IS.search(heading) or not words <= set(terms(heading)):
        return False
    if not articles:
        return True
    named = _articles(heading)
    return {a for a, _ in named} == {a for a, _ in articles} and all(
        any(a == n and lid in ("", m) for n, m in named) for a, lid in articles
    )


def _articles(text: str) -> set[tuple[str, str]]:
    return {(number.lower(), lid) for number, lid in _ARTICLE.findall(text)}


def _lists_sources(passage: Passage) -> bool:
    return bool(_SOURCES_SECTION.search(_heading(passage)))


def _heading(passage: Passage) -> str:
    """The passage's own heading: the last step of its section path ("Noodbevel > Wat is een noodbevel?")."""
    return (passage.chunk.section or "").rsplit(" > ", 1)[-1]


def _is_title(unit: str, passage: Passage) -> bool:
    """The document's title line repeated in its text (common in scraped pages, often followed by a dated
    note such as "(EenVandaag, maart 2025)") is no answer."""
    title = set(terms(passage.doc.title))
    own = set(terms(_TRAILING_NOTE.sub("", unit)))
    return bool(own) and len(own & title) / len(own) >= 0.8


def _repeats(candidate: _Candidate, kept: _Candidate) -> bool:
    """Says mostly what a chosen sentence says already (often the same fact in two documents)."""
    return bool(candidate.terms) and len(candidate.terms & kept.terms) / len(candidate.terms) >= _REPEAT_OVERLAP


def _as_sentence(text: str, open_question: bool) -> str:
    """Strip a trailing colon or marker so the citation follows the sentence's own full stop; after an open
    question, also a leading "Ja," or "Nee," (the rest of the sentence says it)."""
    text = text.rstrip(" :")
    if open_question and (word := _ANSWER_WORD.match(text)):
        text = text[word.end() :]
        text = text[:1].upper() + text[1:]
    return text if text.rstrip("\"'”’)")[-1:] in ".!?" else f"{text}."
