"""Walk a Docusaurus site or docs folder into parsed pages with routes, locales and category labels.

Walking and parsing are two steps: `scan_tree` reads every file's bytes (cheap), `parse_file` does the costly
Markdown work, so an ingest can skip the pages whose bytes and surroundings have not changed. Bad files are
reported with their path and a reason while the rest of the tree is read.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    # The sidebar's position of each enclosing folder (its `_category_` position, else its number prefix), outermost
    # first, then the page's own `position`; None where there is none.
    sidebar_positions: tuple[float | None, ...]


@dataclass(frozen=True)
class PageFile:
    """A Markdown file found in the tree, read but not parsed: its bytes and everything around it."""

    path: Path
    source_path: str  # relative to the root, with '/' separators
    folders: tuple[str, ...]  # raw folder names from the content root down to the file
    locale: str
    translated: bool
    categories: tuple[str, ...]  # labels of the enclosing folders, outermost first
    category_positions: tuple[float | None, ...]  # the enclosing folders' sidebar positions, outermost first
    surroundings: str  # SHA-256 of the category and translation files that apply to this page
    data: bytes = field(repr=False)


class BadFile(NamedTuple):
    """A file that could not be read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class TreeScan:
    """Every page file under a root, read but not parsed, with the folder categories and the files that failed."""

    files: tuple[PageFile, ...]
    categories: tuple[Category, ...]
    failures: tuple[BadFile, ...]


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
    scan = scan_tree(root, default_locale=default_locale)
    pages: list[SourcePage] = []
    failures = list(scan.failures)
    for file in scan.files:
        parsed = parse_file(file, include_drafts=include_drafts, kept_components=kept_components)
        if isinstance(parsed, BadFile):
            failures.append(parsed)
        elif parsed is not None:
            pages.append(parsed)
    return BookTree(pages=tuple(pages), categories=scan.categories, failures=tuple(sorted(failures)))


def scan_tree(root: Path, *, default_locale: str = "en") -> TreeScan:
    """Find and read every Markdown/MDX file under `root` without parsing it, in source path order."""
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder")
    reader = _TreeReader(root)
    roots = _content_roots(root, default_locale)
    for content_root, locale in roots:
        # Category files are read from the source tree only; translations relabel them (current.json).
        is_source = content_root == roots[0][0]
        reader.read(content_root, locale, translated=locale != default_locale, is_source=is_source)
    return TreeScan(
        files=tuple(sorted(reader.files, key=lambda file: file.source_path)),
        categories=tuple(sorted(reader.categories.values(), key=lambda category: category.source_path)),
        failures=tuple(sorted(reader.failures)),
    )


