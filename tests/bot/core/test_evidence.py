"""The names and figures a question hinges on must be in the cited passages; a follow-up must share a word."""

from __future__ import annotations

import pytest

from bot.core.evidence import missing_specifics, shares_words
from bot.core.models import Citation
from tests.fakes import make_passage

pytestmark = pytest.mark.unit


def cited(text: str, title: str = "Noodverordening") -> list[Citation]:
    return [Citation(1, make_passage("d.md", text, title=title))]


def test_a_place_or_year_no_passage_mentions_is_missing() -> None:
    passages = cited("In Rotterdam gold in 2021 een noodverordening voor het centrum.")
    assert missing_specifics("Hoe hoog is de boete in Tilburg in 2027?", passages) == ["Tilburg", "2027"]
    assert missing_specifics("Welke noodverordening gold in Rotterdam in 2021?", passages) == []


def test_inflections_names_taken_for_granted_and_abbreviations_are_found() -> None:
    passages = cited("Een uittreksel uit de BRP van een Utrechtse inwoner kost niets.")
    assert missing_specifics("Wat kost een uittreksel in Utrecht?", passages) == []
    assert missing_specifics("Geldt dit overal in Nederland?", passages) == []
    assert missing_specifics("Hoe vraag ik een uittreksel uit de Basisregistratie Personen (BRP)?", passages) == []


def test_a_sentence_start_and_short_abbreviations_are_no_names() -> None:
    passages = cited("Het team is dag en nacht bereikbaar.")
    assert missing_specifics("Tilburg vraagt: is het OT ook 's nachts bereikbaar?", passages) == []


def test_a_followup_must_share_a_word_with_what_would_be_quoted() -> None:
    passages = cited("De gemeenteraad moet de noodverordening bekrachtigen.", title="Noodverordening artikel 176")
    assert shares_words("En wie moet die dan bekrachtigen?", "De raad bekrachtigt haar. [1]", passages)
    assert not shares_words("Hoe warm wordt het aan zee?", "De raad bekrachtigt haar. [1]", passages)
