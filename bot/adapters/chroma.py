"""The Chroma vector store: chunks with provenance, embedded under the data dir or on a Chroma server.

The collection records which embedder built it; opening it with another is a `ConfigError`. Every
open passes an explicit embedding function, because a reopened collection otherwise falls back to
Chroma's default embedder, which tries to download a model. Vectors are always computed by us and
passed in, since e5 needs different prefixes for queries and passages.

Beside the chunks, a second collection (`<collection>-sentences`) holds one vector per quotable
sentence of every chunk, written in the same call as the chunks: the extractive answerer ranks
sentences by meaning without embedding anything per question.

Chunk metadata is the document registry: each chunk carries its document's provenance and content
hash, so one store holds the whole truth and a second bot instance needs nothing else. Calls are
synchronous (chromadb's embedded client is); async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
from chromadb import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings

from bot.adapters.embeddings import NamedEmbeddings
from bot.config import StoreSettings
from bot.core.models import Access, Chunk, ChunkId, DocId, DocumentInfo, Kind
from bot.core.sentences import quotable_sentences
from bot.errors import ConfigError, StoreError

__all__ = ["ChromaStore", "StoredDocument"]

_BATCH = 1000


class _EmbedderFunction(EmbeddingFunction[Documents]):
    """Chroma's view of our embedder; used only if Chroma embeds something itself."""

    def __init__(self, embeddings: NamedEmbeddings) -> None:
        self._embeddings = embeddings

    def __call__(self, input: Documents) -> Embeddings:
        import numpy as np

        return [np.asarray(v, dtype=np.float32) for v in self._embeddings.embed_documents(list(input))]

    @staticmethod
    def name() -> str:
        return "onrust-embedder"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._embeddings.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> _EmbedderFunction:
        raise ConfigError("open the store through ChromaStore, which passes the embedder explicitly")


class StoredDocument:
    """A document as the store knows it: provenance, content hashes seen and chunk count."""

    __slots__ = ("chunks", "hashes", "info")

    def __init__(self, info: DocumentInfo) -> None:
        self.info = info
        self.hashes: set[str] = set()
        self.chunks = 0


def _metadata(chunk: Chunk) -> dict[str, str | int]:
    doc = chunk.doc
    meta: dict[str, str | int] = {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "kind": doc.kind.value,
        "access": doc.access.value,
        "content_hash": doc.content_hash,
        "source": doc.source,
        "ordinal": chunk.ordinal,
    }
    for key, value in (("url", doc.url), ("version", doc.version), ("section", chunk.section)):
        if value:
            meta[key] = value
    if chunk.page is not None:
        meta["page"] = chunk.page
    return meta


def _document(meta: dict[str, Any]) -> DocumentInfo:
    return DocumentInfo(
        doc_id=DocId(str(meta["doc_id"])),
        title=str(meta.get("title", "")),
        kind=Kind(meta.get("kind", Kind.OVERIG.value)),
        url=meta.get("url"),
        version=meta.get("version"),
        access=Access(meta.get("access", Access.OPENBAAR.value)),
        content_hash=str(meta.get("content_hash", "")),
        source=str(meta.get("source", "")),
    )


def _chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    page = meta.get("page")
    return Chunk(
        chunk_id=ChunkId(chunk_id),
        doc=_document(meta),
        text=text,
        ordinal=int(meta.get("ordinal", 0)),
        section=meta.get("section"),
        page=int(page) if page is not None else None,
    )


