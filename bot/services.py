"""The shared services of one process, without any channel: the state database (migrated), the vector store
and its embedder, and the answer pipeline built on them.

Every command opens these with `open_services`; `bot.app` adds the channels for `onrust serve`. Nothing
here imports a chat SDK, so `onrust ingest` and `onrust ask` start without loading one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.chroma import ChromaStore
from bot.adapters.db import create_engine, migrate
from bot.adapters.embeddings import NamedEmbeddings, build_embeddings
from bot.adapters.search import Bm25Index, DenseSearch, save_lexical_index
from bot.adapters.state import AnswerStore, ConversationStore, IngestLog, KeyValueStore
from bot.config import Settings
from bot.core.pipeline import AnswerPipeline, LLMAnswerer
from bot.core.retrieval import HybridRetriever

__all__ = ["Services", "build_answerer", "lexical_dir", "open_services", "open_store", "save_lexical"]


def open_store(settings: Settings) -> tuple[ChromaStore, NamedEmbeddings]:
    """The configured embedder and the vector store, opened (raises `ConfigError` on an embedder mismatch)."""
    embeddings = build_embeddings(settings.embedding)
    store = ChromaStore(settings.store, settings.chroma_path, embeddings)
    store.open()
    return store, embeddings


def lexical_dir(settings: Settings) -> Path:
    """Where the saved lexical index of the configured collection lives (under this host's data dir)."""
    return settings.data_dir / "lexical" / settings.store.collection


def save_lexical(services: Services) -> None:
    """Build and save the lexical index of the store's current generation, unless saved already or unused."""
    if services.settings.retrieval.mode != "dense":
        save_lexical_index(services.store, lexical_dir(services.settings))


@dataclass(frozen=True, slots=True)
class Services:
    """Shared objects of one running process; nothing here holds state another instance would need."""

    settings: Settings
    engine: AsyncEngine
    store: ChromaStore
    embeddings: NamedEmbeddings
    ingest_log: IngestLog
    answers: AnswerStore
    conversations: ConversationStore
    kv: KeyValueStore


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open the state database (migrated) and the vector store; dispose of them on exit."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url, statement_timeout_s=settings.state.statement_timeout_s)
    try:
        await migrate(engine)
        store, embeddings = open_store(settings)
        yield Services(
            settings=settings,
            engine=engine,
            store=store,
            embeddings=embeddings,
            ingest_log=IngestLog(engine),
            answers=AnswerStore(engine),
            conversations=ConversationStore(engine),
            kv=KeyValueStore(engine),
        )
    finally:
        await engine.dispose()


def build_answerer(services: Services, *, warm: bool = True) -> AnswerPipeline:
    """The configured answer pipeline: hybrid (or dense/BM25) retrieval, the LLM if configured, else extractive.

    With `warm`, the embedder, the vector index and the lexical index load now, so the first question is as fast
    as the rest.
    """
    settings = services.settings
    cfg = settings.retrieval
    dense = DenseSearch(services.store, services.embeddings) if cfg.mode != "bm25" else None
    lexical = Bm25Index(services.store, lexical_dir(settings), refresh_s=cfg.refresh_s) if cfg.mode != "dense" else None
    if warm:
        if dense is not None:
            dense.warm_up()
        if lexical is not None:
            lexical.warm_up()
    retriever = HybridRetriever(
        dense,
        lexical,
        mode=cfg.mode,
        top_k=cfg.top_k,
        candidates=cfg.candidates,
        bm25_weight=cfg.bm25_weight,
        timeout_s=cfg.timeout_s,
    )
    llm = None
    if settings.llm.base_url:
        # Imported here: langchain-openai takes ~0.7 s to import and most runs have no LLM.
        from bot.adapters.llm import OpenAIChatModel

        llm = LLMAnswerer(OpenAIChatModel(settings.llm), timeout_s=settings.llm.timeout_s)
    return AnswerPipeline(
        retriever,
        min_similarity=cfg.min_similarity,
        min_lead_similarity=cfg.min_lead_similarity,
        strong_similarity=cfg.strong_similarity,
        no_overlap_margin=cfg.no_overlap_margin,
        max_passages=settings.answer.max_passages,
        max_sentences=settings.answer.max_sentences,
        llm=llm,
    )
