"""Console accounts in the state database: users with argon2id password hashes, sessions, sign-in failures.

Sessions and sign-in failures live in the database, not in memory, so every instance behind a load
balancer accepts a session another one created and counts the same failures. A session cookie is
stored only as its sha256; the CSRF token belongs to the session.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.sql import aware, upsert
from bot.adapters.tables import console_sessions, console_signin_failures, console_users
from bot.errors import ConfigError

__all__ = [
    "Role",
    "Session",
    "SessionStore",
    "SignInLimiter",
    "User",
    "UserStore",
    "valid_name",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def valid_name(name: str) -> bool:
    """An account name: lower-case letters, digits, `.`, `_`, `-`, `@` (an e-mail-like OIDC name); at most 64."""
    return _NAME.match(name) is not None


class Role(StrEnum):
    """What a console user may see: editors the knowledge base, the OMO team its cases; admins everything."""

    EDITOR = "editor"
    OMO = "omo"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in user; `csrf_token` must come back with every form the session posts."""

    user: User
    csrf_token: str
    expires_at: datetime


class UserStore:
    """Accounts; passwords are kept only as argon2id hashes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, name: str, role: Role, password: str, at: datetime) -> None:
        """Create an account; raises `ConfigError` for a bad name or one that exists."""
        if not valid_name(name):
            raise ConfigError(f"invalid account name {name!r}: use a-z, 0-9, '.', '_', '-', '@' (at most 64)")
        values = {"name": name, "role": role.value, "password_hash": _hasher.hash(password)}
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(console_users).values(**values, created_at=at, updated_at=at))
        except IntegrityError as exc:
            raise ConfigError(f"account {name!r} exists already") from exc

    async def provision(self, user: User, at: datetime) -> None:
        """Create an account signed in through OpenID Connect (no password), or refresh its role."""
        values = {
            "name": user.name,
            "role": user.role.value,
            "password_hash": _NO_PASSWORD,
            "created_at": at,
            "updated_at": at,
        }
        async with self._engine.begin() as conn:
            await upsert(conn, console_users, values, key=("name",), update=("role", "updated_at"))

    async def set_password(self, name: str, password: str, at: datetime) -> bool:
        """Replace the password and end the user's sessions; False if there is no such account."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(console_users)
                .where(console_users.c.name == name)
                .values(password_hash=_hasher.hash(password), updated_at=at)
            )
            await conn.execute(delete(console_sessions).where(console_sessions.c.user_name == name))
        return bool(result.rowcount)

    async def remove(self, name: str) -> bool:
        """Delete the account and its sessions; False if there is no such account."""
        async with self._engine.begin() as conn:
            await conn.execute(delete(console_sessions).where(console_sessions.c.user_name == name))
            result = await conn.execute(delete(console_users).where(console_users.c.name == name))
        return bool(result.rowcount)

    async def list(self) -> list[User]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(console_users).order_by(console_users.c.name))).mappings().all()
        return [User(r["name"], Role(r["role"]), aware(r["created_at"])) for r in rows]

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(console_users))).scalar_one())

    async def verify(self, name: str, password: str) -> User | None:
        """The user if `password` is theirs, else None (an unknown name costs as much time as a wrong password)."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(console_users).where(console_users.c.name == name))).mappings().first()
        stored = row["password_hash"] if row is not None else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        return User(row["name"], Role(row["role"]), aware(row["created_at"]))


_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
_NO_PASSWORD = "!oidc"  # not a hash: no password ever verifies against it


class SessionStore:
    """Console sessions by cookie value; expired ones are never returned and are deleted on the way."""

    def __init__(self, engine: AsyncEngine, lifetime: timedelta) -> None:
        self._engine = engine
        self._lifetime = lifetime

    async def create(self, user: User, at: datetime) -> tuple[str, Session]:
        """A new session for `user`: (the cookie value, the session)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = at + self._lifetime
        async with self._engine.begin() as conn:
            await conn.execute(delete(console_sessions).where(console_sessions.c.expires_at < at))
            await conn.execute(
                insert(console_sessions).values(
                    token_hash=_sha256(token), user_name=user.name, csrf_token=csrf, created_at=at, expires_at=expires
                )
            )
        return token, Session(user, csrf, expires)

    async def get(self, token: str, at: datetime) -> Session | None:
        query = (
            select(console_sessions.c.csrf_token, console_sessions.c.expires_at, console_users)
            .select_from(console_sessions.join(console_users, console_sessions.c.user_name == console_users.c.name))
            .where(console_sessions.c.token_hash == _sha256(token))
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None or aware(row["expires_at"]) <= at:
            return None
        user = User(row["name"], Role(row["role"]), aware(row["created_at"]))
        return Session(user, row["csrf_token"], aware(row["expires_at"]))

    async def end(self, token: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(console_sessions).where(console_sessions.c.token_hash == _sha256(token)))


class SignInLimiter:
    """At most `max_failures` failed sign-ins per user name and client address within `window`."""

    def __init__(self, engine: AsyncEngine, max_failures: int, window: timedelta) -> None:
        self._engine = engine
        self._max = max_failures
        self._window = window

    @staticmethod
    def _key(name: str, address: str) -> str:
        return _sha256(f"{name}\n{address}")

    async def blocked(self, name: str, address: str, at: datetime) -> bool:
        table = console_signin_failures
        query = (
            select(func.count())
            .select_from(table)
            .where((table.c.key == self._key(name, address)) & (table.c.at > at - self._window))
        )
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one()) >= self._max

    async def failed(self, name: str, address: str, at: datetime) -> None:
        table = console_signin_failures
        async with self._engine.begin() as conn:
            await conn.execute(delete(table).where(table.c.at <= at - self._window))
            await conn.execute(insert(table).values(key=self._key(name, address), at=at))

    async def succeeded(self, name: str, address: str) -> None:
        table = console_signin_failures
        async with self._engine.begin() as conn:
            await conn.execute(delete(table).where(table.c.key == self._key(name, address)))
