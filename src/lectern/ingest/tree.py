"""Walk a Docusaurus site or docs folder into parsed pages with routes, locales and category labels.

Bad files are reported with their path and a reason while the rest of the tree is read.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from lectern.ingest.markdown import (
    DEFAULT_KEPT_COMPONENTS,
    FrontMatterError,
    ParsedPage,
    load_yaml,
    parse_page,
    split_number_prefix,
)

MARKDOWN_SUFFIXES = frozenset({".md", ".mdx"})
_CATEGORY_FILES = ("_category_.json", "_category_.yml", "_category_.yaml")
_DOCS_PLUGIN = "docusaurus-plugin-content-docs"
_SKIPPED_DIRS = frozenset({"node_modules"})


@dataclass(frozen=True)
class Category:
    """A docs folder as the sidebar shows it, from its `_category_` file and its name."""

    source_path: str  # the folder, relative to the root
    label: str
    position: float | None
    link: Mapping[str, object] | None


@dataclass(frozen=True)
class SourcePage:
    """A parsed page and where it lives: its file, its route under the docs base, its locale."""

    page: ParsedPage
    source_path: str  # relative to the root, with '/' separators
    doc_id: str  # Docusaurus's full id: folders (number prefixes stripped) + the page's id
    route: str  # path under the docs route base: "/", "/guides/", "/guides/writing"
    locale: str
    translated: bool  # True for pages of an i18n tree in a locale other than the default one
    categories: tuple[str, ...]  # labels of the enclosing folders, outermost first
    position: float | None  # sidebar_position, else the file's number prefix


class BadFile(NamedTuple):
    """A file that could not be read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class BookTree:
    """Everything read from a root folder: pages, folder categories and the files that failed."""

    pages: tuple[SourcePage, ...]
    categories: tuple[Category, ...]
    failures: tuple[BadFile, ...]


def read_tree(
    root: Path,
    *,
    default_locale: str = "en",
    include_drafts: bool = False,
    kept_components: frozenset[str] = DEFAULT_KEPT_COMPONENTS,
) -> BookTree:
    """Read every Markdown/MDX page under `root`, a Docusaurus site or any folder of Markdown."""
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder")
    reader = _TreeReader(root, kept_components, include_drafts)
    roots = _content_roots(root, default_locale)
    for content_root, locale in roots:
        # Category files are read from the source tree only; translations relabel them (current.json).
        is_source = content_root == roots[0][0]
        reader.read(content_root, locale, translated=locale != default_locale, is_source=is_source)
    return BookTree(
        pages=tuple(sorted(reader.pages, key=lambda page: page.source_path)),
        categories=tuple(sorted(reader.categories.values(), key=lambda category: category.source_path)),
        failures=tuple(sorted(reader.failures)),
    )


def page_url(page: SourcePage, *, base_url: str = "", route_base: str = "/docs") -> str:
    """The page's address on the site: base URL, locale (if translated), docs route base, route."""
    parts = [base_url.rstrip("/")]
    if page.translated:
        parts.append(f"/{page.locale}")
    if route_base.strip("/"):
        parts.append("/" + route_base.strip("/"))
    parts.append(quote(page.route))
    return "".join(parts)


def _content_roots(root: Path, default_locale: str) -> list[tuple[Path, str]]:
    """The docs folder in the default locale, then each `i18n/<locale>/…/current` translation."""
    is_site = (root / "docs").is_dir() and ((root / "i18n").is_dir() or any(root.glob("docusaurus.config.*")))
    roots = [(root / "docs" if is_site else root, default_locale)]
    i18n = root / "i18n"
    if i18n.is_dir():
        for locale_dir in sorted(i18n.iterdir()):
            current = locale_dir / _DOCS_PLUGIN / "current"
            if current.is_dir():
                roots.append((current, locale_dir.name))
    return roots


