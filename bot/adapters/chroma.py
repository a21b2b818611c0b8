"""The Chroma vector store: chunks with provenance, embedded under the data dir or on a Chroma server.

The collection records which embedder built it; opening it with another is a `ConfigError`. Every
open passes an explicit embedding function, because a reopened collection otherwise falls back to
Chroma's default embedder, which tries to download a model. Vectors are always computed by us and
passed in, since e5 needs different prefixes for queries and passages.

Chunks live in one collection per access label: `<collection>` holds the `openbaar` chunks (and
the store's metadata), `<collection>-omo-intern` the internal ones. A request searches only the
collections its access allows, unfiltered, so a query costs the same at any store size and an
internal chunk cannot reach a public request. A store of an older layout is migrated when it is
opened (`bot.adapters.chroma_layout`).

Beside the chunks, a further collection (`<collection>-sentences`) holds one vector per quotable
sentence of every chunk, written in the same call as the chunks and looked up by chunk id: the
extractive answerer ranks sentences by meaning without embedding anything per question.

Nothing reads a collection whole (`bot.adapters.chroma_rows` reads in pages and writes in batches).
Chunk metadata is the document registry: each chunk carries its document's provenance and content
hash, and the first one its chunk count, so one store holds the whole truth, a second bot instance
needs nothing else, and listing the documents reads one row per document. Calls are
synchronous (chromadb's embedded client is); async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import chromadb
from chromadb import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings

from bot.adapters.chroma_layout import LAYOUT, migrate
from bot.adapters.chroma_rows import (
    BATCH,
    Calls,
    StoredDocument,
    chunk_of,
    document_of,
    ids_where,
    metadata_of,
    number,
)
from bot.adapters.embeddings import NamedEmbeddings
from bot.config import StoreSettings
from bot.core.json_types import JsonObject
from bot.core.models import Access, Chunk, ChunkId, DocId, DocumentInfo
from bot.core.sentences import quotable_sentences
from bot.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Where

__all__ = ["ChromaStore", "StoredDocument"]


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

    def get_config(self) -> JsonObject:
        return {"embedder": self._embeddings.name}

    @staticmethod
    def build_from_config(config: JsonObject) -> _EmbedderFunction:
        raise ConfigError("open the store through ChromaStore, which passes the embedder explicitly")


class ChromaStore:
    """Chunks of the knowledge base, one Chroma collection per access label. Cheap to construct; `open()` connects."""

    def __init__(self, settings: StoreSettings, path: Path, embeddings: NamedEmbeddings) -> None:
        self._settings = settings
        self._path = path
        self._embeddings = embeddings
        self._client: ClientAPI | None = None
        self._by_access: dict[Access, Collection] = {}
        self._sentences: Collection | None = None
        self._calls = Calls(self.location)

    @property
    def location(self) -> str:
        return self._settings.chroma_url or str(self._path)

    def _name(self, access: Access) -> str:
        base = self._settings.collection
        return base if access is Access.OPENBAAR else f"{base}-{access.value}"

    def open(self) -> None:
        """Connect and open (or create) the collections; `ConfigError` if another embedder built them.

        A store of an older layout is migrated here (`bot.adapters.chroma_layout`).
        """
        if self._by_access:
            return
        chroma_settings = ChromaSettings(
            anonymized_telemetry=False,
            chroma_query_request_timeout_seconds=int(self._settings.timeout_s),
        )
        function = _EmbedderFunction(self._embeddings)
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

            def collection(name: str, **meta: str) -> Collection:
                return client.get_or_create_collection(
                    name,
                    metadata={"embedder": self._embeddings.name, **meta},
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=function,  # type: ignore[arg-type]
                )

            by_access = {
                access: collection(self._name(access), **self._base_meta(uuid.uuid4().hex))
                if access is Access.OPENBAAR
                else collection(self._name(access))
                for access in Access
            }
            sentences = collection(f"{self._settings.collection}-sentences")
        except ConfigError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma store at {self.location}: {exc}") from exc
        base_meta = by_access[Access.OPENBAAR].metadata or {}
        built_with = base_meta.get("embedder")
        if built_with != self._embeddings.name:
            raise ConfigError(
                f"the store at {self.location} was built with embedder {built_with!r}, but "
                f"{self._embeddings.name!r} is configured; use the same embedding settings, or ingest "
                "into a new data dir or collection"
            )
        self._client = client
        self._by_access = by_access
        self._sentences = sentences
        if base_meta.get("layout") != LAYOUT:
            moved = migrate(self._calls, by_access, base_meta.get("layout"))
            # a new generation only if chunks moved: counts alone leave the lexical index as it is
            generation = self._new_generation() if moved else str(base_meta.get("generation", ""))
            self._calls("modify", by_access[Access.OPENBAAR].modify, metadata=self._base_meta(generation))

    def _base_meta(self, generation: str) -> dict[str, str]:
        return {"embedder": self._embeddings.name, "generation": generation, "layout": LAYOUT}

    @property
    def _collections(self) -> dict[Access, Collection]:
        if not self._by_access:
            self.open()
        return self._by_access

    @property
    def _sent(self) -> Collection:
        if self._sentences is None:
            self.open()
        assert self._sentences is not None  # open() set it, or raised
        return self._sentences

    # -- documents -----------------------------------------------------------------------------

    def documents(self) -> dict[DocId, StoredDocument]:
        """Every document in the store with its chunk count, from its first chunk (one row per document)."""
        docs: dict[DocId, StoredDocument] = {}
        for collection in self._collections.values():
            for page in self._calls.pages(collection, ["metadatas"], {"ordinal": 0}):
                for meta in page["metadatas"] or []:
                    info = document_of(meta)
                    docs[info.doc_id] = StoredDocument(info, number(meta, "chunks") or 0)
        return docs

    def content_hashes(self, doc_ids: Sequence[DocId]) -> dict[DocId, set[str]]:
        """The content hashes on the given documents' chunks: one each, unless a write was cut short.

        Unknown ids are left out. Reads only those documents' rows."""
        out: dict[DocId, set[str]] = {}
        for start in range(0, len(doc_ids), BATCH):
            where = ids_where(doc_ids[start : start + BATCH], "doc_id")
            for collection in self._collections.values():
                for page in self._calls.pages(collection, ["metadatas"], where):
                    for meta in page["metadatas"] or []:
                        out.setdefault(DocId(str(meta["doc_id"])), set()).add(str(meta.get("content_hash", "")))
        return out

    def document_infos(self, doc_ids: Sequence[DocId]) -> dict[DocId, DocumentInfo]:
        """Provenance of the given documents, from each one's first chunk (unknown ids are left out)."""
        out: dict[DocId, DocumentInfo] = {}
        for start in range(0, len(doc_ids), BATCH):
            where: Where = {"$and": [ids_where(doc_ids[start : start + BATCH], "doc_id"), {"ordinal": 0}]}
            for collection in self._collections.values():
                for page in self._calls.pages(collection, ["metadatas"], where):
                    out.update((info.doc_id, info) for info in map(document_of, page["metadatas"] or []))
        return out

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
        The new rows go in before anything is removed, so a failure leaves the old version whole; a
        document whose access label changed leaves its old collection entirely.
        """
        if len(chunks) != len(vectors) or (sentence_vectors is not None and len(sentence_vectors) != len(chunks)):
            raise ValueError("one vector (and one list of sentence vectors) per chunk")
        sentence_ids = self._upsert_sentences(doc_id, chunks, sentence_vectors or [[] for _ in chunks])
        new_ids = [c.chunk_id for c in chunks]
        for start in range(0, len(chunks), BATCH):
            part = chunks[start : start + BATCH]
            self._calls(
                "upsert",
                self._collections[part[0].doc.access].upsert,
                ids=new_ids[start : start + BATCH],
                embeddings=[list(v) for v in vectors[start : start + BATCH]],
                documents=[c.text for c in part],
                metadatas=[metadata_of(c, len(chunks)) for c in part],
            )
        written = {(c.doc.access, c.chunk_id) for c in chunks}
        for access, collection in self._collections.items():
            stale = [cid for cid in self._calls.ids(collection, {"doc_id": doc_id}) if (access, cid) not in written]
            self._calls.delete(collection, sorted(stale))
        kept = set(sentence_ids)
        old = self._calls.ids(self._sent, {"doc_id": doc_id})
        self._calls.delete(self._sent, sorted(s for s in old if s not in kept))

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
        for start in range(0, len(ids), BATCH):
            self._calls(
                "upsert",
                self._sent.upsert,
                ids=ids[start : start + BATCH],
                embeddings=embeddings[start : start + BATCH],
                metadatas=metadatas[start : start + BATCH],
            )
        return ids

    def delete_document(self, doc_id: DocId) -> int:
        """Remove every chunk (and sentence vector) of a document; returns how many chunks there were."""
        removed = 0
        for collection in self._collections.values():
            ids = self._calls.ids(collection, {"doc_id": doc_id})
            self._calls.delete(collection, ids)
            removed += len(ids)
        self._calls.delete(self._sent, self._calls.ids(self._sent, {"doc_id": doc_id}))
        return removed

    # -- search --------------------------------------------------------------------------------

    def chunks(self) -> Iterator[Chunk]:
        """Every chunk with its text and provenance, streamed in pages (for the lexical index)."""
        for collection in self._collections.values():
            for page in self._calls.pages(collection, ["documents", "metadatas"]):
                for cid, text, meta in zip(page["ids"], page["documents"] or [], page["metadatas"] or [], strict=True):
                    yield chunk_of(cid, text or "", meta)

    def get_chunks(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, Chunk]:
        """The given chunks with text and provenance (missing ids are left out)."""
        out: dict[ChunkId, Chunk] = {}
        for start in range(0, len(chunk_ids), BATCH):
            part = list(chunk_ids[start : start + BATCH])
            for collection in self._collections.values():
                got = self._calls("get", collection.get, ids=part, include=["documents", "metadatas"])
                for cid, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
                    out[ChunkId(cid)] = chunk_of(cid, text or "", meta)
        return out

    def query(self, vector: Sequence[float], k: int, access: Iterable[Access]) -> list[tuple[Chunk, float]]:
        """The `k` nearest chunks visible under `access`, with cosine similarity, best first.

        Only the collections of the allowed labels are searched (no metadata filter); with several, their
        hits are merged by distance.
        """
        hits: list[tuple[float, str, Chunk]] = []
        for label in sorted(set(access)):
            got = self._calls(
                "query",
                self._collections[label].query,
                query_embeddings=[list(vector)],
                n_results=k,
                include=["documents", "metadatas", "distances"],
            )
            hits.extend(
                (float(dist), cid, chunk_of(cid, text or "", meta))
                for cid, text, meta, dist in zip(
                    got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
                )
            )
        hits.sort(key=lambda hit: (hit[0], hit[1]))
        return [(chunk, 1.0 - dist) for dist, _, chunk in hits[:k]]

    def vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, list[float]]:
        """Stored vectors of the given chunks (missing ids are left out)."""
        out: dict[ChunkId, list[float]] = {}
        for start in range(0, len(chunk_ids), BATCH):
            part = list(chunk_ids[start : start + BATCH])
            for collection in self._collections.values():
                got = self._calls("get", collection.get, ids=part, include=["embeddings"])
                embeddings = got["embeddings"] if got["embeddings"] is not None else []
                for cid, vec in zip(got["ids"], embeddings, strict=True):
                    out[ChunkId(cid)] = list(map(float, vec))
        return out

    def sentence_vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, dict[int, list[float]]]:
        """Stored sentence vectors of the given chunks, by sentence position (chunks without any are left out)."""
        out: dict[ChunkId, dict[int, list[float]]] = {}
        for start in range(0, len(chunk_ids), BATCH):
            where = ids_where(chunk_ids[start : start + BATCH], "chunk_id")
            for page in self._calls.pages(self._sent, ["embeddings", "metadatas"], where):
                for meta, vec in zip(
                    page["metadatas"] or [], page["embeddings"] if page["embeddings"] is not None else [], strict=True
                ):
                    out.setdefault(ChunkId(str(meta["chunk_id"])), {})[number(meta, "position") or 0] = list(
                        map(float, vec)
                    )
        return out

    def count(self) -> int:
        return sum(int(self._calls("count", c.count)) for c in self._collections.values())

    # -- change detection ----------------------------------------------------------------------

    def generation(self) -> str:
        """A token that changes whenever an ingest run changed the store (read fresh, never cached)."""
        self.open()
        assert self._client is not None  # open() set it, or raised
        fresh = self._calls(
            "get_collection",
            self._client.get_collection,
            self._settings.collection,
            embedding_function=_EmbedderFunction(self._embeddings),
        )
        return str((fresh.metadata or {}).get("generation", ""))

    @staticmethod
    def _new_generation() -> str:
        return f"{time.time():.6f}-{uuid.uuid4().hex[:8]}"

    def bump_generation(self) -> None:
        """Mark the store as changed, so running bots reload their lexical index."""
        base = self._collections[Access.OPENBAAR]
        self._calls("modify", base.modify, metadata=self._base_meta(self._new_generation()))
