"""A question that asks several things is split into its parts; scene-setting is no part."""

from __future__ import annotations

import pytest

from bot.core.question_parts import question_parts

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("Wat is een noodbevel?", ["Wat is een noodbevel"]),
        (
            "Waar staat de driehoek in de wet? En heb ik iets te zeggen over de officier?",
            ["Waar staat de driehoek in de wet", "En heb ik iets te zeggen over de officier"],
        ),
        (
            "hoe stemde de raad over opvang in Heerle, en waarom moest er een locatie komen?",
            ["hoe stemde de raad over opvang in Heerle", "waarom moest er een locatie komen"],
        ),
        (
            "raadslid heeft een doodsbedreiging gekregen. wat kan het OM eisen en telt het zwaarder?",
            ["wat kan het OM eisen", "telt het zwaarder"],
        ),
        ("oké, hoe lang mogen we die beelden bewaren?", ["oké, hoe lang mogen we die beelden bewaren"]),
        (
            "We verwachten een grimmige demonstratie, kan iemand ons adviseren?",
            ["We verwachten een grimmige demonstratie, kan iemand ons adviseren"],
        ),
        ("Hoe lang geldt een bevel, en waarom?", ["Hoe lang geldt een bevel, waarom"]),
        (
            "in welke gemeente werd de ingang geforceerd, en met hoeveel waren ze?",
            ["in welke gemeente werd de ingang geforceerd", "met hoeveel waren ze"],
        ),
        ("hij gaf zijn mening, en op zijn website staat wat?", ["hij gaf zijn mening, en op zijn website staat wat"]),
    ],
)
def test_parts(question: str, parts: list[str]) -> None:
    assert question_parts(question) == parts
