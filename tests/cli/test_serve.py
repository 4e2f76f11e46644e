"""`lectern serve` on the embedded PostgreSQL: starts, migrates, answers, and stops without leaving it running."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

import lectern
from tests.cli.serving import clean_env, start_server


def test_serve_on_the_embedded_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    served = start_server(tmp_path, clean_env(LECTERN_DATA_DIR=str(data_dir)))
    try:
        live = httpx.get(served.base_url + "/api/health", timeout=5)
        assert live.json() == {"status": "healthy", "version": lectern.__version__}
        ready = httpx.get(served.base_url + "/api/health/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "pass"  # migrated on start
        assert (data_dir / "postgres" / "postmaster.pid").exists()
    finally:
        exit_code = served.stop()

    assert exit_code == 0, served.output()
    assert "Traceback" not in served.output()
    pid_file = data_dir / "postgres" / "postmaster.pid"
    deadline = time.monotonic() + 15
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_file.exists(), "the embedded PostgreSQL outlived `lectern serve`"
