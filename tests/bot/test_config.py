"""Settings: TOML file, ONRUST_* environment, precedence, clear errors, and the documented example."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config import Settings, load_settings
from bot.errors import ConfigError

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "onrust.example.toml"


def test_every_key_is_documented_in_the_example() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    sections = re.split(r"^\[(\w+)\]\s*$", text, flags=re.MULTILINE)
    documented = {"": sections[0], **dict(zip(sections[1::2], sections[2::2], strict=True))}
    missing = []
    for name, field in Settings.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            body = documented.get(name, "")
            missing += [f"{name}.{key}" for key in model.model_fields if not re.search(rf"^#? ?{key} =", body, re.M)]
        elif not re.search(rf"^#? ?{name} =", documented[""], re.M):
            missing.append(name)
    assert missing == []


def test_the_example_is_valid_and_matches_the_defaults() -> None:
    tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    from_example = load_settings(EXAMPLE, environ={})
    assert from_example.model_dump() == load_settings(environ={}).model_dump()


def test_environment_wins_over_the_file_and_options_over_both(tmp_path: Path) -> None:
    config = tmp_path / "onrust.toml"
    config.write_text('data_dir = "/from/file"\n[matrix]\nhomeserver = "https://file"\nallowed_users = ["@a:x"]\n')
    env = {"ONRUST_MATRIX__HOMESERVER": "https://env", "ONRUST_RETRIEVAL__TOP_K": "7"}
    settings = load_settings(config, environ=env)
    assert settings.matrix.homeserver == "https://env"
    assert settings.matrix.allowed_users == ["@a:x"]
    assert settings.retrieval.top_k == 7
    assert settings.data_dir == Path("/from/file")
    assert load_settings(config, environ=env, data_dir=Path("/cli")).data_dir == Path("/cli")


def test_config_file_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "elders.toml"
    config.write_text("[answer]\nmax_sentences = 2\n")
    assert load_settings(environ={"ONRUST_CONFIG": str(config)}).answer.max_sentences == 2


def test_errors_name_the_key_and_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match=r"retrieval\.top_k"):
        load_settings(environ={"ONRUST_RETRIEVAL__TOP_K": "many"})
    with pytest.raises(ConfigError, match=r"teams\.app_id"):
        load_settings(environ={"ONRUST_TEAMS__ENABLED": "true"})


def test_secrets_do_not_leak_into_repr() -> None:
    settings = load_settings(environ={"ONRUST_MATRIX__PASSWORD": "hunter2", "ONRUST_LLM__API_KEY": "sk-geheim"})
    assert "hunter2" not in repr(settings) and "sk-geheim" not in repr(settings)
    assert settings.matrix.password is not None and settings.matrix.password.get_secret_value() == "hunter2"


def test_default_database_is_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'state.db'}"
