"""The OMO intake, pure: the Matrix question-by-question dialogue and the Teams form check.

`advance(dialogue, text)` takes one answer and returns what to say next (a template name and its
values) and the dialogue after it; it never does I/O, so the caller stores the new dialogue before
replying and a restart or a second instance continues where the user was. A dialogue ends `done`
(confirmed with "ja": build the case from `request`) or `cancelled` ("stop", "!stop", "annuleer" at
any step, or "nee" at the confirmation). Invalid answers repeat the question with an error and
change nothing. A request in words ("ik wil graag hulp van het OMO") first stores an `offer()`: the
dialogue only begins when the user answers it with `yes_or_no` → True.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.escalation import KINDS, URGENCIES, CaseRequest

__all__ = [
    "CANCEL_WORDS",
    "Dialogue",
    "Limits",
    "Outcome",
    "Step",
    "advance",
    "check_form",
    "is_cancel",
    "offer",
    "start",
    "yes_or_no",
]

CANCEL_WORDS = frozenset({"stop", "!stop", "annuleer", "!annuleer"})
_YES = frozenset({"ja", "j", "yes", "ok", "oké", "akkoord", "graag"})
_NO = frozenset({"nee", "n", "no"})
_SHORT = 3  # "ja graag", "nee dank je": a yes or no may carry a word or two


class Step(StrEnum):
    OFFER = "offer"  # asked whether to start at all; not part of the intake's order
    MUNICIPALITY = "municipality"
    KIND = "kind"
    URGENCY = "urgency"
    DESCRIPTION = "description"
    CONTACT = "contact"
    CONFIRM = "confirm"


_ORDER = (Step.MUNICIPALITY, Step.KIND, Step.URGENCY, Step.DESCRIPTION, Step.CONTACT, Step.CONFIRM)


@dataclass(frozen=True, slots=True)
class Limits:
    """Maximum lengths in characters."""

    description: int = 2000
    field: int = 200


@dataclass(frozen=True, slots=True)
class Dialogue:
    """Where a user is in the intake, and what they answered so far."""

    step: Step = Step.MUNICIPALITY
    answers: Mapping[str, str] = field(default_factory=dict)

    def request(self) -> CaseRequest:
        a = self.answers
        return CaseRequest(a["municipality"], a["kind"], a["urgency"], a["description"], a["contact"])


@dataclass(frozen=True, slots=True)
class Outcome:
    """The dialogue after an answer (None when it ended), and the template to reply with."""

    dialogue: Dialogue | None
    template: str
    values: Mapping[str, object] = field(default_factory=dict)
    done: bool = False
    cancelled: bool = False


def is_cancel(text: str) -> bool:
    return text.strip().lower() in CANCEL_WORDS


def yes_or_no(text: str) -> bool | None:
    """True for "ja" ("ja, graag"), False for "nee" ("nee, dank je"), None for anything else."""
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    if not words or len(words) > _SHORT:
        return None
    if words[0] in _YES:
        return True
    if words[0] in _NO:
        return False
    return None


def offer() -> Dialogue:
    """The pending question "shall I start an intake?" before a dialogue begins."""
    return Dialogue(Step.OFFER)


def start() -> Outcome:
    """A fresh dialogue and its first question."""
    return _ask(Dialogue())


def _ask(dialogue: Dialogue, error: str | None = None, **extra: object) -> Outcome:
    values: dict[str, object] = {"step": dialogue.step.value, "error": error, "kinds": KINDS, **extra}
    if dialogue.step is Step.CONFIRM:
        values["request"] = dialogue.request()
    return Outcome(dialogue, "omo_question.nl.j2", values)


def _choice(text: str, options: tuple[str, ...]) -> str | None:
    """An option by number (1-based) or by (the start of) its value."""
    answer = text.strip().lower().rstrip(".")
    if answer.isdigit() and 1 <= int(answer) <= len(options):
        return options[int(answer) - 1]
    matches = [o for o in options if answer and o.startswith(answer)]
    return matches[0] if len(matches) == 1 else None


def _check_text(text: str, limit: int) -> tuple[str | None, str | None, int]:
    """(value, error, limit): an error names why `text` is not acceptable."""
    value = text.strip()
    if not value:
        return None, "empty", limit
    if len(value) > limit:
        return None, "too_long", limit
    return value, None, limit


def advance(dialogue: Dialogue, text: str, limits: Limits = Limits()) -> Outcome:
    """Apply one answer; see the module docstring."""
    if is_cancel(text):
        return Outcome(None, "omo_cancelled.nl.j2", cancelled=True)
    step = dialogue.step
    value: str | None
    if step is Step.CONFIRM:
        confirmed = yes_or_no(text)
        if confirmed is None:
            return _ask(dialogue, "yes_no")
        if confirmed:
            return Outcome(None, "", done=True)
        return Outcome(None, "omo_cancelled.nl.j2", cancelled=True)
    if step is Step.KIND:
        value = _choice(text, KINDS)
        if value is None:
            return _ask(dialogue, "choice")
    elif step is Step.URGENCY:
        value = _choice(text, URGENCIES)
        if value is None:
            return _ask(dialogue, "choice")
    else:
        limit = limits.description if step is Step.DESCRIPTION else limits.field
        value, error, limit = _check_text(text, limit)
        if value is None:
            return _ask(dialogue, error, limit=limit, length=len(text.strip()))
    answers = {**dialogue.answers, step.value: value}
    following = _ORDER[_ORDER.index(step) + 1]
    return _ask(dataclasses.replace(dialogue, step=following, answers=answers))


def check_form(data: Mapping[str, str], limits: Limits = Limits()) -> tuple[CaseRequest | None, dict[str, str]]:
    """Validate a submitted form (fields named like the steps); returns the request or {field: error}."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for step in (Step.MUNICIPALITY, Step.DESCRIPTION, Step.CONTACT):
        limit = limits.description if step is Step.DESCRIPTION else limits.field
        value, error, _ = _check_text(data.get(step.value, ""), limit)
        if value is None:
            errors[step.value] = error or "empty"
        else:
            values[step.value] = value
    for step, options in ((Step.KIND, KINDS), (Step.URGENCY, URGENCIES)):
        raw = data.get(step.value, "").strip().lower()
        if raw in options:
            values[step.value] = raw
        else:
            errors[step.value] = "choice"
    if errors:
        return None, errors
    return Dialogue(Step.CONFIRM, values).request(), {}
