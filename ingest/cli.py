"""`onrust ingest`: index documents, folders, JSONL files and URLs into the knowledge base, incrementally.

The pipeline and the store are imported when the command runs, not here, so `onrust --help` starts at once;
neither loads a chat SDK (import-linter's contracts in pyproject.toml keep `bot.app` and the channels out).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
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
