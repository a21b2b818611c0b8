"""Parse HTML: keep the main content, drop navigation, headers, footers, scripts and cookie banners.

A small readability pass with lxml: the content root is `<main>`, else a single `<article>`, else
`[role=main]`, else `<body>`. Boilerplate elements are removed, the rest is written as Markdown
(headings, list items, code, table rows as "a | b") and cut into blocks by the Markdown block parser,
so headings become section paths. The title is og:title, else `<title>`, else the first `<h1>`.
"""

from __future__ import annotations

import re

import lxml.html
from lxml.etree import ParserError, XMLSyntaxError
from lxml.html import HtmlElement

from bot.errors import IngestError
from ingest.formats.content import Content
from ingest.formats.markdown import markdown_blocks
from ingest.formats.normalize import normalize_line

__all__ = ["parse_html"]

_DROP_TAGS = frozenset(
    {
        *("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas"),
        *("nav", "aside", "footer", "form", "button", "select", "dialog"),
    }
)
_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog"})
# class/id tokens that mark boilerplate (matched per token, so "share" does not hit "shared-content").
_DROP_TOKENS = frozenset(
    {
        *("cookie", "cookies", "cookiebar", "consent", "gdpr"),
        *("breadcrumb", "breadcrumbs", "navbar", "menu", "sidebar", "skiplink"),
        *("share", "social", "newsletter"),
    }
)
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCK_TAGS = frozenset(
    {
        *("p", "div", "section", "article", "main", "header", "address", "hr"),
        *("ul", "ol", "dl", "dt", "dd", "blockquote", "figure", "figcaption", "details", "summary"),
    }
)


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
    content_root = _content_root(root)
    _drop_boilerplate(content_root)
    blocks, first_h1 = markdown_blocks(_MarkdownWriter().write(content_root))
    return Content(blocks=blocks, title=title or first_h1)


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


def _content_root(root: HtmlElement) -> HtmlElement:
    for query in ("//main", "//article", "//*[@role='main']"):
        found = root.xpath(query)
        if len(found) == 1:
            return found[0]
    body = root.find("body")
    return root if body is None else body


def _drop_boilerplate(root: HtmlElement) -> None:
    doomed = [
        element
        for element in root.iter()
        if isinstance(element.tag, str) and element is not root and _is_boilerplate(element)
    ]
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()


def _is_boilerplate(element: HtmlElement) -> bool:
    if element.tag in _DROP_TAGS or element.get("role") in _DROP_ROLES:
        return True
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    # A page header goes, a header inside the article (which often holds the h1) stays.
    if element.tag == "header" and not element.xpath("ancestor::article or ancestor::main"):
        return True
    tokens = _TOKEN_SPLIT.split(f"{element.get('class', '')} {element.get('id', '')}".lower())
    return not _DROP_TOKENS.isdisjoint(tokens)


class _MarkdownWriter:
    """Writes an element tree as Markdown lines; inline text is gathered until a block boundary."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._inline: list[str] = []
        self._prefixes: list[str] = []

    def write(self, root: HtmlElement) -> str:
        """The Markdown for everything inside `root` (its own tail excluded)."""
        self._children(root)
        self._flush()
        return "\n".join(self._lines)

    def walk(self, element: HtmlElement) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _HEADINGS:
            self._flush()
            self._lines.extend(("", f"{'#' * _HEADINGS[tag]} {_inline(element.text_content())}", ""))
        elif tag == "pre":
            self._flush()
            self._lines.extend(("```", element.text_content().strip("\n"), "```", ""))
        elif tag == "table":
            self._flush()
            self._lines.extend((*_table_rows(element), ""))
        elif tag == "br":
            self._flush()
        elif tag == "li":
            self._flush()
            self._prefixes.append("  " * len(self._prefixes) + "- ")
            self._children(element)
            self._flush()
            self._prefixes.pop()
        elif tag in _BLOCK_TAGS:
            self._flush()
            self._children(element)
            self._flush()
            if not self._prefixes:
                self._lines.append("")
        elif tag:
            self._children(element)
        self._inline.append(element.tail or "")

    def _children(self, element: HtmlElement) -> None:
        self._inline.append(element.text or "")
        for child in element:
            self.walk(child)

    def _flush(self) -> None:
        text = _inline("".join(self._inline))
        self._inline.clear()
        if text:
            self._lines.append((self._prefixes[-1] if self._prefixes else "") + text)


def _inline(text: str) -> str:
    return normalize_line(" ".join(text.split()))


def _table_rows(table: HtmlElement) -> list[str]:
    rows = []
    for row in table.iter("tr"):
        cells = [_inline(cell.text_content()) for cell in row if cell.tag in ("td", "th")]
        if any(cells):
            rows.append(" | ".join(cells))
    return rows
