"""`onrust serve` as an operator runs it: a real process that serves /healthz and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.synapse import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_serve_starts_reports_health_and_stops_on_sigterm(tmp_path: Path, shipped_data_dir: Path) -> None:
    data_dir = shipped_data_dir
    port = free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "ONRUST_TEAMS__ENABLED": "true",
        "ONRUST_TEAMS__ALLOW_ANONYMOUS": "true",
    }
    cmd = [sys.executable, "-m", "bot.cli", "--data-dir", str(data_dir), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    health = json.load(resp)
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "onrust serve did not come up"
                time.sleep(0.2)
        assert health == {"ok": True, "channels": {"teams": "running"}}
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert "allow_anonymous" in err or "anonymous" in err.lower()  # the operator is warned
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
