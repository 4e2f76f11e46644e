"""`lectern ingest` through CliRunner against the test database: plan, progress summary, exit codes."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from lectern.cli.common import CommandError
from lectern.ingest.chunking import DEFAULT_TARGET_CHARS
from tests.cli.fixtures import Invoke, cli
from tests.db.fixtures import empty_database

__all__ = ["cli", "empty_database"]  # fixtures shared with tests/cli

SITE = Path(__file__).parent / "fixtures" / "site"


@pytest.fixture
def env(database_url: str, clean_database: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url}


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A small book without bad files."""
    root = tmp_path / "book"
    (root / "guides").mkdir(parents=True)
    (root / "intro.md").write_text("# Intro\n\nWhat the book covers.\n", encoding="utf-8")
    (root / "guides" / "deploy.md").write_text("# Deploy\n\nShip it.\n\n## Roll back\n\nUndo it.\n", encoding="utf-8")
    return root


def count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]


def test_ingest_a_book_then_again(cli: Invoke, env: dict[str, str], book: Path, clean_database: str) -> None:
    first = cli("ingest", str(book), "--base-url", "https://book.example", env=env)

    assert first.exit_code == 0, first.output
    assert "2 new, 0 changed, 0 unchanged, 0 removed" in first.stdout
    assert "Wrote 2 pages: 2 chunks written, 0 deleted." in first.stdout
    assert "Embedded no chunks: EMBEDDINGS is none, so search and chat use keywords only." in first.stdout
    assert count(clean_database, "book_pages") == 2

    again = cli("ingest", str(book), "--base-url", "https://book.example", env=env)

    assert again.exit_code == 0, again.output
    assert "0 new, 0 changed, 2 unchanged, 0 removed" in again.stdout
    assert "Wrote 0 pages: 0 chunks written, 0 deleted." in again.stdout


def test_a_bad_file_is_reported_the_rest_ingested_and_the_exit_code_is_1(
    cli: Invoke, env: dict[str, str], clean_database: str
) -> None:
    result = cli("ingest", str(SITE), env=env)

    assert result.exit_code == 1
    assert "failed: docs/broken-front-matter.md: invalid YAML front matter at line 2" in result.stdout
    assert "7 new, 0 changed, 0 unchanged, 0 removed; 1 unlisted skipped." in result.stdout
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == "1 file(s) failed; the others were indexed"
    assert count(clean_database, "book_pages") == 7


def test_dry_run_prints_the_plan_and_writes_nothing(
    cli: Invoke, env: dict[str, str], book: Path, clean_database: str
) -> None:
    assert cli("ingest", str(book), env=env).exit_code == 0
    (book / "intro.md").write_text("# Intro\n\nRewritten.\n", encoding="utf-8")
    (book / "new.md").write_text("# New\n\nA new page.\n", encoding="utf-8")
    (book / "guides" / "deploy.md").unlink()

    result = cli("ingest", str(book), "--dry-run", env=env)

    assert result.exit_code == 0, result.output
    assert "dry run: nothing was written" in result.stdout
    assert "+ new.md" in result.stdout
    assert "~ intro.md" in result.stdout
    assert "- guides/deploy.md" in result.stdout
    assert "1 new, 1 changed, 0 unchanged, 1 removed (kept: --prune deletes them)" in result.stdout
    assert "Wrote" not in result.stdout
    with psycopg.connect(clean_database) as conn:
        texts = conn.execute("SELECT text FROM book_chunks ORDER BY url").fetchall()
    assert texts == [("Deploy\n\nShip it.\n\n## Roll back\n\nUndo it.",), ("Intro\n\nWhat the book covers.",)]


def test_prune_deletes_pages_gone_from_disk(cli: Invoke, env: dict[str, str], book: Path, clean_database: str) -> None:
    assert cli("ingest", str(book), env=env).exit_code == 0
    (book / "guides" / "deploy.md").unlink()

    kept = cli("ingest", str(book), env=env)
    assert "1 removed (kept: --prune deletes them)" in kept.stdout
    assert count(clean_database, "book_pages") == 2

    pruned = cli("ingest", str(book), "--prune", env=env)
    assert pruned.exit_code == 0, pruned.output
    assert "1 removed (deleted)" in pruned.stdout
    assert count(clean_database, "book_pages") == 1
    assert count(clean_database, "book_chunks") == 1


def test_a_page_marked_unlisted_leaves_the_index_and_the_plan_says_so(
    cli: Invoke, env: dict[str, str], book: Path, clean_database: str
) -> None:
    assert cli("ingest", str(book), env=env).exit_code == 0
    (book / "intro.md").write_text("---\nunlisted: true\n---\n# Intro\n\nHidden now.\n", encoding="utf-8")

    planned = cli("ingest", str(book), "--dry-run", env=env)
    assert "- intro.md" in planned.stdout
    assert "1 indexed page(s) now draft or unlisted would leave the index." in planned.stdout
    assert count(clean_database, "book_pages") == 2

    done = cli("ingest", str(book), env=env)
    assert done.exit_code == 0, done.output
    assert "1 unlisted skipped. 1 indexed page(s) now draft or unlisted left the index." in done.stdout
    assert count(clean_database, "book_pages") == 1


def test_the_chunk_size_is_an_option_and_a_new_size_rewrites_every_page(
    cli: Invoke, env: dict[str, str], tmp_path: Path, clean_database: str
) -> None:
    root = tmp_path / "long"
    root.mkdir()
    paragraphs = "\n\n".join(" ".join(f"w{p}x{i}" for i in range(40)) for p in range(10))  # ~2,700 characters
    (root / "guide.md").write_text(f"# Guide\n\n{paragraphs}\n", encoding="utf-8")

    assert cli("ingest", str(root), env=env).exit_code == 0
    default_size = count(clean_database, "book_chunks")
    smaller = cli("ingest", str(root), "--chunk-chars", "300", env=env)
    assert smaller.exit_code == 0, smaller.output
    assert "0 new, 1 changed, 0 unchanged" in smaller.stdout
    assert count(clean_database, "book_chunks") >= 2 * default_size

    refused = cli("ingest", str(root), "--chunk-chars", "50", env=env)
    assert refused.exit_code == 2 and "--chunk-chars" in refused.output


def test_the_help_shows_the_chunkers_default_size(cli: Invoke) -> None:
    help_text = " ".join(cli("ingest", "--help").output.split())
    assert f"[default: ({DEFAULT_TARGET_CHARS})]" in help_text


def test_a_path_that_is_not_a_folder_is_one_error_line(cli: Invoke, env: dict[str, str], tmp_path: Path) -> None:
    result = cli("ingest", str(tmp_path / "missing"), env=env)
    assert result.exit_code == 1
    assert isinstance(result.exception, CommandError)
    assert str(result.exception).endswith("missing is not a folder")


def test_an_unmigrated_database_asks_for_db_upgrade(cli: Invoke, book: Path, empty_database: str) -> None:
    result = cli("ingest", str(book), env={"DATABASE_URL": empty_database})
    assert result.exit_code == 1
    assert isinstance(result.exception, CommandError)
    assert "lectern db upgrade" in str(result.exception)
