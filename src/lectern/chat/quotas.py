"""Chat quotas: questions per reader and per client address per hour, counted in Postgres by lectern.limits.

The client address is the socket peer, except on a Vercel deployment (VERCEL_ENV production or preview):
there every request comes from Vercel's proxy, which replaces any X-Forwarded-For the client sent with the
address it saw, so the header's first entry is the client. Anywhere else the header is the client's to write
and is ignored.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from psycopg import AsyncConnection

from lectern.limits import hit
from lectern.settings import Settings

HOUR = 3600
# An IPv6 client usually holds a whole /64: counting single addresses would give it billions of quotas.
IPV6_PREFIX = 64


def trusts_forwarded_for(settings: Settings) -> bool:
    """Whether X-Forwarded-For was written by Vercel's proxy (a deployment, not `vercel dev`)."""
    return settings.vercel_env in ("production", "preview")


def client_address(forwarded_for: str | None, peer: str | None, *, trust_forwarded_for: bool) -> str:
    """The address quotas count: X-Forwarded-For's first entry when trusted, else the socket peer."""
    candidates = [forwarded_for.split(",")[0].strip()] if trust_forwarded_for and forwarded_for else []
    candidates.append(peer or "")
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address):
            if address.ipv4_mapped is not None:
                return str(address.ipv4_mapped)
            return str(ipaddress.IPv6Network((int(address), IPV6_PREFIX), strict=False))
        return str(address)
    return "unknown"


async def charge_question(
    connection: AsyncConnection[Any], settings: Settings, user_id: uuid.UUID | None, address: str
) -> None:
    """Count one question against the reader's and the address's hourly quotas (0 turns one off); 429 beyond."""
    if user_id is not None and settings.chat_quota_per_reader_per_hour > 0:
        limit = settings.chat_quota_per_reader_per_hour
        detail = f"You have asked {limit} questions in the last hour, the most allowed. Try again later."
        await hit(connection, f"chat:reader:{user_id}", limit, HOUR, detail=detail)
    if settings.chat_quota_per_ip_per_hour > 0:
        limit = settings.chat_quota_per_ip_per_hour
        detail = f"{limit} questions came from your network in the last hour, the most allowed. Try again later."
        await hit(connection, f"chat:ip:{address}", limit, HOUR, detail=detail)
