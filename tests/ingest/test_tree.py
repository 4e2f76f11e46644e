"""Walking a docs tree: which files are pages, their routes, categories, locales, and the files that fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lectern.ingest.tree import BadFile, BookTree, SourcePage, page_url, parse_file, read_tree, scan_tree

SITE = Path(__file__).parent / "fixtures" / "site"
BROKEN_PATH = "docs/broken-front-matter.md"
DRAFT_PATH = "docs/02-guides/draft-notes.md"


@pytest.fixture(scope="module")
def book() -> BookTree:
    return read_tree(SITE)


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SITE, tmp_path / "site"))


def by_path(book: BookTree) -> dict[str, SourcePage]:
    return {page.source_path: page for page in book.pages}


def test_pages_found_in_the_site(book: BookTree) -> None:
    assert [page.source_path for page in book.pages] == [
        "docs/01-getting-started/01-install.mdx",
        "docs/01-getting-started/02-configure.md",
        "docs/02-guides/03-deploy.md",
        "docs/02-guides/index.md",
        "docs/02-guides/writing-docs.md",
        "docs/intro.md",
        "i18n/fr/docusaurus-plugin-content-docs/current/01-getting-started/01-install.mdx",
        "i18n/fr/docusaurus-plugin-content-docs/current/intro.md",
    ]


def test_partials_are_not_pages(book: BookTree) -> None:
    paths = by_path(book)
    assert "docs/_partial-note.mdx" not in paths
    assert "docs/_snippets/shared.md" not in paths


def test_drafts_are_left_out_unless_asked_for(book: BookTree) -> None:
    assert "docs/02-guides/draft-notes.md" not in by_path(book)
    with_drafts = by_path(read_tree(SITE, include_drafts=True))
    assert with_drafts["docs/02-guides/draft-notes.md"].page.draft is True


def test_unlisted_pages_are_kept_and_flagged(book: BookTree) -> None:
    assert by_path(book)["docs/02-guides/writing-docs.md"].page.unlisted is True


def test_a_bad_front_matter_is_reported_and_the_rest_is_read(book: BookTree) -> None:
    assert book.failures == (
        BadFile(
            "docs/broken-front-matter.md",
            "invalid YAML front matter at line 2: did not find expected ',' or ']'",
        ),
    )


def test_invalid_utf8_is_reported_and_the_rest_is_read(site_copy: Path) -> None:
    (site_copy / "docs" / "latin1.md").write_bytes(b"# Caf\xe9\n\nOld encoding.\n")

    book = read_tree(site_copy)

    assert BadFile("docs/latin1.md", "not valid UTF-8: byte 0xe9 at offset 5") in book.failures
    assert len(book.pages) == len(read_tree(SITE).pages)


def test_dependency_and_hidden_folders_are_skipped(site_copy: Path) -> None:
    for folder in ("docs/node_modules/some-package", "docs/.cache", "docs/02-guides/.drafts"):
        (site_copy / folder).mkdir(parents=True)
        (site_copy / folder / "README.md").write_text("# Not a page\n", encoding="utf-8")
    (site_copy / "docs" / ".hidden.md").write_text("# Hidden\n", encoding="utf-8")

    assert [page.source_path for page in read_tree(site_copy).pages] == [
        page.source_path for page in read_tree(SITE).pages
    ]


@pytest.mark.parametrize(
    ("source_path", "route"),
    [
        ("docs/intro.md", "/"),  # absolute slug "/"
        ("docs/01-getting-started/01-install.mdx", "/getting-started/install"),  # prefixes stripped
        ("docs/02-guides/index.md", "/guides/"),  # folder index
        ("docs/02-guides/writing-docs.md", "/guides/writing"),  # relative slug
        ("docs/02-guides/03-deploy.md", "/deploy"),  # absolute slug
    ],
)
def test_routes_follow_docusaurus_slug_rules(book: BookTree, source_path: str, route: str) -> None:
    assert by_path(book)[source_path].route == route


def test_doc_ids_drop_number_prefixes_from_folders_and_files(book: BookTree) -> None:
    pages = by_path(book)
    assert pages["docs/01-getting-started/01-install.mdx"].doc_id == "getting-started/install"
    assert pages["docs/intro.md"].doc_id == "welcome"  # front matter id


def test_position_comes_from_front_matter_else_the_number_prefix(book: BookTree) -> None:
    pages = by_path(book)
    assert pages["docs/intro.md"].position == 1
    assert pages["docs/01-getting-started/02-configure.md"].position == 2
    assert pages["docs/02-guides/writing-docs.md"].position is None


def test_sidebar_positions_are_the_folders_category_positions_then_the_pages(book: BookTree) -> None:
    pages = by_path(book)
    assert pages["docs/intro.md"].sidebar_positions == (1,)
    assert pages["docs/01-getting-started/02-configure.md"].sidebar_positions == (2, 2)  # `position: 2`, prefix 02
    assert pages["docs/02-guides/writing-docs.md"].sidebar_positions == (3, None)  # the YAML file's `position: 3`
    # A translation is placed where its source page is: the source tree's category files give its folders' positions.
    translated = "i18n/fr/docusaurus-plugin-content-docs/current/01-getting-started/01-install.mdx"
    assert pages[translated].sidebar_positions == (2, 1)


def test_a_folder_without_category_position_is_placed_by_its_number_prefix(tmp_path: Path) -> None:
    (tmp_path / "07-tutorial" / "basics").mkdir(parents=True)
    (tmp_path / "07-tutorial" / "_category_.json").write_text('{"label": "Tutorial"}', encoding="utf-8")
    (tmp_path / "07-tutorial" / "basics" / "first.md").write_text("Text.\n", encoding="utf-8")

    (page,) = read_tree(tmp_path).pages

    assert page.sidebar_positions == (7, None, None)


def test_categories_from_json_and_yaml(book: BookTree) -> None:
    getting_started, guides = book.categories

    assert getting_started.source_path == "docs/01-getting-started"
    assert (getting_started.label, getting_started.position) == ("Getting Started", 2)
    assert getting_started.link == {
        "type": "generated-index",
        "description": "Install Lectern and point it at your book.",
    }
    assert (guides.label, guides.position, guides.link) == ("Guides", 3, {"type": "doc", "id": "guides/index"})


def test_pages_carry_their_folder_labels(book: BookTree) -> None:
    pages = by_path(book)
    assert pages["docs/01-getting-started/01-install.mdx"].categories == ("Getting Started",)
    assert pages["docs/intro.md"].categories == ()


def test_a_folder_without_category_file_is_labelled_by_its_name(tmp_path: Path) -> None:
    (tmp_path / "03-Tutorial Easy").mkdir()
    (tmp_path / "03-Tutorial Easy" / "first.md").write_text("Text.\n", encoding="utf-8")

    book = read_tree(tmp_path)

    assert book.pages[0].categories == ("Tutorial Easy",)
    assert (book.categories[0].label, book.categories[0].position) == ("Tutorial Easy", 3)
    assert page_url(book.pages[0]) == "/docs/Tutorial%20Easy/first"


def test_a_broken_category_file_is_reported(site_copy: Path) -> None:
    (site_copy / "docs/02-guides/_category_.yml").write_text("label: [oops\n", encoding="utf-8")

    book = read_tree(site_copy)

    reasons = dict(book.failures)
    assert reasons["docs/02-guides/_category_.yml"].startswith("invalid category file: ")
    assert by_path(book)["docs/02-guides/index.md"].categories == ("guides",)


def test_i18n_pages_are_tagged_with_their_locale(book: BookTree) -> None:
    pages = by_path(book)
    french = pages["i18n/fr/docusaurus-plugin-content-docs/current/01-getting-started/01-install.mdx"]
    english = pages["docs/01-getting-started/01-install.mdx"]

    assert (english.locale, english.translated) == ("en", False)
    assert (french.locale, french.translated) == ("fr", True)
    assert (french.route, french.doc_id) == (english.route, english.doc_id)
    assert french.page.title == "Installer la CLI"
    assert french.categories == ("Premiers pas",)  # from current.json


def test_versioned_docs_are_not_the_current_book(book: BookTree) -> None:
    """Answers come from the current docs: older versions (versioned_docs/, i18n/…/version-x/) would repeat them."""
    assert not [page for page in book.pages if "version-1.0" in page.source_path]
    assert not [page for page in book.pages if "1.0" in page.page.title]


def test_blog_translations_are_not_docs(book: BookTree) -> None:
    assert not any("docusaurus-plugin-content-blog" in page.source_path for page in book.pages)


def test_default_locale_is_an_argument() -> None:
    pages = by_path(read_tree(SITE, default_locale="de"))
    assert pages["docs/intro.md"].locale == "de"
    assert pages["i18n/fr/docusaurus-plugin-content-docs/current/intro.md"].translated is True


def test_page_urls_join_base_locale_route_base_and_route(book: BookTree) -> None:
    pages = by_path(book)
    base = "https://book.example.com/"

    french = pages["i18n/fr/docusaurus-plugin-content-docs/current/01-getting-started/01-install.mdx"]

    assert page_url(pages["docs/intro.md"], base_url=base) == "https://book.example.com/docs/"
    assert page_url(french, base_url=base) == "https://book.example.com/fr/docs/getting-started/install"
    assert page_url(pages["docs/02-guides/03-deploy.md"], base_url=base, route_base="/") == (
        "https://book.example.com/deploy"
    )


def test_any_folder_of_markdown(tmp_path: Path) -> None:
    files = {
        "README.md": "# Home\n",
        "01-basics/02-first-steps.md": "# First steps\n",
        "reference/reference.mdx": "# Reference\n",  # named like its folder: the folder's index
        "reference/cli.md": "---\nid: command-line\n---\n# CLI\n",  # the id, not the file name, makes the route
        "notes.txt": "not Markdown",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")

    book = read_tree(tmp_path)

    assert [(page.source_path, page.route, page.page.title) for page in book.pages] == [
        ("01-basics/02-first-steps.md", "/basics/first-steps", "First steps"),
        ("README.md", "/", "Home"),
        ("reference/cli.md", "/reference/command-line", "CLI"),
        ("reference/reference.mdx", "/reference/", "Reference"),
    ]
    assert book.failures == ()


def test_a_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        read_tree(tmp_path / "missing")


def test_scanning_reads_every_file_and_parses_none(book: BookTree) -> None:
    scan = scan_tree(SITE)
    files = {file.source_path: file for file in scan.files}

    # The broken and the draft page are bytes like any other until parsed.
    assert scan.failures == ()
    assert list(files) == sorted([*(page.source_path for page in book.pages), BROKEN_PATH, DRAFT_PATH])
    assert files["docs/intro.md"].data == (SITE / "docs/intro.md").read_bytes()
    assert parse_file(files[BROKEN_PATH]) == book.failures[0]
    assert parse_file(files[DRAFT_PATH]) is None
    assert parse_file(files["docs/intro.md"]) == by_path(book)["docs/intro.md"]


def test_pages_share_surroundings_only_with_the_same_category_and_translation_files() -> None:
    surroundings = {file.source_path: file.surroundings for file in scan_tree(SITE).files}
    french = "i18n/fr/docusaurus-plugin-content-docs/current/"

    assert (
        surroundings["docs/01-getting-started/01-install.mdx"]
        == surroundings["docs/01-getting-started/02-configure.md"]
    )
    assert len({surroundings[path] for path in ("docs/intro.md", "docs/02-guides/index.md", f"{french}intro.md")}) == 3
    assert surroundings[f"{french}01-getting-started/01-install.mdx"] != surroundings[f"{french}intro.md"]
