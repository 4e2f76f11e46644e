"""Widget fixtures: clients of apps with settings of the test's choosing."""

from __future__ import annotations

from tests.web.fixtures import make_client

__all__ = ["make_client"]
