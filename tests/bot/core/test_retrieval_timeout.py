"""A store that does not answer in time: the user gets the apology, the log says the search timed out.

The store is a real Chroma store; only its vector query is made slow, as a stuck server would be.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import prompts
from bot.adapters.chroma import ChromaStore
from bot.adapters.search import Bm25Index, DenseSearch
from bot.config import StoreSettings
from bot.core.conversation import Conversation
from bot.core.messages import AnswerReply, ConversationRef, IncomingMessage, TextReply, UserId
from bot.core.models import Access, Chunk, DocId, DocumentInfo, chunk_id_for
from bot.core.pipeline import AnswerPipeline
from bot.core.retrieval import HybridRetriever
from tests.fakes import FakeChannel, HashedWordEmbeddings, MemoryAnswerLog, MemoryConversationLog, StaticSources

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROOM = ConversationRef(channel="fake", conversation_id="!dm")
TEXT = "De Maatschappelijke Impact Afweging (MIA) brengt de impact van beleid op maatschappelijke onrust in beeld."


class SlowChroma(ChromaStore):
    """The real store, whose vector query first waits `delay_s` (a store under load or a hung server)."""

    delay_s = 0.0
    only_first = False  # as a large store's cold first query, which loads its vector index

    def query(self, vector: Sequence[float], k: int, access: Iterable[Access]) -> list[tuple[Chunk, float]]:
        time.sleep(self.delay_s)
        if self.only_first:
            self.delay_s = 0.0
        return super().query(vector, k, access)


def conversation(tmp_path: Path) -> tuple[Conversation, FakeChannel, SlowChroma]:
    embeddings = HashedWordEmbeddings()
    store = SlowChroma(StoreSettings(), tmp_path / "chroma", embeddings)
    info = DocumentInfo(DocId("mia.md"), "MIA", access=Access.OPENBAAR, content_hash="h", source="mia.md")
    store.replace_document(info.doc_id, [Chunk(chunk_id_for(info.doc_id, TEXT, 0), info, TEXT, 0)],
                           embeddings.embed_documents([TEXT]))  # fmt: skip
    store.bump_generation()
    lexical = Bm25Index(store, tmp_path / "lexical")
    lexical.warm_up()
    retriever = HybridRetriever(DenseSearch(store, embeddings), lexical, timeout_s=0.5)
    channel = FakeChannel()
    pipeline = AnswerPipeline(retriever, min_similarity=-1.0, min_lead_similarity=-1.0)
    conv = Conversation(
        pipeline, MemoryAnswerLog(), MemoryConversationLog(), StaticSources([]), {"fake": channel}, clock=lambda: NOW
    )
    return conv, channel, store


def question(message_id: str) -> IncomingMessage:
    return IncomingMessage(ROOM, message_id, UserId("@ambtenaar:x"), "Wat is de MIA?", is_private=True, sent_at=NOW)


async def test_a_search_beyond_the_timeout_gets_the_apology_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conv, channel, store = conversation(tmp_path)
    await conv.handle(question("$1"))  # in time: answered from the store
    assert isinstance(channel.sent[-1][1], AnswerReply)
    store.delay_s = 3.0
    with caplog.at_level(logging.ERROR):
        await conv.handle(question("$2"))
    reply = channel.sent[-1][1]
    assert isinstance(reply, TextReply) and reply.text == prompts.render("apology.nl.j2")
    assert "search did not answer within retrieval.timeout_s (0.5 s)" in caplog.text
    assert "Wat is de MIA" not in caplog.text  # the question itself stays out of the log


async def test_a_store_warmed_up_at_start_answers_its_first_question_in_time(tmp_path: Path) -> None:
    cold, cold_channel, cold_store = conversation(tmp_path / "cold")
    cold_store.delay_s, cold_store.only_first = 3.0, True
    await cold.handle(question("$1"))  # not warmed up: the index loads inside the question and the search times out
    assert isinstance(cold_channel.sent[-1][1], TextReply)

    conv, channel, store = conversation(tmp_path / "warm")
    store.delay_s, store.only_first = 3.0, True
    DenseSearch(store, HashedWordEmbeddings()).warm_up()  # what `build_answerer` does before the first question
    await conv.handle(question("$1"))
    assert isinstance(channel.sent[-1][1], AnswerReply)
