"""Parse a Word (.docx) file: Title and Heading 1-6 paragraphs form the section path; text and tables fill blocks."""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.document import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml.etree import XMLSyntaxError

from bot.errors import IngestError
from ingest.formats.content import Content, SectionBuilder
from ingest.formats.normalize import normalize_text

__all__ = ["parse_docx"]

_HEADING_STYLE = re.compile(r"Heading ([1-6])")
_TITLE_LEVEL = 0  # the "Title" style sits above Heading 1


def parse_docx(data: bytes, source: str) -> Content:
    """Blocks in document order; table rows become lines of cells joined with " | ".

    The title found is the core-properties title, else the first Title or Heading 1 paragraph. Raises
    `IngestError(source, "DOCX is corrupt or not a Word document")` when the package cannot be opened.
    """
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError) as exc:
        raise IngestError(source, "DOCX is corrupt or not a Word document") from exc
    builder = SectionBuilder()
    first_heading: str | None = None
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            builder.paragraph(_table_text(item))
            continue
        text = normalize_text(item.text)
        if not text:
            continue
        level = _heading_level(item)
        if level is None:
            builder.paragraph(text)
            continue
        heading = " ".join(text.split())
        if level <= 1 and first_heading is None:
            first_heading = heading
        builder.heading(level, heading)
    return Content(blocks=builder.blocks(), title=_core_title(document) or first_heading)


def _heading_level(paragraph: Paragraph) -> int | None:
    name = paragraph.style.name if paragraph.style is not None else None
    if name == "Title":
        return _TITLE_LEVEL
    match = _HEADING_STYLE.fullmatch(name or "")
    return int(match[1]) if match else None


def _table_text(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _core_title(document: Document) -> str | None:
    return (document.core_properties.title or "").strip() or None
