"""The "typing…" notice while an answer is being made, shown only when the answer keeps an official waiting.

A notice for an answer that arrives a moment later only flickers, and costs the channel two calls (on and
off) in front of every answer; the Microsoft 365 Agents SDK likewise shows one only for a slow turn. So
the notice goes out once `delay_s` has passed without the answer (an LLM answer, a busy store), and is
switched off at the end only if it was shown.
"""

from __future__ import annotations

import asyncio
import logging

from bot.core.messages import Channel, ConversationRef
from bot.errors import ChannelError

__all__ = ["TypingNotice"]

log = logging.getLogger(__name__)


class TypingNotice:
    """Shows "typing…" in `ref` after `delay_s` unless `settle()` came first. Create it inside a running loop."""

    def __init__(self, channel: Channel, ref: ConversationRef, delay_s: float) -> None:
        self._channel = channel
        self._ref = ref
        self._shown = False
        self._task = asyncio.create_task(self._show_after(delay_s))

    async def _show_after(self, delay_s: float) -> None:
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        self._shown = True
        await self._set(True)

    async def settle(self) -> None:
        """Call before the answer goes out: a notice not yet due is dropped, one under way is finished first,
        so it never arrives after the answer."""
        if not self._shown:
            self._task.cancel()
        await asyncio.wait([self._task])
        if not self._task.cancelled():
            self._task.result()  # an unexpected error in the notice surfaces here, as it would have inline

    async def clear(self) -> None:
        """Call when the answer is out (or failed): switches a shown notice off."""
        await self.settle()
        if self._shown:
            await self._set(False)

    async def _set(self, active: bool) -> None:
        try:
            await self._channel.typing(self._ref, active)
        except ChannelError as exc:  # a missing typing notice is no reason to fail the answer
            log.warning("typing notice failed on %s: %s", self._ref.channel, exc)
