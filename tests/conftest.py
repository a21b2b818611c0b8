"""Fixtures shared by the whole test suite: a Synapse homeserver, a PostgreSQL server, state databases, the
shipped corpus ingested."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.db import create_engine, migrate
from tests.synapse import Synapse

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def _shipped_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`knowledge/` ingested once per test run through the command line (its embedding takes over two minutes)."""
    from bot.cli import main

    path = tmp_path_factory.mktemp("shipped") / "data"
    assert main(["-q", "--data-dir", str(path), "ingest", str(REPO / "knowledge")]) == 0
    return path


@pytest.fixture(scope="module")
def shipped_data_dir(_shipped_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the ingested shipped corpus, a copy per test module: its answers and state stay its own."""
    target = tmp_path_factory.mktemp("data") / "shipped"
    shutil.copytree(_shipped_store, target)
    return target


@pytest.fixture(scope="session")
def synapse() -> Iterator[Synapse]:
    """A real Synapse on loopback for the whole session (fails, never skips, if it cannot start)."""
    server = Synapse()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- PostgreSQL: one real server per session, one fresh database per test ------------------------


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL server on 127.0.0.1; `new_database()` gives an asyncpg URL to an empty database.

    `stop()` and `start()` take it down and bring it back on the same port (a database outage).
    """

    port: int
    bin_dir: Path
    socket_dir: Path
    user: str
    data_dir: Path
    log: Path

    def _psql(self, sql: str) -> None:
        cmd = [str(self.bin_dir / "psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", self.user]
        subprocess.run([*cmd, "-d", "postgres", "-qc", sql], check=True, capture_output=True, timeout=30)

    def new_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._psql(f"CREATE DATABASE {name}")
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{name}"

    def _pg_ctl(self, *args: str) -> None:
        _run([*_as_postgres_user(), str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args])

    def start(self) -> None:
        opts = f"-k {self.socket_dir} -h 127.0.0.1 -p {self.port} -F -c max_connections=200"
        self._pg_ctl("-o", opts, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        """Stop at once, dropping every connection (as a crash or a network cut would)."""
        self._pg_ctl("-m", "immediate", "-w", "stop")


def _as_postgres_user() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` OS user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    """initdb and start a server in a fresh directory (fsync off, trust auth on loopback); fails, never skips."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL is not installed (make postgres installs it)")
    bin_dir = Path(found[-1]).parent
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    root = Path(tempfile.mkdtemp(prefix="onrust-pg-", dir=base))
    sock = root / "sock"
    sock.mkdir()
    prefix = _as_postgres_user()
    if prefix:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Postgres(port, bin_dir, sock, "onrust", root / "data", root / "log")
    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", server.user]
        _run([*prefix, *initdb, "-A", "trust", "-E", "UTF8", "--no-sync"])
        server.start()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log_text = server.log.read_text() if server.log.exists() else ""
        stderr = getattr(exc, "stderr", b"") or b""
        pytest.fail(f"PostgreSQL did not start: {exc}\n{stderr.decode(errors='replace')}\n{log_text}")
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def chroma_server(path: Path, timeout_s: float = 30) -> Iterator[tuple[str, int]]:
    """A real `chroma run` serving `path` on loopback; yields its URL and process id. Fails if it does not come up."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = Path(sys.executable).with_name("chroma")
    cmd = [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma server did not start (exit code {proc.poll()})") from None
                time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL for the session, shared by every test (each gets its own database)."""
    with postgres_server() as server:
        yield server


@pytest.fixture
def own_postgres() -> Iterator[Postgres]:
    """A real PostgreSQL for one test, which may stop and start it."""
    with postgres_server() as server:
        yield server


@contextlib.asynccontextmanager
async def _migrated(url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(url)
    await migrate(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


def _state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite in tmp_path, or a fresh database on the session's PostgreSQL, as the fixture's param says."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres").new_database())


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated state database: SQLite in tmp_path, or a fresh database on the session's PostgreSQL."""
    async with _migrated(_state_url(request, tmp_path)) as eng:
        yield eng


@pytest.fixture(params=["sqlite", "postgresql"])
async def unmigrated_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty state database (no schema yet), for tests of one migration: they migrate to its parent first."""
    eng = create_engine(_state_url(request, tmp_path))
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite state database in tmp_path, for tests about something else than the database."""
    async with _migrated(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}") as eng:
        yield eng
