"""The OMO case state machine: every allowed and every forbidden transition."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.escalation import (
    Answer,
    Attachment,
    Case,
    CaseEvent,
    CaseRef,
    CaseRequest,
    CaseState,
    Claim,
    Close,
    Remind,
    Requester,
    TransitionError,
    format_ref,
    parse_ref,
    transition,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=3)


def case(state: CaseState = CaseState.NEW, urgency: str = "spoed", **kw: object) -> Case:
    base = Case(
        ref=CaseRef("OMO-2026-0001"),
        state=state,
        request=CaseRequest("Utrecht", "demonstratie", urgency, "Er is onrust.", "06-1"),
        requester=Requester("matrix", "@a:x", "A", "!dm", "!dm"),
        attachment=Attachment(),
        created_at=T0,
        updated_at=T0,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


CLAIM = Claim("@omo:x", "Olga", T1)
ANSWER = Answer("@omo:x", "Olga", T1, "We bellen je.")
CLOSE = Close("@omo:x", "Olga", T1, "Opgelost")
REMIND = Remind(T1)


def test_claim_new_case() -> None:
    after = transition(case(), CLAIM)
    assert (after.state, after.claimed_by, after.claimed_at, after.updated_at) == (CaseState.CLAIMED, "@omo:x", T1, T1)


def test_answer_on_new_case_claims_it() -> None:
    after = transition(case(), ANSWER)
    assert (after.state, after.claimed_by) == (CaseState.CLAIMED, "@omo:x")


def test_answer_on_claimed_case_keeps_claimer() -> None:
    claimed = case(CaseState.CLAIMED, claimed_by="@other:x")
    after = transition(claimed, ANSWER)
    assert (after.state, after.claimed_by, after.updated_at) == (CaseState.CLAIMED, "@other:x", T1)


@pytest.mark.parametrize("state", [CaseState.NEW, CaseState.CLAIMED])
def test_close_from_open_states(state: CaseState) -> None:
    after = transition(case(state), CLOSE)
    assert (after.state, after.closing_note, after.closed_at) == (CaseState.CLOSED, "Opgelost", T1)


def test_remind_urgent_new_case_once() -> None:
    after = transition(case(), REMIND)
    assert (after.state, after.reminded_at) == (CaseState.NEW, T1)
    with pytest.raises(TransitionError):
        transition(after, REMIND)


@pytest.mark.parametrize(
    ("before", "event", "reason"),
    [
        (case(CaseState.CLAIMED), CLAIM, "already_claimed"),
        (case(CaseState.CLAIMED), REMIND, "already_claimed"),
        (case(urgency="normaal"), REMIND, "no_reminder_due"),
        (case(CaseState.CLOSED), CLAIM, "closed"),
        (case(CaseState.CLOSED), ANSWER, "closed"),
        (case(CaseState.CLOSED), CLOSE, "closed"),
        (case(CaseState.CLOSED), REMIND, "closed"),
    ],
)
def test_forbidden_transitions(before: Case, event: CaseEvent, reason: str) -> None:
    with pytest.raises(TransitionError) as caught:
        transition(before, event)
    assert caught.value.reason == reason
    assert caught.value.state is before.state


def test_transition_is_pure() -> None:
    before = case()
    transition(before, CLOSE)
    assert before.state is CaseState.NEW


def test_references() -> None:
    assert format_ref(2026, 42) == "OMO-2026-0042"
    assert parse_ref(" omo-2026-0042 ") == "OMO-2026-0042"
    assert parse_ref("OMO-2026-12345") == "OMO-2026-12345"
    assert parse_ref("OMO-26-1") is None
    assert parse_ref("onzin") is None
