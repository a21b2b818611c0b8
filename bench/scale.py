"""Benchmark answer time, start-up and memory against the store's size, next to the floor of the same run.

Not part of the test run. For each size it builds a synthetic store from an ingested source store
(default: the public dev set, ingested once into `.bench/scale/source`): the source's chunks as
they are (with their sentence vectors), plus copies of them with small Gaussian noise on the
vector until the size is reached (no re-embedding; one in ten copies is `omo-intern`). Then a fresh
serving process (`--serve`) starts, warms up and answers the dev questions publicly; in the middle
it runs a real `onrust ingest` of one new document in a subprocess and times the next answer. The
floor, the query encode plus an exact (numpy) search over the same public vectors, is measured in the
serving process too, interleaved with a last pass of answers (after its peak memory was read).
With `--chroma-server` the store is served by `chroma run` (as in a deployment with N instances): the
serving process then holds no vector index, and the Chroma server's own peak memory is reported beside it.
A built store is kept under `--work` and reused by the next run (`--build-only` builds and stops;
`--rebuild` builds afresh), so the slow build of a large size need not be repeated; each size's
figures are kept beside its store, and `--reuse-results` takes them instead of measuring again.

    python bench/scale.py [--sizes 3000 30000 100000] [--work .bench/scale] [--source DATA_DIR]
                          [--out bench/scale.md] [--build-only] [--rebuild] [--reuse-results] [--chroma-server]

Every process of the run uses one BLAS thread (`OMP_NUM_THREADS=1` unless set), so the floor and
the answers are measured alike. Prints a Markdown table: answer p50/p95 (warm), the floor's p50,
the first answer after an ingest, start-up to ready (process start to the first answer) and the
serving process's peak RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
# One BLAS thread in every process of the run: on a shared 2-core machine more threads only add noise.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEV = ROOT.parent / "shared" / "eval" / "domain-dev"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
PER_DOC = 1000  # synthetic chunks per synthetic document
NOISE = 0.02  # standard deviation of the noise per vector component (vectors have unit length)


def questions(limit: int = 30) -> list[str]:
    rows = [json.loads(line) for line in (DEV / "questions.jsonl").read_text().splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("kind", "answerable") == "answerable"][:limit]


def source_store(work: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    source = work / "source"
    if not (source / "chroma").exists():
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "-q", "--data-dir", str(source), "ingest", str(DEV / "docs.jsonl")],
            cwd=ROOT,
            env=ENV,
            check=True,
        )
    return source


def build(source: Path, target: Path, size: int) -> None:
    """Write the synthetic store of `size` chunks under `target`, its public vectors (for the floor) beside it."""
    import numpy as np

    from bot.adapters.search import save_lexical_index
    from bot.config import load_settings
    from bot.core.models import Access, Chunk, DocId, DocumentInfo, Kind, chunk_id_for
    from bot.core.sentences import quotable_sentences
    from bot.services import lexical_dir, open_store

    src, _ = open_store(load_settings(environ={}, data_dir=source))
    chunks = list(src.chunks())
    vectors = src.vectors([c.chunk_id for c in chunks])
    sentences = src.sentence_vectors([c.chunk_id for c in chunks])
    shutil.rmtree(target, ignore_errors=True)
    settings = load_settings(environ={}, data_dir=target)
    store, _ = open_store(settings)
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc.doc_id, []).append(chunk)
    for doc_id, doc_chunks in by_doc.items():
        doc_chunks.sort(key=lambda c: c.ordinal)
        per_chunk = [
            [sentences.get(c.chunk_id, {}).get(p, []) for p, _ in quotable_sentences(c.text)] for c in doc_chunks
        ]
        complete = [s if s and all(s) else [] for s in per_chunk]
        store.replace_document(DocId(doc_id), doc_chunks, [vectors[c.chunk_id] for c in doc_chunks], complete)
    rng = np.random.default_rng(size)
    base = np.asarray([vectors[c.chunk_id] for c in chunks], dtype=np.float32)
    out = [base]
    made = len(chunks)
    d = 0
    while made < size:
        n = min(PER_DOC, size - made)
        picks = rng.integers(0, len(chunks), size=n)
        noisy = base[picks] + rng.normal(0.0, NOISE, size=(n, base.shape[1])).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        access = Access.OMO_INTERN if d % 10 == 9 else Access.OPENBAAR
        info = DocumentInfo(DocId(f"synth/{d}"), f"Kopie {d}", kind=Kind.OVERIG, access=access, content_hash=f"s{d}")
        texts = [f"{chunks[p].text} (kopie {d}-{i})" for i, p in enumerate(picks)]
        synth = [Chunk(chunk_id_for(info.doc_id, t, i), info, t, i) for i, t in enumerate(texts)]
        store.replace_document(info.doc_id, synth, noisy.tolist())
        if access is Access.OPENBAAR:
            out.append(noisy)
        made += n
        d += 1
    store.bump_generation()
    started = time.perf_counter()
    save_lexical_index(store, lexical_dir(settings))  # as the ingest run does
    print(f"size {size}: lexical index saved in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    np.save(target / "floor.npy", np.concatenate(out))
    (target / "built.json").write_text(json.dumps({"size": size}))


def prepare(target: Path) -> None:
    """Open the store once (migrating a kept store of an older layout) and save its lexical index if missing."""
    from bot.adapters.search import save_lexical_index
    from bot.config import load_settings
    from bot.services import lexical_dir, open_store

    settings = load_settings(environ={}, data_dir=target)
    store, _ = open_store(settings)
    started = time.perf_counter()
    save_lexical_index(store, lexical_dir(settings))
    print(f"{target.name}: ready to serve ({time.perf_counter() - started:.1f} s for the index)", file=sys.stderr)


def floor_once(embeddings: Any, matrix: Any, question: str, k: int = 50) -> float:
    """ms for the floor of one question: its query encode plus an exact top-`k` search over `matrix`."""
    import numpy as np

    started = time.perf_counter()
    v = np.asarray(embeddings.embed_query(question), dtype=np.float32)
    scores = matrix @ v
    top = np.argpartition(-scores, k)[:k]
    top[np.argsort(-scores[top])]
    return (time.perf_counter() - started) * 1000


def peak_mib(pid: int | str = "self") -> float:
    """A process's peak resident memory so far (VmHWM), in MiB; this process's by default."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(data_dir: Path) -> None:
    """The serving side: start, answer, ingest in a subprocess, answer again; print one JSON line."""
    import asyncio

    from bot.config import load_settings
    from bot.core.answering import PUBLIC
    from bot.services import build_answerer, open_services

    async def timed(answerer: Any, question: str) -> float:
        started = time.perf_counter()
        await answerer.answer(question, access=PUBLIC)
        return (time.perf_counter() - started) * 1000

    async def run() -> dict[str, float]:
        import numpy as np

        environ = {"ONRUST_RETRIEVAL__REFRESH_S": "0"}
        if url := os.environ.get("ONRUST_STORE__CHROMA_URL"):
            environ["ONRUST_STORE__CHROMA_URL"] = url
        settings = load_settings(environ=environ, data_dir=data_dir)
        qs = questions()
        async with open_services(settings) as services:
            answerer = build_answerer(services)
            await answerer.answer(qs[0], access=PUBLIC)
            ready = time.perf_counter() - STARTED
            warm = [await timed(answerer, q) for q in qs]
            new = data_dir.parent / f"{data_dir.name}-new.md"
            new.write_text(f"# Nieuw {time.time()}\n\nEen nieuw protocol voor buurtbemiddeling na onrust.\n")
            cmd = [sys.executable, "-m", "bot.cli", "-q", "--data-dir", str(data_dir), "ingest", "--no-prune", str(new)]
            await asyncio.to_thread(subprocess.run, cmd, cwd=ROOT, env=ENV, check=True, capture_output=True)
            first = await timed(answerer, qs[1])
            warm += [await timed(answerer, q) for q in qs]  # the background swap happens in here
            serving = peak_mib()  # before the floor's matrix is loaded
            matrix = np.load(data_dir / "floor.npy")
            floors, answers = [], []
            for q in qs:  # interleaved, so both see the same machine
                answers.append(await timed(answerer, q))
                floors.append(floor_once(services.embeddings, matrix, q))
        return {
            "p50": statistics.median(answers),
            "p95": statistics.quantiles(answers + warm[len(qs) :], n=20)[-1],
            "floor_p50": statistics.median(floors),
            "warm_p50": statistics.median(warm),
            "first_after_ingest": first,
            "ready_s": ready,
            "rss_mib": serving,
        }

    print(json.dumps(asyncio.run(run())))


