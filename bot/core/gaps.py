"""Knowledge gaps for the console: refused or 👎'd questions grouped by meaning. Pure.

`group_gaps` puts each question into the first group whose first question is at least `threshold`
similar (cosine of unit vectors, as the embedder gives them), newest questions first, so a group
is led by its newest question and groups are ordered by their newest question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.digest import GapReason

__all__ = ["Gap", "GapQuestion", "group_gaps"]


@dataclass(frozen=True, slots=True)
class GapQuestion:
    """One refused or 👎'd answer; `question` as asked (scrub it before showing it)."""

    answer_id: str
    question: str
    reason: GapReason
    at: datetime


@dataclass(frozen=True, slots=True)
class Gap:
    """Similar questions, newest first; `vector` is the lead question's."""

    questions: tuple[GapQuestion, ...]
    vector: tuple[float, ...]

    @property
    def lead(self) -> GapQuestion:
        return self.questions[0]

    @property
    def count(self) -> int:
        return len(self.questions)


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def group_gaps(questions: Sequence[GapQuestion], vectors: Sequence[Sequence[float]], threshold: float) -> list[Gap]:
    """Group `questions` (with one unit vector each, same order) by similarity; raises `ValueError` on a
    length mismatch."""
    if len(questions) != len(vectors):
        raise ValueError("one vector per question")
    order = sorted(range(len(questions)), key=lambda i: questions[i].at, reverse=True)
    groups: list[tuple[tuple[float, ...], list[GapQuestion]]] = []
    for i in order:
        vector = tuple(vectors[i])
        for lead, members in groups:
            if _cosine(lead, vector) >= threshold:
                members.append(questions[i])
                break
        else:
            groups.append((vector, [questions[i]]))
    return [Gap(tuple(members), lead) for lead, members in groups]
