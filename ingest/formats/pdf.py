"""Parse a PDF with pypdf: one block per page that has text, `page` numbered from 1.

Encryption policy: a PDF that opens with the empty user password (an "owner password only" PDF, which
every viewer shows without asking) is read; any other encrypted PDF fails with "PDF is encrypted".
pypdf repairs broken files silently, so the file must start with a `%PDF-` header and end with a `%%EOF`
marker (within its last KiB) before pypdf sees it: a truncated download never becomes a partial document.
"""

from __future__ import annotations

import io

from pypdf import PasswordType, PdfReader
from pypdf.errors import PyPdfError

from bot.errors import IngestError
from ingest.document import Block
from ingest.formats.content import Content
from ingest.formats.normalize import normalize_text

__all__ = ["parse_pdf"]

_CORRUPT = "PDF is corrupt or truncated"
_WINDOW = 1024  # bytes searched for the header at the start and the EOF marker at the end


def parse_pdf(data: bytes, source: str) -> Content:
    """Blocks per page with text; the title found is the document information title, if any.

    Raises `IngestError` with "not a PDF file (no %PDF header)", "PDF is corrupt or truncated" or
    "PDF is encrypted".
    """
    if b"%PDF-" not in data[:_WINDOW]:
        raise IngestError(source, "not a PDF file (no %PDF header)")
    if b"%%EOF" not in data[-_WINDOW:]:
        raise IngestError(source, _CORRUPT)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            _decrypt_without_password(reader, source)
        blocks = tuple(
            Block(text=text, page=number)
            for number, page in enumerate(reader.pages, start=1)
            if (text := normalize_text(page.extract_text()))
        )
        title = str(reader.metadata.title or "").strip() if reader.metadata is not None else ""
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise IngestError(source, _CORRUPT) from exc
    return Content(blocks=blocks, title=title or None)


def _decrypt_without_password(reader: PdfReader, source: str) -> None:
    try:
        result = reader.decrypt("")
    except PyPdfError as exc:
        raise IngestError(source, "PDF is encrypted") from exc
    if result == PasswordType.NOT_DECRYPTED:
        raise IngestError(source, "PDF is encrypted")
