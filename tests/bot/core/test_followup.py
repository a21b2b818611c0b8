"""Which messages read as follow-ups: only those may borrow the question before them."""

from __future__ import annotations

import pytest

from bot.core.followup import context_of, is_followup, needs_context

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "message",
    [
        "En hoe lang mag dat dan duren?",
        "oké, en hoe lang mogen we die beelden dan bewaren?",
        "Maar wie beslist daarover?",
        "hoe lang mag zo'n bevel dan gelden, en kan ik het daarna verlengen?",
        "Geldt dat ook voor raadsleden?",
        "voor hoe lang?",
        "Hoeveel?",
    ],
)
def test_elliptic_or_referring_messages_are_followups(message: str) -> None:
    assert is_followup(message)


@pytest.mark.parametrize(
    "message",
    [
        "Wie won de Tour de France in 2019?",
        "wat voor weer wordt het morgen in Utrecht?",
        "Hoe warm wordt het dit weekend aan zee?",  # "dit" points at a time, not back into the conversation
        "Wat is het verschil tussen een noodbevel en een noodverordening?",
        "Wat is doxing?",  # short, but it names its subject
        "Welke maatregelen kan de burgemeester nemen als een demonstratie die niet is aangemeld uit de hand "
        "dreigt te lopen bij het gemeentehuis?",
    ],
)
def test_questions_of_their_own_are_not(message: str) -> None:
    assert not is_followup(message)


def test_a_followup_is_read_with_the_question_it_follows_and_the_followups_since() -> None:
    assert context_of([]) is None
    chain = ["Wat is een noodverordening?", "En wie moet die bekrachtigen?"]
    assert context_of(chain) == "Wat is een noodverordening?\nEn wie moet die bekrachtigen?"
    # a question of its own starts over
    assert context_of([*chain, "Wat doet het OMO?"]) == "Wat doet het OMO?"
    # a long chain keeps its opening question and the latest follow-ups
    long = [*chain, "En hoe snel dan?", "En als de raad dat niet doet?"]
    assert context_of(long) == "Wat is een noodverordening?\nEn hoe snel dan?\nEn als de raad dat niet doet?"


def test_a_followup_that_points_back_cannot_be_answered_alone_but_one_that_names_its_subject_can() -> None:
    assert needs_context("kost dat geld?")
    assert needs_context("voor hoe lang?")
    assert needs_context("en binnen welke termijn?")
    assert not needs_context("En wat is de MIA?") and is_followup("En wat is de MIA?")
    assert not needs_context("Wie is de burgemeester van Utrecht?")
    # "die" opens a relative clause: a follow-up to try with the conversation, but one that may stand alone
    assert is_followup("Mag ik een demonstratie verbieden die niet gemeld is?")
    assert not needs_context("Mag ik een demonstratie verbieden die niet gemeld is?")
    assert not needs_context("Geeft deze assistent ook juridisch advies?")  # "deze" before a noun
    assert not needs_context("En wie moet die dan bekrachtigen?")  # it names what it asks about
