"""Calibrate the two refusal thresholds together: `retrieval.min_similarity` and `retrieval.min_lead_similarity`.

Every question is answered once with both thresholds off, so only the other refusal rules (answer type,
names, gaps, ...) refuse; each answer records the top passage similarity and the lead sentence's. The
grid then shows, per pair of thresholds, what the pipeline would do: answerable questions answered
right, wrongly refused, and unanswerable (off-topic, not covered) questions refused; as in the pipeline, the
lead threshold is waived where the top passage reaches `retrieval.strong_similarity`. The extra similarity
asked of a question that shares no word with its passages (`retrieval.no_overlap_margin`) is not replayed,
so the grid refuses fewer off-topic questions than `onrust eval` does at the same thresholds. The sets are
`bench/questions/knowledge.jsonl` over `knowledge/` (ingested into `--data-dir`), and the domain-dev
set over its own documents when `bench/report.py` has built `.bench/domain-dev`. Follow-ups are left
out: they are asked twice (with and without context) and the grid cannot replay that. The output is
a Markdown report, also written to `bench/calibration.md`. Run again whenever the embedder, the
chunking, the refusal rules or the corpus change.

    python bench/calibrate.py [--data-dir .bench/knowledge]
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings, load_settings
from bot.core.evaluation import EvalQuestion, is_right, load_questions
from bot.services import build_answerer, open_services
from ingest.loaders import LoadOptions
from ingest.pipeline import Ingestor

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "domain-dev" / "questions.jsonl"
TOP = [0.80, 0.81, 0.82, 0.825, 0.83, 0.84]
LEAD = [0.0, 0.82, 0.83, 0.835, 0.84, 0.845, 0.85]


@dataclass(frozen=True)
class Outcome:
    question: EvalQuestion
    top: float
    lead: float
    refused: bool  # by a rule other than the two thresholds
    right: bool  # right when answered (answerable) or refused (unanswerable)


def _unthresholded(settings: Settings) -> Settings:
    retrieval = settings.retrieval.model_copy(update={"min_similarity": 0.0, "min_lead_similarity": 0.0})
    return settings.model_copy(update={"retrieval": retrieval})


def _note(notes: tuple[str, ...], name: str) -> float:
    return next((float(n.split()[-1]) for n in notes if n.startswith(name) and n.split()[-1] != "None"), 0.0)


async def outcomes(data_dir: Path, questions: list[EvalQuestion], ingest: bool) -> list[Outcome]:
    settings = _unthresholded(load_settings(data_dir=data_dir))
    out: list[Outcome] = []
    async with open_services(settings) as services:
        if ingest:
            ingestor = Ingestor(services.store, services.embeddings, services.ingest_log, settings.ingest)
            await ingestor.run([str(ROOT / "knowledge")], options=LoadOptions())
        answerer = build_answerer(services)
        for q in questions:
            answer = await answerer.answer(q.question)
            top, lead = _note(answer.notes, "similarity"), _note(answer.notes, "lead")
            out.append(Outcome(q, top, lead, not answer.confident, is_right(q, answer)))
    return out


def grid(name: str, results: list[Outcome], strong: float) -> list[str]:
    """The outcomes per pair of thresholds; a lead below its threshold is waived at a top of `strong` or more."""
    answerable = [r for r in results if r.question.kind == "answerable"]
    others = [r for r in results if r.question.kind == "unanswerable"]
    lines = [
        f"### {name}: {len(answerable)} answerable, {len(others)} unanswerable",
        "",
        "| min_similarity | min_lead_similarity | answerable right | answerable refused | unanswerable refused |",
        "|---|---|---|---|---|",
    ]
    for top in TOP:
        for lead in LEAD:

            def refused(r: Outcome, top: float = top, lead: float = lead) -> bool:
                return r.refused or r.top < top or (r.lead < lead and r.top < strong)

            right = sum(r.right and not refused(r) for r in answerable)
            wrongly = sum(refused(r) for r in answerable)
            held = sum(refused(r) for r in others)
            lines.append(f"| {top:.3f} | {lead:.3f} | {right} | {wrongly} | {held} |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".bench" / "knowledge")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "calibration.md")
    args = parser.parse_args()
    strong = load_settings(data_dir=args.data_dir).retrieval.strong_similarity
    single = [q for q in load_questions(ROOT / "bench" / "questions" / "knowledge.jsonl") if not q.first]
    report = ["# Refusal thresholds", "", "Written by `python bench/calibrate.py`.", ""]
    own = asyncio.run(outcomes(args.data_dir, single, True))
    report += grid("knowledge/ + bench/questions/knowledge.jsonl", own, strong)
    dev_dir = ROOT / ".bench" / "domain-dev"
    if DEV.exists() and dev_dir.exists():
        dev = [q for q in load_questions(DEV) if not q.first]
        report += grid("domain-dev (its own documents)", asyncio.run(outcomes(dev_dir, dev, False)), strong)
    text = "\n".join(report)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
