"""Run `lectern serve` as a real process on a free loopback port, for tests that need real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lectern.contract import builtin_contract

LECTERN = Path(sys.executable).with_name("lectern")
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clear_contract_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every contract variable from this process's environment for the test."""
    for name in builtin_contract().variables:
        monkeypatch.delenv(name, raising=False)


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any contract variable, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in builtin_contract().variables}
    env.update(values)
    return env


@dataclass
class Served:
    """A running `lectern serve` process."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, as a supervisor would; returns the exit code (killing it if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode


def start_server(workdir: Path, env: dict[str, str]) -> Served:
    """Start `lectern serve` in `workdir` (so no stray .env is read) and wait until /api/health answers 200."""
    port = free_port()
    log = workdir / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(LECTERN), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    served = Served(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"lectern serve exited with {process.returncode}:\n{served.output()}")
        try:
            if httpx.get(served.base_url + "/api/health", timeout=1.0).status_code == 200:
                return served
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    served.stop()
    raise AssertionError(f"lectern serve did not answer within {STARTUP_TIMEOUT_S} s:\n{served.output()}")
