"""Evaluation of the answer pipeline: recall@k and MRR against gold passages, answer and refusal rates, latency.

A questions file is JSONL. Every line has `qid` and `question`, and may have:

- `kind`: `answerable` (default), `unanswerable` (refusing is right), `followup` (ask `first`, then
  `question` in the same conversation; judged like an answerable question) or `followup_offtopic`
  (ask `first`, then `question`, which must be refused);
- `category`: a label of your own (`off-topic`, `not-covered`, ...); refusal rates are also given per category;
- `passage_id` / `relevant_passage_ids` (or `doc_ids`): gold documents, for recall and MRR;
- `expect_any`: groups of alternatives; an answer is right when each group has one alternative in the
  answer text or in the cited passages, compared in lower case (the rule of the domain-dev set).

An answerable question without `expect_any` counts as right when it is answered confidently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

from pydantic import BaseModel, ValidationError

from bot.core.models import Answer
from bot.errors import ConfigError

__all__ = ["EvalQuestion", "EvalResult", "EvalSummary", "Scoreboard", "is_right", "load_questions"]

QuestionKind = Literal["answerable", "unanswerable", "followup", "followup_offtopic"]


class EvalQuestion(BaseModel):
    """One line of a questions file; see the module docstring."""

    qid: str
    question: str
    kind: QuestionKind = "answerable"
    category: str | None = None
    first: str | None = None
    passage_id: str | None = None
    relevant_passage_ids: list[str] = []
    doc_ids: list[str] = []
    expect_any: list[list[str]] = []

    @property
    def must_refuse(self) -> bool:
        return self.kind in ("unanswerable", "followup_offtopic")

    @property
    def gold(self) -> list[str]:
        return self.relevant_passage_ids or self.doc_ids or ([self.passage_id] if self.passage_id else [])


def load_questions(path: Path) -> list[EvalQuestion]:
    """Parse a JSONL questions file; `ConfigError` names the first bad line."""
    questions: list[EvalQuestion] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = EvalQuestion.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ConfigError(f"{path}:{number}: not a valid question line: {exc}") from exc
        if question.kind.startswith("followup") and not question.first:
            raise ConfigError(f"{path}:{number}: a {question.kind} question needs `first`")
        questions.append(question)
    return questions


def is_right(question: EvalQuestion, answer: Answer) -> bool:
    """The domain-dev scoring rule: refused when it must be, else every `expect_any` group found."""
    if question.must_refuse:
        return not answer.confident
    if not answer.confident:
        return False
    haystack = " ".join([answer.text, *(c.passage.text for c in answer.citations)]).lower()
    return all(any(alt.lower() in haystack for alt in group) for group in question.expect_any)


@dataclass(frozen=True, slots=True)
class EvalResult:
    question: EvalQuestion
    retrieved: tuple[str, ...]
    refused: bool
    latency_ms: float
    right: bool = False


def _rank(retrieved: Sequence[str], gold: Iterable[str]) -> int | None:
    wanted = set(gold)
    return next((i for i, doc in enumerate(retrieved, start=1) if doc in wanted), None)


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class EvalSummary(TypedDict):
    """The figures of one evaluation run, as `onrust eval --json` prints them."""

    n: int
    strict: dict[str, float]
    """recall@1/5/10 and mrr@10 against `passage_id` alone."""
    lenient: dict[str, float]
    """The same against every gold passage or document."""
    kinds: dict[str, dict[str, int]]
    categories: dict[str, dict[str, int]]
    unanswerable: dict[str, float]
    answerable_refused: float
    latency_ms: dict[str, float]


@dataclass
class Scoreboard:
    """Accumulates results; `summary()` gives the figures `onrust eval --json` prints."""

    k: int = 10
    results: list[EvalResult] = field(default_factory=list)

    def add(self, result: EvalResult) -> None:
        self.results.append(result)

    def _recall(self, gold_of: Callable[[EvalQuestion], Sequence[str]]) -> dict[str, float]:
        ranks = [_rank(r.retrieved[: self.k], gold_of(r.question)) for r in self.results if gold_of(r.question)]
        n = len(ranks) or 1
        out = {f"recall@{k}": sum(1 for x in ranks if x is not None and x <= k) / n for k in (1, 5, 10)}
        out["mrr@10"] = sum(1.0 / x for x in ranks if x is not None and x <= 10) / n
        return {key: round(value, 4) for key, value in out.items()}

    def summary(self) -> EvalSummary:
        must_refuse = [r for r in self.results if r.question.must_refuse]
        answerable = [r for r in self.results if not r.question.must_refuse]
        latencies = [r.latency_ms for r in self.results]
        kinds: dict[str, dict[str, int]] = {}
        for r in self.results:
            row = kinds.setdefault(r.question.kind, {"n": 0, "right": 0, "refused": 0})
            row["n"] += 1
            row["right"] += r.right
            row["refused"] += r.refused
        categories: dict[str, dict[str, int]] = {}
        for r in self.results:
            if r.question.category:
                row = categories.setdefault(r.question.category, {"n": 0, "refused": 0})
                row["n"] += 1
                row["refused"] += r.refused
        return {
            "n": len(self.results),
            "strict": self._recall(lambda q: [q.passage_id] if q.passage_id else []),
            "lenient": self._recall(lambda q: q.gold),
            "kinds": kinds,
            "categories": categories,
            "unanswerable": {
                "n": len(must_refuse),
                "refused": round(sum(r.refused for r in must_refuse) / (len(must_refuse) or 1), 4),
            },
            "answerable_refused": round(sum(r.refused for r in answerable) / (len(answerable) or 1), 4),
            "latency_ms": {
                "p50": round(_percentile(latencies, 0.50), 1),
                "p95": round(_percentile(latencies, 0.95), 1),
            },
        }
