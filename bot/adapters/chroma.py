"""The Chroma vector store: chunks with provenance, embedded under the data dir or on a Chroma server.

The collection records which embedder built it; opening it with another is a `ConfigError`. Every
open passes an explicit embedding function, because a reopened collection otherwise falls back to
Chroma's default embedder, which tries to download a model. Vectors are always computed by us and
passed in, since e5 needs different prefixes for queries and passages.

Chunks live in one collection per access label: `<collection>` holds the `openbaar` chunks (and
the store's metadata), `<collection>-omo-intern` the internal ones. A request searches only the
collections its access allows, unfiltered, so a query costs the same at any store size and an
internal chunk cannot reach a public request. A store of the older single-collection layout is
migrated when it is opened (its internal chunks move, vectors and all; nothing is re-embedded).

Beside the chunks, a further collection (`<collection>-sentences`) holds one vector per quotable
sentence of every chunk, written in the same call as the chunks and looked up by chunk id: the
extractive answerer ranks sentences by meaning without embedding anything per question.

Nothing reads a collection whole: listings go in pages of `_PAGE` rows and writes and deletes in
batches of `_BATCH`, so no call grows with the store (SQLite limits one statement to 32,766 values).

Chunk metadata is the document registry: each chunk carries its document's provenance and content
hash, so one store holds the whole truth and a second bot instance needs nothing else. Calls are
synchronous (chromadb's embedded client is); async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
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

log = logging.getLogger(__name__)

_BATCH = 1000
_PAGE = 5000
# The layout this code writes; a store without it is migrated in `open()`. 2: one collection per access label.
_LAYOUT = "2"


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


def _ids_where(ids: Sequence[str], key: str) -> dict[str, Any]:
    return {key: ids[0]} if len(ids) == 1 else {key: {"$in": list(ids)}}


class ChromaStore:
    """Chunks of the knowledge base, one Chroma collection per access label. Cheap to construct; `open()` connects."""

    def __init__(self, settings: StoreSettings, path: Path, embeddings: NamedEmbeddings) -> None:
        self._settings = settings
        self._path = path
        self._embeddings = embeddings
        self._client: Any = None
        self._by_access: dict[Access, Any] = {}
        self._sentences: Any = None

    @property
    def location(self) -> str:
        return self._settings.chroma_url or str(self._path)

    def _name(self, access: Access) -> str:
        base = self._settings.collection
        return base if access is Access.OPENBAAR else f"{base}-{access.value}"

    def open(self) -> None:
        """Connect and open (or create) the collections; `ConfigError` if another embedder built them.

        A store of the single-collection layout is migrated here (see the module docstring).
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

            def collection(name: str, **meta: str) -> Any:
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
        if base_meta.get("layout") != _LAYOUT:
            self._migrate()

    def _base_meta(self, generation: str) -> dict[str, str]:
        return {"embedder": self._embeddings.name, "generation": generation, "layout": _LAYOUT}

    def _migrate(self) -> None:
        """Move every non-public chunk out of the base collection into its access label's collection."""
        base = self._by_access[Access.OPENBAAR]
        moved = 0
        for access, target in self._by_access.items():
            if access is Access.OPENBAAR:
                continue
            while True:
                got = self._call(
                    "get",
                    base.get,
                    where={"access": access.value},
                    limit=_BATCH,
                    include=["embeddings", "documents", "metadatas"],
                )
                if not got["ids"]:
                    break
                self._call(
                    "upsert",
                    target.upsert,
                    ids=got["ids"],
                    embeddings=got["embeddings"],
                    documents=got["documents"],
                    metadatas=got["metadatas"],
                )
                self._call("delete", base.delete, ids=got["ids"])
                moved += len(got["ids"])
        self._call("modify", base.modify, metadata=self._base_meta(self._new_generation()))
        log.info("migrated the store at %s to layout %s: %d chunks moved", self.location, _LAYOUT, moved)

    @property
    def _collections(self) -> dict[Access, Any]:
        if not self._by_access:
            self.open()
        return self._by_access

    @property
    def _sent(self) -> Any:
        if self._sentences is None:
            self.open()
        return self._sentences

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, StoreError):
            raise
        except Exception as exc:
            raise StoreError(f"Chroma {what} failed at {self.location}: {exc}") from exc

    def _pages(self, collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[Any]:
        """`collection.get(...)` in pages of `_PAGE` rows (each page is a Chroma `GetResult`)."""
        offset = 0
        while True:
            got = self._call("get", collection.get, where=where, limit=_PAGE, offset=offset, include=include)
            if not got["ids"]:
                return
            yield got
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE

    def _ids(self, collection: Any, where: dict[str, Any]) -> list[str]:
        return [cid for page in self._pages(collection, [], where) for cid in page["ids"]]

    def _delete(self, collection: Any, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self._call("delete", collection.delete, ids=list(ids[start : start + _BATCH]))

    # -- documents -----------------------------------------------------------------------------

    def documents(self) -> dict[DocId, StoredDocument]:
        """Every document in the store, from its chunks' metadata (read in pages)."""
        docs: dict[DocId, StoredDocument] = {}
        for collection in self._collections.values():
            for page in self._pages(collection, ["metadatas"]):
                for meta in page["metadatas"] or []:
                    info = _document(meta)
                    stored = docs.setdefault(info.doc_id, StoredDocument(info))
                    stored.hashes.add(info.content_hash)
                    stored.chunks += 1
        return docs

    def document_infos(self, doc_ids: Sequence[DocId]) -> dict[DocId, DocumentInfo]:
        """Provenance of the given documents, from each one's first chunk (unknown ids are left out)."""
        out: dict[DocId, DocumentInfo] = {}
        for start in range(0, len(doc_ids), _BATCH):
            where = {"$and": [_ids_where(doc_ids[start : start + _BATCH], "doc_id"), {"ordinal": 0}]}
            for collection in self._collections.values():
                for page in self._pages(collection, ["metadatas"], where):
                    out.update((info.doc_id, info) for info in map(_document, page["metadatas"] or []))
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
        for start in range(0, len(chunks), _BATCH):
            part = chunks[start : start + _BATCH]
            self._call(
                "upsert",
                self._collections[part[0].doc.access].upsert,
                ids=new_ids[start : start + _BATCH],
                embeddings=[list(v) for v in vectors[start : start + _BATCH]],
                documents=[c.text for c in part],
                metadatas=[_metadata(c) for c in part],
            )
        written = {(c.doc.access, c.chunk_id) for c in chunks}
        for access, collection in self._collections.items():
            stale = [cid for cid in self._ids(collection, {"doc_id": doc_id}) if (access, cid) not in written]
            self._delete(collection, sorted(stale))
        kept = set(sentence_ids)
        self._delete(self._sent, sorted(s for s in self._ids(self._sent, {"doc_id": doc_id}) if s not in kept))

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
        removed = 0
        for collection in self._collections.values():
            ids = self._ids(collection, {"doc_id": doc_id})
            self._delete(collection, ids)
            removed += len(ids)
        self._delete(self._sent, self._ids(self._sent, {"doc_id": doc_id}))
        return removed

    # -- search --------------------------------------------------------------------------------

    def chunks(self) -> Iterator[Chunk]:
        """Every chunk with its text and provenance, streamed in pages (for the lexical index)."""
        for collection in self._collections.values():
            for page in self._pages(collection, ["documents", "metadatas"]):
                for cid, text, meta in zip(page["ids"], page["documents"] or [], page["metadatas"] or [], strict=True):
                    yield _chunk(cid, text or "", meta)

    def get_chunks(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, Chunk]:
        """The given chunks with text and provenance (missing ids are left out)."""
        out: dict[ChunkId, Chunk] = {}
        for start in range(0, len(chunk_ids), _BATCH):
            part = list(chunk_ids[start : start + _BATCH])
            for collection in self._collections.values():
                got = self._call("get", collection.get, ids=part, include=["documents", "metadatas"])
                for cid, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
                    out[ChunkId(cid)] = _chunk(cid, text or "", meta)
        return out

    def query(self, vector: Sequence[float], k: int, access: Iterable[Access]) -> list[tuple[Chunk, float]]:
        """The `k` nearest chunks visible under `access`, with cosine similarity, best first.

        Only the collections of the allowed labels are searched (no metadata filter); with several, their
        hits are merged by distance.
        """
        hits: list[tuple[float, str, Chunk]] = []
        for label in sorted(set(access)):
            got = self._call(
                "query",
                self._collections[label].query,
                query_embeddings=[list(vector)],
                n_results=k,
                include=["documents", "metadatas", "distances"],
            )
            hits.extend(
                (float(dist), cid, _chunk(cid, text or "", meta))
                for cid, text, meta, dist in zip(
                    got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
                )
            )
        hits.sort(key=lambda hit: (hit[0], hit[1]))
        return [(chunk, 1.0 - dist) for dist, _, chunk in hits[:k]]

    def vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, list[float]]:
        """Stored vectors of the given chunks (missing ids are left out)."""
        out: dict[ChunkId, list[float]] = {}
        for start in range(0, len(chunk_ids), _BATCH):
            part = list(chunk_ids[start : start + _BATCH])
            for collection in self._collections.values():
                got = self._call("get", collection.get, ids=part, include=["embeddings"])
                embeddings = got["embeddings"] if got["embeddings"] is not None else []
                for cid, vec in zip(got["ids"], embeddings, strict=True):
                    out[ChunkId(cid)] = list(map(float, vec))
        return out

    def sentence_vectors(self, chunk_ids: Sequence[ChunkId]) -> dict[ChunkId, dict[int, list[float]]]:
        """Stored sentence vectors of the given chunks, by sentence position (chunks without any are left out)."""
        out: dict[ChunkId, dict[int, list[float]]] = {}
        for start in range(0, len(chunk_ids), _BATCH):
            where = _ids_where(chunk_ids[start : start + _BATCH], "chunk_id")
            for page in self._pages(self._sent, ["embeddings", "metadatas"], where):
                for meta, vec in zip(
                    page["metadatas"] or [], page["embeddings"] if page["embeddings"] is not None else [], strict=True
                ):
                    out.setdefault(ChunkId(str(meta["chunk_id"])), {})[int(meta["position"])] = list(map(float, vec))
        return out

    def count(self) -> int:
        return sum(int(self._call("count", c.count)) for c in self._collections.values())

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

    @staticmethod
    def _new_generation() -> str:
        return f"{time.time():.6f}-{uuid.uuid4().hex[:8]}"

    def bump_generation(self) -> None:
        """Mark the store as changed, so running bots reload their lexical index."""
        base = self._collections[Access.OPENBAAR]
        self._call("modify", base.modify, metadata=self._base_meta(self._new_generation()))
