"""The `onrust` subcommands, one module each; `bot.cli` calls every module's `register(sub: Subcommands)`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from typing import TypeAlias

    # argparse keeps the class of `add_subparsers()`'s result private; typeshed types it as this generic.
    Subcommands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
