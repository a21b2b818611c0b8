"""Composition root: the only place that picks concrete classes and wires them together.

`open_store` gives the vector store, `open_services` everything a command or the server needs, and
`build_app` the aiohttp application that `onrust serve` runs (Teams endpoint, Matrix sync and the
scheduler start and stop with it through `cleanup_ctx`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.chroma import ChromaStore
from bot.adapters.db import create_engine, migrate
from bot.adapters.embeddings import NamedEmbeddings, build_embeddings
from bot.adapters.state import AnswerStore, ConversationStore, IngestLog, KeyValueStore
from bot.config import Settings

__all__ = ["Services", "open_services", "open_store"]


def open_store(settings: Settings) -> tuple[ChromaStore, NamedEmbeddings]:
    """The configured embedder and the vector store, opened (raises `ConfigError` on an embedder mismatch)."""
    embeddings = build_embeddings(settings.embedding)
    store = ChromaStore(settings.store, settings.chroma_path, embeddings)
    store.open()
    return store, embeddings


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
    engine = create_engine(settings.database_url)
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
