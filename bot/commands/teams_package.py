"""`onrust teams-package`: build the Teams app package (manifest.json plus icons, zipped) for upload to Teams.

The manifest comes from `deploy/teams/manifest.template.json` (schema v1.30; operators may edit the
developer name and URLs there). The bot id and the app id are `teams.app_id`, the bot's Microsoft
Entra app id, which must be a GUID.
"""

from __future__ import annotations

import argparse
import json
import uuid
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.commands import Subcommands
    from bot.config import Settings
    from bot.core.json_types import JsonObject

__all__ = ["DEPLOY_DIR", "PACKAGE_NAME", "build_manifest", "build_package", "register"]

DEPLOY_DIR = Path(__file__).resolve().parent.parent.parent / "deploy" / "teams"
PACKAGE_NAME = "onrust-assistent-teams.zip"
_ICONS = ("color.png", "outline.png")


def register(sub: Subcommands) -> None:
    parser = sub.add_parser(
        "teams-package",
        help="build the Teams app package (zip) to upload in Teams or the Teams admin center",
        description="Write manifest.json (schema v1.30) with teams.app_id as the bot id, and the icons, "
        f"into {PACKAGE_NAME}.",
    )
    parser.add_argument("--out", type=Path, default=Path("."), help="directory for the zip (default: .)")
    parser.add_argument("--app-version", default=None, help="the app's semver version (default: the template's)")
    parser.set_defaults(handler=run_teams_package)


def _guid(app_id: str | None) -> str:
    if not app_id:
        raise ConfigError(
            "teams.app_id is not set: put the bot's Microsoft Entra app id (a GUID) in onrust.toml "
            "or ONRUST_TEAMS__APP_ID"
        )
    try:
        return str(uuid.UUID(app_id.strip()))
    except ValueError:
        raise ConfigError(
            f"teams.app_id must be the bot's Microsoft Entra app id, a GUID like "
            f"00000000-0000-0000-0000-000000000000; got {app_id!r}"
        ) from None


def build_manifest(app_id: str | None, app_version: str | None = None, template_dir: Path = DEPLOY_DIR) -> JsonObject:
    """The manifest for this bot; raises `ConfigError` when `app_id` is missing or not a GUID."""
    guid = _guid(app_id)
    manifest: JsonObject = json.loads((template_dir / "manifest.template.json").read_text(encoding="utf-8"))
    manifest["id"] = guid
    bots = manifest.get("bots")
    for bot in bots if isinstance(bots, list) else []:
        bot["botId"] = guid
    if app_version:
        manifest["version"] = app_version
    return manifest


def build_package(
    app_id: str | None, out_dir: Path, app_version: str | None = None, template_dir: Path = DEPLOY_DIR
) -> Path:
    """Write the zip (manifest.json and the two icons at its root) and return its path."""
    manifest = build_manifest(app_id, app_version, template_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / PACKAGE_NAME
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for icon in _ICONS:
            archive.write(template_dir / icon, icon)
    return target


async def run_teams_package(args: argparse.Namespace, settings: Settings) -> int:
    path = build_package(settings.teams.app_id, args.out, args.app_version)
    print(f"Teams app package written to {path}")
    return 0
