"""cite(): every kept sentence carries valid markers, renumbered; invalid or missing ones are dropped."""

from __future__ import annotations

import pytest

from bot.core.citations import Draft, cite, split_sentences
from tests.fakes import make_passage

pytestmark = pytest.mark.unit

PASSAGES = [make_passage(f"doc-{i}", f"Tekst van bron {i}.") for i in range(1, 4)]


def test_marker_beyond_the_given_passages_drops_the_sentence() -> None:
    result = cite(Draft("De MIA brengt impact in beeld. [1] Het OMO is opgericht in 1990. [7]", "llm"), PASSAGES)
    assert result.text == "De MIA brengt impact in beeld. [1]"
    assert [c.passage.doc.doc_id for c in result.citations] == ["doc-1"]
    assert result.dropped == 1


def test_uncited_claim_is_dropped() -> None:
    result = cite(Draft("Het OMO geeft advies. [2] Bel gerust 0800-1234.", "llm"), PASSAGES)
    assert "0800" not in result.text
    assert result.dropped == 1


def test_markers_are_renumbered_in_order_of_first_use() -> None:
    result = cite(Draft("Eerst dit. [3] Dan dat. [1][3]", "llm"), PASSAGES)
    assert result.text == "Eerst dit. [1] Dan dat. [2][1]"
    assert [(c.ref, c.passage.doc.doc_id) for c in result.citations] == [(1, "doc-3"), (2, "doc-1")]


def test_nothing_valid_gives_no_citations() -> None:
    result = cite(Draft("Alles verzonnen. [9] Zonder bron.", "llm"), PASSAGES)
    assert result.citations == ()
    assert result.text == ""


def test_repeated_marker_is_collapsed() -> None:
    assert cite(Draft("Zin. [2] [2]", "llm"), PASSAGES).text == "Zin. [1]"


def test_split_keeps_a_trailing_marker_with_its_sentence() -> None:
    assert split_sentences("Een zin. [1] Nog een zin! [2]\n- punt [3]") == [
        "Een zin. [1]",
        "Nog een zin! [2]",
        "- punt [3]",
    ]
