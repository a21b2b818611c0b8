"""Structure-aware chunking: one chunk per section or page when it fits, recursive splitting when it does not.

A block that fits the window is kept whole (re-splitting passages that fit costs recall). Small
neighbouring blocks of the same section and page are merged so headings with one line of text do
not become fragments. Longer blocks are split by langchain-text-splitters at paragraph, line and
sentence boundaries with overlap. Sizes are in characters: 1,400 characters of Dutch stay well
inside e5's 512-token window together with the title and section header added for embedding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace

from langchain_text_splitters import RecursiveCharacterTextSplitter

from bot.core.models import SECTION_SEPARATOR, Chunk, chunk_id_for
from ingest.document import Block, ParsedDocument

__all__ = ["Chunker"]

# Bump when chunking (or what is embedded per chunk) changes in a way that must re-index unchanged documents.
CHUNKER_VERSION = 4


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    section: tuple[str, ...]
    page: int | None


class Chunker:
    """Turns a parsed document into chunks with section path and page. Deterministic."""

    def __init__(self, chunk_size: int, chunk_overlap: int) -> None:
        if chunk_overlap >= chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        self._size = chunk_size
        self._overlap = chunk_overlap
        self._min_size = chunk_size // 4
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
            keep_separator="end",
        )

    def index_hash(self, document: ParsedDocument) -> str:
        """The hash stored with a document's chunks: its content plus how it was chunked."""
        salt = f"{document.content_hash()}:{CHUNKER_VERSION}:{self._size}:{self._overlap}"
        return hashlib.sha256(salt.encode()).hexdigest()

    def chunks(self, document: ParsedDocument) -> list[Chunk]:
        info = replace(document.info(), content_hash=self.index_hash(document))
        pieces = self._merge_small(self._split(b) for b in document.blocks if b.text.strip())
        out: list[Chunk] = []
        for ordinal, piece in enumerate(pieces):
            section = piece.section[1:] if piece.section[:1] == (info.title,) else piece.section
            out.append(
                Chunk(
                    chunk_id=chunk_id_for(info.doc_id, piece.text, ordinal),
                    doc=info,
                    text=piece.text,
                    ordinal=ordinal,
                    section=SECTION_SEPARATOR.join(section) or None,
                    page=piece.page,
                )
            )
        return out

    def _split(self, block: Block) -> list[_Piece]:
        text = block.text.strip()
        parts = [text] if len(text) <= self._size else self._splitter.split_text(text)
        return [_Piece(p.strip(), block.section, block.page) for p in parts if p.strip()]

    def _merge_small(self, groups: Iterable[list[_Piece]]) -> list[_Piece]:
        merged: list[_Piece] = []
        for group in groups:
            for piece in group:
                last = merged[-1] if merged else None
                if (
                    last is not None
                    and last.page == piece.page
                    and _related(last.section, piece.section)
                    and (len(last.text) < self._min_size or len(piece.text) < self._min_size)
                    and len(last.text) + len(piece.text) + 2 <= self._size
                ):
                    # Text from a subsection keeps its heading, since the chunk carries the parent's path.
                    text = piece.text if piece.section == last.section else f"{piece.section[-1]}\n{piece.text}"
                    merged[-1] = _Piece(f"{last.text}\n\n{text}", last.section, last.page)
                else:
                    merged.append(piece)
        return merged


def _related(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
    """Same section, or the second is a subsection of the first (a heading followed by its parts)."""
    return second[: len(first)] == first
