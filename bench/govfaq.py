"""Benchmark retrieval, refusal and latency on the govfaq set and the project's own knowledge questions.

Not part of the test run. Needs `../shared/eval/govfaq` (present in the developers' workspace, not
in a user's clone). It ingests the 3,164 govfaq passages once into a cached data dir (reused on the
next run), then runs `onrust eval` in each retrieval mode and prints a table with peak memory.
With `--knowledge` it also ingests `knowledge/` into a second data dir and reports the refusal
rates on `bench/questions/knowledge.jsonl` (the calibration set for `retrieval.min_similarity`).

    python bench/govfaq.py [--data-dir .bench/govfaq] [--modes dense bm25 hybrid] [--knowledge]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOVFAQ = ROOT.parent / "shared" / "eval" / "govfaq"
ONRUST = [sys.executable, "-m", "bot.cli"]


def onrust(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[str, float, int]:
    """Run an onrust command; returns stdout, wall seconds and the child's peak RSS in MB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(
        [*ONRUST, "-q", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        cwd=ROOT,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        sys.exit(f"onrust {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) // 1024
    return proc.stdout, wall, peak


def ingest(data_dir: Path, target: Path) -> None:
    out, wall, peak = onrust(data_dir, "ingest", str(target), "--json")
    report: dict[str, Any] = json.loads(out)
    rate = report["chunks"] / wall if report["chunks"] else 0.0
    print(
        f"ingest {target.name}: {report['added']} added, {report['updated']} updated, "
        f"{report['unchanged']} unchanged, {report['chunks']} chunks in {wall:.1f} s "
        f"({rate:.1f} chunks/s), {len(report['failed'])} failed, peak RSS {peak} MB"
    )


def evaluate(data_dir: Path, questions: Path, mode: str) -> tuple[dict[str, Any], float]:
    out, wall, _ = onrust(data_dir, "eval", str(questions), "--json", env={"ONRUST_RETRIEVAL__MODE": mode})
    return json.loads(out), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".bench" / "govfaq")
    parser.add_argument("--modes", nargs="+", default=["dense", "bm25", "hybrid"])
    parser.add_argument("--knowledge", action="store_true", help="also measure refusal on the shipped corpus")
    args = parser.parse_args()
    if not GOVFAQ.is_dir():
        sys.exit(f"govfaq set not found at {GOVFAQ}: this benchmark needs the developers' ../shared")

    ingest(args.data_dir, GOVFAQ / "passages.jsonl")
    print(
        f"\n{'mode':8} {'strict R@1':>10} {'R@5':>6} {'R@10':>6} {'MRR@10':>7} | {'lenient R@1':>11} "
        f"{'R@5':>6} {'R@10':>6} {'MRR@10':>7} | {'p50 ms':>7} {'p95 ms':>7}"
    )
    for mode in args.modes:
        s, _ = evaluate(args.data_dir, GOVFAQ / "questions.jsonl", mode)
        st, le, lat = s["strict"], s["lenient"], s["latency_ms"]
        print(
            f"{mode:8} {st['recall@1']:>10.3f} {st['recall@5']:>6.3f} {st['recall@10']:>6.3f} {st['mrr@10']:>7.3f} | "
            f"{le['recall@1']:>11.3f} {le['recall@5']:>6.3f} {le['recall@10']:>6.3f} {le['mrr@10']:>7.3f} | "
            f"{lat['p50']:>7.1f} {lat['p95']:>7.1f}"
        )

    if args.knowledge:
        kdir = args.data_dir.with_name("knowledge")
        ingest(kdir, ROOT / "knowledge")
        s, _ = evaluate(kdir, ROOT / "bench" / "questions" / "knowledge.jsonl", "hybrid")
        print(
            f"\nknowledge questions: unanswerable refused {s['unanswerable']['refused']:.3f} "
            f"(n={s['unanswerable']['n']}), answerable refused {s['answerable_refused']:.3f}, "
            f"latency p50 {s['latency_ms']['p50']} ms p95 {s['latency_ms']['p95']} ms"
        )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(f"\npeak RSS of any onrust process: {peak} MB")


if __name__ == "__main__":
    main()
