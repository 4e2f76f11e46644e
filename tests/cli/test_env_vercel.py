"""`lectern env …` against the Vercel emulator over real HTTP: one-line failures, masking, set/rm/pull/diff/sync."""

from __future__ import annotations

import json
import logging
import os
import pty
import re
import select
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from lectern.cli import app, vercel_options
from lectern.cli.common import CommandError
from lectern.deploy.emulator import DEFAULT_TEAM_ID, EmulatorState, Project, RunningEmulator
from lectern.deploy.emulator import env_vars as emulator_env_vars
from lectern.deploy.vercel import RetryPolicy
from tests.cli.fixtures import run_main
from tests.cli.serving import clear_contract_env
from tests.deploy.fixtures import PROJECT_ID, emulator, linked_env, project, state

__all__ = ["emulator", "project", "state"]

ALL = ["production", "preview", "development"]
# Values that must never appear in any output: each test that stores one checks it.
JWT = "jwt-" + "9f8e7d6c5b4a" * 5
DB_URL = "postgresql://book:db-pass-4c1d@ep-quiet-1-pooler.eu.aws.neon.tech/book?sslmode=require"
LLM_KEY = "sk-llm-key-77aa55bb33cc"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"


@dataclass
class VercelCli:
    """Runs `lectern` against the emulator, in a fresh folder, with recorded waits and every output kept."""

    emulator: RunningEmulator
    state: EmulatorState
    project: Project
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    waits: list[float] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {**linked_env(self.emulator), "COLUMNS": "250"}

    def __call__(self, *args: str, input: str | bytes | None = None, **env: str) -> Result:
        """`lectern env ARGS` through CliRunner: exceptions land in `result.exception`."""
        result = CliRunner().invoke(app, ["env", *args], input=input, env={**self.env, **env})
        self.outputs.append(result.output)
        return result

    def main(self, *args: str, **env: str) -> tuple[int, str, str]:
        """`lectern env ARGS` through the real entry point: exit code, stdout, stderr."""
        code, out, err = run_main(self.monkeypatch, self.capsys, ["env", *args], {**self.env, **env})
        self.outputs.append(out + err)
        return code, out, err

    def stored(self, key: str, target: str = "production") -> tuple[str, str, list[str]]:
        env = self.state.env_var(self.project, key, target=target)
        assert env is not None, f"{key} is not stored for {target}"
        return env.value, env.type, env.target

    def snapshot(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        return sorted((e.key, e.value, e.type, tuple(e.target)) for e in self.project.env)

    def writes(self) -> list[str]:
        return [str(r) for r in self.state.requests if r.method in ("POST", "PATCH", "DELETE")]


@pytest.fixture
def vercel(
    emulator: RunningEmulator,
    state: EmulatorState,
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> VercelCli:
    clear_contract_env(monkeypatch)
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG)
    cli = VercelCli(emulator, state, project, monkeypatch, capsys)
    monkeypatch.setattr(vercel_options, "retry_policy", RetryPolicy(sleep=cli.waits.append))
    return cli


def one_line_error(vercel: VercelCli, *args: str, **env: str) -> str:
    """Run through the entry point; assert exit 1 with exactly one `error:` line and no traceback."""
    code, out, err = vercel.main(*args, **env)
    assert code == 1, out + err
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def rows(output: str) -> dict[str, list[str]]:
    """Table rows keyed by their NAME cell (the first UPPER_CASE cell)."""
    table: dict[str, list[str]] = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        names = [i for i, c in enumerate(cells) if re.fullmatch(r"[A-Z][A-Z0-9_]*", c)]
        if len(cells) > 1 and names:
            index = names[0]
            table[cells[index]] = cells[:index] + cells[index + 1 :]
    return table


# --- failures are one line ------------------------------------------------------------------------------------


def test_a_bad_token_is_one_line_and_exit_1(vercel: VercelCli) -> None:
    line = one_line_error(vercel, "ls", VERCEL_TOKEN="wrong-token-123")
    assert line == (
        "error: Vercel answered GET /v9/projects/prj_book with 403 forbidden: Not authorized;"
        " check the token (--token or VERCEL_TOKEN)"
    )


def test_a_bad_token_as_a_real_process(vercel: VercelCli, tmp_path: Path) -> None:
    env = {**vercel.env, "VERCEL_TOKEN": "wrong-token-123", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lectern")), "env", "ls"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: Vercel answered GET")
    assert "Traceback" not in done.stderr and "wrong-token-123" not in done.stderr


def test_no_token_says_where_to_put_one(vercel: VercelCli) -> None:
    vercel.monkeypatch.delenv("VERCEL_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["env", "ls"], env={**vercel.env, "VERCEL_TOKEN": ""})
    assert result.exit_code == 1 and isinstance(result.exception, CommandError)
    assert str(result.exception).startswith("no Vercel token: set VERCEL_TOKEN or pass --token")


def test_an_unknown_project_is_one_line(vercel: VercelCli) -> None:
    line = one_line_error(vercel, "ls", VERCEL_PROJECT_ID="prj_nope")
    assert line == "error: Vercel has no project prj_nope (VERCEL_PROJECT_ID) in team_emulator (VERCEL_ORG_ID)"


def test_the_link_can_come_from_vercel_project_json(vercel: VercelCli, tmp_path: Path) -> None:
    (tmp_path / ".vercel").mkdir()
    (tmp_path / ".vercel" / "project.json").write_text(json.dumps({"projectId": PROJECT_ID, "orgId": DEFAULT_TEAM_ID}))
    result = vercel("ls", VERCEL_PROJECT_ID="", VERCEL_ORG_ID="")
    assert result.exit_code == 0, result.output
    assert "No variables on any environment." in result.stdout


def test_a_429_storm_is_waited_out(vercel: VercelCli) -> None:
    vercel.state.faults.rate_limit("/v10/projects/*/env", count=3, retry_after=1)
    vercel.state.add_env(vercel.project, "LOG_LEVEL", "INFO")
    result = vercel("ls")
    assert result.exit_code == 0, result.output
    assert "LOG_LEVEL" in result.stdout
    assert vercel.waits == [1, 1, 1]


def test_server_errors_then_success(vercel: VercelCli) -> None:
    vercel.state.faults.server_error("/v9/projects/*", count=2)
    assert vercel("ls").exit_code == 0
    assert len(vercel.waits) == 2


def test_a_persistent_500_is_one_line(vercel: VercelCli) -> None:
    vercel.state.faults.server_error("/v9/projects/*", count=50)
    line = one_line_error(vercel, "ls")
    assert line.endswith("500 internal_server_error: An unexpected internal error occurred (after 5 attempts)")
    assert len(vercel.waits) == 4


# --- ls and get ----------------------------------------------------------------------------------------------


def test_ls_masks_every_value(vercel: VercelCli) -> None:
    vercel.state.add_env(vercel.project, "LOG_LEVEL", "WARNING", type="plain", target=ALL)
    vercel.state.add_env(vercel.project, "DATABASE_URL", DB_URL, target=["production"])
    vercel.state.add_env(vercel.project, "JWT_SECRET", JWT, type="sensitive", target=["production", "preview"])
    result = vercel("ls")
    assert result.exit_code == 0
    table = rows(result.stdout)
    assert table["LOG_LEVEL"][:2] == ["production, preview, development", "plain"]
    assert table["LOG_LEVEL"][-1] == "hidden (get --show)"
    assert table["JWT_SECRET"][1:2] == ["sensitive"] and table["JWT_SECRET"][-1] == "write-only (sensitive)"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", table["DATABASE_URL"][2])
    for value in ("WARNING", DB_URL, JWT):
        assert value not in result.output
    preview = vercel("ls", "--target", "preview")
    assert set(rows(preview.stdout)) == {"LOG_LEVEL", "JWT_SECRET"}


def test_get_shows_a_readable_value_only_when_asked(vercel: VercelCli) -> None:
    vercel.state.add_env(vercel.project, "DATABASE_URL", DB_URL, target=["production"])
    described = vercel("get", "DATABASE_URL")
    assert described.exit_code == 0
    assert "type: encrypted" in described.stdout and DB_URL not in described.output
    shown = vercel("get", "DATABASE_URL", "--show")
    assert shown.exit_code == 0 and shown.stdout == DB_URL + "\n"
    vercel.outputs.remove(shown.output)  # the one output allowed to hold a value


def test_get_show_says_a_sensitive_value_cannot_be_shown(vercel: VercelCli) -> None:
    vercel.state.add_env(vercel.project, "JWT_SECRET", JWT, type="sensitive", target=["production"])
    line = one_line_error(vercel, "get", "JWT_SECRET", "--show")
    assert line == "error: JWT_SECRET is sensitive on production: Vercel never returns its value"
    assert one_line_error(vercel, "get", "NOPE") == "error: NOPE is not set on production"


# --- set -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "stdin"), [(["set", "BOOK_TITLE", ""], None), (["set", "BOOK_TITLE"], " \n")])
def test_set_refuses_an_empty_value(vercel: VercelCli, args: list[str], stdin: str | None) -> None:
    result = vercel(*args, input=stdin)
    assert result.exit_code == 1
    assert str(result.exception) == "refusing to store an empty value for BOOK_TITLE"
    assert vercel.project.env == [] and vercel.writes() == []


def test_on_a_terminal_the_value_is_asked_for_without_echo(vercel: VercelCli, tmp_path: Path) -> None:
    """A real process on a pseudo-terminal of its own: the prompt shows, the typed value never does."""
    env = {**vercel.env, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    command = [str(Path(sys.executable).with_name("lectern")), "env", "set", "BOOK_TITLE", "--plain"]
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the pseudo-terminal is its controlling terminal, so getpass reads it
        os.chdir(tmp_path)
        os.execve(command[0], command, env)
    output = b""
    try:
        # The blank after the colon comes from getpass once echo is off: typing earlier would be flushed.
        output += read_until(terminal, b"Value of BOOK_TITLE: ")
        os.write(terminal, b"Typed Title\n")
        output += read_until(terminal, None)
    finally:
        code = exit_code(pid)
        os.close(terminal)
    assert code == 0, output
    assert b"Typed Title" not in output
    assert vercel.stored("BOOK_TITLE") == ("Typed Title", "encrypted", ["production"])


def exit_code(pid: int, timeout: float = 30) -> int:
    """The child's exit code; one still running after `timeout` is killed (a failed test must not hang)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def read_until(terminal: int, marker: bytes | None, timeout: float = 30) -> bytes:
    """What the terminal shows until `marker` appears (None: until the process closes it)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker is None or marker not in seen:
        assert time.monotonic() < deadline, seen
        ready, _, _ = select.select([terminal], [], [], 0.1)
        if not ready:
            continue
        try:
            data = os.read(terminal, 4096)
        except OSError:  # EIO: the process ended and closed its side
            data = b""
        if not data:
            assert marker is None, seen
            break
        seen += data
    return seen


def test_a_piped_trailing_newline_is_stripped_with_a_warning(vercel: VercelCli) -> None:
    result = vercel("set", "LLM_API_KEY", input=LLM_KEY + "\n")
    assert result.exit_code == 0, result.output
    assert "warning: removed a trailing newline from the value of LLM_API_KEY" in result.stderr
    value, env_type, target = vercel.stored("LLM_API_KEY")
    assert (value, env_type, target) == (LLM_KEY, "sensitive", ["production"])


def test_a_multi_line_pem_is_stored_whole(vercel: VercelCli) -> None:
    result = vercel("set", "TLS_KEY", "--plain", input=PEM + "\n")
    assert result.exit_code == 0, result.output
    assert vercel.stored("TLS_KEY") == (PEM, "encrypted", ["production"])
    assert "verified: same value" in result.stdout
    assert PEM_BODY not in result.output


def test_set_fails_loudly_when_vercel_stores_something_else(vercel: VercelCli) -> None:
    # As vercel/vercel#14971: a multi-line value cut to its first line on the way in.
    vercel.monkeypatch.setattr(emulator_env_vars, "_validated_value", lambda raw: str(raw).splitlines()[0])
    line = one_line_error(vercel, "set", "TLS_KEY", "--plain", "--", PEM)
    assert line.startswith("error: verify failed: Vercel stored 27 characters for TLS_KEY on production where")


@pytest.mark.parametrize(
    ("name", "value", "flags", "expected"),
    [
        ("JWT_SECRET", JWT, [], "sensitive"),
        ("DATABASE_URL", DB_URL, [], "sensitive"),
        ("LOG_LEVEL", "DEBUG", [], "encrypted"),
        ("BOOK_TITLE", "Physics", [], "sensitive"),
        ("BOOK_TITLE", "Physics", ["--plain"], "encrypted"),
        ("LOG_LEVEL", "DEBUG", ["--sensitive"], "sensitive"),
    ],
)
def test_contract_secrets_and_unknown_names_default_to_sensitive(
    vercel: VercelCli, name: str, value: str, flags: list[str], expected: str
) -> None:
    result = vercel("set", name, value, *flags)
    assert result.exit_code == 0, result.output
    assert vercel.stored(name)[1] == expected
    assert f"Stored {name} on production as {expected}" in result.stdout


def test_a_secret_on_development_is_stored_readable_and_said_so(vercel: VercelCli) -> None:
    result = vercel("set", "JWT_SECRET", JWT, "--target", "development")
    assert result.exit_code == 0, result.output
    assert vercel.stored("JWT_SECRET", "development")[1] == "encrypted"
    assert "development cannot hold sensitive values" in result.stdout
    refused = vercel("set", "JWT_SECRET", JWT, "--target", "development", "--sensitive")
    assert refused.exit_code == 1 and "cannot store sensitive values on development" in str(refused.exception)


def test_set_refuses_a_value_that_breaks_the_contract(vercel: VercelCli) -> None:
    line = one_line_error(vercel, "set", "JWT_SECRET", "short-jwt-value")
    assert line == "error: JWT_SECRET breaks the contract: too_short (rule: at least 32 characters); nothing was stored"
    assert "short-jwt-value" not in "".join(vercel.outputs)
    assert vercel.project.env == []


def test_set_one_target_leaves_the_others(vercel: VercelCli) -> None:
    vercel.state.add_env(vercel.project, "LOG_LEVEL", "INFO", target=ALL)
    assert vercel("set", "LOG_LEVEL", "DEBUG", "--target", "preview").exit_code == 0
    assert vercel.stored("LOG_LEVEL", "preview") == ("DEBUG", "encrypted", ["preview"])
    assert vercel.stored("LOG_LEVEL", "production") == ("INFO", "encrypted", ["production", "development"])


# --- rm and pull ---------------------------------------------------------------------------------------------


def test_rm_removes_from_one_target(vercel: VercelCli) -> None:
    vercel.state.add_env(vercel.project, "LOG_LEVEL", "INFO", target=ALL)
    vercel.state.add_env(vercel.project, "OLD_FLAG", "1", target=["production"])
    result = vercel("rm", "LOG_LEVEL", "--yes")
    assert result.exit_code == 0
    assert "Removed LOG_LEVEL from production (still on preview, development)." in result.stdout
    assert vercel("rm", "OLD_FLAG", "--yes").exit_code == 0
    assert vercel.snapshot() == [("LOG_LEVEL", "INFO", "encrypted", ("preview", "development"))]


def test_rm_without_a_terminal_needs_yes(vercel: VercelCli) -> None:
    vercel.state.add_env(vercel.project, "OLD_FLAG", "1", target=["production"])
    result = vercel("rm", "OLD_FLAG")
    assert result.exit_code == 1 and "pass --yes" in str(result.exception)
    assert len(vercel.project.env) == 1


def test_pull_writes_mode_0600_and_never_overwrites_without_force(vercel: VercelCli, tmp_path: Path) -> None:
    vercel.state.add_env(vercel.project, "DATABASE_URL", DB_URL, target=["production"])
    vercel.state.add_env(vercel.project, "JWT_SECRET", JWT, type="sensitive", target=["production"])
    result = vercel("pull")
    assert result.exit_code == 0, result.output
    path = tmp_path / ".env.vercel"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f'DATABASE_URL="{DB_URL}"' in path.read_text()
    assert "sensitive, so not pulled (write-only on Vercel): JWT_SECRET" in result.stderr
    assert JWT not in path.read_text()

    path.write_text("KEEP=me\n")
    again = vercel("pull")
    assert again.exit_code == 1 and str(again.exception) == ".env.vercel exists: pass --force to overwrite it"
    assert path.read_text() == "KEEP=me\n"
    forced = vercel("pull", "--force", "--file", ".env.vercel")
    assert forced.exit_code == 0 and "DATABASE_URL" in path.read_text()


# --- diff and sync -------------------------------------------------------------------------------------------


@pytest.fixture
def drifted(vercel: VercelCli, tmp_path: Path) -> Path:
    """Vercel and a .env file that disagree in every way a plan can say."""
    state, project = vercel.state, vercel.project
    state.add_env(project, "LOG_LEVEL", "INFO", target=ALL)
    state.add_env(project, "APP_ENV", "production", target=["production"])
    state.add_env(project, "JWT_SECRET", JWT, type="sensitive", target=["production", "preview"])
    state.add_env(project, "OLD_FLAG", "1", target=["production"])
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"LOG_LEVEL=DEBUG\nAPP_ENV=production\nJWT_SECRET={JWT}\nDATABASE_URL={DB_URL}\nVERCEL_TOKEN=tok-local\n"
    )
    return env_file


def test_diff_prints_the_plan_and_changes_nothing(vercel: VercelCli, drifted: Path) -> None:
    before = vercel.snapshot()
    result = vercel("diff", "--from", str(drifted))
    assert result.exit_code == 0, result.output
    table = rows(result.stdout)
    assert table["DATABASE_URL"] == ["add", "sensitive", "sensitive: a secret in the contract"]
    assert table["LOG_LEVEL"] == [
        "change",
        "encrypted",
        "value differs (4 → 5 characters); production only: preview, development unchanged",
    ]
    assert table["APP_ENV"] == ["unchanged", "encrypted"]
    assert table["JWT_SECRET"] == ["unchanged", "sensitive", "sensitive: compared by presence only"]
    assert table["OLD_FLAG"] == ["keep", "encrypted", "only on Vercel (--prune removes it)"]
    assert table["VERCEL_TOKEN"][0] == "skip"
    assert "1 to add, 1 to change, 0 to remove, 2 unchanged, 1 kept (only on Vercel), 1 skipped" in result.stdout
    assert "1 sensitive variable(s) compared by presence only" in result.stdout
    assert rows(vercel("diff", "--from", str(drifted), "--prune").stdout)["OLD_FLAG"][0] == "remove"
    assert vercel.snapshot() == before and vercel.writes() == []


def test_sync_dry_run_changes_nothing(vercel: VercelCli, drifted: Path) -> None:
    before = vercel.snapshot()
    result = vercel("sync", "--from", str(drifted), "--prune", "--dry-run")
    assert result.exit_code == 0
    assert "Dry run: nothing was changed." in result.stdout
    assert vercel.snapshot() == before and vercel.writes() == []


def test_sync_needs_confirmation(vercel: VercelCli, drifted: Path) -> None:
    before = vercel.snapshot()
    result = vercel("sync", "--from", str(drifted))
    assert result.exit_code == 1 and "pass --yes" in str(result.exception)
    assert vercel.snapshot() == before


def test_sync_applies_verifies_and_keeps_what_is_not_in_the_file(vercel: VercelCli, drifted: Path) -> None:
    result = vercel("sync", "--from", str(drifted), "--yes")
    assert result.exit_code == 0, result.output
    assert "Applied and verified 2 change(s)." in result.stdout
    assert vercel.stored("DATABASE_URL") == (DB_URL, "sensitive", ["production"])
    assert vercel.stored("LOG_LEVEL") == ("DEBUG", "encrypted", ["production"])
    assert vercel.stored("LOG_LEVEL", "preview") == ("INFO", "encrypted", ["preview", "development"])
    assert vercel.stored("OLD_FLAG") == ("1", "encrypted", ["production"])  # no --prune: kept
    assert vercel.state.env_var(vercel.project, "VERCEL_TOKEN") is None
    assert "Nothing to change." in vercel("sync", "--from", str(drifted), "--yes").stdout


def test_sync_prune_removes(vercel: VercelCli, drifted: Path) -> None:
    result = vercel("sync", "--from", str(drifted), "--prune", "--yes")
    assert result.exit_code == 0, result.output
    assert vercel.state.env_var(vercel.project, "OLD_FLAG") is None
    assert "remove: OLD_FLAG" in result.stdout


def test_sync_refuses_values_that_break_the_contract(vercel: VercelCli, drifted: Path) -> None:
    drifted.write_text(drifted.read_text() + "APP_ENV=staging-x1\n")
    before = vercel.snapshot()
    result = vercel("sync", "--from", str(drifted), "--yes")
    assert result.exit_code == 1
    assert str(result.exception) == "1 value(s) break the contract: fix " + str(drifted) + "; nothing was changed"
    assert rows(result.stdout)["APP_ENV"][0] == "invalid"
    assert vercel.snapshot() == before


def test_sync_from_a_missing_file(vercel: VercelCli) -> None:
    result = vercel("sync", "--from", "nope.env", "--yes")
    assert result.exit_code == 1 and str(result.exception) == "nope.env does not exist"


# --- validate, contract, generate-secrets --------------------------------------------------------------------


def test_validate_a_target_pass_fail_missing(vercel: VercelCli) -> None:
    vercel.state.add_env(vercel.project, "JWT_SECRET", JWT, type="sensitive", target=["production"])
    vercel.state.add_env(vercel.project, "LOG_LEVEL", "LOUD", target=["production"])
    result = vercel("validate", "--target", "production")
    assert result.exit_code == 1
    table = rows(result.stdout)
    assert table["JWT_SECRET"] == ["yes", "PASS", "at least 32 characters", "sensitive: present"]
    assert table["LOG_LEVEL"] == ["no", "FAIL", "one of DEBUG, INFO, WARNING, ERROR", "not_in_enum"]
    assert table["DATABASE_URL"][:2] == ["yes", "MISSING"]
    assert "2 variable(s) break the contract on production." in result.stdout
    assert "LOUD" not in result.output


def test_validate_a_target_that_satisfies_the_contract(vercel: VercelCli) -> None:
    vercel.state.add_env(vercel.project, "JWT_SECRET", JWT, type="sensitive", target=["production"])
    vercel.state.add_env(vercel.project, "DATABASE_URL", DB_URL, target=["production"])
    result = vercel("validate", "--target", "production")
    assert result.exit_code == 0, result.output
    assert rows(result.stdout)["DATABASE_URL"][1] == "PASS"
    assert "All variables on production satisfy the contract." in result.stdout


def test_validate_is_local_or_remote_never_both(vercel: VercelCli) -> None:
    result = vercel("validate", "--local", "--target", "production")
    assert result.exit_code == 1 and "drop --local" in str(result.exception)
    assert vercel.state.requests == []


def test_contract_shows_what_a_target_holds(vercel: VercelCli) -> None:
    vercel.state.add_env(vercel.project, "JWT_SECRET", JWT, type="sensitive", target=["production"])
    vercel.state.add_env(vercel.project, "BOOK_TITLE", "Physics", target=["production"])
    result = vercel("contract", "--target", "production")
    assert result.exit_code == 0, result.output
    assert rows(result.stdout)["LOG_LEVEL"][-1] == "-"
    assert "sensitive" in result.stdout.partition("Optional variables")[0]
    assert "On Vercel but not in the contract: BOOK_TITLE" in result.stdout
    assert vercel("contract", "--markdown", "--target", "production").exit_code == 1


def test_generate_secrets_apply_stores_sensitive_values_and_prints_none(vercel: VercelCli) -> None:
    result = vercel("generate-secrets", "--apply")
    assert result.exit_code == 0, result.output
    value, env_type, target = vercel.stored("JWT_SECRET")
    assert (env_type, target, len(value)) == ("sensitive", ["production"], 64)
    assert "JWT_SECRET: stored on production as sensitive (never shown)." in result.stdout
    assert value not in result.output
    kept = vercel("generate-secrets", "--apply")
    assert "already on production, kept (--rotate replaces it)" in kept.stdout
    assert vercel.stored("JWT_SECRET")[0] == value
    rotated = vercel("generate-secrets", "--apply", "--rotate")
    new_value = vercel.stored("JWT_SECRET")[0]
    assert new_value != value and new_value not in rotated.output
    assert vercel("generate-secrets", "--apply", "--show").exit_code == 1
    assert vercel("generate-secrets", "--apply", "--target", "development").exit_code == 1


# --- secrets never leak --------------------------------------------------------------------------------------


def test_known_secrets_appear_in_no_output_or_log(
    vercel: VercelCli, drifted: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    vercel("set", "LLM_API_KEY", input=LLM_KEY + "\n")
    vercel("set", "TLS_KEY", "--plain", input=PEM)
    vercel("ls")
    vercel("get", "TLS_KEY")
    vercel("get", "LLM_API_KEY", "--show")
    vercel("diff", "--from", str(drifted), "--prune")
    vercel("sync", "--from", str(drifted), "--yes")
    vercel("validate", "--target", "production")
    vercel("pull", "--file", "pulled.env")
    vercel.main("ls", VERCEL_TOKEN="wrong-token-123")
    text = "\n".join(vercel.outputs) + "\n" + caplog.text
    assert "/v10/projects/prj_book/env" in caplog.text  # the logs were captured
    for secret in (JWT, DB_URL, "db-pass-4c1d", LLM_KEY, PEM_BODY, vercel.emulator.token, "wrong-token-123"):
        assert secret not in text
    assert PEM_BODY in (tmp_path / "pulled.env").read_text()  # pull is the one way to disk


def test_the_cli_starts_without_the_http_client() -> None:
    code = "import sys, lectern.cli; sys.exit('httpx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60, check=False).returncode == 0
