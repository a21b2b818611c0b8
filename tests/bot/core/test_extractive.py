"""The extractive answerer quotes the most relevant sentences with their passage's marker."""

from __future__ import annotations

import pytest

from bot.core.citations import cite
from bot.core.extractive import ExtractiveAnswerer
from tests.fakes import make_passage

pytestmark = pytest.mark.unit


def test_picks_the_sentence_that_answers_and_cites_its_passage() -> None:
    passages = [
        make_passage(
            "mia.md",
            "De VNG wil gemeenten helpen bij onderzoek. De Maatschappelijke Impact Afweging (MIA) brengt in beeld "
            "welke gevolgen beleidskeuzes hebben voor onrust en anti-overheidssentiment. Het weer was goed.",
        ),
        make_passage("omo.md", "Het OMO organiseert leerkringen voor gemeenten die kennis willen uitwisselen."),
    ]
    draft = ExtractiveAnswerer(max_sentences=1).draft("Wat brengt de impact afweging in beeld?", passages)
    assert draft.text.startswith("De Maatschappelijke Impact Afweging (MIA) brengt in beeld")
    assert draft.text.endswith("[1]")
    assert cite(draft, passages).citations[0].passage.doc.doc_id == "mia.md"


def test_sentences_keep_passage_order_and_markers() -> None:
    passages = [
        make_passage("a", "Leerkringen zijn bijeenkomsten waarin gemeenten ervaringen delen over onrust."),
        make_passage("b", "Het OMO geeft op maat gemaakt advies van experts aan gemeenten in onrustige situaties."),
    ]
    draft = ExtractiveAnswerer(max_sentences=2).draft("Wat doet het OMO met leerkringen en advies?", passages)
    assert draft.text.index("[1]") < draft.text.index("[2]")
    assert len(cite(draft, passages).citations) == 2


def test_list_stays_with_its_introduction() -> None:
    passages = [make_passage("p", "De partners zijn onder meer:\n- de politie\n- het CCV\n- de NCTV")]
    draft = ExtractiveAnswerer(max_sentences=1).draft("Wie zijn de partners?", passages)
    assert "politie" in draft.text and "NCTV" in draft.text


def test_no_usable_sentence_gives_an_empty_draft() -> None:
    assert ExtractiveAnswerer().draft("Wat?", [make_passage("p", "Kort.")]).text == ""


def test_markdown_emphasis_is_not_quoted() -> None:
    passages = [
        make_passage(
            "p", "De VNG werkt samen met:\n- **de politie**;\n- **het CCV**: het Centrum voor Criminaliteitspreventie."
        )
    ]
    draft = ExtractiveAnswerer(max_sentences=1).draft("Met wie werkt de VNG samen?", passages)
    assert "**" not in draft.text and "de politie" in draft.text


def test_the_same_fact_from_two_documents_is_quoted_once() -> None:
    passages = [
        make_passage("mia.md", "De MIA is een instrument dat in beeld brengt wat beleidskeuzes betekenen voor onrust."),
        make_passage("faq.md", "De MIA is een instrument dat in beeld brengt wat beleidskeuzes voor onrust betekenen."),
        make_passage("omo.md", "Gemeenten gebruiken de MIA voordat zij een gevoelig besluit nemen."),
    ]
    draft = ExtractiveAnswerer(max_sentences=3).draft("Wat is de MIA en wanneer gebruiken gemeenten haar?", passages)
    assert "[1]" in draft.text and "[2]" not in draft.text and "[3]" in draft.text
