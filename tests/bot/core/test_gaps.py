"""Grouping knowledge gaps by meaning: similar questions together, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.digest import GapReason
from bot.core.gaps import GapQuestion, group_gaps

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def q(answer_id: str, minutes: int) -> GapQuestion:
    return GapQuestion(answer_id, f"vraag {answer_id}", GapReason.REFUSED, T0 + timedelta(minutes=minutes))


def test_similar_questions_form_one_gap_led_by_the_newest() -> None:
    questions = [q("a", 0), q("b", 5), q("c", 10)]
    vectors = [[1.0, 0.0], [0.0, 1.0], [0.99, 0.141]]  # a and c alike, b different
    gaps = group_gaps(questions, vectors, threshold=0.9)
    assert [[x.answer_id for x in g.questions] for g in gaps] == [["c", "a"], ["b"]]
    assert gaps[0].lead.answer_id == "c" and gaps[0].count == 2


def test_threshold_decides_and_lengths_must_match() -> None:
    questions = [q("a", 0), q("b", 1)]
    vectors = [[1.0, 0.0], [0.8, 0.6]]
    assert len(group_gaps(questions, vectors, threshold=0.9)) == 2
    assert len(group_gaps(questions, vectors, threshold=0.7)) == 1
    with pytest.raises(ValueError):
        group_gaps(questions, vectors[:1], threshold=0.9)
