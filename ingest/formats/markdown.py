"""Parse Markdown: optional YAML front matter, then one block per heading section (code fences kept intact)."""

from __future__ import annotations

import re

import yaml

from bot.errors import IngestError
from ingest.document import Block
from ingest.formats.content import Content, Metadata, SectionBuilder, metadata_from_fields
from ingest.formats.normalize import normalize_line

__all__ = ["markdown_blocks", "parse_markdown"]

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.DOTALL | re.MULTILINE)
# ATX headings only ("## Title ##"); setext underlines are not recognised.
_HEADING = re.compile(r"^ {0,3}(?P<marks>#{1,6})[ \t]+(?P<title>.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")


def parse_markdown(text: str, source: str) -> Content:
    """Markdown with optional front matter (see `metadata_from_fields`); the title found is the first `# ` heading.

    Raises `IngestError` for invalid YAML, front matter that is not a mapping, or a bad `kind`/`access`.
    """
    meta, body = _split_front_matter(text, source)
    blocks, first_h1 = markdown_blocks(body)
    return Content(blocks=blocks, title=first_h1, meta=meta)


def markdown_blocks(text: str) -> tuple[tuple[Block, ...], str | None]:
    """Blocks per heading section with the full heading stack as section path, and the first level-1 heading.

    Text before the first heading is a block with an empty section path. Lines inside fenced code are kept
    verbatim (a `#` there is no heading); other lines are normalised.
    """
    builder = SectionBuilder()
    first_h1: str | None = None
    fence: str | None = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if fence is not None:
            builder.add(line.rstrip())
            if _closes(line, fence):
                fence = None
        elif match := _FENCE_OPEN.match(line):
            fence = match["fence"]
            builder.add(line.rstrip())
        elif (match := _HEADING.match(line)) and (title := normalize_line(match["title"]).strip()):
            level = len(match["marks"])
            if level == 1 and first_h1 is None:
                first_h1 = title
            builder.heading(level, title)
        else:
            builder.add(normalize_line(line))
    return builder.blocks(), first_h1


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and stripped == fence[0] * len(stripped)


def _split_front_matter(text: str, source: str) -> tuple[Metadata, str]:
    text = text.removeprefix("\ufeff")
    match = _FRONT_MATTER.match(text)
    if match is None:
        return Metadata(), text
    try:
        fields = yaml.safe_load(match["yaml"])
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise IngestError(source, f"invalid YAML front matter: {problem}") from exc
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise IngestError(source, "front matter is not a YAML mapping")
    return metadata_from_fields({str(key): value for key, value in fields.items()}, source), text[match.end() :]
