"""The `onrust` command line: every subcommand's help, and which libraries a command loads when it starts.

Which modules are loaded is checked in a fresh interpreter (`sys.modules` of this test process holds
everything the other tests imported). How fast the commands start is measured in `bench/startup.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

# Top-level packages of the chat side: the Matrix and Teams SDKs, the aiohttp server and the scheduler.
CHAT_SIDE = ("nio", "microsoft_agents", "aiohttp.web", "apscheduler", "bot.app", "bot.channels")


def _loaded_after(code: str, tmp_path: Path) -> list[str]:
    """The modules loaded after running `code` in a fresh interpreter, from the worktree's own packages."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "ONRUST_DATA_DIR": str(tmp_path / "data")},
        timeout=120,
    )
    modules: list[str] = json.loads(done.stdout.splitlines()[-1])
    return modules


def _of(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


@pytest.mark.unit
def test_help_loads_neither_a_chat_sdk_nor_the_store_nor_the_settings(tmp_path: Path) -> None:
    modules = _loaded_after("from bot.cli import build_parser\nbuild_parser()", tmp_path)
    assert "ingest.cli" in modules and "bot.commands.serve" in modules  # every command registered itself
    assert _of(modules, (*CHAT_SIDE, "aiohttp", "chromadb", "sqlalchemy", "pydantic_settings")) == []


@pytest.mark.integration
def test_ingest_runs_without_loading_a_chat_sdk(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\nHet OMO geeft advies op maat aan gemeenten.\n", "utf-8")
    code = f"from bot.cli import main\nassert main(['-q', 'ingest', {str(tmp_path / 'docs')!r}, '--json']) == 0"
    modules = _loaded_after(code, tmp_path)
    assert "ingest.pipeline" in modules and "chromadb" in modules  # it did run
    assert _of(modules, CHAT_SIDE) == []


COMMANDS = {
    "ingest": "Index Markdown",
    "ask": "Answer one Dutch question",
    "chat": "Ask questions one after another",
    "eval": "Run every question of a JSONL file",
    "serve": "Run the bot",
    "teams-package": "Write manifest.json",
    "digest": "The daily digest",
    "digest preview": "Print the messages a room would get",
    "digest send-now": "Queue the digest in the outbox now",
    "escalations": "every case, open and closed",
}


@pytest.mark.unit
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command.split(), "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: onrust {command}")
    assert COMMANDS[command] in " ".join(out.split())


@pytest.mark.unit
def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("ingest", "ask", "chat", "eval", "serve", "teams-package", "digest", "escalations"):
        assert f"    {command}" in out


@pytest.mark.integration
def test_output_into_a_reader_that_stopped_ends_quietly(tmp_path: Path) -> None:
    """`onrust ingest --json | head -0`: the pipe is closed before the report is written; exit 141, no traceback."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\nHet OMO geeft advies op maat aan gemeenten.\n", "utf-8")
    child = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "-q", "--data-dir", str(tmp_path / "data"), "ingest", str(tmp_path / "docs")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
        env={"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"},
    )
    assert child.stdout is not None
    child.stdout.close()  # the reader is gone before the command has written anything
    _, errors = child.communicate(timeout=120)
    assert child.returncode == 141
    assert b"Traceback" not in errors and b"BrokenPipe" not in errors
