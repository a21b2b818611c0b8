"""An OpenAI-compatible chat endpoint (Azure OpenAI, vLLM, Ollama, a sovereign model) through langchain-openai."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from bot.config import LLMSettings
from bot.errors import GenerationError

__all__ = ["OpenAIChatModel"]


class OpenAIChatModel:
    """Implements the core's `ChatModel`; one attempt per call (the caller falls back, it does not retry)."""

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.base_url:
            raise ValueError("llm.base_url is required for the LLM answerer")
        self.name = f"llm:{settings.model}"
        self._client = ChatOpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key or "not-needed",  # type: ignore[arg-type]
            model=settings.model,
            temperature=settings.temperature,
            max_completion_tokens=settings.max_tokens,
            timeout=settings.timeout_s,
            max_retries=0,
        )

    async def generate(self, system: str, user: str) -> str:
        """The model's reply text; `GenerationError` (with HTTP status when known) on any failure."""
        try:
            message = await self._client.ainvoke([SystemMessage(system), HumanMessage(user)])
        except Exception as exc:  # the SDK raises many types; callers need one
            status = getattr(exc, "status_code", None)
            raise GenerationError(f"LLM call failed: {type(exc).__name__}: {exc}", status=status) from exc
        content = message.content
        if not isinstance(content, str) or not content.strip():
            raise GenerationError("LLM returned an empty or non-text reply")
        return content
