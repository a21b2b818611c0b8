"""The answer-type check: questions that ask for a number, date, phone number, e-mail address or link."""

from __future__ import annotations

import pytest

from bot.core.answer_type import AnswerType, expected_type, satisfies

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Wat is het telefoonnummer van het OMO?", AnswerType.PHONE),
        ("Op welk e-mailadres bereik ik het OMO?", AnswerType.EMAIL),
        ("Wat is de url van het forum?", AnswerType.LINK),
        ("Hoeveel gemeenten doen mee?", AnswerType.NUMBER),
        ("Kost advies van het OMO geld?", AnswerType.NUMBER),
        ("Wanneer is de volgende leerkring?", AnswerType.DATE),
        ("Hoe laat begint het overleg?", AnswerType.DATE),
        # "wanneer" mostly means "in which case": not a request for a date
        ("Wanneer moet ik een vergunning aanvragen voor een demonstratie?", None),
        ("Stuurt de gemeente een antwoord op mijn e-mail?", None),
        ("Wat is de MIA?", None),
    ],
)
def test_expected_type(question: str, kind: AnswerType | None) -> None:
    assert expected_type(question) is kind


def test_citation_markers_do_not_count_as_numbers() -> None:
    assert not satisfies(AnswerType.NUMBER, "Het OMO geeft advies op maat. [1]")
    assert satisfies(AnswerType.NUMBER, "De agenda kent zeven actielijnen. [1]")
    assert satisfies(AnswerType.NUMBER, "Het kost € 75. [2]")


def test_evidence_of_each_kind() -> None:
    assert satisfies(AnswerType.PHONE, "Bel 070 123 4567 [1]") and not satisfies(AnswerType.PHONE, "Bel ons. [1]")
    assert satisfies(AnswerType.EMAIL, "Mail naar omo@example.nl. [1]") and not satisfies(AnswerType.EMAIL, "Mail ons.")
    assert satisfies(AnswerType.LINK, "Zie https://example.nl/forum. [1]") and not satisfies(
        AnswerType.LINK, "Zie VNG Fora."
    )
    assert satisfies(AnswerType.DATE, "Op 12 maart. [1]") and not satisfies(AnswerType.DATE, "Binnenkort. [1]")
    assert satisfies(None, "Wat dan ook.")