class _TreeReader:
    def __init__(self, root: Path, kept_components: frozenset[str], include_drafts: bool) -> None:
        self.root = root
        self.kept_components = kept_components
        self.include_drafts = include_drafts
        self.pages: list[SourcePage] = []
        self.categories: dict[tuple[str, ...], Category] = {}  # default-locale folders, by raw parts
        self.failures: list[BadFile] = []

    def read(self, content_root: Path, locale: str, *, translated: bool, is_source: bool) -> None:
        labels = {} if is_source else self._translated_labels(content_root)
        for directory, dir_names, file_names in os.walk(content_root):
            here = Path(directory)
            folders = here.relative_to(content_root).parts
            dir_names[:] = sorted(name for name in dir_names if self._walks_into(here / name))
            if folders and is_source:
                self._read_category(here, folders)
            trail = tuple(self._folder_label(folders[: depth + 1], labels) for depth in range(len(folders)))
            for name in sorted(file_names):
                path = here / name
                if path.suffix.lower() in MARKDOWN_SUFFIXES and not name.startswith(("_", ".")):
                    self._read_page(path, folders, locale, translated, trail)

    def _walks_into(self, path: Path) -> bool:
        """Skip partials (`_`), hidden and dependency folders, and the i18n tree inside the root."""
        name = path.name
        if name.startswith(("_", ".")) or name in _SKIPPED_DIRS:
            return False
        return path != self.root / "i18n"

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _read_page(
        self, path: Path, folders: tuple[str, ...], locale: str, translated: bool, trail: tuple[str, ...]
    ) -> None:
        source_path = self._relative(path)
        try:
            text = path.read_bytes().decode("utf-8-sig")
            page = parse_page(text, file_stem=path.stem, kept_components=self.kept_components)
        except UnicodeDecodeError as exc:
            byte = exc.object[exc.start]
            reason = f"not valid UTF-8: byte 0x{byte:02x} at offset {exc.start}"
            self.failures.append(BadFile(source_path, reason))
            return
        except (FrontMatterError, OSError) as exc:
            self.failures.append(BadFile(source_path, str(exc)))
            return
        if page.draft and not self.include_drafts:
            return
        strip_prefixes = page.front_matter.get("parse_number_prefixes") is not False
        folder_names = tuple(split_number_prefix(name)[0] if strip_prefixes else name for name in folders)
        prefix = split_number_prefix(path.stem)[1] if strip_prefixes else None
        self.pages.append(
            SourcePage(
                page=page,
                source_path=source_path,
                doc_id="/".join((*folder_names, page.doc_id)),
                route=_route(page, path.stem, folders, folder_names),
                locale=locale,
                translated=translated,
                categories=trail,
                position=page.sidebar_position if page.sidebar_position is not None else prefix,
            )
        )

    def _read_category(self, folder: Path, folders: tuple[str, ...]) -> None:
        label, position = split_number_prefix(folders[-1])
        category = Category(self._relative(folder), label, position, None)
        for file_name in _CATEGORY_FILES:
            path = folder / file_name
            if path.is_file():
                try:
                    category = _category_from_file(path, category)
                except (ValueError, OSError) as exc:  # ValueError covers bad UTF-8 and bad JSON
                    self.failures.append(BadFile(self._relative(path), f"invalid category file: {exc}"))
                break
        self.categories[folders] = category

    def _folder_label(self, folders: tuple[str, ...], translations: Mapping[str, str]) -> str:
        category = self.categories.get(folders)
        label = category.label if category else split_number_prefix(folders[-1])[0]
        return translations.get(label, label)

    def _translated_labels(self, content_root: Path) -> dict[str, str]:
        """Category labels translated in `i18n/<locale>/docusaurus-plugin-content-docs/current.json`."""
        path = content_root.parent / f"{content_root.name}.json"
        if not path.is_file():
            return {}
        try:
            messages = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            self.failures.append(BadFile(self._relative(path), f"invalid translation file: {exc}"))
            return {}
        labels: dict[str, str] = {}
        for key, entry in messages.items() if isinstance(messages, dict) else ():
            _, found, label = key.partition(".category.")
            if found and ".link.generated-index." not in label and isinstance(entry, dict):
                message = entry.get("message")
                if isinstance(message, str):
                    labels[label] = message
        return labels


def _category_from_file(path: Path, default: Category) -> Category:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else load_yaml(text)
    if data is None:
        return default
    if not isinstance(data, dict):
        raise ValueError(f"expected a mapping of fields, not {type(data).__name__}")
    label, position, link = data.get("label"), data.get("position"), data.get("link")
    if position is not None and (isinstance(position, bool) or not isinstance(position, int | float)):
        raise ValueError(f"position must be a number, not {position!r}")
    return Category(
        source_path=default.source_path,
        label=str(label) if label is not None else default.label,
        position=position if position is not None else default.position,
        link=link if isinstance(link, dict) else None,
    )


_INDEX_NAMES = frozenset({"index", "readme"})
_DOUBLE_SLASH = re.compile(r"/{2,}")


def _route(page: ParsedPage, file_stem: str, folders: tuple[str, ...], folder_names: tuple[str, ...]) -> str:
    """Docusaurus's slug rules: absolute slug, folder index, else the slug or id under the folder path."""
    if page.slug is not None and page.slug.startswith("/"):
        return page.slug
    folder_route = "/" + "".join(f"{name}/" for name in folder_names)
    # Index pages match on the raw names, before number prefixes are stripped, as Docusaurus does.
    is_index = file_stem.lower() in _INDEX_NAMES or (bool(folders) and file_stem.lower() == folders[-1].lower())
    if page.slug is None and is_index:
        return folder_route
    relative = page.slug or page.doc_id
    route = posixpath.normpath(posixpath.join(folder_route, relative))
    route = _DOUBLE_SLASH.sub("/", route)
    return route + "/" if relative.endswith("/") and route != "/" else route
