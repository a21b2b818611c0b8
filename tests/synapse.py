"""A throw-away Synapse homeserver for integration tests: loopback only, SQLite, rate limits off.

Synapse lives in its own virtual environment, `<repo>/.venv-synapse` (`make synapse`). `start()`
raises if it cannot come up; it never skips.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["REPO_ROOT", "Synapse", "free_port"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_NAME = "localhost"

_FAST = {"per_second": 10_000, "burst_count": 100_000}
_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _FAST,
    "rc_registration": _FAST,
    "rc_registration_token_validity": _FAST,
    "rc_login": {"address": _FAST, "account": _FAST, "failed_attempts": _FAST},
    "rc_admin_redaction": _FAST,
    "rc_joins": {"local": _FAST, "remote": _FAST},
    "rc_joins_per_room": _FAST,
    "rc_3pid_validation": _FAST,
    "rc_invites": {"per_room": _FAST, "per_user": _FAST, "per_issuer": _FAST},
    "rc_third_party_invite": _FAST,
    "rc_media_create": _FAST,
    "rc_federation": {"window_size": 1000, "sleep_limit": 1000, "sleep_delay": 1, "reject_limit": 1000},
    "rc_room_creation": _FAST,
    "rc_reports": _FAST,
    "rc_delayed_event_mgmt": _FAST,
    "rc_presence": {"per_user": _FAST},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Synapse:
    """One Synapse process; `url` is its client API, users are registered with `register`."""

    def __init__(self, python: Path | None = None) -> None:
        self.python = python or REPO_ROOT / ".venv-synapse" / "bin" / "python"
        base = "/dev/shm" if Path("/dev/shm").is_dir() else None
        self.dir = Path(tempfile.mkdtemp(prefix="onrust-synapse-", dir=base))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = os.urandom(16).hex()
        self.server_name = SERVER_NAME
        self._proc: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> Path:
        if not self.python.exists():
            raise RuntimeError(f"Synapse is not installed: {self.python} missing (run `make synapse`)")
        key_path = self.dir / "signing.key"
        subprocess.run(
            [
                str(self.python),
                "-c",
                "import sys; from signedjson.key import generate_signing_key, write_signing_keys;"
                "write_signing_keys(open(sys.argv[1], 'w'), [generate_signing_key('a_test')])",
                str(key_path),
            ],
            check=True,
            timeout=60,
        )
        log_config = self.dir / "log.yaml"
        log_config.write_text(
            json.dumps(
                {
                    "version": 1,
                    "formatters": {"f": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
                    "handlers": {
                        "file": {"class": "logging.FileHandler", "formatter": "f", "filename": str(self.dir / "hs.log")}
                    },
                    "root": {"level": "WARNING", "handlers": ["file"]},
                    "disable_existing_loggers": False,
                }
            )
        )
        config = {
            "server_name": self.server_name,
            "pid_file": str(self.dir / "hs.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(self.dir / "homeserver.db")}},
            "log_config": str(log_config),
            "media_store_path": str(self.dir / "media"),
            "signing_key_path": str(key_path),
            "report_stats": False,
            "registration_shared_secret": self.secret,
            "enable_registration": False,
            "bcrypt_rounds": 4,
            "presence": {"enabled": False},
            "federation_domain_whitelist": [],
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "enable_metrics": False,
            **_RATE_LIMITS,
        }
        path = self.dir / "homeserver.yaml"
        path.write_text(json.dumps(config))  # JSON is YAML
        return path

    def start(self, timeout_s: float = 60.0) -> None:
        """Start Synapse and wait until the client API answers; raise `RuntimeError` if it does not."""
        config = self._write_config()
        out = open(self.dir / "stdout.log", "wb")  # noqa: SIM115 - lives as long as the process
        self._proc = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", str(config)],
            cwd=self.dir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"Synapse exited with {self._proc.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Synapse did not answer within {timeout_s} s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        text = ""
        for name in ("stdout.log", "hs.log"):
            path = self.dir / name
            if path.exists():
                text += path.read_text(errors="replace")[-3000:]
        return text

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        self._proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        method = "GET" if body is None else "POST"
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def register(self, localpart: str, password: str = "wachtwoord", admin: bool = False) -> str:
        """Register a user through the shared-secret admin API; returns the user id."""
        nonce = self._post("/_synapse/admin/v1/register")["nonce"]
        parts = (nonce, localpart, password, "admin" if admin else "notadmin")
        mac = hmac.new(self.secret.encode(), b"\x00".join(p.encode() for p in parts), hashlib.sha1)
        body = {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()}
        return str(self._post("/_synapse/admin/v1/register", body)["user_id"])
