"""Languages by BCP 47 tag: the name a prompt uses, and the direction the text is written in."""

from __future__ import annotations

from typing import Literal

Direction = Literal["ltr", "rtl"]

# Primary subtags of languages written right to left (Unicode CLDR: characterOrder right-to-left).
RTL = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})

# Names models know best; any other tag is described by the tag itself.
NAMES = {
    "ar": "Arabic",
    "bn": "Bengali",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "sw": "Swahili",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
}

# Undetermined (BCP 47 "und"): the language of a reader's own text, which Lectern does not detect.
UNDETERMINED = "und"


def primary(tag: str) -> str:
    """The language subtag: 'pt' for 'pt-BR'."""
    return tag.split("-")[0].lower()


def direction(tag: str) -> Direction:
    """'rtl' for Urdu, Arabic, Persian, Hebrew and the other right-to-left languages; 'ltr' otherwise."""
    return "rtl" if primary(tag) in RTL else "ltr"


def describe(tag: str) -> str:
    """'Urdu (ur)', or 'the language with the BCP 47 tag xx' for a language without a name here."""
    name = NAMES.get(primary(tag))
    return f"{name} ({tag})" if name else f"the language with the BCP 47 tag {tag}"


def same_language(left: str | None, right: str | None) -> bool:
    return left is not None and right is not None and primary(left) == primary(right)
