"""Entry points of the format loaders: read a file or a URL and return its parsed documents.

The parser is chosen by file suffix, or for a URL by `Content-Type` (generic types such as
`application/octet-stream` and `text/plain` defer to the URL suffix). Metadata precedence:

- kind: front matter / JSONL `kind`, else `LoadOptions.kind`, else `guess_kind` on the document id
  (for files the path relative to the ingested folder, for URLs the URL path);
- access: front matter / JSONL `access`, else `LoadOptions.access`;
- title: front matter / JSONL `title`, else the title found in the document, else the prettified name.
"""

from __future__ import annotations

import asyncio
import codecs
import re
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import NamedTuple
from urllib.parse import urlsplit

import aiohttp

from bot.config import IngestSettings
from bot.core.models import Access, DocId, Kind
from bot.errors import IngestError
from ingest.document import ParsedDocument
from ingest.fetch import fetch
from ingest.formats.content import Content
from ingest.formats.docx import parse_docx
from ingest.formats.html import parse_html
from ingest.formats.jsonl import parse_jsonl
from ingest.formats.markdown import parse_markdown
from ingest.formats.normalize import decode_text
from ingest.formats.pdf import parse_pdf
from ingest.formats.text import parse_text

__all__ = [
    "SUPPORTED_SUFFIXES",
    "LoadOptions",
    "LoadResult",
    "guess_kind",
    "load_file",
    "load_url",
]


class _Format(StrEnum):
    MARKDOWN = "markdown"
    TEXT = "text"
    PDF = "pdf"
    DOCX = "docx"
    HTML = "html"
    JSONL = "jsonl"


_BY_SUFFIX = {
    ".md": _Format.MARKDOWN,
    ".markdown": _Format.MARKDOWN,
    ".txt": _Format.TEXT,
    ".pdf": _Format.PDF,
    ".docx": _Format.DOCX,
    ".html": _Format.HTML,
    ".htm": _Format.HTML,
    ".jsonl": _Format.JSONL,
}
_BY_CONTENT_TYPE = {
    "text/markdown": _Format.MARKDOWN,
    "text/x-markdown": _Format.MARKDOWN,
    "text/plain": _Format.TEXT,
    "application/pdf": _Format.PDF,
    "application/x-pdf": _Format.PDF,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _Format.DOCX,
    "text/html": _Format.HTML,
    "application/xhtml+xml": _Format.HTML,
    "application/jsonl": _Format.JSONL,
    "application/x-ndjson": _Format.JSONL,
    "application/x-jsonlines": _Format.JSONL,
}
_GENERIC_CONTENT_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", "text/plain"})

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_BY_SUFFIX)
"""File suffixes `load_file` accepts (lower case, with the dot)."""

_KIND_PATTERNS = (
    (Kind.AGENDA, re.compile(r"agenda")),
    (Kind.MIA, re.compile(r"(?<![a-z])(?:mia|impact-afweging)(?![a-z])")),
    (Kind.HANDREIKING, re.compile(r"handreiking")),
    (Kind.FAQ, re.compile(r"faq|vragen")),
)


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """Defaults for one ingest source; see the module docstring for how they combine with declared metadata."""

    kind: Kind | None = None
    access: Access = Access.OPENBAAR


class LoadResult(NamedTuple):
    """The documents read, and the per-record problems that did not sink the file (JSONL lines)."""

    documents: list[ParsedDocument]
    errors: list[IngestError]


def guess_kind(name: str) -> Kind:
    """The kind suggested by a file name or URL path (first match wins: agenda, mia, handreiking, faq)."""
    lowered = name.lower()
    return next((kind for kind, pattern in _KIND_PATTERNS if pattern.search(lowered)), Kind.OVERIG)


