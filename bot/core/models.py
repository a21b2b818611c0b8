"""Domain objects shared by ingestion, retrieval and answering: documents, chunks, passages and answers."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NewType

__all__ = [
    "Access",
    "Answer",
    "Chunk",
    "ChunkId",
    "Citation",
    "DocId",
    "DocumentInfo",
    "IngestAction",
    "IngestEvent",
    "Kind",
    "Passage",
    "Retrieval",
    "chunk_id_for",
    "embedding_text",
]

DocId = NewType("DocId", str)
"""Stable document id: the path relative to the ingested folder, a JSONL `id`, or a URL."""

ChunkId = NewType("ChunkId", str)
"""sha256 of the document id and the chunk text: re-ingesting the same text gives the same id."""


class Kind(StrEnum):
    """What sort of document a source is; set in front matter or guessed from the path."""

    AGENDA = "agenda"
    MIA = "mia"
    HANDREIKING = "handreiking"
    WET = "wet"
    ORGANISATIE = "organisatie"
    FAQ = "faq"
    OVERIG = "overig"


class Access(StrEnum):
    """Who may see a document: everyone, or only the OMO team."""

    OPENBAAR = "openbaar"
    OMO_INTERN = "omo-intern"


def chunk_id_for(doc_id: DocId, text: str, ordinal: int) -> ChunkId:
    """The chunk id: sha256 over document id, position and text (the position keeps repeated text apart)."""
    digest = hashlib.sha256(f"{doc_id}\x00{ordinal}\x00{text}".encode()).hexdigest()
    return ChunkId(digest)


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """Provenance of one ingested document, stored with every chunk and in the document registry."""

    doc_id: DocId
    title: str
    kind: Kind = Kind.OVERIG
    url: str | None = None
    version: str | None = None
    access: Access = Access.OPENBAAR
    content_hash: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One indexed piece of a document, with the section path and page it came from."""

    chunk_id: ChunkId
    doc: DocumentInfo
    text: str
    ordinal: int
    section: str | None = None
    page: int | None = None


SECTION_SEPARATOR = " > "
"""Joins the headings of a chunk's section path (`Chunk.section`)."""


def embedding_text(chunk: Chunk) -> str:
    """What the embedder and the lexical index see: title and section path, then the text."""
    head = chunk.doc.title
    if chunk.section and chunk.section != chunk.doc.title:
        head = f"{head}{SECTION_SEPARATOR}{chunk.section}" if head else chunk.section
    return f"{head}\n{chunk.text}" if head else chunk.text


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with its retrieval score (cosine similarity for dense search, fused otherwise)."""

    chunk: Chunk
    score: float = 0.0
    similarity: float | None = None

    @property
    def doc(self) -> DocumentInfo:
        return self.chunk.doc

    @property
    def text(self) -> str:
        return self.chunk.text


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The passages for a question, best first; `top_similarity` is the refusal signal (None: no dense score).

    `sentence_similarity[chunk_id][position]` is the cosine of the question to that sentence of a top
    passage (positions as `bot.core.sentences.sentence_units` counts them); empty without sentence vectors.
    `part_similarity` holds the same per part of a question that asks several things (one mapping per
    part, in order; empty for a single question).
    """

    question: str
    passages: tuple[Passage, ...]
    top_similarity: float | None = None
    sentence_similarity: Mapping[ChunkId, Mapping[int, float]] = field(default_factory=dict)
    part_similarity: tuple[Mapping[ChunkId, Mapping[int, float]], ...] = ()

    def doc_ids(self) -> list[DocId]:
        """Documents in rank order, duplicates removed."""
        return list(dict.fromkeys(p.doc.doc_id for p in self.passages))


@dataclass(frozen=True, slots=True)
class Citation:
    """Marker `[ref]` in an answer, pointing at the passage it quotes."""

    ref: int
    passage: Passage


@dataclass(frozen=True, slots=True)
class Answer:
    """A checked answer: `text` holds `[n]` markers that all resolve to `citations`.

    An answer that is not `confident` cites nothing and its text is the Dutch refusal.
    """

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    confident: bool = False
    escalation_offered: bool = False
    retrieved: tuple[DocId, ...] = ()
    generator: str = "extractive"
    notes: tuple[str, ...] = field(default=())


class IngestAction(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    REMOVED = "removed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class IngestEvent:
    """One line of the ingest log: what happened to which document, and when (UTC)."""

    run_id: str
    at: datetime
    action: IngestAction
    doc_id: str
    title: str | None = None
    url: str | None = None
    version: str | None = None
    access: Access | None = None
    detail: str | None = None
