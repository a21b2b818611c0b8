"""The incremental ingest run end to end: real files, real embedder, real Chroma store, real SQLite ingest log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.core.models import Access, IngestAction
from bot.services import Services, open_services
from ingest.loaders import LoadOptions
from ingest.pipeline import Ingestor

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MIA = """---
title: De MIA
kind: mia
version: "2025-03"
---
# De MIA

## Wat is het?

De Maatschappelijke Impact Afweging brengt in beeld wat beleid betekent voor onrust in de samenleving.

## Gebruik

Gemeenten gebruiken de MIA voordat zij een gevoelig besluit nemen over bijvoorbeeld opvang.
"""

OMO = """# Het OMO

Het Ondersteuningsteam Maatschappelijke Onrust geeft advies van experts en organiseert leerkringen.
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "kennis"
    folder.mkdir()
    (folder / "mia.md").write_text(MIA, encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "omo.md").write_text(OMO, encoding="utf-8")
    return folder


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = load_settings(environ={}, data_dir=tmp_path / "data")
    async with open_services(settings) as opened:
        yield opened


def ingestor(services: Services) -> Ingestor:
    return Ingestor(services.store, services.embeddings, services.ingest_log, services.settings.ingest)


async def run(services: Services, *targets: Path | str, prune: bool = True) -> dict[str, object]:
    report = await ingestor(services).run([str(t) for t in targets], options=LoadOptions(), prune=prune)
    return report.as_json()


async def test_second_run_skips_everything(services: Services, corpus: Path) -> None:
    first = await run(services, corpus)
    assert (first["added"], first["unchanged"], first["failed"]) == (2, 0, [])
    assert first["chunks"] == services.store.count() >= 2
    second = await run(services, corpus)
    assert (second["added"], second["updated"], second["unchanged"], second["chunks"]) == (0, 0, 2, 0)


async def test_provenance_is_kept_on_every_chunk(services: Services, corpus: Path) -> None:
    await run(services, corpus)
    chunks = list(services.store.chunks())
    mia = [c for c in chunks if c.doc.doc_id == "kennis/mia.md"]
    doc = mia[0].doc
    assert doc.title == "De MIA" and doc.kind.value == "mia" and doc.version == "2025-03"
    assert doc.access is Access.OPENBAAR and doc.source == "kennis/mia.md"
    assert {c.section for c in mia} == {"Wat is het?", "Gebruik"}
    assert "kennis/sub/omo.md" in {c.doc.doc_id for c in chunks}


async def test_edit_reindexes_only_that_document_and_delete_removes_it(services: Services, corpus: Path) -> None:
    await run(services, corpus)
    (corpus / "mia.md").write_text(MIA.replace("opvang", "huisvesting van statushouders"), encoding="utf-8")
    edited = await run(services, corpus)
    assert (edited["updated"], edited["unchanged"], edited["added"]) == (1, 1, 0)
    texts = " ".join(c.text for c in services.store.chunks())
    assert "statushouders" in texts and "opvang" not in texts

    (corpus / "mia.md").unlink()
    removed = await run(services, corpus)
    assert removed["removed"] == 1
    assert {c.doc.doc_id for c in services.store.chunks()} == {"kennis/sub/omo.md"}
    vector = services.embeddings.embed_query("Maatschappelijke Impact Afweging")
    assert all(c.doc.doc_id != "kennis/mia.md" for c, _ in services.store.query(vector, 5, frozenset(Access)))

    kept = await run(services, corpus, prune=False)
    assert kept["removed"] == 0


async def test_broken_file_is_reported_and_the_rest_indexed(services: Services, corpus: Path) -> None:
    (corpus / "kapot.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n garbage without xref")
    report = await run(services, corpus)
    assert report["added"] == 2
    assert [f["source"] for f in report["failed"]] == ["kennis/kapot.pdf"]  # type: ignore[index]


async def test_failed_source_keeps_its_previous_version(services: Services, corpus: Path) -> None:
    await run(services, corpus)
    (corpus / "mia.md").write_bytes(b"\x00\x01\x02 binary \xff\xfe")
    report = await run(services, corpus)
    assert report["removed"] == 0 and len(report["failed"]) == 1  # type: ignore[arg-type]
    assert "kennis/mia.md" in {c.doc.doc_id for c in services.store.chunks()}


async def test_jsonl_lines_are_documents_and_vanished_lines_are_pruned(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "faq.jsonl"
    lines = [
        {
            "id": "faq-1",
            "text": "Leerkringen zijn bijeenkomsten om kennis te delen.",
            "url": "https://x.nl/geheim-slug",
        },
        {"id": "faq-2", "text": "Het forum is besloten.", "title": "Forum"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    assert (await run(services, path))["added"] == 2
    chunks = {c.doc.doc_id: c for c in services.store.chunks()}
    assert chunks["faq-1"].doc.url == "https://x.nl/geheim-slug" and "geheim" not in chunks["faq-1"].text
    path.write_text(json.dumps(lines[1]), encoding="utf-8")
    report = await run(services, path)
    assert (report["removed"], report["unchanged"]) == (1, 1)


async def test_ingest_log_records_what_changed(services: Services, corpus: Path) -> None:
    before = datetime.now(UTC)
    await run(services, corpus)
    (corpus / "sub" / "omo.md").unlink()
    await run(services, corpus)
    actions = [(e.action, e.doc_id) for e in await services.ingest_log.since(before)]
    assert (IngestAction.ADDED, "kennis/mia.md") in actions
    assert actions[-1] == (IngestAction.REMOVED, "kennis/sub/omo.md")


async def test_missing_path_is_a_failure(services: Services) -> None:
    report = await run(services, "/nonexistent/folder")
    assert report["failed"] == [{"source": "/nonexistent/folder", "error": "no such file, folder or URL"}]
