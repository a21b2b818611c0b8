"""The answer pipeline: `retrieve(q) -> passages`, `generate(q, passages) -> Draft`, `cite(draft, passages) -> Answer`.

Refusal comes first. The answer says it does not know, cites nothing and offers escalation to the
OMO when the best passage is not similar enough to the question (a threshold calibrated per
embedder), when the LLM says the sources do not cover it, when the question asks for a kind of fact
(an amount, a duration, a date, a phone number, ...) that the quoted text does not hold, when the
question names a place, organisation, year or figure that no cited passage mentions, or when the best
sentence the extractive answer would quote is a weak match.

Whether a message is answerable is decided on the message itself. Only a genuine follow-up (see
`bot.core.followup`) is searched together with the question before it, and that answer passes the
same checks: an unrelated message after a topical one is refused exactly as when it is asked alone.
An LLM that fails, times out or cites nothing valid is replaced by the extractive answer; that is
logged, never shown as an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Protocol

from bot import prompts
from bot.core.answer_type import AnswerType, counted, expected_type, satisfies
from bot.core.answering import PUBLIC
from bot.core.citations import CitedText, Draft, cite
from bot.core.evidence import (
    admits_gap,
    long_past,
    missing_predicate,
    missing_specifics,
    shares_words,
    typed_off_subject,
)
from bot.core.extractive import ExtractiveAnswerer
from bot.core.followup import is_followup, needs_context
from bot.core.models import Access, Answer, Passage, Retrieval
from bot.core.question_parts import question_parts
from bot.core.retrieval import Retriever
from bot.core.text import terms
from bot.errors import GenerationError

__all__ = ["AnswerPipeline", "ChatModel", "LLMAnswerer"]

log = logging.getLogger(__name__)

# Words of time and everyday verbs make no question topical: "regent het zaterdag?" shares "zaterdag" with
# the section on a notice period that ends in the weekend, "hoe vraag ik een rijbewijs aan?" shares "vraag".
_NOT_TOPICAL = frozenset(
    terms(
        "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag weekend vandaag morgen gisteren vanavond "
        "vannacht ochtend middag avond nacht dag dagen week weken maand jaar uur uren tijd laat vroeg open dicht "
        "vraag vragen krijg krijgen zet zetten maak maken doe doen geef geven neem nemen vind vinden zie zien "
        "weet weten wil willen kom komen ga gaan sta staan hoor horen werk werkt werken lang weer"
    )
)

DECLINE_TOKEN = "NIET_IN_BRONNEN"
"""What the LLM is told to answer when the sources do not cover the question (see the system prompt)."""


class ChatModel(Protocol):
    name: str

    async def generate(self, system: str, user: str) -> str: ...


class LLMAnswerer:
    """Drafts an answer with a chat model from numbered passages; raises `GenerationError` on failure."""

    def __init__(self, model: ChatModel, timeout_s: float) -> None:
        self._model = model
        self._timeout_s = timeout_s
        self.name = model.name

    async def draft(self, question: str, passages: Sequence[Passage], context: str | None) -> Draft:
        system = prompts.render("llm_system.nl.j2", decline_token=DECLINE_TOKEN)
        user = prompts.render("llm_answer.nl.j2", question=question, passages=passages, context=context)
        try:
            async with asyncio.timeout(self._timeout_s):
                reply = await self._model.generate(system, user)
        except TimeoutError as exc:
            raise GenerationError(f"LLM did not answer within {self._timeout_s:.0f} s") from exc
        declined = DECLINE_TOKEN in reply
        return Draft(reply.replace(DECLINE_TOKEN, "").strip(), self.name, declined=declined)


def _unmet_type(question: str, text: str) -> AnswerType | None:
    """The kind of fact asked for that `text` does not hold; a question in parts needs each part answered."""
    for part in question_parts(question) or [question]:
        kind = expected_type(part)
        if not satisfies(kind, text, counted(part), question):
            return kind
    return None


class AnswerPipeline:
    """Implements `Answerer`. Cheap to construct; the retriever's indexes load on first use or in warm-up."""

    def __init__(
        self,
        retriever: Retriever,
        *,
        min_similarity: float,
        no_overlap_margin: float = 0.0,
        min_lead_similarity: float = 0.0,
        strong_similarity: float = 1.0,
        max_passages: int = 4,
        max_sentences: int = 3,
        llm: LLMAnswerer | None = None,
        clock: Callable[[], date] = date.today,
    ) -> None:
        self._retriever = retriever
        self._min_similarity = min_similarity
        self._no_overlap_margin = no_overlap_margin
        self._min_lead = min_lead_similarity
        self._strong = strong_similarity
        self._max_passages = max_passages
        self._extractive = ExtractiveAnswerer(max_sentences)
        self._llm = llm
        self._clock = clock

    @property
    def retriever(self) -> Retriever:
        return self._retriever

    async def answer(self, question: str, *, access: frozenset[Access] = PUBLIC, context: str | None = None) -> Answer:
        """Answer `question`; `context` (the question before it) is used only when this one is a follow-up."""
        question = question.strip()
        if context and question and is_followup(question):
            answer = await self._attempt(question, f"{context}\n{question}", access, context)
            if answer.confident or needs_context(question):  # "kost dat geld?" alone is about nothing
                return answer
        return await self._attempt(question, question, access, None)

    async def _attempt(self, question: str, search_text: str, access: frozenset[Access], context: str | None) -> Answer:
        retrieval = await self._retriever.retrieve(search_text, access, question_parts(question))
        if not question or not self._supported(retrieval):
            return self._refusal(question, retrieval, "weak evidence")
        passages = retrieval.passages[: self._max_passages]
        cited: CitedText | None = None
        lead: float | None = None
        generator = self._extractive.name
        if self._llm is not None:
            try:
                draft = await self._llm.draft(question, passages, context)
            except GenerationError as exc:
                log.warning("LLM failed, using the extractive answer: %s", exc)
            else:
                if draft.declined:
                    return self._refusal(question, retrieval, "the LLM found no answer in the sources")
                cited = cite(draft, passages)
                generator = draft.generator
                if cited.dropped:
                    log.info("dropped %d LLM sentences with missing or invalid citations", cited.dropped)
                if not cited.citations:
                    log.warning("LLM reply had no valid citation, using the extractive answer")
                    cited = None
        if cited is None:
            draft = self._extractive.draft(question, passages, retrieval.sentence_similarity, retrieval.part_similarity)
            cited = cite(draft, passages)
            lead = draft.lead_similarity
            generator = self._extractive.name
        if not cited.citations:
            return self._refusal(question, retrieval, "no citable sentence")
        if lead is not None and lead < self._min_lead and not self._strong_passage(retrieval):
            return self._refusal(question, retrieval, f"the best sentence is a weak match ({lead:.3f})")
        asked, about = expected_type(question), counted(question)
        if admits_gap(cited.text, asked, about, question):
            return self._refusal(question, retrieval, "the sources say they do not hold the answer")
        unmet = _unmet_type(question, cited.text)
        if unmet is not None:
            return self._refusal(question, retrieval, f"the quoted text holds no {unmet}")
        off_subject = typed_off_subject(question, asked, about, cited.text, cited.citations) if asked else []
        if off_subject:
            return self._refusal(question, retrieval, f"the {asked} quoted is not about {', '.join(off_subject)}")
        if context is not None:
            # A follow-up of pointers only ("wat als ze dat niet doen?") has no word to share; the conversation's must.
            named = set(terms(question)) - _NOT_TOPICAL
            if asked is None and named and not shares_words(question, cited.text, cited.citations):
                return self._refusal(question, retrieval, "the follow-up shares no word with what would be quoted")
            if not shares_words(context, cited.text, cited.citations, ignore=_NOT_TOPICAL):
                reason = "what would be quoted is not about the conversation's subject"
                return self._refusal(question, retrieval, reason)
        if asked is AnswerType.DATE and long_past(question, cited.text, self._clock().year):
            return self._refusal(question, retrieval, "the dates quoted are past, the question asks what comes next")
        status = missing_predicate(question, cited.text)
        if status is not None:
            return self._refusal(question, retrieval, f"the quoted text does not say whether it is {status}")
        missing = missing_specifics(question, cited.citations)
        if missing:
            return self._refusal(question, retrieval, f"the sources do not mention {', '.join(missing)}")
        return Answer(
            question=question,
            text=cited.text,
            citations=cited.citations,
            confident=True,
            escalation_offered=False,
            retrieved=tuple(retrieval.doc_ids()),
            generator=generator,
            notes=(f"lead {lead}", f"similarity {retrieval.top_similarity}"),
        )

    def _supported(self, retrieval: Retrieval) -> bool:
        """Strong enough evidence: the top cosine clears the threshold, by a margin if no word is shared.

        Off-topic questions share no content word with what they retrieve (words of time and everyday verbs
        aside); requiring more similarity from those keeps the threshold safe as the corpus grows.
        """
        if not retrieval.passages:
            return False
        top = retrieval.top_similarity
        # Without a dense score (BM25-only mode) there is no calibrated signal: answer what was found.
        if top is None:
            return True
        if top < self._min_similarity:
            return False
        if top >= self._min_similarity + self._no_overlap_margin:
            return True
        wanted = set(terms(retrieval.question)) - _NOT_TOPICAL
        return any(
            wanted & set(terms(f"{p.doc.title} {p.chunk.section or ''} {p.text}")) for p in retrieval.passages[:3]
        )

    def _strong_passage(self, retrieval: Retrieval) -> bool:
        """A top passage this close to the question answers it as a whole, though no one sentence matches as
        well ("Wat zijn de lessen van de avondklokrellen?" meets the section on those lessons)."""
        top = retrieval.top_similarity
        return top is not None and top >= self._strong

    def _refusal(self, question: str, retrieval: Retrieval, reason: str) -> Answer:
        log.info("refusing (%s), top similarity %s", reason, retrieval.top_similarity)
        return Answer(
            question=question,
            text=prompts.render("no_answer.nl.j2"),
            confident=False,
            escalation_offered=True,
            retrieved=tuple(retrieval.doc_ids()),
            notes=(reason, f"similarity {retrieval.top_similarity}"),
        )
