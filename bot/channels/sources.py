"""The sources under an answer, as the values every channel's template shows (Matrix HTML, a Teams card).

One entry per citation in marker order (`[n]`); a channel passes how it escapes text and links.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from bot.core.models import Answer

__all__ = ["SourceValues", "http_url", "source_values"]


class SourceValues(TypedDict):
    """One source line as the templates read it; `title` and `section` escaped by the channel."""

    ref: int
    title: str
    url: str | None
    section: str | None
    page: int | None
    version: str | None


def http_url(url: str | None) -> str | None:
    """`url` if it is an http(s) link, else None: no `javascript:` or `file:` link reaches a user."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _same(text: str) -> str:
    return text


def source_values(
    answer: Answer,
    *,
    escape: Callable[[str], str] = _same,
    link: Callable[[str | None], str | None] = http_url,
) -> list[SourceValues]:
    """Ref, title, url, section, page and version per citation; `escape` applies to title and section."""
    return [
        {
            "ref": c.ref,
            "title": escape(c.passage.doc.title),
            "url": link(c.passage.doc.url),
            "section": escape(c.passage.chunk.section) if c.passage.chunk.section else None,
            "page": c.passage.chunk.page,
            "version": c.passage.doc.version,
        }
        for c in sorted(answer.citations, key=lambda c: c.ref)
    ]
