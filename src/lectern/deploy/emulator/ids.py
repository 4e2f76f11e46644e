"""Identifiers shaped like Vercel's (`dpl_…`, `prj_…`, 16-character env ids), deterministic per emulator."""

from __future__ import annotations

import hashlib
import itertools
import string

_ALPHABET = string.ascii_letters + string.digits


class IdMaker:
    """Makes unique ids from a seed and a counter, so runs are reproducible."""

    def __init__(self, seed: str = "lectern") -> None:
        self._seed = seed
        self._counter = itertools.count(1)

    def token(self, length: int) -> str:
        """Return `length` characters of base62 unique to this maker."""
        digest = hashlib.sha256(f"{self._seed}:{next(self._counter)}".encode()).digest()
        number = int.from_bytes(digest, "big")
        chars = []
        for _ in range(length):
            number, index = divmod(number, len(_ALPHABET))
            chars.append(_ALPHABET[index])
        return "".join(chars)

    def prefixed(self, prefix: str, length: int = 24) -> str:
        """Return an id such as `dpl_…` with `length` characters after the prefix."""
        return f"{prefix}_{self.token(length)}"
