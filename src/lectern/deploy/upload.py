"""Create a deployment the way the Vercel CLI does: ask, upload only the files Vercel lacks, ask again.

`POST /v13/deployments` answers 400 `missing_files` with the SHA-1s it has never seen (vercel.md §2.2);
those go to `POST /v2/files`, a bounded number at a time, and the same create is sent again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from lectern.deploy.bundle import Bundle, BundleFile
from lectern.deploy.errors import DeployError
from lectern.deploy.vercel.errors import VercelApiError

if TYPE_CHECKING:
    from lectern.deploy.vercel.client import VercelClient

CONCURRENCY = 16
MAX_ROUNDS = 3


@dataclass
class UploadStats:
    """What one create cost: files and bytes sent, create attempts, and the seconds of each part."""

    files: int = 0
    bytes: int = 0
    rounds: int = 0
    upload_seconds: float = 0.0
    create_seconds: float = 0.0


@dataclass(frozen=True)
class UploadCallbacks:
    """Progress hooks: `started(files, bytes)` before a batch, `sent(bytes)` after each file."""

    started: Callable[[int, int], None] = lambda files, size: None
    sent: Callable[[int], None] = lambda size: None


def _upload_one(client: VercelClient, file: BundleFile) -> int:
    content = file.source.read_bytes()
    if hashlib.sha1(content, usedforsecurity=False).hexdigest() != file.sha:
        raise DeployError(f"{file.path} changed while deploying: run the deploy again")
    headers = {
        "Content-Type": "application/octet-stream",
        "x-vercel-digest": file.sha,
        "x-now-size": str(len(content)),
    }
    client.request("POST", "/v2/files", content=content, headers=headers)
    return len(content)


def upload_files(
    client: VercelClient, files: Sequence[BundleFile], *, concurrency: int = CONCURRENCY, on_sent: Callable[[int], None]
) -> int:
    """Upload `files`, at most `concurrency` in flight; the first failure stops the rest and is raised."""
    queue = iter(files)
    sent = 0
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="upload") as pool:
        # A window of `concurrency` futures, refilled as uploads finish: waiting stays cheap for any number of files.
        in_flight = {pool.submit(_upload_one, client, file) for file in islice(queue, concurrency)}
        try:
            while in_flight:
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    size = future.result()  # the first failure is raised here
                    sent += size
                    on_sent(size)
                in_flight |= {pool.submit(_upload_one, client, file) for file in islice(queue, len(done))}
        except BaseException:
            # A failure or Ctrl-C: nothing more starts; the few in flight end within the client's timeout.
            for future in in_flight:
                future.cancel()
            raise
    return sent


def create_deployment(
    client: VercelClient,
    bundle: Bundle,
    body: dict[str, Any],
    *,
    concurrency: int = CONCURRENCY,
    callbacks: UploadCallbacks | None = None,
) -> tuple[dict[str, Any], UploadStats]:
    """Create the deployment, uploading what Vercel reports missing; returns Vercel's deployment object."""
    callbacks = callbacks or UploadCallbacks()
    by_sha = bundle.by_sha()
    payload = {**body, "files": bundle.entries()}
    stats = UploadStats()
    for _ in range(MAX_ROUNDS):
        stats.rounds += 1
        started = time.perf_counter()
        try:
            created: dict[str, Any] = client.request(
                "POST", "/v13/deployments", params={"skipAutoDetectionConfirmation": "1"}, json=payload
            )
        except VercelApiError as exc:
            stats.upload_seconds += time.perf_counter() - started
            if exc.code != "missing_files":
                raise
            wanted = [str(sha) for sha in exc.details.get("missing") or []]
            if not wanted or any(sha not in by_sha for sha in wanted):
                raise DeployError("Vercel asked for files this deployment does not have") from None
            missing = [by_sha[sha] for sha in wanted]
            callbacks.started(len(missing), sum(f.size for f in missing))
            started = time.perf_counter()
            stats.bytes += upload_files(client, missing, concurrency=concurrency, on_sent=callbacks.sent)
            stats.files += len(missing)
            stats.upload_seconds += time.perf_counter() - started
            continue
        stats.create_seconds += time.perf_counter() - started
        return created, stats
    raise DeployError(f"Vercel still reported missing files after {MAX_ROUNDS} uploads")
