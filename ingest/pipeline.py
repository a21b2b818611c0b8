"""The incremental ingest run: find sources, skip unchanged documents, (re)index changed ones, prune removed ones.

Document ids: a file in an ingested folder is `<folder name>/<path inside it>` (two folders cannot
collide), a file named directly is its file name, a JSONL line its `id`, a URL the URL. A document
whose content hash is unchanged is skipped. A changed document gets all its chunks replaced in the
store (new ones written before old ones go, so it is never half-written). A document whose source
file disappeared from an ingested folder, or whose line disappeared from an ingested JSONL file, is
removed unless pruning is off. A source that fails is reported and its existing documents are kept.
Every change is appended to the ingest log, which the daily digest reads. Last, the run brings the
saved lexical index up to date (`index_lexical`), so serving instances only have to load it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from tqdm import tqdm

from bot.adapters.chroma import StoredDocument
from bot.config import IngestSettings
from bot.core.clock import Clock, utc
from bot.core.models import Chunk, DocId, IngestAction, IngestEvent, embedding_text
from bot.core.sentences import quotable_sentences
from bot.errors import IngestError
from ingest.chunking import Chunker
from ingest.document import ParsedDocument
from ingest.loaders import SUPPORTED_SUFFIXES, LoadOptions, LoadResult, load_file, load_url
from ingest.seed_vectors import Embedder, SeededEmbedder, Seeds, load_seeds

__all__ = ["IngestReport", "Ingestor", "folder_texts", "texts_to_embed"]

log = logging.getLogger(__name__)

_EMBED_BATCH = 64


def texts_to_embed(chunks: Sequence[Chunk]) -> tuple[list[str], list[list[str]]]:
    """What an ingest embeds for `chunks`: each chunk's embedding text, and per chunk its quotable sentences."""
    return [embedding_text(c) for c in chunks], [[text for _, text in quotable_sentences(c.text)] for c in chunks]


class _Store(Protocol):
    def documents(self) -> dict[DocId, StoredDocument]: ...
    def content_hashes(self, doc_ids: Sequence[DocId]) -> dict[DocId, set[str]]: ...
    def replace_document(
        self,
        doc_id: DocId,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
        sentence_vectors: Sequence[Sequence[Sequence[float]]] | None = None,
    ) -> None: ...
    def delete_document(self, doc_id: DocId) -> int: ...
    def bump_generation(self) -> None: ...


class _Log(Protocol):
    async def append(self, events: Sequence[IngestEvent]) -> None: ...


