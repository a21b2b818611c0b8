"""`onrust users add|passwd|remove|list`: the web console's local accounts.

A password is asked for twice on the terminal, or read from standard input with `--password-stdin`
(one line, for scripts). Every change is written to the console's audit trail with actor `cli`. The
stores are imported by the handlers, so `onrust --help` does not load them.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bot.core.clock import utc
from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.adapters.accounts import UserStore
    from bot.adapters.console_store import AuditLog
    from bot.commands import Subcommands
    from bot.config import Settings

__all__ = ["register"]

MIN_PASSWORD_CHARS = 12
ROLES = ("editor", "omo", "admin")  # bot.adapters.accounts.Role, named here so --help loads no store


def register(sub: Subcommands) -> None:
    parser = sub.add_parser(
        "users",
        help="manage web console accounts",
        description="Local accounts for the web console under /console. The console is off until one exists.",
    )
    commands = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = commands.add_parser("add", help="create an account")
    add.add_argument("name", help="account name: a-z, 0-9, '.', '_', '-'")
    add.add_argument("--role", required=True, choices=ROLES, help="what the account may see")
    add.set_defaults(handler=_add)
    passwd = commands.add_parser("passwd", help="set a new password (ends the account's sessions)")
    passwd.add_argument("name")
    passwd.set_defaults(handler=_passwd)
    for cmd in (add, passwd):
        cmd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    remove = commands.add_parser("remove", help="delete an account and its sessions")
    remove.add_argument("name")
    remove.set_defaults(handler=_remove)
    listing = commands.add_parser("list", help="every account with its role")
    listing.set_defaults(handler=_list)


@asynccontextmanager
async def _stores(settings: Settings) -> AsyncIterator[tuple[UserStore, AuditLog]]:
    from bot.adapters.accounts import UserStore
    from bot.adapters.console_store import AuditLog
    from bot.adapters.db import create_engine, migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url, statement_timeout_s=settings.state.statement_timeout_s)
    try:
        await migrate(engine)
        yield UserStore(engine), AuditLog(engine)
    finally:
        await engine.dispose()


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the passwords differ")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ConfigError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    return password


async def _add(args: argparse.Namespace, settings: Settings) -> int:
    password = _password(args)
    now = utc()
    async with _stores(settings) as (users, audit):
        from bot.adapters.accounts import Role

        await users.add(args.name, Role(args.role), password, now)
        await audit.record("cli", "user_add", now, target=args.name, detail=args.role)
    print(f"added {args.name} ({args.role})")
    return 0


async def _passwd(args: argparse.Namespace, settings: Settings) -> int:
    password = _password(args)
    now = utc()
    async with _stores(settings) as (users, audit):
        if not await users.set_password(args.name, password, now):
            raise ConfigError(f"no account {args.name!r}")
        await audit.record("cli", "user_passwd", now, target=args.name)
    print(f"password of {args.name} changed; its sessions have ended")
    return 0


async def _remove(args: argparse.Namespace, settings: Settings) -> int:
    now = utc()
    async with _stores(settings) as (users, audit):
        if not await users.remove(args.name):
            raise ConfigError(f"no account {args.name!r}")
        await audit.record("cli", "user_remove", now, target=args.name)
    print(f"removed {args.name}")
    return 0


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    async with _stores(settings) as (users, _audit):
        found = await users.list()
    for user in found:
        print(f"{user.name:<24} {user.role.value:<7} since {user.created_at:%Y-%m-%d}")
    if not found:
        print("no accounts: the console is off (add one with: onrust users add NAME --role editor|omo|admin)")
    return 0
