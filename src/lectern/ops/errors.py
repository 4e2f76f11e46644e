"""The one failure type of the operations commands, and scrubbing a database URL's password out of messages."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from lectern.db.url import redacted


class OpsError(Exception):
    """A failure the user can act on: one line, never a secret."""


def scrub(text: str, url: str) -> str:
    """`text` with the URL redacted and its password (raw or percent-decoded) replaced by ***; first line only."""
    line = (text.strip().splitlines() or [""])[0]
    line = line.replace(url, redacted(url))
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in {password, unquote(password)} if password else set():
        if secret:
            line = line.replace(secret, "***")
    return line
