"""The shipped corpus: every document names its public sources and review date, and no paragraph is shared."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.core.models import Kind
from ingest.formats.markdown import parse_markdown

pytestmark = pytest.mark.unit

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
DOCUMENTS = sorted(p for p in KNOWLEDGE.glob("*.md") if p.name != "README.md")
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


def _front_matter(path: Path) -> dict[str, object]:
    match = _FRONT.match(path.read_text(encoding="utf-8"))
    assert match, f"{path.name} has no front matter"
    fields = yaml.safe_load(match.group(1))
    assert isinstance(fields, dict)
    return fields


def test_the_corpus_is_large_enough_to_be_useful() -> None:
    assert 40 <= len(DOCUMENTS) <= 80


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_document_names_its_sources_and_review_date(path: Path) -> None:
    fields = _front_matter(path)
    assert fields.get("title") and Kind(str(fields["kind"]))
    assert fields.get("access") == "openbaar"
    assert isinstance(fields.get("reviewed"), date), "reviewed must be a date (YYYY-MM-DD)"
    sources = fields.get("sources")
    assert isinstance(sources, list) and sources, "at least one source"
    for source in sources:
        assert isinstance(source, dict)
        assert str(source.get("url", "")).startswith(("http://", "https://"))
        assert source.get("title") and source.get("publisher")
    content = parse_markdown(path.read_text(encoding="utf-8"), path.name)
    assert content.meta.url == sources[0]["url"]  # the answer's source list shows the main public source


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_one_voice_the_corpus_says_je_never_u(path: Path) -> None:
    body = _FRONT.sub("", path.read_text(encoding="utf-8"))
    assert not re.search(r"\b(u|uw)\b", body), "the corpus addresses the reader as 'je' (see prompts/README.md)"


def test_no_paragraph_is_shared_by_two_documents() -> None:
    seen: dict[str, list[str]] = defaultdict(list)
    for path in DOCUMENTS:
        body = _FRONT.sub("", path.read_text(encoding="utf-8"))
        for paragraph in re.split(r"\n\s*\n", body):
            text = " ".join(paragraph.split())
            if len(text) >= 80 and not text.startswith("#"):
                seen[text].append(path.name)
    shared = {text[:60]: names for text, names in seen.items() if len(set(names)) > 1}
    assert not shared
