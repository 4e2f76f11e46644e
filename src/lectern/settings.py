"""Settings read from the environment (declared in env_contract.json); nothing is built at import."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from lectern.errors import ConfigError


class Settings(BaseSettings):
    """Every field maps to the upper-case variable of the same name in the env contract."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    app_env: Literal["development", "test", "production"] = "development"
    vercel_env: Literal["production", "preview", "development"] | None = None
    vercel_git_commit_sha: str | None = None

    database_url: SecretStr | None = None
    database_url_unpooled: SecretStr | None = None
    lectern_data_dir: Path = Path(".lectern")
    lectern_contract: Path | None = None
    lectern_demo: bool = False  # the demo book at / (lectern.widget.demo)

    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "lectern"
    jwt_audience: str = "lectern-api"
    access_token_ttl_seconds: int = Field(default=900, ge=10, le=86_400)
    refresh_token_ttl_days: int = Field(default=30, ge=1, le=365)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)

    frontend_origins: str = ""
    github_pages_url: str | None = None
    cors_allow_credentials: bool = True

    max_body_bytes: int = Field(default=1_048_576, ge=100)
    db_pool_size: int = Field(default=5, ge=1, le=99)
    db_max_overflow: int = Field(default=0, ge=0, le=99)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Language model and embeddings through any OpenAI-compatible API (docs/llm.md).
    llm_base_url: str = "https://api.openai.com/v1"
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_timeout_seconds: float = Field(default=30, gt=0, le=600)
    llm_max_retries: int = Field(default=2, ge=0, le=9)
    embeddings: Literal["none", "openai", "local"] = "none"
    embeddings_base_url: str | None = None
    embeddings_api_key: SecretStr | None = None
    embeddings_model: str | None = None
    embeddings_dimensions: int | None = Field(default=None, ge=1, le=16_000)
    embeddings_batch_size: int = Field(default=64, ge=1, le=2048)
    embeddings_local_model_path: Path | None = None  # EMBEDDINGS=local: a sentence-transformers folder

    # Search (docs/search.md): how the keyword and vector legs are fused, and how close a vector hit must be.
    search_fusion: Literal["convex", "rrf"] = "convex"
    search_min_similarity: float = Field(default=0.2, ge=-1, le=1)

    # Chat (docs/chat.md): quotas kept in Postgres, history and passages per answer.
    chat_quota_per_reader_per_hour: int = Field(default=60, ge=0, le=999_999)
    chat_quota_per_ip_per_hour: int = Field(default=120, ge=0, le=999_999)
    chat_history_turns: int = Field(default=6, ge=0, le=50)
    chat_passages: int = Field(default=6, ge=1, le=20)

    # Generation (docs/generate.md): quotas kept in Postgres, sections written at once, the translation glossary.
    generate_requests_per_hour: int = Field(default=30, ge=0, le=999_999)
    generate_daily_tokens_per_reader: int = Field(default=200_000, ge=0, le=1_000_000_000)
    generate_concurrency: int = Field(default=4, ge=1, le=16)
    generate_cache_days: int = Field(default=30, ge=1, le=3650)
    glossary_path: Path | None = None

    # Request metrics (docs/operating.md): GET /api/metrics answers only with METRICS_TOKEN set.
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    metrics_flush_seconds: int = Field(default=10, ge=1, le=3600)
    metrics_retention_days: int = Field(default=14, ge=1, le=3650)

    @property
    def production(self) -> bool:
        return self.app_env == "production" or self.vercel_env == "production"

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None


def load_settings(**overrides: object) -> Settings:
    """Read settings; a bad value becomes a ConfigError naming the variable, never echoing the value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = sorted({f"{str(e['loc'][0]).upper()} ({e['msg']})" for e in exc.errors(include_input=False)})
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
