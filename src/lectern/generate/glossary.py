"""The project glossary (GLOSSARY_PATH): terms translations keep as written, or render as the glossary says.

    {"Lectern": {"keep": true}, "refresh token": {"ur": "ریفریش ٹوکن", "fr": "jeton de rafraîchissement"}}

The file is read on first use and again only when it changes (its size or modification time).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lectern.errors import AppError
from lectern.generate.languages import primary

MAX_TERMS = 5000
MAX_TERM_CHARS = 200


class GlossaryInvalid(AppError):
    """The glossary file cannot be used; translations wait until it is fixed rather than ignore it silently."""

    status_code = 503
    code = "glossary_invalid"
    title = "Glossary invalid"


@dataclass(frozen=True)
class Glossary:
    """Terms kept as written, and terms with a translation per language tag."""

    keep: frozenset[str]
    translations: dict[str, dict[str, str]]

    def terms_for(self, language: str) -> dict[str, str | None]:
        """Each term a translation into `language` must respect: its translation, or None to keep it as written.

        A translation for the exact tag wins over one for its language ('pt-BR', then 'pt').
        """
        terms: dict[str, str | None] = dict.fromkeys(self.keep)
        for term, by_language in self.translations.items():
            lowered = {tag.lower(): text for tag, text in by_language.items()}
            found = lowered.get(language.lower(), lowered.get(primary(language)))
            if found is not None:
                terms[term] = found
        return terms


EMPTY = Glossary(frozenset(), {})


def terms_digest(terms: dict[str, str | None]) -> str:
    """A short fingerprint of the terms one translation used, for its cache key."""
    canonical = json.dumps(sorted(terms.items(), key=lambda item: item[0]), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def load_glossary(path: Path | None) -> Glossary:
    """The glossary at `path` (relative to the working directory), or an empty one without a path."""
    if path is None:
        return EMPTY
    try:
        stat = path.stat()
    except OSError:
        raise GlossaryInvalid("The glossary file named by GLOSSARY_PATH cannot be read.") from None
    return _read(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int, size: int) -> Glossary:
    """Parse the file; the modification time and size in the arguments make a changed file a cache miss."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise GlossaryInvalid("The glossary file named by GLOSSARY_PATH is not readable JSON.") from None
    return parse_glossary(data)


def parse_glossary(data: object) -> Glossary:
    """Check the glossary's shape: {term: {"keep": true} or {"<language tag>": "translation", …}}."""
    if not isinstance(data, dict) or len(data) > MAX_TERMS:
        raise GlossaryInvalid(f"The glossary must be a JSON object of at most {MAX_TERMS} terms.")
    keep: set[str] = set()
    translations: dict[str, dict[str, str]] = {}
    for term, entry in data.items():
        if not term.strip() or len(term) > MAX_TERM_CHARS or not isinstance(entry, dict):
            raise GlossaryInvalid(
                f"Glossary term {term[:40]!r}: a term is 1 to {MAX_TERM_CHARS} characters and maps to an object."
            )
        if entry.get("keep") is True:
            keep.add(term.strip())
            continue
        found = {tag: text for tag, text in entry.items() if tag != "keep"}
        if not found or not all(isinstance(text, str) and text.strip() for text in found.values()):
            raise GlossaryInvalid(
                f'Glossary term {term[:40]!r} needs {{"keep": true}} or translations such as {{"ur": "…"}}.'
            )
        translations[term.strip()] = found
    return Glossary(frozenset(keep), translations)
