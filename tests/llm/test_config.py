"""Which provider Lectern calls, read from settings, and what it says when none is configured."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lectern.contract import builtin_contract
from lectern.llm import LLMNotConfigured, llm_configured
from lectern.llm.config import chat_config, embeddings_config, embeddings_configured, is_local
from lectern.settings import Settings, load_settings
from tests.llm.conftest import MakeSettings

KEY = "sk-config-test-0123456789"


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://localhost:11434/v1", True),
        ("http://127.0.0.1:8000/v1", True),
        ("http://[::1]:8000/v1", True),
        ("http://10.0.0.7:8000/v1", True),
        ("http://ollama.localhost/v1", True),
        ("https://api.openai.com/v1", False),
        ("https://api.groq.com/openai/v1", False),
        ("not a url", False),
    ],
)
def test_local_base_urls(url: str, local: bool) -> None:
    assert is_local(url) is local


def test_chat_needs_a_model_and_a_key_or_a_local_server(llm_settings: MakeSettings) -> None:
    assert llm_configured(llm_settings())
    assert not llm_configured(llm_settings(llm_model=None))
    assert not llm_configured(llm_settings(llm_api_key=None, llm_base_url="https://api.openai.com/v1"))
    assert not llm_configured(llm_settings(llm_api_key="   ", llm_base_url="https://api.openai.com/v1"))
    assert llm_configured(llm_settings(llm_api_key=None, llm_base_url="http://localhost:11434/v1"))


def test_not_configured_names_the_variables_to_set(llm_settings: MakeSettings) -> None:
    with pytest.raises(LLMNotConfigured) as caught:
        chat_config(llm_settings(llm_model=None, llm_api_key=None, llm_base_url="https://api.openai.com/v1"))
    error = caught.value
    assert (error.status_code, error.code) == (503, "llm_not_configured")
    assert "LLM_MODEL" in error.detail and "LLM_API_KEY" in error.detail
    with pytest.raises(LLMNotConfigured, match="EMBEDDINGS=openai"):
        embeddings_config(llm_settings(embeddings="none"))
    with pytest.raises(LLMNotConfigured, match="EMBEDDINGS_MODEL"):
        embeddings_config(llm_settings(embeddings_model=None))


def test_a_local_server_gets_a_placeholder_key_never_an_empty_one(llm_settings: MakeSettings) -> None:
    config = chat_config(llm_settings(llm_api_key=None, llm_base_url="http://localhost:11434/v1"))
    assert config.provider.api_key and config.provider.host == "localhost"


def test_embeddings_borrow_the_llm_key_only_for_the_same_base_url(llm_settings: MakeSettings) -> None:
    same = embeddings_config(llm_settings(llm_api_key=KEY))
    assert same.provider.api_key == KEY
    assert same.provider.base_url == llm_settings().llm_base_url
    elsewhere = llm_settings(llm_api_key=KEY, embeddings_base_url="https://api.openai.com/v1")
    assert not embeddings_configured(elsewhere)
    with pytest.raises(LLMNotConfigured, match="EMBEDDINGS_API_KEY"):
        embeddings_config(elsewhere)
    own = embeddings_config(
        llm_settings(embeddings_base_url="https://api.openai.com/v1", embeddings_api_key="sk-embeddings-987654321")
    )
    assert own.provider.api_key == "sk-embeddings-987654321"
    assert own.provider.host == "api.openai.com"


def test_the_key_stays_out_of_reprs(llm_settings: MakeSettings) -> None:
    config = chat_config(llm_settings(llm_api_key=KEY))
    assert KEY not in repr(config)
    assert KEY not in repr(llm_settings(llm_api_key=KEY))


def test_settings_read_the_variables_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in builtin_contract().variables:
        monkeypatch.delenv(name, raising=False)
    values = {
        "LLM_BASE_URL": "https://api.groq.com/openai/v1",
        "LLM_API_KEY": KEY,
        "LLM_MODEL": "llama-3.3-70b-versatile",
        "LLM_TIMEOUT_SECONDS": "12.5",
        "LLM_MAX_RETRIES": "4",
        "EMBEDDINGS": "openai",
        "EMBEDDINGS_MODEL": "text-embedding-3-small",
        "EMBEDDINGS_DIMENSIONS": "512",
        "EMBEDDINGS_BATCH_SIZE": "16",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    config = chat_config(settings)
    assert (config.model, config.provider.host) == ("llama-3.3-70b-versatile", "api.groq.com")
    assert (config.provider.timeout_seconds, config.provider.max_retries) == (12.5, 4)
    embeddings = embeddings_config(settings)
    assert (embeddings.dimensions, embeddings.batch_size, embeddings.provider.api_key) == (512, 16, KEY)


def test_defaults_leave_the_llm_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in builtin_contract().variables:
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.llm_base_url == "https://api.openai.com/v1"
    assert (settings.llm_timeout_seconds, settings.llm_max_retries, settings.embeddings) == (30, 2, "none")
    assert not llm_configured(settings)
    assert not embeddings_configured(settings)


def test_importing_lectern_llm_leaves_the_sdk_unloaded() -> None:
    code = "import sys, lectern.llm; print('openai' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"
