"""The Matrix channel: a matrix-nio client (end-to-end encryption on) that implements `Channel`.

Start-up: log in (see `matrix_session`), one full-state sync from the stored sync token, then long-poll
syncs. Each sync's messages are handed to the handler as tasks (a slow answer never blocks syncing). The
stored sync token never passes a message whose handler has not finished (it claims the message first,
and may wait out a database outage): after a crash the restart delivers such messages again, and the
core's one claim per message keeps what was handled from being answered twice. The first sync catches up
on what was sent while the bot was down, back to `catch_up_max_age`; on the very first start (no stored
token) the history is not delivered. A `limited` timeline (more events than the sync returns) is
back-filled through `/messages` down to the previous sync token. Messages from the bot itself, from
other bots (`m.notice`) or from users outside `allowed_users`/`allowed_servers` are dropped; invites
from allowed users are joined, other invites declined. An edit (`m.replace`) is delivered with its new
text and answered in the thread of the edited message. Network failures are retried with jittered
backoff capped at `max_backoff_s`; the homeserver refusing a call raises `ChannelError`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    DirectRoomsResponse,
    ErrorResponse,
    Event,
    InviteMemberEvent,
    MegolmEvent,
    ReactionEvent,
    RoomCreateResponse,
    RoomGetEventResponse,
    RoomMessagesResponse,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
)
from nio.exceptions import LocalProtocolError, SendRetryError

from bot.channels.delivery import delivered
from bot.channels.lifecycle import ChannelBase, HandlerTasks
from bot.channels.matrix_events import (
    content_of,
    edit_of,
    edited_in,
    reaction_vote,
    strip_mention,
    thread_root,
    user_allowed,
)
from bot.channels.matrix_render import render_content
from bot.channels.matrix_session import log_in
from bot.config import MatrixSettings
from bot.core.backoff import backoff_delays
from bot.core.messages import (
    Capability,
    ConversationId,
    ConversationRef,
    Feedback,
    IncomingMessage,
    MessageHandler,
    Reply,
    UserId,
)
from bot.errors import ChannelError

__all__ = ["KeyValue", "MatrixChannel"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_RETRYABLE = (aiohttp.ClientError, TimeoutError, OSError)
_PAGE = 100  # events per /messages request when back-filling
_MAX_PAGES = 50  # back-fill at most this many pages per room and sync


class KeyValue(Protocol):
    """Where the sync token and the set of direct chats are kept (`KeyValueStore` fits)."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...

    async def members(self, key: str) -> frozenset[str]: ...

    async def add_member(self, key: str, member: str) -> None: ...


def _check(resp: object, what: str) -> None:
    if isinstance(resp, ErrorResponse):
        transport = getattr(resp, "transport_response", None)
        raise ChannelError(
            "matrix", f"{what}: {resp}", status=getattr(transport, "status", None), errcode=resp.status_code
        )


