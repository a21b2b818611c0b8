"""The `onrust` command: global options, logging, and one subcommand per module that registers itself.

Each command module exposes `register(subparsers)`, adding a parser whose `handler` default is an
async function `(args, settings) -> int` (the exit code). Building the parser imports every command
module, so those import only what their parsers need; each handler imports the rest when it runs
(`onrust --help` and `--version` take a fraction of a second, `onrust ingest` loads no chat SDK).

Operator-facing errors (`BotError`) end the command with a one-line English message and exit code 2;
user-facing text comes from `prompts/`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from typing import NoReturn

from bot import __version__
from bot.errors import BotError
from bot.logs import configure_logging

__all__ = ["main", "run"]

log = logging.getLogger("onrust")

# Modules that add subcommands, in the order `--help` lists them.
COMMAND_MODULES = (
    "ingest.cli",
    "bot.commands.answer",
    "bot.commands.serve",
    "bot.commands.teams_package",
    "bot.commands.digest",
    "bot.commands.escalations",
    "bot.commands.users",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onrust",
        description=(
            "Onrust-assistent: cited Dutch answers from the knowledge base on maatschappelijke onrust, "
            "in Matrix and Microsoft Teams, with escalation to the VNG's OMO team."
        ),
        epilog="Settings come from onrust.toml (or --config) and ONRUST_* environment variables; "
        "see deploy/onrust.example.toml.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", type=Path, help="TOML settings file (default: $ONRUST_CONFIG or ./onrust.toml)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where the vector store and all state live (env ONRUST_DATA_DIR; default ./.onrust)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code."""
    return _run(argv)[0]


def run() -> NoReturn:
    """The `onrust` console script.

    A command that sets `quick_exit` (it closes everything it opened before it returns, and writes nothing
    after) ends without the interpreter's teardown: freeing the ~1,500 modules an answer imports takes about
    0.4 s, a fifth of `onrust ask`. Output piped into a reader that stops early ends with exit code 141, no
    traceback.
    """
    try:
        code, quick = _run(None)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`onrust eval | head`): stop quietly, as other Unix tools do. What is still
        # buffered goes nowhere, so the interpreter's last flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code, quick = 141, False
    if quick:
        sys.stderr.flush()
        logging.shutdown()
        os._exit(code)
    sys.exit(code)


def _run(argv: Sequence[str] | None) -> tuple[int, bool]:
    parser = build_parser()
    args = parser.parse_args(argv)
    from bot.config import load_settings  # pydantic-settings: not needed for --help or --version

    try:
        settings = load_settings(args.config, data_dir=args.data_dir)
    except BotError as exc:
        print(f"onrust: {exc}", file=sys.stderr)
        return 2, False
    # `ask` and `chat` talk to a person in the terminal: log lines there only when asked for with -v.
    terminal = getattr(args, "terminal", False)
    level = "DEBUG" if args.verbose else "WARNING" if args.quiet or terminal else settings.log_level
    configure_logging(level, sys.stderr)
    try:
        return int(asyncio.run(args.handler(args, settings))), getattr(args, "quick_exit", False)
    except BotError as exc:
        log.debug("command failed", exc_info=True)
        print(f"onrust: {exc}", file=sys.stderr)
        return 2, False
    except KeyboardInterrupt:
        return 130, False


if __name__ == "__main__":
    run()
