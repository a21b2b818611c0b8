"""The OMO intake dialogue and form check, pure."""

from __future__ import annotations

import pytest

from bot import prompts
from bot.core.intake import Dialogue, Limits, Step, advance, check_form, start
from bot.core.omo_notices import labels

pytestmark = pytest.mark.unit

ANSWERS = ["Utrecht", "1", "spoed", "Er is onrust op het plein.", "06-12345678"]


def run(answers: list[str]) -> Dialogue:
    outcome = start()
    assert outcome.dialogue is not None
    for answer in answers:
        outcome = advance(outcome.dialogue, answer)
        assert outcome.dialogue is not None
    assert outcome.dialogue is not None
    return outcome.dialogue


def test_full_dialogue_reaches_confirmation_and_request() -> None:
    dialogue = run(ANSWERS)
    assert dialogue.step is Step.CONFIRM
    request = dialogue.request()
    assert (request.municipality, request.kind, request.urgency) == ("Utrecht", "demonstratie", "spoed")
    done = advance(dialogue, "Ja")
    assert done.done and done.dialogue is None


@pytest.mark.parametrize("word", ["stop", "!stop", "Annuleer", "STOP "])
def test_cancel_at_any_step(word: str) -> None:
    for n in range(len(ANSWERS) + 1):
        outcome = advance(run(ANSWERS[:n]), word)
        assert outcome.cancelled and outcome.dialogue is None
        assert outcome.template == "omo_cancelled.nl.j2"


def test_no_at_confirmation_cancels() -> None:
    assert advance(run(ANSWERS), "nee").cancelled


@pytest.mark.parametrize(
    ("answers", "bad", "error"),
    [
        ([], "   ", "empty"),
        (ANSWERS[:1], "9", "choice"),
        (ANSWERS[:2], "misschien", "choice"),
        (ANSWERS[:3], "", "empty"),
        (ANSWERS[:3], "x" * 10_000, "too_long"),
        (ANSWERS[:4], "y" * 201, "too_long"),
        (ANSWERS, "wellicht", "yes_no"),
    ],
)
def test_bad_answer_repeats_question_and_changes_nothing(answers: list[str], bad: str, error: str) -> None:
    before = run(answers)
    outcome = advance(before, bad)
    assert outcome.dialogue == before
    assert outcome.values["error"] == error
    text = prompts.render(outcome.template, labels=labels(), **outcome.values)
    assert text  # a Dutch explanation, rendered


def test_choice_by_prefix_and_number() -> None:
    assert run([*ANSWERS[:1], "online"]).answers["kind"] == "online"
    assert run([*ANSWERS[:2], "2"]).answers["urgency"] == "normaal"


def test_every_step_renders() -> None:
    outcome = start()
    for answer in ANSWERS:
        assert outcome.dialogue is not None
        assert prompts.render(outcome.template, labels=labels(), limit=2000, **outcome.values)
        outcome = advance(outcome.dialogue, answer)
    text = prompts.render(outcome.template, labels=labels(), **outcome.values)
    assert "Utrecht" in text and "Demonstratie of ordeverstoring" in text


def test_form_check() -> None:
    data = {"municipality": "Utrecht", "kind": "opvang", "urgency": "normaal", "description": "D", "contact": "c"}
    request, errors = check_form(data)
    assert request is not None and not errors
    request, errors = check_form({**data, "description": " ", "kind": "x"}, Limits())
    assert request is None and errors == {"description": "empty", "kind": "choice"}
    request, errors = check_form({**data, "description": "z" * 10_000})
    assert errors == {"description": "too_long"}