class MatrixChannel(ChannelBase):
    """`Channel` on Matrix. `store_dir` holds the device's crypto store and session; `kv` the sync token."""

    name = "matrix"
    capabilities = frozenset({Capability.THREADS, Capability.DIRECT_CHATS, Capability.PROACTIVE})

    def __init__(self, cfg: MatrixSettings, store_dir: Path, kv: KeyValue) -> None:
        if not cfg.homeserver or not cfg.user_id:
            raise ChannelError("matrix", "matrix.homeserver and matrix.user_id must be set")
        self._cfg = cfg
        self._store_dir = store_dir
        self._kv = kv
        self._user_id = cfg.user_id
        self._token_key = f"matrix.next_batch.{cfg.user_id}"
        self._direct_key = f"matrix.direct.{cfg.user_id}"
        self._direct: set[str] = set()
        self._tasks = HandlerTasks(self.name)
        self._cutoff_ms = 0  # events older than this are not delivered
        self._since: str | None = None  # the token the next sync starts from
        self._unfinished: list[tuple[str, set[asyncio.Task[None]]]] = []  # (token before a batch, its handlers)
        self._stored: str | None = None  # the token stored last
        self._client: AsyncClient | None = None
        self.ready = asyncio.Event()
        """Set once the first sync is done and messages are being delivered (tests and health checks)."""

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            raise ChannelError("matrix", "not connected")
        return self._client

    async def _call(self, what: str, request: Awaitable[T], timeout_s: float | None = None) -> T:
        """One request with the configured timeout; error responses and network failures become `ChannelError`."""
        try:
            async with asyncio.timeout(timeout_s or self._cfg.request_timeout_s):
                resp = await request
        except (LocalProtocolError, SendRetryError) as exc:
            raise ChannelError("matrix", f"{what}: {exc}") from exc
        except _RETRYABLE as exc:  # the homeserver is unreachable: no status, so `_retrying` retries it
            raise ChannelError("matrix", f"{what}: {type(exc).__name__}: {exc}") from exc
        _check(resp, what)
        return resp

    async def _retrying(self, what: str, step: Callable[[], Awaitable[T]]) -> T:
        """Run `step` until it succeeds, sleeping a jittered, capped backoff after network failures."""
        delays = backoff_delays(cap_s=self._cfg.max_backoff_s)
        while True:
            try:
                return await step()
            except _RETRYABLE as exc:
                delay = next(delays)
                log.warning("matrix: %s failed (%s: %s); retrying in %.1f s", what, type(exc).__name__, exc, delay)
            except ChannelError as exc:
                if exc.status is not None and exc.status < 500 and exc.status != 429:
                    raise
                delay = next(delays)
                log.warning("matrix: %s failed (%s); retrying in %.1f s", what, exc, delay)
            await asyncio.sleep(delay)

    async def run(self, on_message: MessageHandler) -> None:
        """Deliver messages to `on_message` until cancelled; in-flight handlers are cancelled on exit."""
        self._store_dir.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(
            encryption_enabled=True,
            store_sync_tokens=False,
            max_timeouts=0,
            max_limit_exceeded=3,
            request_timeout=self._cfg.request_timeout_s,
        )
        self._client = AsyncClient(
            self._cfg.homeserver or "", self._user_id, store_path=str(self._store_dir), config=config
        )
        try:
            await self._retrying("login", lambda: log_in(self.client, self._cfg, self._store_dir))
            await self._retrying("first sync", lambda: self._first_sync(on_message))
            self.ready.set()
            log.info("matrix: syncing as %s", self._user_id)
            while True:
                await self._retrying("sync", lambda: self._sync(on_message))
        finally:
            self.ready.clear()
            await self._tasks.cancel_all()
            await self.client.close()

    async def _first_sync(self, on_message: MessageHandler) -> None:
        since = await self._kv.get(self._token_key)
        start_ms = int(time.time() * 1000)
        self._cutoff_ms = start_ms - int(self._cfg.catch_up_max_age.total_seconds() * 1000) if since else start_ms
        resp = await self._call("sync", self.client.sync(timeout=0, since=since, full_state=True))
        assert isinstance(resp, SyncResponse)
        self._direct = set(await self._kv.members(self._direct_key))
        async with asyncio.timeout(self._cfg.request_timeout_s):
            listed = await self.client.list_direct_rooms()  # an error here means "no m.direct yet"
        if isinstance(listed, DirectRoomsResponse):
            self._direct.update(r for rooms in listed.rooms.values() for r in rooms)
        await self._housekeeping()
        await self._handle_invites(resp)
        handlers: list[asyncio.Task[None]] = []
        if since is None:
            log.info("matrix: first start; earlier messages are not answered")
        else:
            handlers = await self._deliver(resp, since, on_message)
        await self._advance(resp.next_batch, since, handlers)

    async def _sync(self, on_message: MessageHandler) -> None:
        timeout_s = self._cfg.sync_timeout_ms / 1000 + self._cfg.request_timeout_s
        since = self._since
        resp = await self._call(
            "sync", self.client.sync(timeout=self._cfg.sync_timeout_ms, since=since), timeout_s=timeout_s
        )
        assert isinstance(resp, SyncResponse)
        await self._housekeeping()
        await self._handle_invites(resp)
        await self._refresh_direct(room_id for room_id, info in resp.rooms.join.items() if info.timeline.events)
        await self._advance(resp.next_batch, since, await self._deliver(resp, since, on_message))

    async def _advance(self, token: str, since: str | None, handlers: Iterable[asyncio.Task[None]]) -> None:
        """Sync from `token` next; `handlers` are the tasks of the batch that started from `since`."""
        running = {task for task in handlers if not task.done()}
        if running and since is not None:
            self._unfinished.append((since, running))
        self._since = token
        await self._store_progress()

    async def _store_progress(self, finished: asyncio.Task[Any] | None = None) -> None:
        """Store the token a restart syncs from: the latest, or, while a handler runs (other than `finished`),
        the token before the oldest batch with a running handler."""
        self._unfinished = [
            (t, tasks) for t, tasks in self._unfinished if any(not x.done() and x is not finished for x in tasks)
        ]
        token = self._unfinished[0][0] if self._unfinished else self._since
        if token is not None and token != self._stored:
            await self._kv.set(self._token_key, token)
            self._stored = token

    async def _deliver(
        self, resp: SyncResponse, since: str | None, on_message: MessageHandler
    ) -> list[asyncio.Task[None]]:
        """Hand the messages of `resp` to `on_message`, back-filling timelines the sync cut short; returns
        the handlers' tasks.

        An original and its edit in one batch are delivered as the edit alone (it carries the new text).
        """
        skipped = 0
        handlers: list[asyncio.Task[None]] = []
        for room_id, info in resp.rooms.join.items():
            events: list[Event] = list(info.timeline.events)
            if info.timeline.limited and info.timeline.prev_batch and since is not None:
                events = await self._backfill(room_id, info.timeline.prev_batch, since) + events
            edited = edited_in(events)
            for event in events:
                if getattr(event, "sender", self._user_id) == self._user_id or event.event_id in edited:
                    continue
                if getattr(event, "server_timestamp", 0) < self._cutoff_ms:
                    skipped += 1
                    continue
                msg = self._incoming(ConversationId(room_id), event)
                if msg is not None:
                    handlers.append(self._tasks.spawn(on_message, msg, self._in_thread, self._handler_done))
        if skipped:
            log.info(
                "matrix: skipped %d events older than matrix.catch_up_max_age (%s)",
                skipped,
                self._cfg.catch_up_max_age,
            )
        return handlers

    async def _backfill(self, room_id: str, prev_batch: str, since: str) -> list[Event]:
        """The events a limited timeline left out: from `prev_batch` back to `since` or the cutoff, oldest first."""
        found: list[Event] = []
        token = prev_batch
        for _ in range(_MAX_PAGES):
            resp = await self._call("messages", self.client.room_messages(room_id, start=token, end=since, limit=_PAGE))
            assert isinstance(resp, RoomMessagesResponse)
            found.extend(e for e in resp.chunk if isinstance(e, Event))
            if (
                not resp.chunk
                or not resp.end
                or min(getattr(e, "server_timestamp", 0) for e in resp.chunk) < self._cutoff_ms
            ):
                break
            token = resp.end
        else:
            log.warning("matrix: back-fill of %s stopped after %d events", room_id, len(found))
        log.info("matrix: back-filled %d events in %s", len(found), room_id)
        found.reverse()
        return found

    async def _housekeeping(self) -> None:
        """What `sync_forever` does between syncs for end-to-end encryption: keys and to-device messages."""
        client = self.client
        await self._call("to-device", client.send_to_device_messages())
        if client.should_upload_keys:
            await self._call("keys upload", client.keys_upload())
        if client.should_query_keys:
            await self._call("keys query", client.keys_query())
        if client.should_claim_keys:
            await self._call("keys claim", client.keys_claim(client.get_users_for_key_claiming()))

    async def _refresh_direct(self, room_ids: Iterable[str]) -> None:
        """Learn direct chats another instance joined: the list lives in the database, not in one process."""
        if set(room_ids) - self._direct:
            self._direct.update(await self._kv.members(self._direct_key))

    async def _add_direct(self, room_id: str) -> None:
        await self._kv.add_member(self._direct_key, room_id)
        self._direct.add(room_id)

    def _allowed(self, user_id: str) -> bool:
        return user_allowed(user_id, self._user_id, self._cfg.allowed_users, self._cfg.allowed_servers)

    async def _handle_invites(self, resp: SyncResponse) -> None:
        for room_id, info in resp.rooms.invite.items():
            invite = next(
                (
                    e
                    for e in info.invite_state
                    if isinstance(e, InviteMemberEvent) and e.state_key == self._user_id and e.membership == "invite"
                ),
                None,
            )
            inviter = invite.sender if invite is not None else ""
            try:
                if invite is not None and self._allowed(inviter):
                    if invite.content.get("is_direct"):
                        await self._add_direct(room_id)
                    await self._call("join", self.client.join(room_id))
                    log.info("matrix: joined %s on invite of %s", room_id, inviter)
                else:
                    await self._call("decline", self.client.room_leave(room_id))
                    log.warning("matrix: declined invite to %s from %s", room_id, inviter or "unknown")
            except ChannelError as exc:
                log.warning("matrix: could not answer invite to %s: %s", room_id, exc)

    def _incoming(self, room_id: ConversationId, event: object) -> IncomingMessage | None:
        """The message for the core, or None if the bot must not see this event."""
        sender = getattr(event, "sender", "")
        if sender == self._user_id or not self._allowed(sender):
            return None
        if isinstance(event, MegolmEvent):
            log.warning("matrix: could not decrypt %s in %s (session %s)", event.event_id, room_id, event.session_id)
            return None
        sent_at = datetime.fromtimestamp(event.server_timestamp / 1000, UTC)  # type: ignore[attr-defined]
        room = self.client.rooms.get(room_id)
        is_private = room_id in self._direct
        if isinstance(event, ReactionEvent):
            vote = reaction_vote(event.key)
            if vote is None:
                return None
            return IncomingMessage(
                ref=ConversationRef(self.name, room_id),
                message_id=event.event_id,
                sender=UserId(sender),
                text="",
                is_private=is_private,
                sent_at=sent_at,
                feedback=Feedback(positive=vote, message_id=event.reacts_to),
            )
        if not isinstance(event, RoomMessageText):  # notices, emotes, media, state: not for the bot
            return None
        content: Mapping[str, object] = content_of(event)
        body: object = event.body
        edit = edit_of(content)
        if edit is not None:  # the new text; the reply goes to the edited message, never to the edit
            original, content = edit
            body = content.get("body") if content.get("msgtype") == "m.text" else None
        if not isinstance(body, str):
            return None
        own_name = room.user_name(self._user_id) if room is not None else None
        text, mentioned = strip_mention(body, content, self._user_id, own_name)
        if not delivered(text, private=is_private, mentioned=mentioned):
            return None
        target = original if edit is not None else event.event_id
        return IncomingMessage(
            ref=ConversationRef(self.name, room_id, thread_id=thread_root(content, target), reply_to=target),
            message_id=event.event_id,
            sender=UserId(sender),
            text=text,
            is_private=is_private,
            sent_at=sent_at,
            sender_name=room.user_name(sender) if room is not None else None,
            edit_of=original if edit is not None else None,
        )

    async def _edited_thread(self, msg: IncomingMessage) -> str | None:
        """The thread of the message `msg` edits (itself if none, or if the homeserver cannot say);
        None when the edit is not by the original's sender (clients ignore such edits too)."""
        assert msg.edit_of is not None
        try:
            resp = await self._call("get event", self.client.room_get_event(msg.ref.conversation_id, msg.edit_of))
        except ChannelError as exc:
            log.warning("matrix: could not fetch edited event %s: %s", msg.edit_of, exc)
            return msg.edit_of
        assert isinstance(resp, RoomGetEventResponse)
        if getattr(resp.event, "sender", None) != msg.sender:
            log.warning("matrix: ignored edit %s of another user's message %s", msg.message_id, msg.edit_of)
            return None
        return thread_root(content_of(resp.event), msg.edit_of)

    async def _in_thread(self, msg: IncomingMessage) -> IncomingMessage | None:
        """An edit goes to the thread of the message it edits; None drops an edit of another's message."""
        if msg.edit_of is None:
            return msg
        thread = await self._edited_thread(msg)
        return None if thread is None else replace(msg, ref=replace(msg.ref, thread_id=thread))

    async def _handler_done(self) -> None:
        """A handler finished: the stored sync token may move past its batch now."""
        try:
            await self._store_progress(finished=asyncio.current_task())
        except Exception as exc:  # the next sync stores it
            log.warning("matrix: could not store the sync token: %s", type(exc).__name__)

    async def send(self, to: ConversationRef, reply: Reply, *, txn_id: str | None = None) -> str | None:
        """Post `reply` into `to` (in its thread, if any); returns the event id. Raises `ChannelError`.

        A repeat with the same `txn_id` is posted once by the homeserver (for this device).
        """
        content = render_content(to, reply)
        resp = await self._call(
            "send",
            self.client.room_send(
                to.conversation_id, "m.room.message", content, tx_id=txn_id, ignore_unverified_devices=True
            ),
        )
        assert isinstance(resp, RoomSendResponse)
        return str(resp.event_id)

    async def direct_chat(self, user_id: UserId) -> ConversationId:
        """The room id of a direct chat with `user_id`: an existing one, else a new one the user is invited to."""
        for room_id in sorted(self._direct):
            room = self.client.rooms.get(room_id)
            if room is not None and (user_id in room.users or user_id in room.invited_users):
                return ConversationId(room_id)
        resp = await self._call(
            "create direct chat",
            self.client.room_create(is_direct=True, invite=[user_id], preset=RoomPreset.trusted_private_chat),
        )
        assert isinstance(resp, RoomCreateResponse)
        await self._add_direct(resp.room_id)
        log.info("matrix: opened direct chat %s", resp.room_id)
        return ConversationId(str(resp.room_id))

    async def typing(self, to: ConversationRef, active: bool) -> None:
        await self._call("typing", self.client.room_typing(to.conversation_id, active, timeout=30_000))
