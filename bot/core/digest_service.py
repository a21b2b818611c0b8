"""The digest job and the `!digest` command, over small storage protocols (no database or channel code here).

`DigestService.tick(now)` is what the scheduler runs every minute: for each subscription whose
digest is due (`due_date`), it gathers the window's events, builds and renders the digest, and hands
the messages to `DigestRepository.deliver`, which claims the (subscription, day) and queues the
messages in one transaction. Only one claim per day can succeed, so a restart, a catch-up run at
start and a second instance on the same database never send a day's digest twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import prompts
from bot.core.clock import Clock, utc
from bot.core.digest import (
    Audience,
    DigestEvents,
    KnowledgeGapEvent,
    OpenCase,
    Subscription,
    build_digest,
    due_date,
    parse_time,
)
from bot.core.digest_text import render_digest, scrub
from bot.core.messages import Button, ConversationId, ConversationRef, SetDigest, TextReply
from bot.core.models import IngestEvent

__all__ = [
    "ChangeLog",
    "DigestPolicy",
    "DigestRepository",
    "DigestService",
    "OpenCases",
]

log = logging.getLogger(__name__)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

FIRST_WINDOW = timedelta(days=1)
"""A subscription's first digest covers the day before it was made."""


@dataclass(frozen=True, slots=True)
class DigestPolicy:
    """The global digest settings: default time, zone, ISO weekdays (1 = Monday), empty handling, part size."""

    time: time = time(8, 30)
    timezone: ZoneInfo = AMSTERDAM
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    send_when_empty: bool = True
    max_message_chars: int = 4000


class DigestRepository(Protocol):
    """Subscriptions, the atomic claim-and-queue of a day's digest, and the raw knowledge gaps."""

    async def subscribe(
        self, channel: str, conversation_id: ConversationId, send_time: time | None, audience: Audience, at: datetime
    ) -> Subscription: ...

    async def unsubscribe(self, channel: str, conversation_id: ConversationId) -> bool:
        """False if there was no active subscription."""
        ...

    async def get(self, channel: str, conversation_id: ConversationId) -> Subscription | None:
        """The active subscription of a conversation, if any."""
        ...

    async def active(self) -> list[Subscription]: ...

    async def deliver(
        self, sub: Subscription, day: date, at: datetime, texts: Sequence[str], *, audience: Audience, force: bool
    ) -> bool:
        """Claim `day` for `sub` and queue `texts` in one transaction; False if it was claimed already.

        With `force` the claim always succeeds (a manual send); the day is still recorded.
        """
        ...

    async def knowledge_gaps(self, since: datetime, until: datetime) -> list[KnowledgeGapEvent]:
        """Refused questions and 👎'd answers in the window, questions unscrubbed."""
        ...


class ChangeLog(Protocol):
    """The ingest log (`IngestLog` fits)."""

    async def since(self, moment: datetime) -> list[IngestEvent]: ...


class OpenCases(Protocol):
    """The OMO cases still open."""

    async def open_cases(self) -> list[OpenCase]: ...


