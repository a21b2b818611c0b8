"""Calibrate the refusal threshold (`retrieval.min_similarity`) on the project's own questions.

Ingests `knowledge/` into a scratch data dir, retrieves for every line of `bench/questions/knowledge.jsonl`
and prints, per category (answerable, off-topic, not-covered), the refusal rate at candidate thresholds,
and the highest threshold that refuses at most `--max-false-refusal` of the answerable questions.
Run again whenever the embedder, the prefixes, the chunking or the corpus change.

    python bench/calibrate.py [--data-dir .bench/knowledge] [--max-false-refusal 0.10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import defaultdict
from pathlib import Path

from bot.config import load_settings
from bot.core.answering import PUBLIC
from bot.services import build_answerer, open_services
from ingest.loaders import LoadOptions
from ingest.pipeline import Ingestor

ROOT = Path(__file__).resolve().parent.parent


async def similarities(data_dir: Path, questions: list[dict[str, str]]) -> dict[str, list[tuple[float, str]]]:
    settings = load_settings(data_dir=data_dir)
    by_category: dict[str, list[tuple[float, str]]] = defaultdict(list)
    async with open_services(settings) as services:
        ingestor = Ingestor(services.store, services.embeddings, services.ingest_log, settings.ingest)
        await ingestor.run([str(ROOT / "knowledge")], options=LoadOptions())
        answerer = build_answerer(services)
        retriever = answerer.retriever
        for q in questions:
            retrieval = await retriever.retrieve(q["question"], PUBLIC)
            by_category[q.get("category", q.get("kind", "answerable"))].append(
                (retrieval.top_similarity or 0.0, q["question"])
            )
    return by_category


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".bench" / "knowledge")
    parser.add_argument("--questions", type=Path, default=ROOT / "bench" / "questions" / "knowledge.jsonl")
    parser.add_argument("--max-false-refusal", type=float, default=0.10)
    parser.add_argument("--show", action="store_true", help="list every question with its similarity")
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    sims = asyncio.run(similarities(args.data_dir, questions))

    thresholds = [round(0.70 + i * 0.005, 3) for i in range(41)]
    print(f"{'threshold':>9} " + " ".join(f"{c:>12}" for c in sorted(sims)))
    for t in thresholds:
        rates = [sum(s < t for s, _ in sims[c]) / len(sims[c]) for c in sorted(sims)]
        print(f"{t:>9.3f} " + " ".join(f"{r:>12.2f}" for r in rates))
    answerable = sorted(s for s, _ in sims.get("answerable", []))
    allowed = int(args.max_false_refusal * len(answerable))
    best = answerable[allowed] if answerable else 0.0
    print(f"\nhighest threshold refusing at most {args.max_false_refusal:.0%} of answerable questions: {best:.4f}")
    for category in sorted(sims):
        refused = sum(s < best for s, _ in sims[category]) / len(sims[category])
        print(f"  {category:12} refused {refused:.2f} (n={len(sims[category])})")
    if args.show:
        for category in sorted(sims):
            for s, q in sorted(sims[category]):
                print(f"{category:12} {s:.4f} {q}")


if __name__ == "__main__":
    main()
