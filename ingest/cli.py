"""`onrust ingest`: index documents, folders, JSONL files and URLs into the knowledge base, incrementally.

The pipeline and the store are imported when the command runs, not here, so `onrust --help` starts at once;
neither loads a chat SDK (import-linter's contracts in pyproject.toml keep `bot.app` and the channels out).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.models import Access, Kind

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = ["register"]


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "ingest",
        help="index documents into the knowledge base",
        description=(
            "Index Markdown (with YAML front matter), text, PDF, DOCX, HTML and JSONL files, whole folders and "
            "http(s) URLs. Unchanged documents are skipped, changed ones replaced, and documents that "
            "disappeared from an ingested folder or JSONL file are removed. Exit code 1 if any source failed."
        ),
    )
    parser.add_argument("targets", nargs="+", metavar="PATH_OR_URL", help="files, folders or http(s) URLs")
    parser.add_argument("--no-prune", action="store_true", help="keep documents that disappeared from a folder")
    parser.add_argument("--kind", choices=[k.value for k in Kind], help="kind for documents whose metadata names none")
    parser.add_argument(
        "--access",
        choices=[a.value for a in Access],
        default=Access.OPENBAAR.value,
        help="access label for documents whose metadata names none (default: openbaar)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run)

    seed = sub.add_parser(
        "seed-vectors",
        help="write a folder's vector file, so a first ingest of it embeds little",
        description=(
            "Embed every text an ingest of FOLDER embeds (with the configured embedder and chunking) and write "
            "the vectors to FOLDER/.vectors/<embedder>.npz. An ingest of the folder then embeds only texts the "
            "file lacks. Texts the existing file already holds are not embedded again, so after a small edit this "
            "is quick. Run it after editing a shipped corpus such as knowledge/."
        ),
    )
    seed.add_argument("folder", type=Path, metavar="FOLDER", help="the folder to write the vector file for")
    seed.set_defaults(handler=run_seed_vectors)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import open_services, save_lexical
    from ingest.loaders import LoadOptions
    from ingest.pipeline import Ingestor

    started = time.monotonic()
    options = LoadOptions(kind=Kind(args.kind) if args.kind else None, access=Access(args.access))
    async with open_services(settings) as services:
        ingestor = Ingestor(
            services.store,
            services.embeddings,
            services.ingest_log,
            settings.ingest,
            index_lexical=lambda: save_lexical(services),
        )
        report = await ingestor.run(
            args.targets, options=options, prune=not args.no_prune, progress=sys.stderr.isatty() and not args.json
        )
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for source, error in report.failed:
            print(f"FAILED {source}: {error}", file=sys.stderr)
        print(f"{report.summary()} in {time.monotonic() - started:.1f} s")
    return 1 if report.failed else 0


async def run_seed_vectors(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    return await asyncio.to_thread(_seed_vectors, args.folder, settings)


def _seed_vectors(folder: Path, settings: Settings) -> int:
    from bot.adapters.embeddings import build_embeddings
    from bot.errors import ConfigError
    from ingest.pipeline import folder_texts
    from ingest.seed_vectors import SeededEmbedder, load_seeds, save_seeds

    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder")
    started = time.monotonic()
    texts, failed = folder_texts(folder, settings.ingest)
    for source, error in failed:
        print(f"FAILED {source}: {error}", file=sys.stderr)
    embedder = build_embeddings(settings.embedding)
    seeded = SeededEmbedder(embedder, load_seeds(folder, embedder.name))
    path = save_seeds(folder, embedder.name, texts, seeded.embed_documents(texts))
    print(
        f"{path}: {len(set(texts))} texts, {seeded.reused} from the previous file, {seeded.embedded} embedded, "
        f"in {time.monotonic() - started:.1f} s"
    )
    return 1 if failed else 0
