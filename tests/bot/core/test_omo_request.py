"""Asking for the OMO in words, told apart from asking about the OMO."""

from __future__ import annotations

import pytest

from bot.core.intake import yes_or_no
from bot.core.omo_request import asks_for_omo

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text",
    [
        "Ik wil graag hulp van het OMO",
        "kan ik iemand van het OMO spreken?",
        "graag escaleren",
        "Escaleer dit alsjeblieft.",
        "Kun je dit escaleren naar het OMO?",
        "Ik wil een mens spreken",
        "Zet mijn vraag door naar het OMO",
        "We hebben advies nodig van het ondersteuningsteam",
        "Kunnen we het OMO bellen?",
    ],
)
def test_requests_for_a_person(text: str) -> None:
    assert asks_for_omo(text)


@pytest.mark.parametrize(
    "text",
    [
        "Wat doet het OMO?",
        "Hoe bereik ik het OMO?",
        "Kan het OMO ons helpen bij een demonstratie?",
        "Wanneer moet ik escaleren naar de driehoek?",
        "De demonstratie escaleert, wat nu?",
        "Ik wil graag weten wat de MIA is",
        "Ik wil hulp van het Ondersteuningsteam Weerbaar Bestuur",
        "Welke hulp biedt het OMO?",
        "Ik heb hulp nodig bij een noodverordening",
    ],
)
def test_questions_about_the_omo_or_other_help(text: str) -> None:
    assert not asks_for_omo(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ja", True),
        ("Ja, graag!", True),
        ("ok", True),
        ("nee", False),
        ("Nee, dank je.", False),
        ("", None),
        ("ja maar wat is een noodbevel precies", None),
        ("Wat is een noodbevel?", None),
    ],
)
def test_yes_or_no(text: str, expected: bool | None) -> None:
    assert yes_or_no(text) is expected
