"""Docusaurus's magic comments: `// highlight-next-line` and the like mark lines to highlight, and the site removes
them from the code it shows, so the index does too."""

from __future__ import annotations

import re
from functools import cache

# The default directives. Which comment syntaxes count depends on the block's language, as in
# docusaurus-theme-common's codeBlockUtils; its rarer languages (VB, Fortran, COBOL, ML…) get the popular syntaxes
# here, where Docusaurus would give them their own: a `//` directive in such a block is unlikely.
_MAGIC_DIRECTIVES = "highlight-next-line|highlight-start|highlight-end"
_COMMENT_SYNTAX = {
    "js": (r"//", ""),
    "jsBlock": (r"/\*", r"\*/"),
    "jsx": (r"\{\s*/\*", r"\*/\s*\}"),
    "bash": ("#", ""),
    "html": ("<!--", "-->"),
    "lua": ("--", ""),
    "tex": ("%", ""),
}
_POPULAR_SYNTAXES = ("js", "jsBlock", "jsx", "bash", "html")
_SYNTAXES_BY_LANGUAGE = {
    **dict.fromkeys(("js", "javascript", "ts", "typescript"), ("js", "jsBlock")),
    **dict.fromkeys(("jsx", "tsx"), ("js", "jsBlock", "jsx")),
    "html": ("js", "jsBlock", "html"),
    **dict.fromkeys(("python", "py", "bash"), ("bash",)),
    **dict.fromkeys(("markdown", "md"), ("html", "jsx", "bash")),
    **dict.fromkeys(("tex", "latex", "matlab"), ("tex",)),
    **dict.fromkeys(("lua", "haskell"), ("lua",)),
    "sql": ("lua", "jsBlock"),
}
_LINE_RANGE = re.compile(r"\{[\d,-]+\}")


@cache
def _magic_comment(language: str) -> re.Pattern[str]:
    syntaxes = _SYNTAXES_BY_LANGUAGE.get(language, _POPULAR_SYNTAXES)
    styles = "|".join(
        rf"{start}\s*(?:{_MAGIC_DIRECTIVES})\s*{end}" for start, end in (_COMMENT_SYNTAX[name] for name in syntaxes)
    )
    return re.compile(rf"\s*(?:{styles})\s*")


def shown_code(code: list[str], info: str, language: str | None) -> list[str]:
    """The code lines a reader sees: magic comment lines removed, unless the info string gives line ranges
    (`{1,4-6}`), for then Docusaurus leaves the code as written."""
    if _LINE_RANGE.search(info):
        return code
    directive = _magic_comment((language or "text").lower())
    return [line for line in code if not directive.fullmatch(line)]
