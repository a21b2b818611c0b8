"""The search indexes behind the core's `DenseIndex` and `LexicalIndex` protocols.

`DenseSearch` embeds the query and asks the Chroma store. `Bm25Index` keeps a BM25 index (bm25s,
Dutch Snowball stemmer) of every chunk in memory; it is derived data, rebuilt from the store when
the store's generation token changes (checked at most every `refresh_s` seconds), so an ingest run
reaches every running instance without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import bm25s
import numpy as np

from bot.adapters.chroma import ChromaStore
from bot.adapters.embeddings import NamedEmbeddings
from bot.core.models import Access, Chunk, ChunkId, embedding_text
from bot.core.text import terms

__all__ = ["Bm25Index", "DenseSearch"]

log = logging.getLogger(__name__)


class DenseSearch:
    """Implements `DenseIndex` on the Chroma store and the configured embedder."""

    def __init__(self, store: ChromaStore, embeddings: NamedEmbeddings) -> None:
        self._store = store
        self._embeddings = embeddings

    def embed_query(self, text: str) -> list[float]:
        return self._embeddings.embed_query(text)

    def query(self, vector: Sequence[float], k: int, access: frozenset[Access]) -> list[tuple[Chunk, float]]:
        return self._store.query(vector, k, access)

    def vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, list[float]]:
        return self._store.vectors(chunk_ids)

    def sentence_vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, dict[int, list[float]]]:
        return self._store.sentence_vectors(chunk_ids)


class Bm25Index:
    """Implements `LexicalIndex`; thread-safe, rebuilt when the store changes."""

    def __init__(self, store: ChromaStore, refresh_s: float = 30.0) -> None:
        self._store = store
        self._refresh_s = refresh_s
        self._lock = threading.Lock()
        self._generation: str | None = None
        self._checked_at = float("-inf")
        self._chunks: list[Chunk] = []
        self._index: bm25s.BM25 | None = None

    def warm_up(self) -> None:
        """Build the index now rather than on the first question."""
        self._ensure_fresh()

    def _ensure_fresh(self) -> None:
        now = time.monotonic()
        if self._index is not None and now - self._checked_at < self._refresh_s:
            return
        with self._lock:
            if self._index is not None and now - self._checked_at < self._refresh_s:
                return
            generation = self._store.generation()
            self._checked_at = now
            if generation == self._generation and self._index is not None:
                return
            started = time.perf_counter()
            chunks = self._store.chunks()
            index = bm25s.BM25()
            if chunks:
                index.index([terms(embedding_text(c)) or ["_"] for c in chunks], show_progress=False)
            self._chunks, self._index, self._generation = chunks, index, generation
            log.info("lexical index built: %d chunks in %.2f s", len(chunks), time.perf_counter() - started)

    def search(self, text: str, k: int, access: frozenset[Access]) -> list[tuple[Chunk, float]]:
        self._ensure_fresh()
        chunks, index = self._chunks, self._index
        query = terms(text)
        if not chunks or index is None or not query:
            return []
        scores = index.get_scores(query)
        order = np.argsort(-scores, kind="stable")
        hits: list[tuple[Chunk, float]] = []
        for i in order:
            score = float(scores[i])
            if score <= 0.0 or len(hits) >= k:
                break
            if chunks[i].doc.access in access:
                hits.append((chunks[i], score))
        return hits