class DigestService:
    """Sends due digests and answers `!digest`. `omo_rooms` are (channel, conversation id) pairs;
    `editor_rooms` conversation ids on any channel. `on_queued` is called after messages were queued
    (to wake the outbox worker)."""

    def __init__(
        self,
        repo: DigestRepository,
        changes: ChangeLog,
        cases: OpenCases | None,
        policy: DigestPolicy,
        *,
        omo_rooms: Collection[tuple[str, ConversationId]] = (),
        editor_rooms: Collection[ConversationId] = (),
        on_queued: Callable[[], None] | None = None,
        clock: Clock = utc,
    ) -> None:
        self._repo = repo
        self._changes = changes
        self._cases = cases
        self.policy = policy
        self._omo = frozenset(omo_rooms)
        self._editors = frozenset(editor_rooms)
        self._on_queued = on_queued
        self._clock = clock

    def audience(self, channel: str, conversation_id: ConversationId) -> Audience:
        """What a conversation may see, from the current settings (never from what was stored)."""
        return Audience(omo=(channel, conversation_id) in self._omo, editors=conversation_id in self._editors)

    def local_day(self, now: datetime) -> date:
        return now.astimezone(self.policy.timezone).date()

    async def compose(self, ref: ConversationRef, since: datetime, now: datetime) -> list[str]:
        """The messages a digest for `ref` covering (since, now] would consist of (maybe none)."""
        audience = self.audience(ref.channel, ref.conversation_id)
        cases: list[OpenCase] = []
        if audience.omo and self._cases is not None:
            cases = await self._cases.open_cases()
        gaps: list[KnowledgeGapEvent] = []
        if audience.editors:
            raw = await self._repo.knowledge_gaps(since, now)
            gaps = [KnowledgeGapEvent(scrub(g.question), g.reason, g.at) for g in raw]
        events = DigestEvents(since=since, until=now, changes=await self._changes.since(since), cases=cases, gaps=gaps)
        digest = build_digest(self.local_day(now), events, audience)
        return render_digest(
            digest, send_when_empty=self.policy.send_when_empty, max_chars=self.policy.max_message_chars
        )

    async def subscription(self, channel: str, conversation_id: ConversationId) -> Subscription | None:
        """The active subscription of a conversation, if any."""
        return await self._repo.get(channel, conversation_id)

    @staticmethod
    def window_start(sub: Subscription) -> datetime:
        return sub.last_sent_at if sub.last_sent_at is not None else sub.subscribed_at - FIRST_WINDOW

    async def tick(self, now: datetime | None = None) -> int:
        """Queue every digest due at `now` (default: the clock); returns how many this instance claimed."""
        now = now or self._clock()
        claimed = 0
        for sub in await self._repo.active():
            day = due_date(
                now,
                sub.send_time or self.policy.time,
                self.policy.timezone,
                self.policy.weekdays,
                subscribed_at=sub.subscribed_at,
                last_sent=sub.last_sent_date,
            )
            if day is None:
                continue
            try:
                if await self._send(sub, day, now, force=False):
                    claimed += 1
            except Exception:  # boundary: one room's broken digest must not stop the others
                log.exception("digest for subscription %s (%s) failed", sub.id, sub.channel)
        return claimed

    async def send_now(self, channel: str | None = None, conversation_id: ConversationId | None = None) -> int:
        """Queue a digest now for one subscribed conversation (or all), due or not; returns how many."""
        now = self._clock()
        subs = [
            s
            for s in await self._repo.active()
            if conversation_id in (None, s.conversation_id) and channel in (None, s.channel)
        ]
        sent = 0
        for sub in subs:
            if await self._send(sub, self.local_day(now), now, force=True):
                sent += 1
        return sent

    async def _send(self, sub: Subscription, day: date, now: datetime, *, force: bool) -> bool:
        ref = ConversationRef(sub.channel, sub.conversation_id)
        texts = await self.compose(ref, self.window_start(sub), now)
        audience = self.audience(sub.channel, sub.conversation_id)
        won = await self._repo.deliver(sub, day, now, texts, audience=audience, force=force)
        if won:
            log.info("digest for %s queued (subscription %s, %s, %d messages)", sub.channel, sub.id, day, len(texts))
            if texts and self._on_queued is not None:
                self._on_queued()
        else:
            log.debug("digest for subscription %s on %s was claimed by another instance", sub.id, day)
        return won

    # -- the `!digest` command -------------------------------------------------------------------

    async def command(self, ref: ConversationRef, argument: str) -> TextReply:
        """`!digest aan [HH:MM]`, `!digest uit`, or `!digest` (status): the reply to send."""
        words = argument.lower().split()
        now = self._clock()
        if not words:
            sub = await self._repo.get(ref.channel, ref.conversation_id)
            return self._reply(sub, "digest_status.nl.j2")
        if words[0] == "aan" and len(words) <= 2:
            send_time = None
            if len(words) == 2:
                try:
                    send_time = parse_time(words[1])
                except ValueError:
                    return TextReply(prompts.render("digest_usage.nl.j2", default=self.policy.time))
            audience = self.audience(ref.channel, ref.conversation_id)
            sub = await self._repo.subscribe(ref.channel, ref.conversation_id, send_time, audience, now)
            log.info("digest subscription %s on %s turned on", sub.id, ref.channel)
            return self._reply(sub, "digest_subscribed.nl.j2")
        if words == ["uit"]:
            was = await self._repo.unsubscribe(ref.channel, ref.conversation_id)
            log.info("digest subscription on %s turned off (was on: %s)", ref.channel, was)
            return self._reply(None, "digest_unsubscribed.nl.j2", was_on=was)
        return TextReply(prompts.render("digest_usage.nl.j2", default=self.policy.time))

    async def action(self, ref: ConversationRef, action: SetDigest) -> TextReply:
        """A card button: the digest on or off, as `!digest aan` or `!digest uit`."""
        return await self.command(ref, "aan" if action.on else "uit")

    def _reply(self, sub: Subscription | None, template: str, **extra: object) -> TextReply:
        text = prompts.render(
            template,
            sub=sub,
            at=(sub.send_time or self.policy.time) if sub is not None else None,
            weekdays=sorted(self.policy.weekdays),
            **extra,
        )
        turn = "uit" if sub is not None else "aan"
        title = prompts.render("digest_button.nl.j2", turn=turn)
        return TextReply(text, buttons=(Button(title=title, action=SetDigest(turn == "aan")),))
