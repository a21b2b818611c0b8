"""Run every evaluation set that is present and write one Markdown report (the answer-quality benchmark).

Sets, each skipped when its files are missing (a user's clone has no `../shared`):

- `knowledge`: the shipped corpus (`knowledge/`) with the project's own questions
  (`bench/questions/knowledge.jsonl`), its off-topic questions asked alone and again after a topical
  question ("Wat is een noodverordening?"), and the domain-dev questions asked of the shipped corpus alone;
- `domain-dev`: `../shared/eval/domain-dev` (its own 50 pages and 60 questions, scored by its PROVENANCE rule);
- `govfaq`: `../shared/eval/govfaq` (3,164 passages, 179 questions; the first ingest takes ~15 minutes).

Data dirs are cached under `.bench/` and re-ingested incrementally. Not part of `make test`.

    python bench/report.py [--out bench/report.md] [--sets knowledge domain-dev govfaq]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from govfaq import ROOT, onrust  # run as `python bench/report.py`: bench/ is on the path

SHARED = ROOT.parent / "shared" / "eval"
TOPICAL = "Wat is een noodverordening?"


def evaluate(data_dir: Path, questions: Path) -> dict[str, Any]:
    out, _, _ = onrust(data_dir, "eval", str(questions), "--json")
    return dict(json.loads(out))


def rows(name: str, summary: dict[str, Any]) -> list[str]:
    out = []
    for kind, row in summary["kinds"].items():
        out.append(f"| {name} | {kind} | {row['n']} | {row['right']} | {row['refused']} |")
    for category, row in summary["categories"].items():
        out.append(f"| {name} | category {category} | {row['n']} | | {row['refused']} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "report.md")
    parser.add_argument("--sets", nargs="*", default=["knowledge", "domain-dev", "govfaq"])
    args = parser.parse_args()
    table = ["| set | kind | n | right | refused |", "|---|---|---|---|---|"]
    recall: list[str] = []
    latency: list[str] = []

    def record(name: str, summary: dict[str, Any]) -> None:
        table.extend(rows(name, summary))
        lat = summary["latency_ms"]
        latency.append(f"| {name} | {lat['p50']} | {lat['p95']} |")
        if summary["lenient"]["recall@5"]:
            s, le = summary["strict"], summary["lenient"]
            recall.append(f"| {name} | {s['recall@5']:.3f} | {le['recall@1']:.3f} | {le['recall@5']:.3f} |")

    with tempfile.TemporaryDirectory() as tmp:
        if "knowledge" in args.sets:
            data = ROOT / ".bench" / "knowledge"
            onrust(data, "ingest", str(ROOT / "knowledge"))
            own = ROOT / "bench" / "questions" / "knowledge.jsonl"
            record("knowledge", evaluate(data, own))
            offtopic = Path(tmp) / "offtopic-after-topical.jsonl"
            lines = [json.loads(line) for line in own.read_text(encoding="utf-8").splitlines() if line.strip()]
            offtopic.write_text(
                "\n".join(
                    json.dumps({**q, "kind": "followup_offtopic", "first": TOPICAL})
                    for q in lines
                    if q.get("category") == "off-topic"
                ),
                encoding="utf-8",
            )
            record("knowledge, off-topic after a topical question", evaluate(data, offtopic))
            dev = SHARED / "domain-dev" / "questions.jsonl"
            if dev.exists():
                record("domain-dev questions, shipped corpus only", evaluate(data, dev))
        if "domain-dev" in args.sets and (SHARED / "domain-dev").exists():
            data = ROOT / ".bench" / "domain-dev"
            onrust(data, "ingest", str(SHARED / "domain-dev" / "docs.jsonl"))
            record("domain-dev", evaluate(data, SHARED / "domain-dev" / "questions.jsonl"))
        if "govfaq" in args.sets and (SHARED / "govfaq").exists():
            data = ROOT / ".bench" / "govfaq"
            onrust(data, "ingest", str(SHARED / "govfaq" / "passages.jsonl"))
            record("govfaq", evaluate(data, SHARED / "govfaq" / "questions.jsonl"))

    report = [
        "# Answer quality",
        "",
        f"Produced by `python bench/report.py --sets {' '.join(args.sets)}`. A question is right when it is refused "
        "where it must be, or answered with every `expect_any` group in the answer or its cited passages "
        "(answerable questions without `expect_any`: answered at all).",
        "",
        *table,
        "",
        "| set | strict R@5 | lenient R@1 | lenient R@5 |",
        "|---|---|---|---|",
        *recall,
        "",
        "| set | answer p50 ms | answer p95 ms |",
        "|---|---|---|",
        *latency,
        "",
    ]
    args.out.write_text("\n".join(report), encoding="utf-8")
    print("\n".join(report))


if __name__ == "__main__":
    main()
