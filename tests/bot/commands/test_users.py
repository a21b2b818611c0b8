"""`onrust users`: add, list, passwd, remove, with Dutch-free operator errors and an audit trail."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.adapters.accounts import UserStore
from bot.adapters.console_store import AuditLog
from bot.adapters.db import create_engine
from bot.cli import main

pytestmark = pytest.mark.integration


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--data-dir", str(tmp_path), "users", *argv])


def test_users_lifecycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, monkeypatch, "list") == 0
    assert "console is off" in capsys.readouterr().out
    pw = "een-lang-wachtwoord\n"
    assert run(tmp_path, monkeypatch, "add", "eva", "--role", "editor", "--password-stdin", stdin=pw) == 0
    assert run(tmp_path, monkeypatch, "add", "eva", "--role", "omo", "--password-stdin", stdin=pw) == 2
    assert "exists already" in capsys.readouterr().err
    assert run(tmp_path, monkeypatch, "add", "kort", "--role", "omo", "--password-stdin", stdin="kort\n") == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert run(tmp_path, monkeypatch, "list") == 0
    assert capsys.readouterr().out.split()[:2] == ["eva", "editor"]
    assert run(tmp_path, monkeypatch, "passwd", "eva", "--password-stdin", stdin="nog-een-wachtwoord\n") == 0
    assert run(tmp_path, monkeypatch, "passwd", "piet", "--password-stdin", stdin="nog-een-wachtwoord\n") == 2

    async def check() -> tuple[bool, list[str]]:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}")
        try:
            verified = await UserStore(engine).verify("eva", "nog-een-wachtwoord") is not None
            return verified, [e.action for e in await AuditLog(engine).entries()]
        finally:
            await engine.dispose()

    assert asyncio.run(check()) == (True, ["user_passwd", "user_add"])
    assert run(tmp_path, monkeypatch, "remove", "eva") == 0
    assert run(tmp_path, monkeypatch, "remove", "eva") == 2
    assert "no account 'eva'" in capsys.readouterr().err


def test_the_roles_offered_on_the_command_line_are_the_stores_roles() -> None:
    from bot.adapters.accounts import Role
    from bot.commands.users import ROLES

    assert tuple(r.value for r in Role) == ROLES
