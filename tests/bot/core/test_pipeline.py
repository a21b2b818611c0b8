"""The answer pipeline: refusal on weak evidence, LLM answers checked, every LLM failure falls back."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from bot.core.answering import EVERYONE, PUBLIC
from bot.core.models import Access
from bot.core.pipeline import DECLINE_TOKEN, AnswerPipeline, LLMAnswerer
from bot.errors import GenerationError
from tests.fakes import FakeChatModel, FakeRetriever, make_passage

pytestmark = pytest.mark.unit

MIA = make_passage(
    "mia.md",
    "De Maatschappelijke Impact Afweging brengt de impact van beleidskeuzes op maatschappelijke onrust in beeld.",
    title="Preventie en MIA",
    similarity=0.9,
)
INTERN = make_passage(
    "intern.md", "Het OMO-draaiboek voor spoedverzoeken ligt bij de coördinator.", access=Access.OMO_INTERN
)


def pipeline(retriever: FakeRetriever, llm: FakeChatModel | None = None, timeout_s: float = 1.0) -> AnswerPipeline:
    return AnswerPipeline(retriever, min_similarity=0.8, llm=LLMAnswerer(llm, timeout_s) if llm is not None else None)


async def test_extractive_answer_is_confident_and_cited() -> None:
    answer = await pipeline(FakeRetriever([MIA])).answer("Wat is de MIA?")
    assert answer.confident and not answer.escalation_offered
    assert answer.text.endswith("[1]")
    assert answer.citations[0].passage.doc.doc_id == "mia.md"
    assert answer.retrieved == ("mia.md",)


async def test_weak_evidence_refuses_and_offers_escalation() -> None:
    weak = make_passage("x.md", "Iets over de Tour de France en wielrennen in Frankrijk.", similarity=0.7)
    answer = await pipeline(FakeRetriever([weak])).answer("Wie won de Tour de France in 2019?")
    assert not answer.confident and answer.escalation_offered
    assert answer.citations == ()
    assert "weet ik niet" in answer.text


async def test_llm_answer_keeps_only_validly_cited_sentences() -> None:
    llm = FakeChatModel("De MIA brengt de impact van beleid in beeld. [1] Het OMO heeft 40 medewerkers. [3]")
    answer = await pipeline(FakeRetriever([MIA]), llm).answer("Wat is de MIA?")
    assert answer.text == "De MIA brengt de impact van beleid in beeld. [1]"
    assert answer.generator == "llm:fake"
    system, user = llm.prompts[0]
    assert DECLINE_TOKEN in system and "[1] Preventie en MIA" in user


async def test_llm_reply_without_valid_citation_falls_back_to_extractive() -> None:
    answer = await pipeline(FakeRetriever([MIA]), FakeChatModel("Dat staat in bron [5].")).answer("Wat is de MIA?")
    assert answer.confident and answer.generator == "extractive"
    assert answer.citations[0].passage.doc.doc_id == "mia.md"


async def test_llm_error_falls_back_to_extractive() -> None:
    llm = FakeChatModel(error=GenerationError("HTTP 500", status=500))
    answer = await pipeline(FakeRetriever([MIA]), llm).answer("Wat is de MIA?")
    assert answer.confident and answer.generator == "extractive"


async def test_llm_timeout_falls_back_to_extractive() -> None:
    class SlowModel(FakeChatModel):
        async def generate(self, system: str, user: str) -> str:
            await asyncio.sleep(5)
            return "te laat [1]"

    answer = await pipeline(FakeRetriever([MIA]), SlowModel(), timeout_s=0.05).answer("Wat is de MIA?")
    assert answer.confident and answer.generator == "extractive"


async def test_llm_decline_signal_refuses() -> None:
    answer = await pipeline(FakeRetriever([MIA]), FakeChatModel(DECLINE_TOKEN)).answer("Wat kost de MIA?")
    assert not answer.confident and answer.escalation_offered


async def test_internal_documents_only_reach_the_omo() -> None:
    retriever = FakeRetriever([INTERN])
    public = await pipeline(retriever).answer("Waar ligt het draaiboek voor spoedverzoeken?", access=PUBLIC)
    omo = await pipeline(retriever).answer("Waar ligt het draaiboek voor spoedverzoeken?", access=EVERYONE)
    assert not public.confident and public.retrieved == ()
    assert omo.confident and omo.citations[0].passage.doc.doc_id == "intern.md"


async def test_follow_up_searches_with_the_earlier_question() -> None:
    retriever = FakeRetriever([MIA])
    await pipeline(retriever).answer("En wie doet dat?", context="Wat is de MIA?")
    assert retriever.questions == ["Wat is de MIA?\nEn wie doet dat?"]


async def test_no_shared_word_needs_a_margin_above_the_threshold() -> None:
    near = make_passage("mia.md", "De MIA brengt de impact van beleidskeuzes op onrust in beeld.", similarity=0.81)
    retriever = FakeRetriever([near])
    strict = AnswerPipeline(retriever, min_similarity=0.8, no_overlap_margin=0.03)
    assert not (await strict.answer("Wie won de Tour de France?")).confident
    assert (await strict.answer("Wat brengt de MIA in beeld?")).confident


async def test_a_word_of_time_or_an_everyday_verb_shared_with_the_sources_does_not_make_a_question_topical() -> None:
    weekend = make_passage(
        "termijn.md",
        "Valt de meldtermijn op een zaterdag, dan meld je op vrijdag; een vergunning vraag je niet aan.",
        similarity=0.81,
    )
    strict = AnswerPipeline(FakeRetriever([weekend]), min_similarity=0.8, no_overlap_margin=0.03)
    assert not (await strict.answer("Regent het zaterdag?")).confident
    assert not (await strict.answer("Hoe vraag ik een rijbewijs aan?")).confident
    assert (await strict.answer("Wat als de meldtermijn op zaterdag valt?")).confident


async def test_a_question_for_a_phone_number_is_refused_when_the_sources_hold_none() -> None:
    omo = make_passage("omo.md", "Het OMO bereikt u via deze assistent: typ !omo in Matrix.", similarity=0.9)
    with_number = make_passage("contact.md", "Het OMO is bereikbaar op telefoonnummer 070 123 4567.", similarity=0.9)
    refused = await pipeline(FakeRetriever([omo])).answer("Wat is het telefoonnummer van het OMO?")
    answered = await pipeline(FakeRetriever([with_number])).answer("Wat is het telefoonnummer van het OMO?")
    assert not refused.confident and refused.escalation_offered
    assert refused.notes[0] == "the quoted text holds no phone number"
    assert answered.confident and "070 123 4567" in answered.text


async def test_an_unrelated_question_after_a_topical_one_is_judged_alone() -> None:
    retriever = FakeRetriever([MIA], similarity_of=lambda text: 0.9 if "MIA" in text else 0.7)
    answer = await pipeline(retriever).answer("Wie won de Tour de France in 2019?", context="Wat is de MIA?")
    assert not answer.confident and answer.escalation_offered
    assert retriever.questions == ["Wie won de Tour de France in 2019?"]


async def test_a_short_question_that_names_its_subject_is_judged_alone() -> None:
    retriever = FakeRetriever([MIA], similarity_of=lambda text: 0.9 if "MIA" in text else 0.7)
    answer = await pipeline(retriever).answer("Wat is MIA?", context="Wat doet het OMO?")  # three words
    assert answer.confident and retriever.questions == ["Wat is MIA?"]


async def test_a_longer_question_with_a_relative_clause_is_answered_alone_when_the_conversation_does_not_fit() -> None:
    retriever = FakeRetriever([MIA], similarity_of=lambda text: 0.9 if "MIA" in text else 0.7)
    question = "Wat is de impact van beleid die de MIA in beeld brengt?"  # "die" points nowhere back
    answer = await pipeline(retriever).answer(question, context="Wie won de Tour de France?")
    assert answer.confident and answer.citations[0].passage.doc.doc_id == "mia.md"
    assert retriever.questions == [f"Wie won de Tour de France?\n{question}", question]


async def test_a_followup_of_pointers_only_is_answered_about_the_conversation() -> None:
    retriever = FakeRetriever([MIA], similarity_of=lambda text: 0.9 if "MIA" in text else 0.7)
    answer = await pipeline(retriever).answer("en wat als ze dat niet doen?", context="Wat is de MIA?")
    assert answer.confident and answer.citations[0].passage.doc.doc_id == "mia.md"


async def test_a_followup_is_searched_with_the_question_before_it() -> None:
    retriever = FakeRetriever([MIA], similarity_of=lambda text: 0.9 if "MIA" in text else 0.7)
    answer = await pipeline(retriever).answer("En wat brengt die dan in beeld?", context="Wat is de MIA?")
    assert answer.confident and answer.citations[0].passage.doc.doc_id == "mia.md"
    assert retriever.questions == ["Wat is de MIA?\nEn wat brengt die dan in beeld?"]


async def test_a_followup_is_held_to_the_same_evidence() -> None:
    retriever = FakeRetriever([MIA], similarity_of=lambda text: 0.9 if "MIA" in text else 0.7)
    answer = await pipeline(retriever).answer("En wat kost die dan?", context="Wat is de MIA?")
    assert not answer.confident
    assert answer.notes[0] == "the quoted text holds no amount of money"
    assert retriever.questions == ["Wat is de MIA?\nEn wat kost die dan?"]  # alone it would be about nothing


async def test_a_followup_is_not_answered_about_another_subject_nor_alone() -> None:
    other = make_passage(
        "151b.md", "Een aanwijzing als veiligheidsrisicogebied kan een dag of een jaar duren.", similarity=0.9
    )
    retriever = FakeRetriever([other])
    answer = await pipeline(retriever).answer("en hoe lang mag dat duren?", context="Wat is een noodbevel?")
    assert not answer.confident
    assert answer.notes[0] == "what would be quoted is not about the conversation's subject"
    assert retriever.questions == ["Wat is een noodbevel?\nen hoe lang mag dat duren?"]
    ok = await pipeline(retriever).answer("en hoe lang mag dat duren?", context="Wat is een veiligheidsrisicogebied?")
    assert ok.confident


async def test_a_name_or_year_the_sources_never_mention_is_refused() -> None:
    answer = await pipeline(FakeRetriever([MIA])).answer("Hoe gebruikt de gemeente Tilburg de MIA in 2027?")
    assert not answer.confident
    assert answer.notes[0] == "the sources do not mention Tilburg, 2027"


async def test_a_weak_best_sentence_is_refused() -> None:
    strict = AnswerPipeline(FakeRetriever([MIA]), min_similarity=0.8, min_lead_similarity=0.95)
    answer = await strict.answer("Wat is de MIA?")
    assert not answer.confident and answer.notes[0].startswith("the best sentence is a weak match")


async def test_a_weak_best_sentence_in_a_passage_that_matches_strongly_is_answered() -> None:
    lenient = AnswerPipeline(FakeRetriever([MIA]), min_similarity=0.8, min_lead_similarity=0.95, strong_similarity=0.9)
    assert (await lenient.answer("Wat is de MIA?")).confident  # the passage's similarity is 0.9


async def test_a_text_that_says_the_sources_are_silent_is_a_refusal() -> None:
    gap = make_passage(
        "agenda.md",
        "De agenda onderscheidt zeven actielijnen, maar de VNG-pagina somt die zeven actielijnen niet op.",
        similarity=0.9,
    )
    refused = await pipeline(FakeRetriever([gap])).answer("Wat houden de zeven actielijnen in?")
    assert not refused.confident and refused.notes[0] == "the sources say they do not hold the answer"
    assert (await pipeline(FakeRetriever([gap])).answer("Hoeveel actielijnen heeft de agenda?")).confident


async def test_a_question_in_parts_is_answered_only_when_each_part_gets_its_kind_of_fact() -> None:
    team = make_passage(
        "ot.md", "Het Ondersteuningsteam Weerbaar Bestuur is dag en nacht bereikbaar voor bedreigde bestuurders."
    )
    question = "Kan ik het team 's nachts bellen? En hoeveel zaken doen ze per jaar?"
    retriever = FakeRetriever([team])
    half = await pipeline(retriever).answer(question)
    assert not half.confident and half.notes[0] == "the quoted text holds no number"
    assert retriever.parts == [("Kan ik het team 's nachts bellen", "En hoeveel zaken doen ze per jaar")]
    cases = make_passage("ot.md", "Het Ondersteuningsteam Weerbaar Bestuur behandelt ongeveer 25 zaken per jaar.")
    whole = await pipeline(FakeRetriever([team, cases])).answer(question)
    assert whole.confident and "25 zaken" in whole.text


async def test_the_next_occasion_is_refused_from_past_dates_by_the_pipelines_clock() -> None:
    past = make_passage("omo.md", "Het OMO hield in december 2020 een leerkring over jongeren.", similarity=0.9)
    question = "Wanneer is de volgende leerkring van het OMO?"
    later = AnswerPipeline(FakeRetriever([past]), min_similarity=0.8, clock=lambda: date(2026, 12, 1))
    back_then = AnswerPipeline(FakeRetriever([past]), min_similarity=0.8, clock=lambda: date(2020, 11, 1))
    assert not (await later.answer(question)).confident
    assert (await back_then.answer(question)).confident
