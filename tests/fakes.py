"""Test doubles that behave like the real thing: record what they are asked, answer from given data."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.models import Access, Chunk, DocId, DocumentInfo, Kind, Passage, Retrieval, chunk_id_for


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
    """Returns the given passages (filtered by access) and records the questions it was asked."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self.questions: list[str] = []

    async def retrieve(self, question: str, access: frozenset[Access]) -> Retrieval:
        self.questions.append(question)
        visible = tuple(p for p in self.passages if p.doc.access in access)
        top = max((p.similarity or 0.0 for p in visible), default=None)
        return Retrieval(question, visible, top)


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
