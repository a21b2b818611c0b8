"""The durable outbox: everything the bot must deliver later is a row, written with the state change it follows.

Public API
----------
`enqueue(conn, to, reply, kind=..., at=...)` adds one message inside the caller's transaction, so the
message exists if and only if the state change it announces was committed::

    async with engine.begin() as conn:
        await conn.execute(update(cases)...)                     # the state change
        await enqueue(conn, ConversationRef("matrix", room), TextReply(text), kind="case_new", at=now)

`dedupe_key` (unique) makes an enqueue idempotent: a second enqueue with the same key is skipped and
returns False (use it for "at most once per day/case" messages such as a digest or a reminder).
`case_ref` ties a row to an OMO case so `purge_case_rows` can remove it with the case.

`OutboxWorker(engine, channels).run()` delivers pending rows until cancelled: it claims a row with a
short lease (a conditional UPDATE, so two instances never both send it), renews the lease while it
sends, sends the row through the channel of that name, and marks it sent. A dead instance's lease thus
holds a conversation's queue for at most `lease_s` (`escalation.outbox_takeover_s`). A failure
(`ChannelError` or anything else) schedules the next attempt with jittered exponential backoff; after
`give_up_after_s` the row is marked failed and logged. Rows for one conversation go out in enqueue
order: a row waits while an older one there is pending. `poke()` wakes the worker at once (after an
enqueue in this process); other instances find the row at their next poll. Periodic jobs (the OMO
reminder check) run on the `Scheduler`.

Repeats: each row has a stable transaction id (`OutboxItem.txn_id`) passed to `Channel.send`. A crash
between sending and marking makes the row due again when the lease expires; resent from the same
Matrix device (the instance restarted on its data dir), the homeserver recognises the transaction id
and posts nothing new. Resent by another instance (another device), it may appear twice: a row taken
over from an expired lease is resent with a note saying it may be a repeat (`outbox_resent.nl.j2`), and
the takeover is logged as a WARNING naming the instance that held it. Teams has no such id; a resend
there may repeat the message, marked the same way.

Only `TextReply` (with buttons) and `FormReply` can be queued; an `AnswerReply` is sent directly.
Nothing here logs message text: rows are named by id, kind and case reference.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, TypedDict

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot import prompts
from bot.adapters.sql import aware, upsert
from bot.adapters.tables import outbox
from bot.core.clock import Clock, utc
from bot.core.messages import Button, Channel, ConversationRef, FormField, FormReply, TextReply, parse_action
from bot.errors import ChannelError

__all__ = [
    "OutboxItem",
    "OutboxWorker",
    "QueuedReply",
    "ReplyPayload",
    "decode_reply",
    "encode_reply",
    "enqueue",
    "purge_case_rows",
]

log = logging.getLogger(__name__)

QueuedReply = TextReply | FormReply
"""What the outbox can carry."""


class ButtonPayload(TypedDict):
    title: str
    action: str
    data: dict[str, str]


class FieldPayload(TypedDict):
    name: str
    label: str
    choices: list[list[str]]
    multiline: bool
    max_length: int | None
    value: str


class TextPayload(TypedDict):
    type: Literal["text"]
    text: str
    notice: bool
    buttons: list[ButtonPayload]


class FormPayload(TypedDict):
    type: Literal["form"]
    text: str
    buttons: list[ButtonPayload]
    fields: list[FieldPayload]


ReplyPayload = TextPayload | FormPayload
"""A queued reply as the outbox row's `payload` column holds it (JSON)."""


def _button(button: Button) -> ButtonPayload:
    return {"title": button.title, "action": button.action.name, "data": dict(button.action.data)}


def _unbutton(raw: ButtonPayload) -> Button:
    action = parse_action(str(raw["action"]), dict(raw.get("data") or {}))
    if action is None:
        raise ValueError(f"outbox row has a button with unknown action {raw['action']!r}")
    return Button(title=str(raw["title"]), action=action)


def encode_reply(reply: QueuedReply) -> ReplyPayload:
    """The JSON form of a reply as the outbox stores it."""
    if isinstance(reply, TextReply):
        return {
            "type": "text",
            "text": reply.text,
            "notice": reply.notice,
            "buttons": [_button(b) for b in reply.buttons],
        }
    return {
        "type": "form",
        "text": reply.text,
        "buttons": [_button(b) for b in reply.buttons],
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "choices": [list(c) for c in f.choices],
                "multiline": f.multiline,
                "max_length": f.max_length,
                "value": f.value,
            }
            for f in reply.fields
        ],
    }


