"""Test doubles that behave like the real thing: record what they are asked, answer from given data."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from bot.adapters.embeddings import NamedEmbeddings
from bot.channels.lifecycle import ChannelBase
from bot.channels.registry import ChannelDeps, ChannelPlugin
from bot.core.answering import PUBLIC
from bot.core.messages import Capability, Channel, ConversationRef, MessageHandler, Reply
from bot.core.models import (
    Access,
    Answer,
    Chunk,
    ChunkId,
    Citation,
    DocId,
    DocumentInfo,
    Kind,
    Passage,
    Retrieval,
    chunk_id_for,
)
from bot.core.ports import THREAD_QUESTIONS, AnswerEntry, AnswerId, SourceInfo
from bot.core.text import terms
from bot.errors import ChannelError


def make_passage(
    doc_id: str,
    text: str,
    *,
    title: str = "Titel",
    similarity: float = 0.9,
    section: str | None = None,
    page: int | None = None,
    url: str | None = None,
    access: Access = Access.OPENBAAR,
    kind: Kind = Kind.OVERIG,
) -> Passage:
    """A retrieved passage with full provenance."""
    info = DocumentInfo(DocId(doc_id), title, kind=kind, url=url, version="2026-01-01", access=access)
    chunk = Chunk(chunk_id_for(info.doc_id, text, 0), info, text, 0, section=section, page=page)
    return Passage(chunk, similarity, similarity)


class FakeRetriever:
    """Returns the given passages (filtered by access) and records the questions it was asked.

    `similarity_of(search_text)`, when given, is the top similarity for that text, so a test can make
    one question retrieve strongly and another weakly from the same passages.
    """

    def __init__(
        self,
        passages: Sequence[Passage],
        *,
        similarity_of: Callable[[str], float] | None = None,
        sentence_similarity: Mapping[ChunkId, Mapping[int, float]] | None = None,
        part_similarity: Sequence[Mapping[ChunkId, Mapping[int, float]]] = (),
    ) -> None:
        self.passages = list(passages)
        self.questions: list[str] = []
        self.parts: list[tuple[str, ...]] = []
        self._similarity_of = similarity_of
        self._sentence_similarity = dict(sentence_similarity or {})
        self._part_similarity = tuple(part_similarity)

    async def retrieve(self, question: str, access: frozenset[Access], parts: Sequence[str] = ()) -> Retrieval:
        self.questions.append(question)
        self.parts.append(tuple(parts))
        visible = tuple(p for p in self.passages if p.doc.access in access)
        top = max((p.similarity or 0.0 for p in visible), default=None)
        if self._similarity_of is not None:
            top = self._similarity_of(question)
        return Retrieval(question, visible, top, self._sentence_similarity, self._part_similarity)


class FakeChatModel:
    """A chat model that replies with a fixed text (or raises), recording the prompts it got."""

    name = "llm:fake"

    def __init__(self, reply: str = "", error: Exception | None = None) -> None:
        self.reply = reply
        self.error = error
        self.prompts: list[tuple[str, str]] = []

    async def generate(self, system: str, user: str) -> str:
        self.prompts.append((system, user))
        if self.error is not None:
            raise self.error
        return self.reply


@dataclass
class FakeAnswerer:
    """Answers every question with the given passages as citations `[1]..[n]`; records its calls."""

    passages: Sequence[Passage]
    calls: list[tuple[str, frozenset[Access], str | None]] = field(default_factory=list)
    fail: bool = False

    async def answer(self, question: str, *, access: frozenset[Access] = PUBLIC, context: str | None = None) -> Answer:
        self.calls.append((question, access, context))
        if self.fail:
            raise RuntimeError("answerer broke")
        usable = [p for p in self.passages if p.doc.access in access]
        markers = " ".join(f"[{i}]" for i in range(1, len(usable) + 1))
        return Answer(
            question=question,
            text=f"Antwoord op de vraag. {markers}".strip(),
            citations=tuple(Citation(ref=i, passage=p) for i, p in enumerate(usable, start=1)),
            confident=bool(usable),
            retrieved=tuple(p.doc.doc_id for p in usable),
            generator="fake",
        )


@dataclass
class FakeChannel(ChannelBase):
    """A channel that records what the core sends; message ids are `m1`, `m2`, ...

    It delivers nothing by itself (call the handler directly); `start` runs `run`, which waits.
    """

    name: str = "fake"
    capabilities: frozenset[Capability] = frozenset()
    sent: list[tuple[ConversationRef, Reply]] = field(default_factory=list)
    typing_calls: list[tuple[ConversationRef, bool]] = field(default_factory=list)
    fail_sends: int = 0
    txn_ids: list[str | None] = field(default_factory=list)  # of every attempt, failed ones too

    async def send(self, to: ConversationRef, reply: Reply, *, txn_id: str | None = None) -> str | None:
        self.txn_ids.append(txn_id)
        if self.fail_sends:
            self.fail_sends -= 1
            raise ChannelError(self.name, "send refused", status=500)
        self.sent.append((to, reply))
        return f"m{len(self.sent)}"

    async def typing(self, to: ConversationRef, active: bool) -> None:
        self.typing_calls.append((to, active))

    async def run(self, on_message: MessageHandler) -> None:
        await asyncio.Event().wait()


def plugin(build: Callable[[ChannelDeps], Channel | None], name: str = "fake") -> ChannelPlugin:
    """A registry entry for a test channel: `build_app(settings, plugins=[plugin(...)])`."""
    return ChannelPlugin(name, build)


@dataclass
class MemoryAnswerLog:
    """`AnswerLog` in memory."""

    entries: dict[AnswerId, AnswerEntry] = field(default_factory=dict)
    message_ids: dict[str, AnswerId] = field(default_factory=dict)
    votes: dict[tuple[AnswerId, str], bool] = field(default_factory=dict)

    async def record(self, entry: AnswerEntry) -> None:
        self.entries[entry.answer_id] = entry

    async def set_message_id(self, answer_id: AnswerId, message_id: str) -> None:
        self.message_ids[message_id] = answer_id

    async def resolve(self, *, answer_id: str | None = None, message_id: str | None = None) -> AnswerId | None:
        if answer_id is not None:
            return AnswerId(answer_id) if answer_id in self.entries else None
        return self.message_ids.get(message_id or "")

    async def add_feedback(self, answer_id: AnswerId, user_id: str, positive: bool, at: datetime) -> None:
        self.votes[(answer_id, user_id)] = positive

    async def thread_questions(
        self, channel: str, conversation_id: str, thread_id: str | None, since: datetime | None = None
    ) -> list[str]:
        matches = sorted(
            (
                e
                for e in self.entries.values()
                if (e.channel, e.conversation_id, e.thread_id) == (channel, conversation_id, thread_id)
                and (since is None or e.at >= since)
            ),
            key=lambda e: e.at,
        )
        return [e.question for e in matches[-THREAD_QUESTIONS:]]


@dataclass
class MemoryConversationLog:
    """`ConversationLog` in memory: (channel, conversation id) -> (is_private, user id)."""

    seen: dict[tuple[str, str], tuple[bool, str]] = field(default_factory=dict)

    async def remember(
        self, channel: str, conversation_id: str, *, is_private: bool, user_id: str, at: datetime
    ) -> None:
        self.seen[(channel, conversation_id)] = (is_private, user_id)


@dataclass
class StaticSources:
    """`Sources` with a fixed list."""

    sources: list[SourceInfo] = field(default_factory=list)

    async def list_sources(self) -> list[SourceInfo]:
        return list(self.sources)


class HashedWordEmbeddings(NamedEmbeddings):
    """A cheap deterministic embedder: each stemmed word adds to one of `dimension` axes; no model.

    Texts that share words get close vectors, so retrieval over it behaves like a (crude) real one.
    """

    name = "test/hashed-words"
    dimension = 32

    def _vector(self, text: str) -> list[float]:
        vector = np.full(self.dimension, 0.01, dtype=np.float32)
        for term in terms(text):
            vector[int(hashlib.md5(term.encode()).hexdigest()[:8], 16) % self.dimension] += 1.0
        return list(map(float, vector / np.linalg.norm(vector)))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)
