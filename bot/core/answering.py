"""Answering a question: retrieve passages, generate a draft, check its citations (see `Answerer`)."""

from __future__ import annotations

from typing import Protocol

from bot.core.models import Access, Answer

__all__ = ["EVERYONE", "PUBLIC", "Answerer"]

PUBLIC: frozenset[Access] = frozenset({Access.OPENBAAR})
"""What a request from anywhere but the OMO's own room may see."""

EVERYONE: frozenset[Access] = frozenset(Access)
"""What the OMO team may see."""


class Answerer(Protocol):
    """Turns a question into a checked, cited `Answer` (or an honest refusal). Never raises for bad luck:
    an LLM failure falls back to the extractive answer; only a broken store raises `RetrievalError`.

    `context` is an earlier question in the same thread, used to understand a follow-up.
    """

    async def answer(
        self, question: str, *, access: frozenset[Access] = PUBLIC, context: str | None = None
    ) -> Answer: ...
