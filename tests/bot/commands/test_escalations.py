"""`onrust escalations list|show|purge` on a state database with cases."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.cases import SqlCaseStore
from bot.adapters.db import create_engine, migrate
from bot.cli import main
from bot.core.escalation import Attachment, CaseRequest, Close, Requester

pytestmark = pytest.mark.integration


async def seed(data_dir: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{data_dir / 'state.db'}")
    await migrate(engine)
    store = SqlCaseStore(engine)
    old = datetime.now(UTC) - timedelta(days=400)
    for _ in range(2):
        await store.create(
            CaseRequest("Utrecht", "online", "normaal", "Geheime beschrijving.", "06-1"),
            Requester("matrix", "@a:x", "A", "!dm", "!dm"),
            Attachment(),
            None,
            old,
            lambda case: [],
        )
    await store.apply(next(iter(await store.list_cases())).ref, Close("@omo:x", None, old), lambda b, a: [])
    await engine.dispose()


async def test_list_show_purge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    await seed(data)
    year = (datetime.now(UTC) - timedelta(days=400)).year
    ref = f"OMO-{year}-0001"

    async def cli(*args: str) -> int:
        return await asyncio.to_thread(main, ["--data-dir", str(data), *args])

    assert await cli("escalations", "list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["state"] for r in rows] == ["closed", "new"]
    assert "Geheime" not in json.dumps(rows)
    assert await cli("escalations", "show", ref.lower()) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["description"] == "Geheime beschrijving." and [a["event"] for a in shown["audit"]] == [
        "create",
        "close",
    ]
    assert await cli("escalations", "show", "OMO-1999-0001") == 2
    assert await cli("escalations", "purge", "--older-than", "365d") == 0
    assert "purged 1" in capsys.readouterr().out
    assert await cli("escalations", "list", "--json") == 0
    assert [r["state"] for r in json.loads(capsys.readouterr().out)] == ["new"]