def decode_reply(payload: ReplyPayload) -> QueuedReply:
    """The reply `encode_reply` stored; raises `ValueError` for an unknown payload type.

    The values are converted again, since a row is read back from the database unchecked.
    """
    if payload.get("type") not in ("text", "form"):
        raise ValueError(f"unknown outbox payload type {payload.get('type')!r}")
    if payload["type"] == "text":
        return TextReply(
            text=str(payload["text"]),
            notice=bool(payload.get("notice", True)),
            buttons=tuple(_unbutton(b) for b in payload.get("buttons") or ()),
        )
    return FormReply(
        text=str(payload["text"]),
        buttons=tuple(_unbutton(b) for b in payload.get("buttons") or ()),
        fields=tuple(
            FormField(
                name=str(f["name"]),
                label=str(f["label"]),
                choices=tuple((str(c[0]), str(c[1])) for c in f.get("choices") or ()),
                multiline=bool(f.get("multiline", False)),
                max_length=f.get("max_length"),
                value=str(f.get("value") or ""),
            )
            for f in payload["fields"]
        ),
    )


async def enqueue(
    conn: AsyncConnection,
    to: ConversationRef,
    reply: QueuedReply,
    *,
    kind: str,
    at: datetime,
    case_ref: str | None = None,
    dedupe_key: str | None = None,
) -> bool:
    """Queue `reply` for `to` in the caller's transaction; False if `dedupe_key` was already queued."""
    values = {
        "channel": to.channel,
        "conversation_id": to.conversation_id,
        "thread_id": to.thread_id,
        "kind": kind,
        "payload": encode_reply(reply),
        "case_ref": case_ref,
        "dedupe_key": dedupe_key,
        "created_at": at,
        "available_at": at,
        "attempts": 0,
    }
    if dedupe_key is None:
        await conn.execute(insert(outbox).values(**values))
        return True
    queued = await upsert(conn, outbox, values, key=("dedupe_key",), update=(), returning=(outbox.c.id,))
    return queued.first() is not None


async def purge_case_rows(conn: AsyncConnection, case_refs: Sequence[str]) -> int:
    """Delete the outbox rows of these cases (sent or not); returns how many."""
    if not case_refs:
        return 0
    result = await conn.execute(delete(outbox).where(outbox.c.case_ref.in_(list(case_refs))))
    return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One claimed row, ready to send."""

    id: int
    to: ConversationRef
    kind: str
    reply: QueuedReply
    case_ref: str | None
    attempts: int
    created_at: datetime

    @property
    def txn_id(self) -> str:
        """The row's transaction id: the same for every attempt, different for every row."""
        return f"onrust-outbox-{self.id}-{int(self.created_at.timestamp())}"


