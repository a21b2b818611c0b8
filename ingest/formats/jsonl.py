"""Parse JSON Lines: one document per line, with bad lines reported instead of failing the whole file.

Each line is an object `{"id", "text", "title"?, "url"?, "kind"?, "access"?, "version"?/"lastmodified"?/"date"?,
...}`. `url` is metadata only and never part of the text; other scalar fields go to `extra`. Blank lines
are skipped. When an id repeats, the later line wins and the earlier one is reported as "duplicate id".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.errors import IngestError
from ingest.document import Block
from ingest.formats.content import Content, metadata_from_fields
from ingest.formats.normalize import first_line_title, normalize_text

__all__ = ["JsonlContent", "Record", "parse_jsonl"]

_RESERVED = frozenset({"id", "text"})


@dataclass(frozen=True, slots=True)
class Record:
    """One good line: its `id`, its content and its 1-based line number."""

    doc_id: str
    content: Content
    line: int


@dataclass(frozen=True, slots=True)
class JsonlContent:
    """The good lines in file order and one `IngestError(source, "line N: ...")` per bad line."""

    records: tuple[Record, ...]
    errors: tuple[IngestError, ...]


def parse_jsonl(text: str, source: str) -> JsonlContent:
    """Parse every line; problems with one line become an error for that line (1-based numbers)."""
    records: dict[str, Record] = {}
    errors: list[IngestError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = _record(line, number, source)
        except IngestError as exc:
            errors.append(IngestError(source, f"line {number}: {exc.reason}"))
            continue
        earlier = records.pop(record.doc_id, None)
        if earlier is not None:
            errors.append(
                IngestError(source, f"line {earlier.line}: duplicate id {record.doc_id!r}, replaced by line {number}")
            )
        records[record.doc_id] = record
    return JsonlContent(records=tuple(records.values()), errors=tuple(errors))


def _record(line: str, number: int, source: str) -> Record:
    try:
        fields = json.loads(line)
    except json.JSONDecodeError as exc:
        raise IngestError(source, f"invalid JSON ({exc.msg})") from exc
    if not isinstance(fields, dict):
        raise IngestError(source, "not a JSON object")
    doc_id = fields.get("id")
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int) or not str(doc_id).strip():
        raise IngestError(source, "missing id")
    raw_text = fields.get("text")
    if not isinstance(raw_text, str):
        raise IngestError(source, "missing text")
    body = normalize_text(raw_text)
    if not body:
        raise IngestError(source, "empty text")
    meta = metadata_from_fields({key: value for key, value in fields.items() if key not in _RESERVED}, source)
    content = Content(blocks=(Block(text=body),), title=first_line_title(body), meta=meta)
    return Record(doc_id=str(doc_id).strip(), content=content, line=number)
