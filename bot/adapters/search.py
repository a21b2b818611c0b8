"""The search indexes behind the core's `DenseIndex` and `LexicalIndex` protocols.

`DenseSearch` embeds the query and asks the Chroma store. `Bm25Index` searches a BM25 index (bm25s,
Dutch Snowball stemmer) of every chunk. The index is derived data, saved under a directory in one
folder per store generation: the ingest run that changed the store builds and saves it
(`save_lexical_index`), and every serving process memory-maps it, so N processes on one host share
one copy through the page cache. A question never builds or loads an index: it searches the one in
place, and at most every `refresh_s` seconds starts a background check of the store's generation
that loads the saved index of a new generation (or, if none was saved, as in an instance on another
host than the ingest, builds and saves it itself) and then swaps it in.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np

from bot.adapters.chroma import ChromaStore
from bot.adapters.embeddings import NamedEmbeddings
from bot.core.models import Access, Chunk, ChunkId, embedding_text
from bot.core.text import terms

__all__ = ["Bm25Index", "DenseSearch", "save_lexical_index"]

log = logging.getLogger(__name__)

_FORMAT = 1  # bump when the saved files change; an index of another format is rebuilt
_KEEP = 2  # generations kept on disk, so a process still mapping the previous one is never cut off


class DenseSearch:
    """Implements `DenseIndex` on the Chroma store and the configured embedder."""

    def __init__(self, store: ChromaStore, embeddings: NamedEmbeddings) -> None:
        self._store = store
        self._embeddings = embeddings

    def warm_up(self) -> None:
        """Load the embedder and have the store load every collection's vector index, now rather than inside the
        first question: at a million chunks that load alone outlasts `retrieval.timeout_s`."""
        self._embeddings.warm_up()
        probe = [1.0] + [0.0] * (self._embeddings.dimension - 1)  # any unit vector: no question to encode
        self._store.query(probe, 1, frozenset(Access))

    def embed_query(self, text: str) -> list[float]:
        return self._embeddings.embed_query(text)

    def query(self, vector: Sequence[float], k: int, access: frozenset[Access]) -> list[tuple[Chunk, float]]:
        return self._store.query(vector, k, access)

    def vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, list[float]]:
        return self._store.vectors(chunk_ids)

    def sentence_vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, dict[int, list[float]]]:
        return self._store.sentence_vectors(chunk_ids)


@dataclass(frozen=True, slots=True)
class _Loaded:
    """One generation's index: BM25 over row i of `ids`, whose access label is `labels[access[i]]`."""

    generation: str
    bm25: bm25s.BM25 | None  # None for an empty store
    ids: np.ndarray
    access: np.ndarray
    labels: tuple[Access, ...]
    masks: dict[frozenset[Access], np.ndarray] = field(default_factory=dict)  # 1.0 where visible, per access

    def mask(self, access: frozenset[Access]) -> np.ndarray:
        if access not in self.masks:
            codes = [self.labels.index(a) for a in access if a in self.labels]
            self.masks[access] = np.isin(self.access, codes).astype(np.float32)
        return self.masks[access]


def _folder(directory: Path, generation: str) -> Path:
    return directory / f"g-{generation or 'initial'}"


def save_lexical_index(store: ChromaStore, directory: Path) -> Path:
    """Build the BM25 index of the store's current generation and save it under `directory` (if not saved yet).

    The chunks are streamed from the store; the index appears atomically (written aside, then renamed),
    and only the newest `_KEEP` generations stay. Returns the index's folder.
    """
    generation = store.generation()
    target = _folder(directory, generation)
    if _load(target, generation) is not None:
        return target
    started = time.perf_counter()
    ids: list[str] = []
    codes: list[int] = []
    tokens: list[list[str]] = []
    labels = tuple(Access)
    for chunk in store.chunks():
        ids.append(chunk.chunk_id)
        codes.append(labels.index(chunk.doc.access))
        tokens.append(terms(embedding_text(chunk)) or ["_"])
    scratch = directory / f".build-{uuid.uuid4().hex}"
    scratch.mkdir(parents=True)
    try:
        if tokens:
            bm25 = bm25s.BM25()
            bm25.index(tokens, show_progress=False)
            bm25.save(str(scratch), show_progress=False)
        del tokens
        np.save(scratch / "ids.npy", np.array(ids, dtype=str))
        np.save(scratch / "access.npy", np.array(codes, dtype=np.uint8))
        meta = {"format": _FORMAT, "generation": generation, "chunks": len(ids), "labels": [a.value for a in labels]}
        (scratch / "meta.json").write_text(json.dumps(meta))
        if target.exists():
            shutil.rmtree(target)  # unreadable or of another format
        os.replace(scratch, target)
    except OSError:
        if not target.exists():
            raise
        log.debug("another process saved the lexical index of generation %s first", generation)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _prune(directory, keep=target)
    log.info("lexical index saved: %d chunks in %.2f s at %s", len(ids), time.perf_counter() - started, target)
    return target


