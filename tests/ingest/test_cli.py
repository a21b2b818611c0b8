"""`onrust ingest` through the command line: JSON report, exit codes, a corrupt file among good ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_corrupt_pdf_among_good_files_exits_1_and_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "goed.md").write_text("# Goed\n\nDe burgemeester kan een noodverordening vaststellen.\n", "utf-8")
    (folder / "ook-goed.txt").write_text("Leerkringen helpen gemeenten kennis te delen.\n", "utf-8")
    (folder / "kapot.pdf").write_bytes(b"%PDF-1.4\n%garbage, cut off here")
    code = main(["-q", "--data-dir", str(tmp_path / "data"), "ingest", str(folder), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert set(report) == {"added", "updated", "unchanged", "removed", "chunks", "failed"}
    assert report["added"] == 2 and report["chunks"] >= 2
    assert [f["source"] for f in report["failed"]] == ["docs/kapot.pdf"]
    assert report["failed"][0]["error"]


def test_second_run_is_unchanged_and_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nHet OMO geeft advies op maat aan gemeenten.\n", "utf-8")
    args = ["-q", "--data-dir", str(tmp_path / "data"), "ingest", str(folder)]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    assert "0 added, 0 updated, 1 unchanged" in capsys.readouterr().out


def test_bad_config_is_a_clear_operator_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "onrust.toml"
    config.write_text('[retrieval]\nmode = "telepathy"\n', "utf-8")
    assert main(["--config", str(config), "ingest", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "retrieval.mode" in err and "Traceback" not in err