def load_file(path: Path, doc_id: str, source: str, options: LoadOptions) -> LoadResult:
    """Parse one file: one document, or one per good line for JSONL (bad lines go to `errors`).

    Raises `IngestError(source, reason)` when the file as a whole cannot be used, with reasons such as
    "unsupported file type '.xls'", "file is empty", "not UTF-8 text (binary data?)", "PDF is encrypted",
    "PDF is corrupt or truncated", "invalid kind 'x' (...)", "no text found". Never returns a document
    without text.
    """
    fmt = _BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(source, f"unsupported file type {path.suffix.lower() or path.name!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(source, f"cannot read file: {exc.strerror or exc}") from exc
    if not data.removeprefix(codecs.BOM_UTF8).strip():
        raise IngestError(source, "file is empty")
    target = _Target(doc_id=doc_id, source=source, fallback_title=_prettify(path.stem), kind_hint=doc_id)
    return _load(data, fmt, target, options, charset=None)


async def load_url(
    url: str, session: aiohttp.ClientSession, settings: IngestSettings, options: LoadOptions
) -> LoadResult:
    """GET `url` and parse it like `load_file`, with `doc_id`, `source` and `url` metadata all set to `url`.

    The parser follows `Content-Type`, falling back to the URL suffix for generic types. A JSONL body keeps
    the ids and `url` fields of its lines (the source is still `url`). Raises `IngestError(url, reason)`
    for the failures listed in `ingest.fetch.fetch` ("HTTP 404 Not Found", "timed out after 20 s",
    "response larger than N bytes"), for "unsupported content type 'image/png'", and for parse failures.
    Parsing runs in a worker thread so a large PDF does not stall the event loop.
    """
    fetched = await fetch(url, session, settings)
    fmt = _format_for_response(fetched.content_type, url)
    parts = urlsplit(url)
    title = _prettify(PurePosixPath(parts.path).stem) or parts.hostname or url
    target = _Target(doc_id=url, source=url, fallback_title=title, kind_hint=parts.path, url=url)
    return await asyncio.to_thread(_load, fetched.body, fmt, target, options, fetched.charset)


@dataclass(frozen=True, slots=True)
class _Target:
    """Id and source for parsed content, plus what stands in when metadata is silent (title, kind hint, url)."""

    doc_id: str
    source: str
    fallback_title: str
    kind_hint: str
    url: str | None = None


def _load(data: bytes, fmt: _Format, target: _Target, options: LoadOptions, charset: str | None) -> LoadResult:
    source = target.source
    match fmt:
        case _Format.JSONL:
            return _load_jsonl(decode_text(data, source, charset), target, options)
        case _Format.MARKDOWN:
            content = parse_markdown(decode_text(data, source, charset), source)
        case _Format.TEXT:
            content = parse_text(decode_text(data, source, charset))
        case _Format.HTML:
            content = parse_html(data, source, charset)
        case _Format.PDF:
            content = parse_pdf(data, source)
        case _Format.DOCX:
            content = parse_docx(data, source)
    return LoadResult(documents=[_document(content, target, options)], errors=[])


def _load_jsonl(text: str, target: _Target, options: LoadOptions) -> LoadResult:
    parsed = parse_jsonl(text, target.source)
    if not parsed.records:
        first = parsed.errors[0].reason if parsed.errors else "no lines"
        raise IngestError(target.source, f"no valid JSONL lines (first problem: {first})")
    documents = [
        _document(
            record.content, replace(target, doc_id=record.doc_id, fallback_title=record.doc_id, url=None), options
        )
        for record in parsed.records
    ]
    return LoadResult(documents=documents, errors=list(parsed.errors))


def _document(content: Content, target: _Target, options: LoadOptions) -> ParsedDocument:
    if not content.blocks:
        raise IngestError(target.source, "no text found")
    meta = content.meta
    return ParsedDocument(
        doc_id=DocId(target.doc_id),
        title=meta.title or content.title or target.fallback_title,
        blocks=content.blocks,
        source=target.source,
        kind=meta.kind or options.kind or guess_kind(target.kind_hint),
        url=target.url or meta.url,
        version=meta.version,
        access=meta.access or options.access,
        extra=dict(meta.extra),
    )


def _format_for_response(content_type: str | None, url: str) -> _Format:
    by_suffix = _BY_SUFFIX.get(PurePosixPath(urlsplit(url).path).suffix.lower())
    if by_suffix is not None and (content_type is None or content_type in _GENERIC_CONTENT_TYPES):
        return by_suffix
    by_type = _BY_CONTENT_TYPE.get(content_type or "")
    if by_type is None:
        raise IngestError(url, f"unsupported content type {content_type or 'unknown'!r}")
    return by_type


def _prettify(stem: str) -> str:
    """'handreiking_sociale-onrust' -> 'Handreiking sociale onrust'."""
    words = " ".join(re.split(r"[\s_\-]+", stem)).strip()
    return words[:1].upper() + words[1:]