def parse_file(
    file: PageFile, *, include_drafts: bool = False, kept_components: frozenset[str] = DEFAULT_KEPT_COMPONENTS
) -> SourcePage | BadFile | None:
    """Parse one scanned file: its page, why it cannot be read, or None for a draft left out."""
    try:
        text = file.data.decode("utf-8-sig")
        mdx = file.path.suffix.lower() == ".mdx"
        page = parse_page(text, file_stem=file.path.stem, kept_components=kept_components, mdx=mdx)
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        return BadFile(file.source_path, f"not valid UTF-8: byte 0x{byte:02x} at offset {exc.start}")
    except FrontMatterError as exc:
        return BadFile(file.source_path, str(exc))
    if page.draft and not include_drafts:
        return None
    strip_prefixes = page.front_matter.get("parse_number_prefixes") is not False
    folder_names = tuple(split_number_prefix(name)[0] if strip_prefixes else name for name in file.folders)
    prefix = split_number_prefix(file.path.stem)[1] if strip_prefixes else None
    position = page.sidebar_position if page.sidebar_position is not None else prefix
    return SourcePage(
        page=page,
        source_path=file.source_path,
        doc_id="/".join((*folder_names, page.doc_id)),
        route=_route(page, file.path.stem, file.folders, folder_names),
        locale=file.locale,
        translated=file.translated,
        categories=file.categories,
        position=position,
        sidebar_positions=(*file.category_positions, position),
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
    """The docs folder in the default locale, then each `i18n/<locale>/…/current` translation.

    Older versions (`versioned_docs/version-x/`, `i18n/<locale>/…/version-x/`) are left out: readers are answered
    from the current book, and near-copies of its pages would crowd its passages out of the results.
    """
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
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[PageFile] = []
        self.categories: dict[tuple[str, ...], Category] = {}  # default-locale folders, by raw parts
        self.category_digests: dict[tuple[str, ...], bytes] = {}  # the same folders' category file hashes
        self.failures: list[BadFile] = []

    def read(self, content_root: Path, locale: str, *, translated: bool, is_source: bool) -> None:
        labels, translation_digest = ({}, b"") if is_source else self._translated_labels(content_root)
        for directory, dir_names, file_names in os.walk(content_root):
            here = Path(directory)
            folders = here.relative_to(content_root).parts
            dir_names[:] = sorted(name for name in dir_names if self._walks_into(here / name))
            if folders and is_source:
                self._read_category(here, folders)
            trail = tuple(self._folder_label(folders[: depth + 1], labels) for depth in range(len(folders)))
            positions = tuple(self._folder_position(folders[: depth + 1]) for depth in range(len(folders)))
            surroundings = self._surroundings(folders, translation_digest)
            for name in sorted(file_names):
                path = here / name
                if path.suffix.lower() in MARKDOWN_SUFFIXES and not name.startswith(("_", ".")):
                    self._read_file(path, folders, locale, translated, trail, positions, surroundings)

    def _surroundings(self, folders: tuple[str, ...], translation_digest: bytes) -> str:
        """One hash of the files that shape the pages of a folder besides their own: category and translation files."""
        digest = hashlib.sha256(translation_digest)
        for depth in range(len(folders)):
            digest.update(self.category_digests.get(folders[: depth + 1], b"-"))
        return digest.hexdigest()

    def _walks_into(self, path: Path) -> bool:
        """Skip partials (`_`), hidden and dependency folders, and the i18n tree inside the root."""
        name = path.name
        if name.startswith(("_", ".")) or name in _SKIPPED_DIRS:
            return False
        return path != self.root / "i18n"

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _read_file(
        self,
        path: Path,
        folders: tuple[str, ...],
        locale: str,
        translated: bool,
        trail: tuple[str, ...],
        positions: tuple[float | None, ...],
        surroundings: str,
    ) -> None:
        source_path = self._relative(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.failures.append(BadFile(source_path, str(exc)))
            return
        self.files.append(
            PageFile(path, source_path, folders, locale, translated, trail, positions, surroundings, data)
        )

    def _read_category(self, folder: Path, folders: tuple[str, ...]) -> None:
        label, position = split_number_prefix(folders[-1])
        category = Category(self._relative(folder), label, position, None)
        digest = hashlib.sha256()
        for file_name in _CATEGORY_FILES:
            path = folder / file_name
            if path.is_file():
                try:
                    data = path.read_bytes()
                    digest.update(file_name.encode() + b"\0" + data)
                    category = _category_from_file(path, data, category)
                except (ValueError, OSError) as exc:  # ValueError covers bad UTF-8 and bad JSON
                    self.failures.append(BadFile(self._relative(path), f"invalid category file: {exc}"))
                break
        self.categories[folders] = category
        self.category_digests[folders] = digest.digest()

    def _folder_label(self, folders: tuple[str, ...], translations: Mapping[str, str]) -> str:
        category = self.categories.get(folders)
        label = category.label if category else split_number_prefix(folders[-1])[0]
        return translations.get(label, label)

    def _folder_position(self, folders: tuple[str, ...]) -> float | None:
        # Translations keep the source tree's positions: their folders mirror it and their category files are unread.
        category = self.categories.get(folders)
        return category.position if category else split_number_prefix(folders[-1])[1]

    def _translated_labels(self, content_root: Path) -> tuple[dict[str, str], bytes]:
        """Category labels translated in `i18n/<locale>/docusaurus-plugin-content-docs/current.json`, and its hash."""
        path = content_root.parent / f"{content_root.name}.json"
        if not path.is_file():
            return {}, b""
        data = path.read_bytes()
        digest = hashlib.sha256(data).digest()
        try:
            messages = json.loads(data.decode("utf-8"))
        except ValueError as exc:
            self.failures.append(BadFile(self._relative(path), f"invalid translation file: {exc}"))
            return {}, digest
        labels: dict[str, str] = {}
        for key, entry in messages.items() if isinstance(messages, dict) else ():
            _, found, label = key.partition(".category.")
            if found and ".link.generated-index." not in label and isinstance(entry, dict):
                message = entry.get("message")
                if isinstance(message, str):
                    labels[label] = message
        return labels, digest


def _category_from_file(path: Path, raw: bytes, default: Category) -> Category:
    text = raw.decode("utf-8")
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