@dataclass
class IngestReport:
    """Counts of one run; `failed` names each source or document that could not be indexed, with the reason."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "chunks": self.chunks,
            "failed": [{"source": s, "error": e} for s, e in self.failed],
        }

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, {self.removed} removed, "
            f"{self.chunks} chunks written, {len(self.failed)} failed"
        )


@dataclass(frozen=True, slots=True)
class _Source:
    """One thing to read: a file (with its id and source name) or a URL."""

    location: str
    doc_id: str
    source: str
    is_url: bool = False


@dataclass
class _Plan:
    sources: list[_Source] = field(default_factory=list)
    prune_prefixes: list[str] = field(default_factory=list)  # folder names, as "<name>/"
    prune_exact: list[str] = field(default_factory=list)  # directly named JSONL files
    folders: list[Path] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)


def _plan(targets: Sequence[str]) -> _Plan:
    plan = _Plan()
    for target in targets:
        if target.startswith(("http://", "https://")):
            plan.sources.append(_Source(target, target, target, is_url=True))
            continue
        path = Path(target)
        if path.is_dir():
            root = path.resolve()
            name = root.name or "root"
            plan.prune_prefixes.append(f"{name}/")
            plan.folders.append(root)
            for file in sorted(root.rglob("*")):
                rel = file.relative_to(root)
                if not file.is_file() or any(part.startswith(".") for part in rel.parts):
                    continue
                if file.stem.upper() == "README":  # notes for the folder's editors, not content
                    log.debug("skipping %s: a README", file)
                    continue
                if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                    log.debug("skipping %s: unsupported file type", file)
                    continue
                ident = f"{name}/{rel.as_posix()}"
                plan.sources.append(_Source(str(file), ident, ident))
        elif path.is_file():
            plan.sources.append(_Source(str(path), path.name, path.name))
            if path.suffix.lower() == ".jsonl":
                plan.prune_exact.append(path.name)
        else:
            plan.missing.append((target, "no such file, folder or URL"))
    return plan


def folder_texts(folder: Path, settings: IngestSettings) -> tuple[list[str], list[tuple[str, str]]]:
    """Every text an ingest of `folder` embeds (`texts_to_embed` of each document's chunks, in order), and the
    files that could not be read, with the reason."""
    chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
    texts: list[str] = []
    failed: list[tuple[str, str]] = []
    for source in _plan([str(folder)]).sources:
        try:
            result = load_file(Path(source.location), source.doc_id, source.source, LoadOptions())
        except IngestError as exc:
            failed.append((exc.source, exc.reason))
            continue
        failed.extend((error.source, error.reason) for error in result.errors)
        chunk_texts, sentences = texts_to_embed([c for doc in result.documents for c in chunker.chunks(doc)])
        texts += chunk_texts + [text for per_chunk in sentences for text in per_chunk]
    return texts, failed


class _Progress:
    """Documents done: a bar on a terminal; elsewhere an INFO line every 30 s, so a long run shows it is alive."""

    def __init__(self, bar: bool, every_s: float = 30.0) -> None:
        self._bar = tqdm(unit="doc", desc="ingest", disable=not bar, leave=False)
        self._shown = 0
        self._every_s = every_s
        self._logged_at = time.monotonic()

    def update(self, report: IngestReport) -> None:
        done = report.added + report.updated + report.unchanged + len(report.failed)
        self._bar.update(done - self._shown)
        self._shown = done
        if self._bar.disable and time.monotonic() - self._logged_at >= self._every_s:
            self._logged_at = time.monotonic()
            log.info("ingest in progress: %s", report.summary())

    def close(self) -> None:
        self._bar.close()


class Ingestor:
    """Runs ingests against a store; cheap to construct. `clock` returns the current UTC time (injectable).

    `index_lexical`, if given, is called at the end of every run to save the lexical index of the store's
    current generation (it returns at once when that index is saved already).
    """

    def __init__(
        self,
        store: _Store,
        embedder: Embedder,
        ingest_log: _Log,
        settings: IngestSettings,
        clock: Clock = utc,
        index_lexical: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._log = ingest_log
        self._settings = settings
        self._chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
        self._clock = clock
        self._index_lexical = index_lexical

    async def run(
        self, targets: Sequence[str], *, options: LoadOptions, prune: bool = True, progress: bool = False
    ) -> IngestReport:
        """Ingest every target; returns the report. Per-source failures are counted, never raised."""
        run_id = uuid.uuid4().hex
        plan = _plan(targets)
        report = IngestReport(failed=list(plan.missing))
        embedder = await asyncio.to_thread(self._seeded, plan.folders)
        # the whole document list only where pruning needs it; the unchanged check reads just the documents read
        prunes = prune and bool(plan.prune_prefixes or plan.prune_exact)
        existing = await asyncio.to_thread(self._store.documents) if prunes else {}
        events: list[IngestEvent] = []
        seen: set[str] = set()
        failed_sources: set[str] = set()
        pending: list[tuple[ParsedDocument, list[Chunk], bool]] = []

        shown = _Progress(bar=progress)

        writing: asyncio.Task[None] | None = None

        async def flush() -> None:
            # Embed this batch while the previous one is still being written; writes stay in order.
            nonlocal writing
            batch = list(pending)
            pending.clear()
            embedded = await self._embed(embedder, batch, report)
            if writing is not None:
                await writing
            if embedded is not None:
                writing = asyncio.create_task(self._replace(batch, *embedded, report, events, run_id))
            shown.update(report)

        timeout = aiohttp.ClientTimeout(total=self._settings.url_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for source in plan.sources:
                try:
                    result = await self._load(source, session, options)
                except Exception as exc:  # boundary: one bad source never ends the run
                    error = exc if isinstance(exc, IngestError) else IngestError(source.source, f"unreadable: {exc}")
                    if not isinstance(exc, IngestError):
                        log.exception("unexpected error reading %s", source.source)
                    log.warning("failed to read %s: %s", error.source, error.reason)
                    report.failed.append((error.source, error.reason))
                    failed_sources.add(source.source)
                    events.append(self._event(run_id, IngestAction.FAILED, error.source, detail=error.reason))
                    continue
                for error in result.errors:
                    report.failed.append((error.source, error.reason))
                    events.append(self._event(run_id, IngestAction.FAILED, error.source, detail=error.reason))
                ids = [doc.doc_id for doc in result.documents]
                stored = await asyncio.to_thread(self._store.content_hashes, ids) if ids else {}
                for doc in result.documents:
                    seen.add(doc.doc_id)
                    hashes = stored.get(doc.doc_id)
                    if hashes == {self._chunker.index_hash(doc)}:
                        report.unchanged += 1
                        shown.update(report)
                        continue
                    pending.append((doc, self._chunker.chunks(doc), hashes is not None))
                    if sum(len(c) for _, c, _ in pending) >= _EMBED_BATCH:
                        await flush()
            await flush()
            if writing is not None:
                await writing
        shown.close()
        if isinstance(embedder, SeededEmbedder):
            log.info("%d texts took their vector from a vector file, %d embedded", embedder.reused, embedder.embedded)

        if prunes:
            for doc_id, listed in existing.items():
                src = listed.info.source
                in_scope = src in plan.prune_exact or any(src.startswith(p) for p in plan.prune_prefixes)
                if in_scope and doc_id not in seen and src not in failed_sources:
                    await asyncio.to_thread(self._store.delete_document, doc_id)
                    report.removed += 1
                    info = listed.info
                    # access too: the digest shows a removed internal document only in the OMO room
                    events.append(
                        self._event(
                            run_id, IngestAction.REMOVED, doc_id, title=info.title, url=info.url, access=info.access
                        )
                    )
        if report.added or report.updated or report.removed:
            await asyncio.to_thread(self._store.bump_generation)
        await self._log.append(events)
        if self._index_lexical is not None:
            await asyncio.to_thread(self._index_lexical)
        return report

    def _seeded(self, folders: Sequence[Path]) -> Embedder:
        """The embedder, drawing on the vector files of the ingested folders if they ship any (`seed_vectors`)."""
        seeds: Seeds = {}
        for folder in folders:
            seeds.update(load_seeds(folder, self._embedder.name))
        return SeededEmbedder(self._embedder, seeds) if seeds else self._embedder

    async def _load(self, source: _Source, session: aiohttp.ClientSession, options: LoadOptions) -> LoadResult:
        if source.is_url:
            return await load_url(source.location, session, self._settings, options)
        return await asyncio.to_thread(load_file, Path(source.location), source.doc_id, source.source, options)

    async def _embed(
        self, embedder: Embedder, pending: list[tuple[ParsedDocument, list[Chunk], bool]], report: IngestReport
    ) -> tuple[list[list[float]], list[list[list[float]]]] | None:
        """Embed the pending documents' chunks and their sentences in one batch: chunk vectors and, per chunk,
        its sentence vectors; None (the documents counted as failed) if the embedder fails."""
        chunk_texts, sentences = texts_to_embed([c for _, chunks, _ in pending for c in chunks])
        if not chunk_texts:
            return None
        texts = chunk_texts + [text for per_chunk in sentences for text in per_chunk]
        try:
            vectors = await asyncio.to_thread(embedder.embed_documents, texts)
        except Exception as exc:  # boundary: one failed batch must not end the run
            log.exception("embedding failed for %d documents", len(pending))
            for doc, _, _ in pending:
                report.failed.append((doc.doc_id, f"embedding failed: {exc}"))
            return None
        grouped: list[list[list[float]]] = []
        offset = len(chunk_texts)
        for per_chunk in sentences:
            grouped.append(vectors[offset : offset + len(per_chunk)])
            offset += len(per_chunk)
        return vectors[: len(chunk_texts)], grouped

    async def _replace(
        self,
        pending: list[tuple[ParsedDocument, list[Chunk], bool]],
        vectors: list[list[float]],
        grouped: list[list[list[float]]],
        report: IngestReport,
        events: list[IngestEvent],
        run_id: str,
    ) -> None:
        """Replace each embedded document in the store, counting and logging what was written."""
        offset = 0
        for doc, chunks, existed in pending:
            doc_vectors = vectors[offset : offset + len(chunks)]
            doc_sentences = grouped[offset : offset + len(chunks)]
            offset += len(chunks)
            try:
                await asyncio.to_thread(self._store.replace_document, doc.doc_id, chunks, doc_vectors, doc_sentences)
            except Exception as exc:  # boundary: the per-document loop carries on
                log.exception("storing %s failed", doc.doc_id)
                report.failed.append((doc.doc_id, f"store write failed: {exc}"))
                continue
            report.chunks += len(chunks)
            action = IngestAction.UPDATED if existed else IngestAction.ADDED
            if existed:
                report.updated += 1
            else:
                report.added += 1
            events.append(
                self._event(
                    run_id, action, doc.doc_id, title=doc.title, url=doc.url, version=doc.version, access=doc.access
                )
            )

    def _event(self, run_id: str, action: IngestAction, doc_id: str, **fields: Any) -> IngestEvent:
        return IngestEvent(run_id=run_id, at=self._clock(), action=action, doc_id=doc_id, **fields)
