"""`onrust teams-package`: the zip holds a manifest valid against the vendored v1.30 schema, and both icons."""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from bot.commands.teams_package import DEPLOY_DIR, build_manifest, build_package, register
from bot.config import load_settings
from bot.errors import ConfigError

pytestmark = [pytest.mark.unit]

SCHEMA = Path(__file__).resolve().parents[2] / "fixtures" / "teams" / "MicrosoftTeams.v1.30.schema.json"
APP_ID = "5F0E2B8C-3D4A-4E6F-9A1B-2C3D4E5F6A7B"


def _validate(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest))
    assert errors == []


def test_package_has_a_valid_manifest_and_the_icons(tmp_path: Path) -> None:
    path = build_package(APP_ID, tmp_path / "out", app_version="1.2.3")
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        (tmp_path / "color.png").write_bytes(archive.read("color.png"))
        (tmp_path / "outline.png").write_bytes(archive.read("outline.png"))
    _validate(manifest)
    assert manifest["manifestVersion"] == "1.30"
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID.lower()
    assert manifest["version"] == "1.2.3"
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    with Image.open(tmp_path / "color.png") as color:
        assert color.size == (192, 192)
    with Image.open(tmp_path / "outline.png") as outline:
        assert outline.size == (32, 32)
        pixels = {outline.convert("RGBA").getpixel((x, y)) for x in range(32) for y in range(32)}
    assert {p[3] for p in pixels} >= {0}  # transparent background
    assert all(p[:3] == (255, 255, 255) for p in pixels if p[3] > 0)  # white outline


def test_template_is_valid_as_shipped() -> None:
    _validate(json.loads((DEPLOY_DIR / "manifest.template.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize("app_id", [None, "", "my-bot", "28:5f0e2b8c"])
def test_app_id_must_be_a_guid(app_id: str | None, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GUID"):
        build_manifest(app_id)
    with pytest.raises(ConfigError, match="GUID"):
        build_package(app_id, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-written for the operator to upload by mistake


async def test_command_writes_the_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["teams-package", "--out", str(tmp_path / "pkg")])
    settings = load_settings(None, environ={"ONRUST_TEAMS__APP_ID": APP_ID})
    assert await args.handler(args, settings) == 0
    assert (tmp_path / "pkg" / "onrust-assistent-teams.zip").is_file()
    assert "written to" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="GUID"):
        await args.handler(args, load_settings(None, environ={"ONRUST_TEAMS__APP_ID": "not-a-guid"}))
