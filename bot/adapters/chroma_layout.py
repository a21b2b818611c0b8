"""Bringing a store of an older layout up to the one `ChromaStore` writes, when it is opened.

Layouts: none (one collection; access by metadata), 2 (one collection per access label), 3 (the
first chunk of each document also carries the document's chunk count). Each step reads in pages
and writes in batches; nothing is re-embedded.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.adapters.chroma_rows import BATCH, Calls, number
from bot.core.models import Access

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

__all__ = ["LAYOUT", "migrate"]

log = logging.getLogger(__name__)

LAYOUT = "3"


def migrate(calls: Calls, by_access: dict[Access, Collection], layout: str | None) -> bool:
    """Bring the collections from `layout` to `LAYOUT` (the caller records the new layout); True if chunks moved."""
    moved = 0
    if layout is None:
        moved = _split_by_access(calls, by_access)
        log.info("store at %s: %d internal chunks moved to their own collection", calls.location, moved)
    if layout in (None, "2"):
        counted = _count_chunks(calls, by_access)
        log.info("store at %s: chunk counts recorded for %d documents", calls.location, counted)
    log.info("migrated the store at %s to layout %s", calls.location, LAYOUT)
    return moved > 0


def _split_by_access(calls: Calls, by_access: dict[Access, Collection]) -> int:
    """Move every non-public chunk out of the base collection into its access label's collection."""
    base = by_access[Access.OPENBAAR]
    moved = 0
    for access, target in by_access.items():
        if access is Access.OPENBAAR:
            continue
        while True:
            got = calls(
                "get",
                base.get,
                where={"access": access.value},
                limit=BATCH,
                include=["embeddings", "documents", "metadatas"],
            )
            if not got["ids"]:
                break
            calls(
                "upsert",
                target.upsert,
                ids=got["ids"],
                embeddings=got["embeddings"],
                documents=got["documents"],
                metadatas=got["metadatas"],
            )
            calls("delete", base.delete, ids=got["ids"])
            moved += len(got["ids"])
    return moved


def _count_chunks(calls: Calls, by_access: dict[Access, Collection]) -> int:
    """Record on each document's first chunk how many chunks the document has."""
    counted = 0
    for collection in by_access.values():
        counts: dict[str, int] = {}
        first: dict[str, tuple[str, dict[str, object]]] = {}
        for page in calls.pages(collection, ["metadatas"]):
            for cid, meta in zip(page["ids"], page["metadatas"] or [], strict=True):
                doc_id = str(meta["doc_id"])
                counts[doc_id] = counts.get(doc_id, 0) + 1
                if not number(meta, "ordinal"):
                    first[doc_id] = (cid, dict(meta))
        rows = [(cid, {**meta, "chunks": counts[doc_id]}) for doc_id, (cid, meta) in first.items()]
        for start in range(0, len(rows), BATCH):
            part = rows[start : start + BATCH]
            calls("update", collection.update, ids=[r[0] for r in part], metadatas=[r[1] for r in part])
        counted += len(rows)
    return counted
