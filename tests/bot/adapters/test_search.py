"""The lexical index: saved by the ingest side, memory-mapped by serving, swapped in the background, same scores."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import bm25s
import numpy as np
import pytest

from bot.adapters.chroma import ChromaStore
from bot.adapters.search import Bm25Index, _top, save_lexical_index
from bot.config import StoreSettings
from bot.core.models import Access, Chunk, DocId, DocumentInfo, chunk_id_for, embedding_text
from bot.core.text import terms
from tests.fakes import HashedWordEmbeddings

pytestmark = pytest.mark.integration

PUBLIC = frozenset({Access.OPENBAAR})

TEXTS = {
    "mia": (Access.OPENBAAR, "De MIA weegt de maatschappelijke impact van beleid af.", "Gemeenten gebruiken de MIA."),
    "demo": (Access.OPENBAAR, "De burgemeester geeft voorschriften voor een demonstratie.", "Route en tijdstip."),
    "draaiboek": (Access.OMO_INTERN, "Het interne draaiboek van het OMO: de MIA bij spoedverzoeken.", "Bel het OMO."),
}


def _write(store: ChromaStore, doc_id: str, access: Access, *texts: str) -> None:
    info = DocumentInfo(DocId(doc_id), doc_id.title(), access=access, content_hash=f"h-{doc_id}", source=doc_id)
    chunks = [Chunk(chunk_id_for(info.doc_id, t, i), info, t, i) for i, t in enumerate(texts)]
    store.replace_document(info.doc_id, chunks, HashedWordEmbeddings().embed_documents(list(texts)))


@pytest.fixture
def store(tmp_path: Path) -> ChromaStore:
    store = ChromaStore(StoreSettings(), tmp_path / "chroma", HashedWordEmbeddings())
    for doc_id, (access, *texts) in TEXTS.items():
        _write(store, doc_id, access, *texts)
    store.bump_generation()
    return store


def test_scores_are_those_of_a_bm25_index_built_in_memory(store: ChromaStore, tmp_path: Path) -> None:
    save_lexical_index(store, tmp_path / "lexical")
    index = Bm25Index(store, tmp_path / "lexical")
    index.warm_up()
    chunks = list(store.chunks())
    reference = bm25s.BM25()
    reference.index([terms(embedding_text(c)) for c in chunks], show_progress=False)
    expected = reference.get_scores(terms("de MIA bij spoedverzoeken"))
    want = sorted(((-s, i) for i, s in enumerate(expected) if s > 0))
    got = index.search("de MIA bij spoedverzoeken", 10, frozenset(Access))
    assert [(c.chunk_id, pytest.approx(s)) for c, s in got] == [(chunks[i].chunk_id, -s) for s, i in want]
    assert got[0][0].doc.doc_id == "draaiboek"


def test_a_public_search_never_returns_an_internal_chunk(store: ChromaStore, tmp_path: Path) -> None:
    index = Bm25Index(store, tmp_path / "lexical")
    index.warm_up()
    hits = index.search("interne draaiboek OMO MIA spoedverzoeken", 10, PUBLIC)
    assert hits and {c.doc.doc_id for c, _ in hits} == {"mia"}


def test_a_new_generation_is_swapped_in_by_the_background_never_in_the_request(
    store: ChromaStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "lexical"
    index = Bm25Index(store, directory, refresh_s=0.0)
    index.warm_up()
    _write(store, "opvang", Access.OPENBAAR, "Een azc opent in de wijk; bewoners maken zich zorgen.")
    store.bump_generation()

    requests = threading.current_thread()
    builders: list[threading.Thread] = []
    original = bm25s.BM25.index

    def recording(self: bm25s.BM25, *args: object, **kwargs: object) -> object:
        builders.append(threading.current_thread())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(bm25s.BM25, "index", recording)
    assert index.search("azc bewoners", 5, PUBLIC) == []  # the old index answers this request
    deadline = time.monotonic() + 20
    while not (hits := index.search("azc bewoners", 5, PUBLIC)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hits[0][0].doc.doc_id == "opvang"
    assert builders and requests not in builders
    assert len(list(directory.glob("g-*"))) == 2  # the new one and the previous one, for processes still on it


def test_a_saved_index_is_loaded_not_rebuilt(store: ChromaStore, tmp_path: Path) -> None:
    directory = tmp_path / "lexical"
    folder = save_lexical_index(store, directory)
    saved_at = (folder / "meta.json").stat().st_mtime_ns
    assert save_lexical_index(store, directory) == folder
    index = Bm25Index(store, directory)
    index.warm_up()
    assert (folder / "meta.json").stat().st_mtime_ns == saved_at
    assert index.search("burgemeester demonstratie", 1, PUBLIC)[0][0].doc.doc_id == "demo"


@pytest.mark.unit
def test_top_rows_match_a_stable_full_sort_with_ties() -> None:
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 4, size=500).astype(np.float32)  # many ties, many zeros
    stable = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
    for k in (1, 5, 50, 400, 1000):
        assert _top(scores, k) == stable[:k]
