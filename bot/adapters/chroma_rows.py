"""How the knowledge base's chunks are Chroma rows: metadata to and from `Chunk`, and reads in pages.

Every chunk row carries its document's provenance and content hash; the first chunk (`ordinal` 0)
also carries the document's chunk count, so a listing of documents reads one row per document.
Nothing reads a collection whole: listings go in pages of `PAGE` rows and writes and deletes in
batches of `BATCH`, so no call grows with the store (SQLite limits one statement to 32,766 values).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from bot.core.models import Access, Chunk, ChunkId, DocId, DocumentInfo, Kind
from bot.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import GetResult, Include, Where

__all__ = ["BATCH", "PAGE", "Calls", "StoredDocument", "chunk_of", "document_of", "ids_where", "metadata_of", "number"]

BATCH = 1000
PAGE = 5000


class StoredDocument:
    """A document as the store lists it: its provenance and how many chunks it has."""

    __slots__ = ("chunks", "info")

    def __init__(self, info: DocumentInfo, chunks: int) -> None:
        self.info = info
        self.chunks = chunks


def metadata_of(chunk: Chunk, chunks: int) -> dict[str, str | int]:
    """The row metadata of `chunk`, one of its document's `chunks` chunks."""
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
    if chunk.ordinal == 0:
        meta["chunks"] = chunks
    return meta


def _text(meta: Mapping[str, object], key: str) -> str | None:
    value = meta.get(key)
    return None if value is None else str(value)


def number(meta: Mapping[str, object], key: str) -> int | None:
    """The whole number under `key` (Chroma hands back the int that was written), None when absent."""
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, int | float | str):
        return int(value)
    raise StoreError(f"chunk metadata {key!r} is no number: {value!r}")


def document_of(meta: Mapping[str, object]) -> DocumentInfo:
    """The document a chunk row's metadata describes."""
    return DocumentInfo(
        doc_id=DocId(str(meta["doc_id"])),
        title=str(meta.get("title", "")),
        kind=Kind(str(meta.get("kind", Kind.OVERIG.value))),
        url=_text(meta, "url"),
        version=_text(meta, "version"),
        access=Access(str(meta.get("access", Access.OPENBAAR.value))),
        content_hash=str(meta.get("content_hash", "")),
        source=str(meta.get("source", "")),
    )


def chunk_of(chunk_id: str, text: str, meta: Mapping[str, object]) -> Chunk:
    """The chunk of a row: its id, text and metadata."""
    return Chunk(
        chunk_id=ChunkId(chunk_id),
        doc=document_of(meta),
        text=text,
        ordinal=number(meta, "ordinal") or 0,
        section=_text(meta, "section"),
        page=number(meta, "page"),
    )


def ids_where(ids: Sequence[str], key: str) -> Where:
    """A filter for rows whose `key` is one of `ids`."""
    if len(ids) == 1:
        return {key: ids[0]}
    one_of: dict[Literal["$in", "$nin"], list[str | int | float | bool]] = {"$in": list(ids)}
    return {key: one_of}


class Calls:
    """Chroma calls on the store at `location`, failures turned into `StoreError`; paged reads, batched deletes."""

    def __init__(self, location: str) -> None:
        self.location = location

    # Any: chromadb types its arguments as invariant lists of its own unions (a list[ChunkId] or list[list[float]]
    # does not fit) and its results' columns as optional whatever `include` asked for; callers check what they read.
    def __call__(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, StoreError):
            raise
        except Exception as exc:
            raise StoreError(f"Chroma {what} failed at {self.location}: {exc}") from exc

    def pages(self, collection: Collection, include: Include, where: Where | None = None) -> Iterator[GetResult]:
        """`collection.get(...)` in pages of `PAGE` rows (each page is a Chroma `GetResult`)."""
        offset = 0
        while True:
            got = self("get", collection.get, where=where, limit=PAGE, offset=offset, include=include)
            if not got["ids"]:
                return
            yield got
            if len(got["ids"]) < PAGE:
                return
            offset += PAGE

    def ids(self, collection: Collection, where: Where) -> list[str]:
        return [cid for page in self.pages(collection, [], where) for cid in page["ids"]]

    def delete(self, collection: Collection, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), BATCH):
            self("delete", collection.delete, ids=list(ids[start : start + BATCH]))