class ChromaStore:
    """Chunks of the knowledge base in one Chroma collection. Cheap to construct; `open()` connects."""

    def __init__(self, settings: StoreSettings, path: Path, embeddings: NamedEmbeddings) -> None:
        self._settings = settings
        self._path = path
        self._embeddings = embeddings
        self._client: Any = None
        self._collection: Any = None
        self._sentences: Any = None

    @property
    def location(self) -> str:
        return self._settings.chroma_url or str(self._path)

    def open(self) -> None:
        """Connect and open (or create) the collection; `ConfigError` if another embedder built it."""
        if self._collection is not None:
            return
        chroma_settings = ChromaSettings(
            anonymized_telemetry=False,
            chroma_query_request_timeout_seconds=int(self._settings.timeout_s),
        )
        try:
            if self._settings.chroma_url:
                url = urlsplit(self._settings.chroma_url)
                client = chromadb.HttpClient(
                    host=url.hostname or "localhost",
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
            else:
                self._path.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(self._path), settings=chroma_settings)
            collection = client.get_or_create_collection(
                self._settings.collection,
                metadata={"embedder": self._embeddings.name, "generation": uuid.uuid4().hex},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=_EmbedderFunction(self._embeddings),  # type: ignore[arg-type]
            )
            sentences = client.get_or_create_collection(
                f"{self._settings.collection}-sentences",
                metadata={"embedder": self._embeddings.name},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=_EmbedderFunction(self._embeddings),  # type: ignore[arg-type]
            )
        except ConfigError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma store at {self.location}: {exc}") from exc
        built_with = (collection.metadata or {}).get("embedder")
        if built_with != self._embeddings.name:
            raise ConfigError(
                f"the store at {self.location} was built with embedder {built_with!r}, but "
                f"{self._embeddings.name!r} is configured; use the same embedding settings, or ingest "
                "into a new data dir or collection"
            )
        self._client = client
        self._collection = collection
        self._sentences = sentences

    @property
    def _col(self) -> Any:
        if self._collection is None:
            self.open()
        return self._collection

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, StoreError):
            raise
        except Exception as exc:
            raise StoreError(f"Chroma {what} failed at {self.location}: {exc}") from exc

    # -- documents -----------------------------------------------------------------------------

    def documents(self) -> dict[DocId, StoredDocument]:
        """Every document in the store, from its chunks' metadata."""
        got = self._call("get", self._col.get, include=["metadatas"])
        docs: dict[DocId, StoredDocument] = {}
        for meta in got["metadatas"] or []:
            info = _document(meta)
            stored = docs.setdefault(info.doc_id, StoredDocument(info))
            stored.hashes.add(info.content_hash)
            stored.chunks += 1
        return docs

    @property
    def _sent(self) -> Any:
        if self._sentences is None:
            self.open()
        return self._sentences

    def replace_document(
        self,
        doc_id: DocId,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
        sentence_vectors: Sequence[Sequence[Sequence[float]]] | None = None,
    ) -> None:
        """Make `chunks` the document's only chunks: write the new ones first, then drop the rest.

        `sentence_vectors[i]` holds one vector per entry of `quotable_sentences(chunks[i].text)`; without
        it the document gets no sentence vectors (answers then rank its sentences by words alone).
        The new rows go in before anything is removed, so a failure leaves the old version whole.
        """
        if len(chunks) != len(vectors) or (sentence_vectors is not None and len(sentence_vectors) != len(chunks)):
            raise ValueError("one vector (and one list of sentence vectors) per chunk")
        sentence_ids = self._upsert_sentences(doc_id, chunks, sentence_vectors or [[] for _ in chunks])
        new_ids = [c.chunk_id for c in chunks]
        for start in range(0, len(chunks), _BATCH):
            part = chunks[start : start + _BATCH]
            self._call(
                "upsert",
                self._col.upsert,
                ids=new_ids[start : start + _BATCH],
                embeddings=[list(v) for v in vectors[start : start + _BATCH]],
                documents=[c.text for c in part],
                metadatas=[_metadata(c) for c in part],
            )
        stale = set(self._chunk_ids(doc_id)) - set(new_ids)
        if stale:
            self._call("delete", self._col.delete, ids=sorted(stale))
        got = self._call("get", self._sent.get, where={"doc_id": doc_id}, include=[])
        stale_sentences = set(got["ids"]) - set(sentence_ids)
        if stale_sentences:
            self._call("delete", self._sent.delete, ids=sorted(stale_sentences))

    def _upsert_sentences(
        self, doc_id: DocId, chunks: Sequence[Chunk], vectors: Sequence[Sequence[Sequence[float]]]
    ) -> list[str]:
        ids: list[str] = []
        embeddings: list[list[float]] = []
        metadatas: list[dict[str, str | int]] = []
        for chunk, chunk_vectors in zip(chunks, vectors, strict=True):
            units = quotable_sentences(chunk.text) if chunk_vectors else []
            if len(units) != len(chunk_vectors):
                raise ValueError(f"chunk {chunk.chunk_id} has {len(units)} sentences but {len(chunk_vectors)} vectors")
            for (position, _), vector in zip(units, chunk_vectors, strict=True):
                ids.append(f"{chunk.chunk_id}:{position}")
                embeddings.append(list(vector))
                metadatas.append({"doc_id": doc_id, "chunk_id": chunk.chunk_id, "position": position})
        for start in range(0, len(ids), _BATCH):
            self._call(
                "upsert",
                self._sent.upsert,
                ids=ids[start : start + _BATCH],
                embeddings=embeddings[start : start + _BATCH],
                metadatas=metadatas[start : start + _BATCH],
            )
        return ids

    def delete_document(self, doc_id: DocId) -> int:
        """Remove every chunk (and sentence vector) of a document; returns how many chunks there were."""
        ids = self._chunk_ids(doc_id)
        if ids:
            self._call("delete", self._col.delete, ids=ids)
        self._call("delete", self._sent.delete, where={"doc_id": doc_id})
        return len(ids)

    def _chunk_ids(self, doc_id: DocId) -> list[str]:
        got = self._call("get", self._col.get, where={"doc_id": doc_id}, include=[])
        return list(got["ids"])

    # -- search --------------------------------------------------------------------------------

    def chunks(self) -> list[Chunk]:
        """Every chunk with its text and provenance (for the lexical index)."""
        got = self._call("get", self._col.get, include=["documents", "metadatas"])
        return [
            _chunk(cid, text or "", meta)
            for cid, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        ]

    def query(self, vector: Sequence[float], k: int, access: Iterable[Access]) -> list[tuple[Chunk, float]]:
        """The `k` nearest chunks visible under `access`, with cosine similarity, best first."""
        allowed = [a.value for a in access]
        where = {"access": allowed[0]} if len(allowed) == 1 else {"access": {"$in": allowed}}
        got = self._call(
            "query",
            self._col.query,
            query_embeddings=[list(vector)],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (_chunk(cid, text or "", meta), 1.0 - float(dist))
            for cid, text, meta, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]

    def vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, list[float]]:
        """Stored vectors of the given chunks (missing ids are left out)."""
        if not chunk_ids:
            return {}
        got = self._call("get", self._col.get, ids=list(chunk_ids), include=["embeddings"])
        return {ChunkId(cid): list(map(float, vec)) for cid, vec in zip(got["ids"], got["embeddings"], strict=True)}

    def sentence_vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, dict[int, list[float]]]:
        """Stored sentence vectors of the given chunks, by sentence position (chunks without any are left out)."""
        if not chunk_ids:
            return {}
        where = {"chunk_id": chunk_ids[0]} if len(chunk_ids) == 1 else {"chunk_id": {"$in": list(chunk_ids)}}
        got = self._call("get", self._sent.get, where=where, include=["embeddings", "metadatas"])
        out: dict[ChunkId, dict[int, list[float]]] = {}
        for meta, vec in zip(
            got["metadatas"] or [], got["embeddings"] if got["embeddings"] is not None else [], strict=True
        ):
            out.setdefault(ChunkId(str(meta["chunk_id"])), {})[int(meta["position"])] = list(map(float, vec))
        return out

    def count(self) -> int:
        return int(self._call("count", self._col.count))

    # -- change detection ----------------------------------------------------------------------

    def generation(self) -> str:
        """A token that changes whenever an ingest run changed the store (read fresh, never cached)."""
        self.open()
        fresh = self._call(
            "get_collection",
            self._client.get_collection,
            self._settings.collection,
            embedding_function=_EmbedderFunction(self._embeddings),
        )
        return str((fresh.metadata or {}).get("generation", ""))

    def bump_generation(self) -> None:
        """Mark the store as changed, so running bots rebuild their lexical index."""
        meta = {"embedder": self._embeddings.name, "generation": f"{time.time():.6f}-{uuid.uuid4().hex[:8]}"}
        self._call("modify", self._col.modify, metadata=meta)
