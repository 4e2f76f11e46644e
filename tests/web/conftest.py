"""Edge fixtures: clients for apps with custom settings, the lectern log, and a real `lectern serve`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli.serving import Served, clean_env, start_server
from tests.web.fixtures import lectern_log, make_client

__all__ = ["lectern_log", "live_api", "make_client"]

LIVE_MAX_BODY_BYTES = 4096


@pytest.fixture(scope="module")
def live_api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`lectern serve` under uvicorn on the migrated test database, with a small body limit."""
    workdir = tmp_path_factory.mktemp("live")
    env = clean_env(
        DATABASE_URL=database_url,
        LECTERN_DATA_DIR=str(workdir / "data"),
        MAX_BODY_BYTES=str(LIVE_MAX_BODY_BYTES),
    )
    served = start_server(workdir, env)
    yield served
    served.stop()
