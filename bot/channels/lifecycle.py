"""What every channel shares: the `start`/`stop` lifecycle around its `run` loop, and handler tasks.

A channel implements `run(handler)` (deliver until cancelled) and inherits `start`, `stop`, `running`
and a `direct_chat` that refuses, from `ChannelBase`. `HandlerTasks` runs each delivered message in a
task of its own, so a slow answer never blocks the platform side, and a failing handler is logged
(the dispatcher boundary) instead of ending the channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.core.messages import Capability, ConversationId, IncomingMessage, MessageHandler, UserId
from bot.errors import ChannelError

__all__ = ["ChannelBase", "HandlerTasks"]

log = logging.getLogger(__name__)

Prepare = Callable[[IncomingMessage], Awaitable[IncomingMessage | None]]
"""Work done in the message's task before the handler sees it; None drops the message."""


class HandlerTasks:
    """The in-flight handler tasks of one channel; `cancel_all` ends them (on `stop`)."""

    def __init__(self, channel: str) -> None:
        self._channel = channel
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(
        self,
        handler: MessageHandler,
        msg: IncomingMessage,
        prepare: Prepare | None = None,
        after: Callable[[], Awaitable[None]] | None = None,
    ) -> asyncio.Task[None]:
        """Hand `msg` to `handler` in a new task; an exception in it is logged, never raised. `after` runs
        in the same task once the handler is done (or failed), e.g. to record the channel's progress."""

        async def deliver() -> None:
            try:
                ready = msg if prepare is None else await prepare(msg)
                if ready is not None:
                    await handler(ready)
            except Exception:  # dispatcher boundary: one failing message must not take the channel down
                log.exception("%s: handling message %s failed", self._channel, msg.message_id)
            if after is not None:
                await after()

        task = asyncio.create_task(deliver(), name=f"{self._channel}:{msg.message_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class ChannelBase:
    """`start`/`stop` over a subclass's `run`; see the module docstring. Declares no capabilities."""

    name: str
    capabilities: frozenset[Capability] = frozenset()
    _runner: asyncio.Task[None] | None = None

    async def run(self, on_message: MessageHandler) -> None:
        """Deliver messages to `on_message` until cancelled."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    async def start(self, handler: MessageHandler) -> None:
        """Start delivering to `handler` in the background; returns at once. Raises `RuntimeError` if running."""
        if self.running:
            raise RuntimeError(f"channel {self.name} is running already")
        self._runner = asyncio.create_task(self._run(handler), name=f"channel:{self.name}")

    async def _run(self, handler: MessageHandler) -> None:
        try:
            await self.run(handler)
        except Exception:
            log.exception("channel %s stopped", self.name)
            raise

    async def stop(self) -> None:
        """Stop delivering and wait until in-flight handlers are cancelled; a no-op when not started."""
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)

    async def direct_chat(self, user_id: UserId) -> ConversationId:
        """Refused: this channel cannot open a chat with a user who never wrote to it."""
        raise ChannelError(self.name, "this channel cannot open direct chats")
