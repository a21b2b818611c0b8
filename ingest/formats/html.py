"""Parse HTML: keep the main content, drop navigation, headers, footers, scripts and cookie banners.

trafilatura finds the main content and returns it as a small XML vocabulary (`head`, `p`, `list`/`item`,
`table`/`row`/`cell`, `quote`, `code`); this module turns that into blocks per heading section, so
headings become section paths. Tables are written as rows "a | b". The title is og:title, else
`<title>`, else the first `<h1>`.
"""

from __future__ import annotations

import lxml.html
import trafilatura
from lxml.etree import ParserError, XMLSyntaxError, _Element
from lxml.html import HtmlElement
from trafilatura.settings import Document

from bot.errors import IngestError
from ingest.formats.content import Content, SectionBuilder
from ingest.formats.normalize import normalize_line

__all__ = ["parse_html"]


def parse_html(data: bytes, source: str, charset: str | None = None) -> Content:
    """Blocks of the main content.

    Encoding: `charset` (from HTTP) if given, else UTF-8 when the bytes are valid UTF-8, else what the
    document declares (lxml reads `<meta charset>`; without one it assumes Latin-1).

    Raises `IngestError` for binary data or markup lxml cannot parse at all.
    """
    if b"\x00" in data:
        raise IngestError(source, "not HTML text (binary data?)")
    encoding = charset or _utf8_or_none(data)
    try:
        parser = lxml.html.HTMLParser(encoding=encoding) if encoding else None
        root = lxml.html.document_fromstring(data, parser=parser)
    except (ParserError, XMLSyntaxError, LookupError) as exc:
        raise IngestError(source, "HTML could not be parsed") from exc
    title = _title(root)
    extracted = trafilatura.bare_extraction(
        root,
        include_tables=True,
        include_formatting=True,  # keeps the heading levels (`<head rend="h2">`)
        include_comments=False,
        include_images=False,
        include_links=False,
        deduplicate=False,
        with_metadata=False,
    )
    builder = SectionBuilder()
    if isinstance(extracted, Document) and extracted.body is not None:
        for element in extracted.body:
            _write(element, builder)
    return Content(blocks=builder.blocks(), title=title)


def _utf8_or_none(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "utf-8"


def _title(root: HtmlElement) -> str | None:
    candidates = (
        root.xpath("string(//meta[@property='og:title']/@content)"),
        root.xpath("string(//title)"),
        root.xpath("string(//h1)"),
    )
    return next((text for value in candidates if (text := " ".join(str(value).split()))), None)


def _write(element: _Element, builder: SectionBuilder) -> None:
    """One top-level element of trafilatura's output into the builder."""
    if element.tag == "head":
        rend = str(element.get("rend", "h2"))
        level = int(rend[1]) if len(rend) == 2 and rend[1].isdigit() else 2
        if title := _inline(element):
            builder.heading(level, title)
    elif element.tag == "list":
        for line in _items(element, depth=0):
            builder.add(line)
        builder.add("")
    elif element.tag == "table":
        for row in element.iter("row"):
            cells = [_inline(cell) for cell in row.iter("cell")]
            if any(cells):
                builder.add(" | ".join(cells))
        builder.add("")
    else:  # p, quote, code and anything newer trafilatura may add: its text, line by line
        for line in "".join(element.itertext()).split("\n"):
            builder.add(normalize_line(" ".join(line.split())))
        builder.add("")


def _items(element: _Element, depth: int) -> list[str]:
    lines = []
    for item in element.iterchildren("item"):
        text = normalize_line(" ".join(_own_text(item).split()))
        if text:
            lines.append(f"{'  ' * depth}- {text}")
        for sublist in item.iterchildren("list"):
            lines.extend(_items(sublist, depth + 1))
    return lines


def _own_text(item: _Element) -> str:
    """The text of a list item without that of the lists nested in it."""
    parts = [item.text or ""]
    for child in item:
        if child.tag != "list":
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return "".join(parts)


def _inline(element: _Element) -> str:
    return normalize_line(" ".join("".join(element.itertext()).split()))