def _prune(directory: Path, keep: Path) -> None:
    folders = sorted((p for p in directory.glob("g-*") if p != keep), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[_KEEP - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def _load(folder: Path, generation: str) -> _Loaded | None:
    """The saved index in `folder`, memory-mapped; None if it is missing, of another format or generation."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("format") != _FORMAT or meta.get("generation") != generation:
            return None
        bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False) if meta["chunks"] else None
        return _Loaded(
            generation,
            bm25,
            np.load(folder / "ids.npy", mmap_mode="r"),
            np.load(folder / "access.npy", mmap_mode="r"),
            tuple(Access(v) for v in meta["labels"]),
        )
    except (OSError, ValueError, KeyError) as exc:
        if (folder / "meta.json").exists():
            log.warning("cannot read the lexical index at %s: %s", folder, exc)
        return None


class Bm25Index:
    """Implements `LexicalIndex` over the saved index of the store's generation; thread-safe."""

    def __init__(self, store: ChromaStore, directory: Path, refresh_s: float = 30.0) -> None:
        self._store = store
        self._directory = directory
        self._refresh_s = refresh_s
        self._refresh_lock = threading.Lock()  # held through a load or build
        self._start_lock = threading.Lock()  # held only to start the background refresh
        self._loaded: _Loaded | None = None
        self._checked_at = float("-inf")
        self._refreshing: threading.Thread | None = None

    def warm_up(self) -> None:
        """Load (or, if none is saved, build) the index now; blocks, so call it before serving."""
        self.refresh()

    def refresh(self) -> None:
        """Swap in the index of the store's current generation, loading or building it as needed."""
        with self._refresh_lock:
            self._checked_at = time.monotonic()
            generation = self._store.generation()
            if self._loaded is not None and self._loaded.generation == generation:
                return
            loaded = _load(_folder(self._directory, generation), generation)
            if loaded is None:
                loaded = _load(save_lexical_index(self._store, self._directory), generation)
            if loaded is not None:
                self._loaded = loaded
                log.info("lexical index of generation %s in use: %d chunks", generation, len(loaded.ids))

    def _refresh_in_background(self) -> None:
        if time.monotonic() - self._checked_at < self._refresh_s:
            return
        with self._start_lock:
            if self._refreshing is not None and self._refreshing.is_alive():
                return
            self._checked_at = time.monotonic()
            self._refreshing = threading.Thread(target=self._refresh_logged, name="lexical-refresh", daemon=True)
            self._refreshing.start()

    def _refresh_logged(self) -> None:
        try:
            self.refresh()
        except Exception:  # boundary: a failed refresh keeps the index in place and is retried later
            log.exception("refreshing the lexical index failed; the previous one stays in use")

    def search(self, text: str, k: int, access: frozenset[Access]) -> list[tuple[Chunk, float]]:
        """The `k` best chunks by BM25 under `access`, best first; nothing while no index is loaded yet."""
        self._refresh_in_background()
        loaded = self._loaded
        query = terms(text)
        if loaded is None or loaded.bm25 is None or not query:
            return []
        scores = loaded.bm25.get_scores(query, weight_mask=loaded.mask(access))
        rows = _top(scores, k)
        found = self._store.get_chunks([ChunkId(str(loaded.ids[i])) for i in rows])
        return [(found[cid], float(scores[i])) for i in rows if (cid := ChunkId(str(loaded.ids[i]))) in found]


def _top(scores: np.ndarray, k: int) -> Iterable[int]:
    """Rows of the `k` highest positive scores, best first, ties in row order (as a stable full sort gives)."""
    positive = np.flatnonzero(scores > 0.0)
    if len(positive) > k:
        kth = np.partition(scores[positive], len(positive) - k)[len(positive) - k]
        positive = positive[scores[positive] >= kth]
    order = positive[np.lexsort((positive, -scores[positive]))]
    return [int(i) for i in order[:k]]
