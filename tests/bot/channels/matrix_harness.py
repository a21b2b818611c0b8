"""Helpers for the Matrix tests: a bot process-in-a-task and an official's e2e-capable nio client."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig, Event, MegolmEvent, RoomMessageNotice, RoomMessageText
from pydantic import SecretStr

from bot.adapters.conversation_stores import StateMessageClaims
from bot.adapters.db import create_engine, is_unreachable, migrate
from bot.adapters.state import AnswerStore, ConversationStore, KeyValueStore
from bot.channels.matrix import MatrixChannel
from bot.config import MatrixSettings
from bot.core.conversation import Conversation
from bot.core.ports import SourceInfo
from tests.fakes import FakeAnswerer, StaticSources, make_passage

__all__ = ["Bot", "Official", "TcpProxy", "eventually", "passages"]


def passages() -> FakeAnswerer:
    return FakeAnswerer(
        [
            make_passage(
                "mia.md",
                "De MIA weegt de impact.",
                title="MIA & co",
                section="Stap 1",
                page=3,
                url="https://example.org/mia?a=1&b=2",
            ),
            make_passage("agenda.md", "De agenda.", title="Agenda"),
        ]
    )


async def eventually(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:  # noqa: ASYNC109
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class Bot:
    """The Matrix channel plus the conversation core with a fake answerer, on a data dir of its own."""

    homeserver: str
    user_id: str
    data_dir: Path
    password: str = "wachtwoord"
    allowed_users: list[str] = field(default_factory=list)
    allowed_servers: list[str] = field(default_factory=list)
    answerer: FakeAnswerer = field(default_factory=passages)
    channel: MatrixChannel | None = None
    answers: AnswerStore | None = None
    database_url: str | None = None  # share one database between bots to run them as instances of one service
    catch_up_max_age: timedelta = timedelta(hours=24)
    max_backoff_s: float = 0.5
    _task: asyncio.Task[None] | None = None
    _engine: Any = None

    async def start(self, wait: bool = True) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._engine = create_engine(self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'state.db'}")
        await migrate(self._engine)
        self.answers = AnswerStore(self._engine)
        cfg = MatrixSettings(
            homeserver=self.homeserver,
            user_id=self.user_id,
            password=SecretStr(self.password),
            allowed_users=self.allowed_users,
            allowed_servers=self.allowed_servers,
            sync_timeout_ms=2000,
            request_timeout_s=10,
            max_backoff_s=self.max_backoff_s,
            catch_up_max_age=self.catch_up_max_age,
        )
        self.channel = MatrixChannel(cfg, self.data_dir / "matrix", KeyValueStore(self._engine))
        conv = Conversation(
            self.answerer,
            self.answers,
            ConversationStore(self._engine),
            StaticSources([SourceInfo("MIA", "2024-01-01", None)]),
            {"matrix": self.channel},
            claims=StateMessageClaims(self._engine),
            is_outage=is_unreachable,  # a question waits out a database outage, as in `onrust serve`
        )
        self._task = asyncio.create_task(self.channel.run(conv.handle))
        if wait:
            await self.wait_ready()

    async def wait_ready(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        assert self.channel is not None and self._task is not None
        ready = asyncio.ensure_future(self.channel.ready.wait())
        done, _ = await asyncio.wait({ready, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            self._task.result()
        if ready not in done:
            ready.cancel()
            raise AssertionError("bot did not become ready")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._engine is not None:
            await self._engine.dispose()


class Official:
    """A human user's client with encryption; records every message it sees, decrypted where possible."""

    def __init__(self, homeserver: str, user_id: str, store: Path, password: str = "wachtwoord") -> None:
        store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
        self.client = AsyncClient(homeserver, user_id, store_path=str(store), config=config)
        self.password = password
        self.events: list[tuple[str, Event]] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        resp = await self.client.login(self.password)
        assert resp.__class__.__name__ == "LoginResponse", resp
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()

        async def record(room: Any, event: Event) -> None:
            self.events.append((room.room_id, event))

        self.client.add_event_callback(record, (RoomMessageText, RoomMessageNotice, MegolmEvent))
        # a timeline long enough that a burst of replies is never cut short (`limited`) for the official
        wide = {"room": {"timeline": {"limit": 200}}}
        self._task = asyncio.create_task(self.client.sync_forever(timeout=500, sync_filter=wide))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def room(self, invite: str, *, direct: bool = False, encrypted: bool = False) -> str:
        """Create a room, invite `invite` and wait until it has joined."""
        initial = [{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]
        resp = await self.client.room_create(
            is_direct=direct, invite=[invite], initial_state=initial if encrypted else []
        )
        room_id: str = resp.room_id  # type: ignore[union-attr]

        async def joined() -> bool:
            members = await self.client.joined_members(room_id)
            return invite in {m.user_id for m in getattr(members, "members", [])}

        await eventually(joined, what=f"{invite} to join")
        await eventually(lambda: room_id in self.client.rooms and invite in self.client.rooms[room_id].users)
        return room_id

    async def say(self, room_id: str, body: str, *, mention: str | None = None, **extra: Any) -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": body, **extra}
        if mention is not None:
            content["m.mentions"] = {"user_ids": [mention]}
        resp = await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        return str(resp.event_id)  # type: ignore[union-attr]

    def replies_to(self, question_id: str) -> list[Event]:
        """Messages seen whose relation points at `question_id` (thread root or reply)."""
        found = []
        for _, event in self.events:
            rel = event.source.get("content", {}).get("m.relates_to", {})
            if rel.get("event_id") == question_id or rel.get("m.in_reply_to", {}).get("event_id") == question_id:
                found.append(event)
        return found


class TcpProxy:
    """Forwards a local port to another: started late to simulate a homeserver that comes up, stopped
    (every open connection cut) and started again to simulate an outage."""

    def __init__(self, port: int, target_port: int) -> None:
        self.port = port
        self.target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            self._writers.update((writer, up_writer))
            try:
                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
            finally:
                self._writers.difference_update((writer, up_writer))

        self._server = await asyncio.start_server(handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
