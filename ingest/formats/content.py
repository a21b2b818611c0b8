"""What a format parser hands back (`Content`, `Metadata`) and the shared helpers that build it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TypeVar

from bot.core.models import Access, Kind
from bot.errors import IngestError
from ingest.document import Block
from ingest.formats.normalize import collapse_blank_lines

__all__ = ["Content", "Metadata", "SectionBuilder", "metadata_from_fields"]

# `reviewed` (the date a curated document's facts were checked) comes first: it is what an official should see.
_VERSION_KEYS = ("reviewed", "version", "lastmodified", "date")
_KNOWN_KEYS = frozenset({"title", "kind", "url", "access", "sources", *_VERSION_KEYS})

_E = TypeVar("_E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Metadata:
    """Metadata declared by the author (Markdown front matter, JSONL fields); None means not declared."""

    title: str | None = None
    kind: Kind | None = None
    access: Access | None = None
    url: str | None = None
    version: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Content:
    """A parsed document before it gets its id: blocks, the title found in the text itself, declared metadata."""

    blocks: tuple[Block, ...]
    title: str | None = None
    meta: Metadata = field(default_factory=Metadata)


class SectionBuilder:
    """Collects lines under the current heading path and cuts a block at every heading.

    A heading of level n replaces every open heading of level >= n, so the section path is the full
    heading stack. Lines must already be normalised; runs of blank lines collapse to one.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []
        self._lines: list[str] = []
        self._blocks: list[Block] = []

    def heading(self, level: int, title: str) -> None:
        self._cut()
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, title))

    def add(self, line: str) -> None:
        self._lines.append(line)

    def paragraph(self, text: str) -> None:
        """Add `text` followed by a blank line."""
        self._lines.extend((text, ""))

    def blocks(self) -> tuple[Block, ...]:
        self._cut()
        return tuple(self._blocks)

    def _cut(self) -> None:
        text = collapse_blank_lines("\n".join(self._lines))
        self._lines.clear()
        if text.strip():
            self._blocks.append(Block(text=text, section=tuple(title for _, title in self._stack)))


def metadata_from_fields(fields: Mapping[str, object], source: str) -> Metadata:
    """Read `title`, `kind`, `access`, `url`, `version` (or `reviewed`, `lastmodified`, `date`) from declared fields.

    `sources` is a list of `{url, title, publisher}` mappings (the curated corpus declares them): the first
    one's `url` stands in for a missing `url`. Every other field with a scalar value (or a list of scalars,
    joined with ", ") goes to `extra` as a string; nested mappings and nulls are dropped. Raises
    `IngestError(source, ...)` for a `kind` or `access` value outside the allowed set, or malformed `sources`.
    """
    version = next((v for key in _VERSION_KEYS if (v := _as_text(fields.get(key))) is not None), None)
    extra = {key: text for key, value in fields.items() if key not in _KNOWN_KEYS and (text := _as_text(value))}
    sources = _sources(fields.get("sources"), source)
    return Metadata(
        title=_as_text(fields.get("title")),
        kind=_as_enum(Kind, fields.get("kind"), "kind", source),
        access=_as_enum(Access, fields.get("access"), "access", source),
        url=_as_text(fields.get("url")) or (sources[0]["url"] if sources else None),
        version=version,
        extra=extra,
    )


def _sources(value: object, source: str) -> list[dict[str, str]]:
    """The declared `sources` list; `IngestError` when it is not a list of mappings that each have a `url`."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise IngestError(source, "sources must be a list of {url, title, publisher} mappings")
    out: list[dict[str, str]] = []
    for item in value:
        entry = {str(k): text for k, v in item.items() if (text := _as_text(v)) is not None}
        if "url" not in entry:
            raise IngestError(source, "every entry of sources needs a url")
        out.append(entry)
    return out


def _as_enum(enum: type[_E], value: object, name: str, source: str) -> _E | None:
    text = _as_text(value)
    if text is None:
        return None
    try:
        return enum(text.lower())
    except ValueError as exc:
        allowed = ", ".join(member.value for member in enum)
        raise IngestError(source, f"invalid {name} {text!r} (expected one of: {allowed})") from exc


def _as_text(value: object) -> str | None:
    """A declared value as a non-empty string, or None (null, empty, or nested)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | int | float):
        return str(value).strip() or None
    if isinstance(value, list | tuple):
        items = [text for item in value if not isinstance(item, list | tuple | dict) and (text := _as_text(item))]
        return ", ".join(items) or None
    return None