class OutboxWorker:
    """Delivers queued rows through `channels` (by name); see the module docstring for the guarantees.

    Times are seconds. `worker_id` names this instance in the `claimed_by` column (random by default).
    `lease_s` is how long a claim holds without renewal; this worker renews its claims every third of it.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        channels: Mapping[str, Channel],
        *,
        worker_id: str | None = None,
        lease_s: float = 15.0,
        poll_s: float = 2.0,
        batch: int = 20,
        base_backoff_s: float = 1.0,
        max_backoff_s: float = 300.0,
        give_up_after_s: float = 7 * 24 * 3600.0,
        clock: Clock = utc,
        rng: random.Random | None = None,
    ) -> None:
        self._engine = engine
        self._channels = channels
        self.worker_id = worker_id or uuid.uuid4().hex[:16]
        self._lease = timedelta(seconds=lease_s)
        self._renew_s = lease_s / 3
        self._poll_s = poll_s
        self._batch = batch
        self._base_s = base_backoff_s
        self._cap_s = max_backoff_s
        self._give_up = timedelta(seconds=give_up_after_s)
        self._clock = clock
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()

    def poke(self) -> None:
        """Wake the worker now instead of at its next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled; a failing pass is logged and retried after the poll interval."""
        while True:
            try:
                sent = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # boundary: the worker outlives a broken database connection
                log.exception("outbox: delivery pass failed")
                sent = 0
            if sent:
                continue  # more may be due at once (the next row of a conversation)
            self._wake.clear()
            try:
                async with asyncio.timeout(self._poll_s):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def deliver_due(self) -> int:
        """One pass: claim due rows and send them (renewing the leases meanwhile); returns how many were sent."""
        items = await self.claim()
        if not items:
            return 0
        renewal = asyncio.create_task(self._keep_leases(), name="outbox:leases")
        sent = 0
        try:
            for item in items:
                if await self._deliver(item):
                    sent += 1
        finally:
            renewal.cancel()
            await asyncio.gather(renewal, return_exceptions=True)
        return sent

    async def _keep_leases(self) -> None:
        """Extend the lease of every row this worker holds, every third of the lease, until cancelled."""
        while True:
            await asyncio.sleep(self._renew_s)
            try:
                async with self._engine.begin() as conn:
                    await conn.execute(
                        update(outbox)
                        .where(outbox.c.claimed_by == self.worker_id)
                        .values(lease_until=self._clock() + self._lease)
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the send goes on; another instance may take the row if this persists
                log.warning("outbox: could not renew the leases of worker %s: %s", self.worker_id, exc)

    async def claim(self) -> list[OutboxItem]:
        """Claim up to `batch` due rows (the oldest pending row of each conversation) for this worker."""
        now = self._clock()
        older = outbox.alias("older")
        pending = and_(outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None))
        free = (outbox.c.lease_until.is_(None)) | (outbox.c.lease_until < now)
        blocked = (
            select(older.c.id)
            .where(
                (older.c.channel == outbox.c.channel)
                & (older.c.conversation_id == outbox.c.conversation_id)
                & (older.c.id < outbox.c.id)
                & older.c.sent_at.is_(None)
                & older.c.failed_at.is_(None)
            )
            .exists()
        )
        query = (
            select(outbox)
            .where(pending & free & (outbox.c.available_at <= now) & ~blocked)
            .order_by(outbox.c.id)
            .limit(self._batch)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        claimed: list[OutboxItem] = []
        for row in rows:
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    update(outbox)
                    .where((outbox.c.id == row["id"]) & pending & free)
                    .values(claimed_by=self.worker_id, lease_until=now + self._lease)
                )
            if result.rowcount != 1:
                continue  # another instance took it
            try:
                reply = decode_reply(row["payload"])
            except (ValueError, KeyError, TypeError):
                log.error("outbox: row %s (%s) has an unreadable payload; marked failed", row["id"], row["kind"])
                await self._finish(row["id"], failed_at=now, last_error="unreadable payload")
                continue
            if row["claimed_by"] is not None:  # its holder stopped mid-send: the resend says it may be a repeat
                log.warning("outbox: row %s (%s, case %s) taken over from worker %s, whose lease expired; "
                            "resent marked as a possible duplicate", row["id"], row["kind"], row["case_ref"],
                            row["claimed_by"])  # fmt: skip
                reply = replace(reply, text=f"{prompts.render('outbox_resent.nl.j2')}\n\n{reply.text}")
            claimed.append(
                OutboxItem(
                    id=row["id"],
                    to=ConversationRef(row["channel"], row["conversation_id"], thread_id=row["thread_id"]),
                    kind=row["kind"],
                    reply=reply,
                    case_ref=row["case_ref"],
                    attempts=row["attempts"],
                    created_at=aware(row["created_at"]),
                )
            )
        return claimed

    async def _deliver(self, item: OutboxItem) -> bool:
        channel = self._channels.get(item.to.channel)
        try:
            if channel is None:
                raise ChannelError(item.to.channel, "channel is not running in this instance")
            await channel.send(item.to, item.reply, txn_id=item.txn_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # boundary: one undeliverable row must not stop the others
            await self._failed(item, exc)
            return False
        await self._finish(item.id, sent_at=self._clock())
        log.info("outbox: sent row %s (%s, case %s) to %s", item.id, item.kind, item.case_ref, item.to.channel)
        return True

    async def _failed(self, item: OutboxItem, exc: Exception) -> None:
        now = self._clock()
        attempts = item.attempts + 1
        status = getattr(exc, "status", None)
        error = f"{type(exc).__name__}" + (f" {status}" if status else "")
        if now - item.created_at >= self._give_up:
            log.error("outbox: giving up on row %s (%s, case %s) after %d attempts: %s",
                      item.id, item.kind, item.case_ref, attempts, error)  # fmt: skip
            await self._finish(item.id, failed_at=now, attempts=attempts, last_error=error)
            return
        ceiling = min(self._cap_s, self._base_s * 2 ** min(attempts - 1, 30))
        delay = self._rng.uniform(min(self._base_s / 2, ceiling), ceiling)
        log.warning("outbox: row %s (%s, case %s) attempt %d failed (%s); retry in %.1f s",
                    item.id, item.kind, item.case_ref, attempts, error, delay)  # fmt: skip
        await self._finish(item.id, available_at=now + timedelta(seconds=delay), attempts=attempts, last_error=error)

    async def _finish(self, row_id: int, **values: object) -> None:
        """Release this worker's claim on a row, setting `values` (sent_at, failed_at, next attempt)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                update(outbox)
                .where((outbox.c.id == row_id) & (outbox.c.claimed_by == self.worker_id))
                .values(claimed_by=None, lease_until=None, **values)
            )
