"""A store past SQLite's 32,766-variable limit: ingest, list, prune, index and answer all still work."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.chroma import ChromaStore
from bot.config import load_settings
from bot.core.answering import EVERYONE, PUBLIC
from bot.core.models import Access, Chunk, DocId, DocumentInfo, chunk_id_for
from bot.services import Services, build_answerer, open_services, save_lexical
from ingest.loaders import LoadOptions
from ingest.pipeline import Ingestor
from tests.fakes import HashedWordEmbeddings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOCS, PER_DOC = 41, 1000  # 41,000 bulk chunks, plus what the ingest run adds
INTERNAL = {3, 17, 29}  # bulk documents only the OMO may see

MIA = """# De MIA

De Maatschappelijke Impact Afweging brengt in beeld wat een besluit betekent voor onrust in de wijk.
"""


def _bulk(store: ChromaStore, embeddings: HashedWordEmbeddings) -> None:
    for d in range(DOCS):
        access = Access.OMO_INTERN if d in INTERNAL else Access.OPENBAAR
        info = DocumentInfo(DocId(f"bulk/{d}.md"), f"Melding {d}", access=access, content_hash=f"h{d}", source="bulk")
        texts = [
            f"Melding {d}-{i} over parkeeroverlast in straat {i % 97} van wijk {d}."
            if d not in INTERNAL
            else f"Vertrouwelijk dossier {d}-{i} over de spoedaanpak van onrust in wijk {d}."
            for i in range(PER_DOC)
        ]
        chunks = [Chunk(chunk_id_for(info.doc_id, t, i), info, t, i) for i, t in enumerate(texts)]
        store.replace_document(info.doc_id, chunks, embeddings.embed_documents(texts))


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = load_settings(environ={}, data_dir=tmp_path / "data")
    embeddings = HashedWordEmbeddings()
    async with open_services(settings) as opened:
        # its own collection: open_services opened the default one with the configured embedder
        store = ChromaStore(settings.store.model_copy(update={"collection": "large"}), settings.chroma_path, embeddings)
        store.open()
        yield dataclasses.replace(opened, store=store, embeddings=embeddings)


async def test_more_than_40000_chunks_ingest_and_answer(services: Services, tmp_path: Path) -> None:
    _bulk(services.store, HashedWordEmbeddings())
    kennis = tmp_path / "kennis"
    kennis.mkdir()
    (kennis / "mia.md").write_text(MIA, encoding="utf-8")
    (kennis / "weg.md").write_text("# Weg\n\nDit document verdwijnt weer uit de map.\n", encoding="utf-8")
    parts = (services.store, services.embeddings, services.ingest_log, services.settings.ingest)

    first = await Ingestor(*parts).run([str(kennis)], options=LoadOptions())
    (kennis / "weg.md").unlink()
    second = await Ingestor(*parts, index_lexical=lambda: save_lexical(services)).run(
        [str(kennis)], options=LoadOptions()
    )

    assert (first.added, first.failed, second.unchanged, second.removed) == (2, [], 1, 1)
    assert services.store.count() > 40_000
    documents = services.store.documents()
    assert len(documents) == DOCS + 1 and documents[DocId("bulk/5.md")].chunks == PER_DOC

    answerer = build_answerer(services)
    answer = await answerer.answer(
        "Wat brengt de Maatschappelijke Impact Afweging in beeld over een besluit en onrust in de wijk?", access=PUBLIC
    )
    assert answer.confident and answer.retrieved[0] == "kennis/mia.md"
    internal = await answerer.answer("Wat staat er in het vertrouwelijk dossier over de spoedaanpak?", access=EVERYONE)
    assert internal.retrieved and {int(d.split("/")[1][:-3]) for d in internal.retrieved} <= INTERNAL
    public = await answerer.answer("Wat staat er in het vertrouwelijk dossier over de spoedaanpak?", access=PUBLIC)
    assert not {d for d in public.retrieved if d.startswith("bulk/") and int(d.split("/")[1][:-3]) in INTERNAL}
