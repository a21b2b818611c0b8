"""Parse a plain-text file: one block, titled by its first line when that line is short."""

from __future__ import annotations

from ingest.document import Block
from ingest.formats.content import Content
from ingest.formats.normalize import first_line_title, normalize_text

__all__ = ["parse_text"]


def parse_text(text: str) -> Content:
    """A plain-text file: one block; the title is its first line when that line is short."""
    body = normalize_text(text)
    blocks = (Block(text=body),) if body else ()
    return Content(blocks=blocks, title=first_line_title(body))
