"""Vercel's REST API: a retrying client, its errors, and which project a folder is linked to.

Importing this package imports httpx: the CLI imports it inside the commands that talk to Vercel.
"""

from lectern.deploy.vercel.client import VercelClient
from lectern.deploy.vercel.errors import NotLinkedError, VercelApiError, VercelConnectionError, VercelError
from lectern.deploy.vercel.link import DEFAULT_API_URL, VercelLink, resolve_link
from lectern.deploy.vercel.models import (
    TARGETS,
    Deployment,
    DeploymentPage,
    EnvVariable,
    Project,
    Target,
    Team,
    User,
)
from lectern.deploy.vercel.retries import RetryPolicy

__all__ = [
    "DEFAULT_API_URL",
    "TARGETS",
    "Deployment",
    "DeploymentPage",
    "EnvVariable",
    "NotLinkedError",
    "Project",
    "RetryPolicy",
    "Target",
    "Team",
    "User",
    "VercelApiError",
    "VercelClient",
    "VercelConnectionError",
    "VercelError",
    "VercelLink",
    "resolve_link",
]
