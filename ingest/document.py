"""What a format loader produces: a parsed document made of blocks, each with its section path and page."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from bot.core.models import Access, DocId, DocumentInfo, Kind

__all__ = ["Block", "ParsedDocument"]


@dataclass(frozen=True, slots=True)
class Block:
    """A run of text under one heading path (Markdown/DOCX/HTML) or on one page (PDF)."""

    text: str
    section: tuple[str, ...] = ()
    page: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """One document as read from its source, before chunking.

    `source` names where it came from for pruning: the file (as `<folder>/<relative path>`) or the URL.
    `kind`, `access`, `version` and `url` come from front matter, JSONL fields or the ingest options;
    `extra` holds any other metadata (never indexed as text).
    """

    doc_id: DocId
    title: str
    blocks: tuple[Block, ...]
    source: str
    kind: Kind = Kind.OVERIG
    url: str | None = None
    version: str | None = None
    access: Access = Access.OPENBAAR
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)

    def content_hash(self) -> str:
        """sha256 over text, structure and provenance: any change that shows in an answer changes it."""
        payload = json.dumps(
            {
                "title": self.title,
                "kind": self.kind.value,
                "url": self.url,
                "version": self.version,
                "access": self.access.value,
                "blocks": [[b.text, list(b.section), b.page] for b in self.blocks],
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def info(self) -> DocumentInfo:
        return DocumentInfo(
            doc_id=self.doc_id,
            title=self.title,
            kind=self.kind,
            url=self.url,
            version=self.version,
            access=self.access,
            content_hash=self.content_hash(),
            source=self.source,
        )
