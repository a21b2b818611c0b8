"""deploy/compose.yaml and the Dockerfile, checked without Docker: replicas can scale, and every ONRUST_*
variable they set is a real setting that loads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from bot.config import Settings, load_settings

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SPECIAL = {"ONRUST_CONFIG"}  # read by load_settings itself: which file to load


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def dockerfile_env() -> dict[str, str]:
    text = (DEPLOY / "Dockerfile").read_text()
    block = re.search(r"^ENV (.*?)(?<!\\)$", text, re.M | re.S)
    assert block is not None
    return dict(re.findall(r"(\w+)=(\S+)", block.group(1)))


def interpolate(value: str) -> str:
    """Compose's `${NAME:?message}` and `${NAME:-default}` as a deployment without those variables sees them."""
    return re.sub(r"\$\{(\w+)(?::\?[^}]*|:-([^}]*))?\}", lambda m: m.group(2) or f"x-{m.group(1).lower()}", value)


def setting_path(variable: str) -> list[str]:
    """The field names an `ONRUST_A__B` variable sets; fails if one is not in the settings model."""
    model: type[BaseModel] = Settings
    path = variable.removeprefix("ONRUST_").lower().split("__")
    for i, name in enumerate(path):
        assert name in model.model_fields, f"{variable}: no setting {'.'.join(path[: i + 1])}"
        annotation = model.model_fields[name].annotation
        if i < len(path) - 1:
            assert isinstance(annotation, type) and issubclass(annotation, BaseModel), f"{variable}: not a section"
            model = annotation
    return path


def test_every_onrust_variable_is_a_setting_that_loads(compose: dict[str, Any]) -> None:
    env = {
        **dockerfile_env(),
        **{k: interpolate(str(v)) for k, v in compose["services"]["onrust"]["environment"].items()},
    }
    variables = {k: v for k, v in env.items() if k.startswith("ONRUST_") and k not in SPECIAL}
    assert len(variables) >= 6
    for variable in variables:
        setting_path(variable)
    settings = load_settings(environ=variables)
    assert settings.store.chroma_url == "http://chroma:8000"
    assert settings.database_url.startswith("postgresql+asyncpg://onrust:x-postgres_password@postgres:5432/")
    assert str(settings.data_dir) == "/data" and settings.teams.host == "0.0.0.0"
    with pytest.raises(AssertionError):
        setting_path("ONRUST_STATE__NO_SUCH_KEY")  # the check itself can fail


def test_the_bot_scales_to_several_replicas(compose: dict[str, Any]) -> None:
    services = compose["services"]
    bot = services["onrust"]
    assert "container_name" not in bot
    for port in bot.get("ports", []):  # a published port must leave the host side to Docker
        assert re.fullmatch(r"(\d+\.\d+\.\d+\.\d+::)?\d+", str(port)), f"fixed host port {port}"
    data_dir = dockerfile_env()["ONRUST_DATA_DIR"]
    mounts = [str(v) for v in bot.get("volumes", [])]
    shared = [m for m in mounts if m.split(":")[1:2] == [data_dir]]
    assert shared == [], f"{data_dir} is shared by every replica: {shared}"
    assert data_dir in mounts  # one anonymous volume per replica
    for dependency in ("chroma", "postgres"):
        assert bot["depends_on"][dependency]["condition"] == "service_healthy"
        assert services[dependency]["healthcheck"]["test"]


def test_the_image_health_check_allows_for_start_up() -> None:
    check = re.search(r"^HEALTHCHECK (.*)$", (DEPLOY / "Dockerfile").read_text(), re.M)
    assert check is not None
    assert re.search(r"--start-period=\d+s", check.group(1))
