"""The one error tree of Onrust-assistent.

    BotError                    base; never raised itself
    ├── ConfigError             settings are missing or invalid, or the store was built with another embedder
    ├── StoreError              the vector store or the state database failed or is unreachable
    ├── IngestError             one document could not be read or indexed (the run goes on)
    ├── RetrievalError          a search over the knowledge base failed
    ├── GenerationError         the LLM endpoint failed, timed out or answered nonsense
    ├── ChannelError            Matrix or Teams refused or failed a call
    └── EscalationError         an OMO case could not be created, found or moved on

Errors carry fields so callers can act on them; raise them `from` the original exception.
Messages are English and meant for operators; users see Dutch templates from `prompts/`.
"""

from __future__ import annotations

__all__ = [
    "BotError",
    "ChannelError",
    "ConfigError",
    "EscalationError",
    "GenerationError",
    "IngestError",
    "RetrievalError",
    "StoreError",
]


class BotError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(BotError):
    """Raised at start-up when settings are missing or invalid, or do not match the existing store."""


class StoreError(BotError):
    """Raised when the vector store or state database cannot be reached or refuses an operation."""


class IngestError(BotError):
    """Raised for one document that cannot be read, parsed or indexed; `source` names it."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class RetrievalError(BotError):
    """Raised when searching the knowledge base fails."""


class GenerationError(BotError):
    """Raised when the LLM endpoint fails or times out; `status` is the HTTP status if there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ChannelError(BotError):
    """Raised when a chat platform refuses or fails a call; `channel` is "matrix" or "teams"."""

    def __init__(self, channel: str, message: str, status: int | None = None, errcode: str | None = None) -> None:
        super().__init__(f"{channel}: {message}")
        self.channel = channel
        self.status = status
        self.errcode = errcode


class EscalationError(BotError):
    """Raised when an OMO case cannot be created, found or moved to the requested state."""
