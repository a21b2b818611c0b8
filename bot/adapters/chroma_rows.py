"""How the knowledge base's chunks are Chroma rows: metadata to and from `Chunk`, and reads in pages.

Every chunk row carries its document's provenance and content hash; the first chunk (`ordinal` 0)
also carries the document's chunk count, so a listing of documents reads one row per document.
Nothing reads a collection whole: listings go in pages of `PAGE` rows and writes and deletes in
batches of `BATCH`, so no call grows with the store (SQLite limits one statement to 32,766 values).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from bot.core.models import Access, Chunk, ChunkId, DocId, DocumentInfo, Kind
from bot.errors import ConfigError, StoreError

__all__ = ["BATCH", "PAGE", "Calls", "StoredDocument", "chunk_of", "document_of", "ids_where", "metadata_of"]

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


def document_of(meta: dict[str, Any]) -> DocumentInfo:
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


def chunk_of(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    page = meta.get("page")
    return Chunk(
        chunk_id=ChunkId(chunk_id),
        doc=document_of(meta),
        text=text,
        ordinal=int(meta.get("ordinal", 0)),
        section=meta.get("section"),
        page=int(page) if page is not None else None,
    )


def ids_where(ids: Sequence[str], key: str) -> dict[str, Any]:
    return {key: ids[0]} if len(ids) == 1 else {key: {"$in": list(ids)}}


class Calls:
    """Chroma calls on the store at `location`, failures turned into `StoreError`; paged reads, batched deletes."""

    def __init__(self, location: str) -> None:
        self.location = location

    def __call__(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, StoreError):
            raise
        except Exception as exc:
            raise StoreError(f"Chroma {what} failed at {self.location}: {exc}") from exc

    def pages(self, collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[Any]:
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

    def ids(self, collection: Any, where: dict[str, Any]) -> list[str]:
        return [cid for page in self.pages(collection, [], where) for cid in page["ids"]]

    def delete(self, collection: Any, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), BATCH):
            self("delete", collection.delete, ids=list(ids[start : start + BATCH]))
