"""Evaluation of the answer pipeline: recall@k and MRR against gold passages, refusal rates, latency percentiles."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.errors import ConfigError

__all__ = ["EvalQuestion", "EvalResult", "Scoreboard", "load_questions"]


class EvalQuestion(BaseModel):
    """One line of a questions file; `kind: "unanswerable"` means refusing is right."""

    qid: str
    question: str
    passage_id: str | None = None
    relevant_passage_ids: list[str] = []
    kind: str | None = None

    @property
    def unanswerable(self) -> bool:
        return self.kind == "unanswerable"


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
            questions.append(EvalQuestion.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ConfigError(f"{path}:{number}: not a valid question line: {exc}") from exc
    return questions


@dataclass(frozen=True, slots=True)
class EvalResult:
    question: EvalQuestion
    retrieved: tuple[str, ...]
    refused: bool
    latency_ms: float


def _rank(retrieved: Sequence[str], gold: Iterable[str]) -> int | None:
    wanted = set(gold)
    return next((i for i, doc in enumerate(retrieved, start=1) if doc in wanted), None)


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Scoreboard:
    """Accumulates results; `summary()` gives the figures `onrust eval --json` prints."""

    k: int = 10
    results: list[EvalResult] = field(default_factory=list)

    def add(self, result: EvalResult) -> None:
        self.results.append(result)

    def _recall(self, gold_of: Any) -> dict[str, float]:
        ranks = [_rank(r.retrieved[: self.k], gold_of(r.question)) for r in self.results if gold_of(r.question)]
        n = len(ranks) or 1
        out = {f"recall@{k}": sum(1 for x in ranks if x is not None and x <= k) / n for k in (1, 5, 10)}
        out["mrr@10"] = sum(1.0 / x for x in ranks if x is not None and x <= 10) / n
        return {key: round(value, 4) for key, value in out.items()}

    def summary(self) -> dict[str, Any]:
        unanswerable = [r for r in self.results if r.question.unanswerable]
        answerable = [r for r in self.results if not r.question.unanswerable]
        latencies = [r.latency_ms for r in self.results]
        return {
            "n": len(self.results),
            "strict": self._recall(lambda q: [q.passage_id] if q.passage_id else []),
            "lenient": self._recall(lambda q: q.relevant_passage_ids or ([q.passage_id] if q.passage_id else [])),
            "unanswerable": {
                "n": len(unanswerable),
                "refused": round(sum(r.refused for r in unanswerable) / (len(unanswerable) or 1), 4),
            },
            "answerable_refused": round(sum(r.refused for r in answerable) / (len(answerable) or 1), 4),
            "latency_ms": {
                "p50": round(_percentile(latencies, 0.50), 1),
                "p95": round(_percentile(latencies, 0.95), 1),
            },
        }
