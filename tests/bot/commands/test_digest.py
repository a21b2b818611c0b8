"""`onrust digest preview` and `onrust digest send-now` on a real data dir."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.db import create_engine, migrate
from bot.adapters.digest_store import OUTBOX_KIND, DigestStore
from bot.adapters.outbox import decode_reply
from bot.adapters.state import IngestLog
from bot.adapters.tables import outbox
from bot.cli import main
from bot.core.digest import Audience
from bot.core.models import Access, IngestAction, IngestEvent

pytestmark = pytest.mark.integration


def _seed(data_dir: Path) -> None:
    async def seed() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{(data_dir / 'state.db').resolve()}")
        await migrate(engine)
        now = datetime.now(UTC)
        await DigestStore(engine).subscribe("teams", "19:room", None, Audience(), now - timedelta(days=3))
        await IngestLog(engine).append(
            [
                IngestEvent(
                    "r",
                    now - timedelta(hours=1),
                    IngestAction.ADDED,
                    "mia",
                    "MIA",
                    "https://kb/mia",
                    access=Access.OPENBAAR,
                )
            ]
        )
        await engine.dispose()

    data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(seed())


def _queued(data_dir: Path) -> list[tuple[str, str, str]]:
    async def read() -> list[tuple[str, str, str]]:
        engine = create_engine(f"sqlite+aiosqlite:///{(data_dir / 'state.db').resolve()}")
        async with engine.connect() as conn:
            rows = (await conn.execute(select(outbox).where(outbox.c.kind == OUTBOX_KIND))).all()
        await engine.dispose()
        return [(r.channel, r.conversation_id, decode_reply(r.payload).text) for r in rows]

    return asyncio.run(read())


def test_preview_prints_and_sends_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(tmp_path)
    assert main(["--data-dir", str(tmp_path), "-q", "digest", "preview", "--room", "19:room"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Goedemorgen!") and "- MIA — https://kb/mia" in out
    assert _queued(tmp_path) == []
    # a room without a subscription: the last day, with a note
    assert main(["--data-dir", str(tmp_path), "-q", "digest", "preview", "--room", "!other:x"]) == 0
    captured = capsys.readouterr()
    assert "not subscribed" in captured.err and "MIA" in captured.out


def test_send_now_queues_in_the_outbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(tmp_path)
    assert main(["--data-dir", str(tmp_path), "-q", "digest", "send-now", "--room", "!nope:x"]) == 1
    assert main(["--data-dir", str(tmp_path), "-q", "digest", "send-now"]) == 0
    assert "queued 1 digest(s)" in capsys.readouterr().out
    ((channel, conversation, text),) = _queued(tmp_path)
    assert (channel, conversation) == ("teams", "19:room") and "MIA" in text