def table(rows: list[tuple[int, dict[str, float]]]) -> str:
    server = any("chroma_rss_mib" in got for _, got in rows)
    header = (
        "| chunks | floor p50 | answer p50 | answer p95 | p50 / floor | warm p50 (earlier pass) "
        "| first after ingest | start-up to ready | serving peak RSS |"
    )
    lines = [
        header + (" Chroma server peak RSS |" if server else ""),
        "|---|---|---|---|---|---|---|---|---|" + ("---|" if server else ""),
    ]
    for size, got in rows:
        lines.append(
            f"| {size:,} | {got['floor_p50']:.1f} ms | {got['p50']:.1f} ms | {got['p95']:.1f} ms | "
            f"{got['p50'] / got['floor_p50']:.2f}x | {got['warm_p50']:.1f} ms | {got['first_after_ingest']:.1f} ms | "
            f"{got['ready_s']:.1f} s | {got['rss_mib']:.0f} MiB |"
            + (f" {got.get('chroma_rss_mib', 0):.0f} MiB |" if server else "")
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 30000, 100000, 300000])
    parser.add_argument("--work", type=Path, default=ROOT / ".bench" / "scale", help="scratch folder (stores are kept)")
    parser.add_argument("--source", type=Path, help="an ingested data dir to take chunks and vectors from")
    parser.add_argument("--out", type=Path, help="also write the table, with the command, to this Markdown file")
    parser.add_argument("--note", default="", help="a line for `--out` on the conditions of the run (machine, load)")
    parser.add_argument("--build-only", action="store_true", help="build the stores that are missing, then stop")
    parser.add_argument("--rebuild", action="store_true", help="build every store afresh, even if one is kept")
    parser.add_argument(
        "--reuse-results", action="store_true", help="take a size's figures from its kept store's last run, if any"
    )
    parser.add_argument(
        "--chroma-server", action="store_true", help="serve each store by `chroma run` instead of embedded Chroma"
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the child process's mode
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    source = source_store(args.work, args.source)
    rows = []
    for size in args.sizes:
        target = args.work / f"store-{size}"
        marker = target / "built.json"
        if args.rebuild or not marker.exists() or json.loads(marker.read_text()).get("size") != size:
            started = time.perf_counter()
            build(source, target, size)
            print(f"size {size}: built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        if args.build_only:
            continue
        result = target / ("result-server.json" if args.chroma_server else "result.json")
        if args.reuse_results and result.exists():
            rows.append((size, json.loads(result.read_text())))
            continue
        prepare(target)
        with contextlib.ExitStack() as stack:
            env, server = ENV, None
            if args.chroma_server:
                from tests.conftest import chroma_server

                url, server = stack.enter_context(chroma_server(target / "chroma", timeout_s=120))
                env = {**ENV, "ONRUST_STORE__CHROMA_URL": url}
            proc = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--serve", str(target)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                sys.exit(f"size {size}: the serving process failed:\n{proc.stderr}")
            got = json.loads(proc.stdout.strip().splitlines()[-1])
            if server is not None:
                got["chroma_rss_mib"] = peak_mib(server)
        result.write_text(json.dumps(got))
        rows.append((size, got))
        print(f"size {size}: {got}", file=sys.stderr, flush=True)
    if not rows:
        return
    print(table(rows), end="")
    if args.out is not None:
        flags = ["--chroma-server"] if args.chroma_server else []
        command = " ".join(["python bench/scale.py", "--sizes", *map(str, args.sizes), *flags])
        args.out.write_text(
            "# Answer time against the store's size\n\n"
            f"Written by `{command}` (see its docstring for what each column means). Figures depend on the\n"
            "machine and its load; compare each size's answers with the floor of the same run.\n\n"
            + (f"{args.note}\n\n" if args.note else "")
            + table(rows)
        )


if __name__ == "__main__":
    main()
