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


@pytest.mark.parametrize(
    ("sentence", "kept"),
    [
        ("Zie https://example.org/mia. [1]", True),  # in the passage text
        ("De bron staat op https://example.org/doc [1]", True),  # the passage's own URL
        ("Mail MIA@gemeente.nl. [1]", True),
        ("De MIA weegt of a < b. [1]", True),  # a comparison is no markup
        ("Zie https://elders.example/x voor meer. [1]", False),
        ("Zie www.elders.example. [1]", False),
        ("Mail boef@elders.example. [1]", False),
        ("<script>alert(1)</script> De MIA. [1]", False),
        ("De <b>MIA</b> weegt af. [1]", False),
        ("Lees [hier](https://example.org/mia) meer. [1]", False),  # markdown is markup, even with a known link
        ("Klik javascript:alert(1) hier. [1]", False),
    ],
)
def test_links_mail_and_markup_need_a_cited_passage_that_has_them(sentence: str, kept: bool) -> None:
    passages = [
        make_passage(
            "mia.md", "De MIA staat op https://example.org/mia; mail mia@gemeente.nl.", url="https://example.org/doc"
        ),
        make_passage("ander.md", "Zie https://elders.example/x en <b>vet</b>."),
    ]
    cited = cite(Draft(f"De MIA weegt de impact. [1]\n{sentence}", "llm"), passages)
    assert cited.text == ("De MIA weegt de impact. [1] " + sentence if kept else "De MIA weegt de impact. [1]")
    assert cited.dropped == (0 if kept else 1)
