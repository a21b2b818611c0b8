"""Benchmark `onrust ingest` against the raw embedder on the same texts, and a re-ingest of unchanged input.

Not part of the test run. Takes the first `--n` records of a JSONL file (default: 600 govfaq
passages from `../shared/eval/govfaq`), works out exactly the texts an ingest embeds for them
(`ingest.pipeline.texts_to_embed`: each chunk, then its quotable sentences) and, in one process with
the embedder warmed up, times in turn: the raw embedder over those texts, a first ingest into a fresh
data dir (the real `Ingestor`, store writes and lexical index included), the raw embedder again, and
a second ingest of the unchanged input. Prints the times, the ratios ingest / raw (against the
faster raw pass) and re-ingest / first ingest, and the process's peak RSS.

    python bench/ingest_speed.py [--source FILE.jsonl] [--n 600] [--work .bench/ingest-speed]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOVFAQ = ROOT.parent / "shared" / "eval" / "govfaq" / "passages.jsonl"


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def sample_of(source: Path, n: int, work: Path) -> Path:
    """The first `n` records of `source`, written to a fresh `work` folder."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sample = work / "sample.jsonl"
    with source.open(encoding="utf-8") as lines:
        sample.write_text("".join(line for _, line in zip(range(n), lines, strict=False)), encoding="utf-8")
    return sample


async def run(sample: Path, n: int) -> None:
    from bot.config import load_settings
    from bot.services import open_services, save_lexical
    from ingest.chunking import Chunker
    from ingest.loaders import LoadOptions, load_file
    from ingest.pipeline import Ingestor, texts_to_embed

    settings = load_settings(environ={}, data_dir=sample.parent / "data")
    chunker = Chunker(settings.ingest.chunk_size, settings.ingest.chunk_overlap)
    chunks = [
        c for doc in load_file(sample, sample.name, sample.name, LoadOptions()).documents for c in chunker.chunks(doc)
    ]
    chunk_texts, sentences = texts_to_embed(chunks)
    texts = chunk_texts + [t for per_chunk in sentences for t in per_chunk]
    async with open_services(settings) as services:
        embeddings = services.embeddings
        embeddings.embed_documents(texts[:32])  # warm up

        def raw() -> float:
            started = time.perf_counter()
            embeddings.embed_documents(texts)
            return time.perf_counter() - started

        async def ingest() -> float:
            started = time.perf_counter()
            ingestor = Ingestor(
                services.store,
                embeddings,
                services.ingest_log,
                settings.ingest,
                index_lexical=lambda: save_lexical(services),
            )
            report = await ingestor.run([str(sample)], options=LoadOptions())
            assert not report.failed, report.failed
            return time.perf_counter() - started

        raw_1 = raw()
        first = await ingest()
        raw_2 = raw()
        again = await ingest()
    floor = min(raw_1, raw_2)
    print(f"{n} records: {len(chunk_texts)} chunks + {len(texts) - len(chunk_texts)} sentences = {len(texts)} texts")
    print(f"raw embedder: {raw_1:.1f} s, {raw_2:.1f} s")
    print(f"first ingest: {first:.1f} s = {first / floor:.2f}x the raw embedder")
    print(f"re-ingest, unchanged: {again:.2f} s = {again / first:.1%} of the first")
    print(f"peak RSS: {peak_mib():.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=GOVFAQ, help="a JSONL file of records to ingest")
    parser.add_argument("--n", type=int, default=600, help="how many of its records")
    parser.add_argument("--work", type=Path, default=ROOT / ".bench" / "ingest-speed", help="scratch folder (deleted)")
    args = parser.parse_args()
    asyncio.run(run(sample_of(args.source, args.n, args.work), args.n))


if __name__ == "__main__":
    main()
