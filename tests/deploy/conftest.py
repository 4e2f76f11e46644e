"""Deploy fixtures: the Vercel emulator (tests/deploy/fixtures.py) and the servers its deployments point at
(tests/deploy/servers.py)."""

from tests.deploy.fixtures import api, emulator, project, state, vercel_client
from tests.deploy.servers import dead_host, edge, fast_smoke, healthy_host, unready_host

__all__ = [
    "api",
    "dead_host",
    "edge",
    "emulator",
    "fast_smoke",
    "healthy_host",
    "project",
    "state",
    "unready_host",
    "vercel_client",
]
