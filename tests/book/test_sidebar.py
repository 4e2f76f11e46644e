"""The demo's page list follows Docusaurus's sidebar: positions first (front matter, `_category_`, number prefixes),
then names, a folder's index page leading its folder; GET /api/book/pages lists pages in that order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from lectern.book.sidebar import SidebarPlace, prefix_positions, sidebar_key
from lectern.db.session import Database
from lectern.ingest.index import IngestOptions, ingest_book

Place = tuple[str, str, tuple[float | None, ...]]


def ordered(*places: Place) -> list[str]:
    """The source paths in sidebar order."""
    return [place[0] for place in sorted(places, key=lambda place: sidebar_key(SidebarPlace(*place)))]


def test_positions_come_first_lowest_first_then_names() -> None:
    assert ordered(
        ("zebra.md", "/zebra", (None,)),
        ("alpha.md", "/alpha", (None,)),
        ("intro.md", "/intro", (1,)),
        ("setup.md", "/setup", (2.5,)),
        ("first.md", "/first", (-1,)),
    ) == ["first.md", "intro.md", "setup.md", "alpha.md", "zebra.md"]


def test_a_folder_takes_its_category_position_among_the_pages() -> None:
    assert ordered(
        ("intro.md", "/intro", (1,)),
        ("api.md", "/api", (3,)),
        ("decisions/b.md", "/decisions/b", (2, None)),
        ("decisions/a.md", "/decisions/a", (2, None)),
        ("decisions/first.md", "/decisions/first", (2, 1)),
        ("appendix/notes.md", "/appendix/notes", (None, None)),
    ) == ["intro.md", "decisions/first.md", "decisions/a.md", "decisions/b.md", "api.md", "appendix/notes.md"]


def test_without_positions_a_folder_sorts_where_its_paths_do() -> None:
    assert ordered(
        ("guides/x.md", "/guides/x", (None, None)),
        ("guides-a.md", "/guides-a", (None,)),
        ("guide.md", "/guide", (None,)),
    ) == ["guide.md", "guides-a.md", "guides/x.md"]


@pytest.mark.parametrize("index", ["guides/index.md", "guides/README.md", "guides/Guides.mdx"])
def test_a_folder_index_leads_its_folder(index: str) -> None:
    assert ordered(
        ("guides/a.md", "/guides/a", (None, 1)),
        (index, "/guides/", (None, 9)),
        ("index.md", "/", (None,)),  # the docs root's own index page is an ordinary page
        ("about.md", "/about", (None,)),
    ) == ["about.md", index, "guides/a.md", "index.md"]


def test_number_prefixes_are_positions() -> None:
    assert prefix_positions("02-guides/10-sessions.md") == (2, 10)
    assert prefix_positions("guides/sessions.md") == (None, None)
    assert prefix_positions("2024-01-31-release.md") == (None,)  # a date, not a prefix


async def listed_titles(client: AsyncClient, make_settings: Any, root: Path, pages: dict[str, str]) -> list[str]:
    """Write and ingest these pages, then the titles GET /api/book/pages lists, in its order."""
    write_pages(root, pages)
    await ingest(make_settings, root)
    return [page["title"] for page in (await client.get("/api/book/pages")).json()["pages"]]


async def test_the_pages_are_listed_in_sidebar_order(client: AsyncClient, make_settings: Any, tmp_path: Path) -> None:
    pages = {
        "zz-appendix.md": "# Appendix\n\nLast, by name.\n",
        "01-welcome.md": "# Welcome\n\nFirst.\n",
        "03-reference/02-api.md": "# API\n\nSecond in reference.\n",
        "03-reference/01-cli.md": "# CLI\n\nFirst in reference.\n",
        "03-reference/index.md": "# Reference\n\nThe folder's own page.\n",
        "02-tutorial.md": "# Tutorial\n\nSecond.\n",
    }
    titles = await listed_titles(client, make_settings, tmp_path / "site", pages)

    assert titles == ["Welcome", "Tutorial", "Reference", "CLI", "API", "Appendix"]


async def test_front_matter_and_category_positions_order_the_list(
    client: AsyncClient, make_settings: Any, tmp_path: Path
) -> None:
    pages = {
        "zeta.md": "---\nsidebar_position: 1\n---\n# Zeta\n\nFirst by its position, whatever its name.\n",
        "alpha.md": "# Alpha\n\nNo position: after every positioned item.\n",
        "beta.md": "---\nsidebar_position: 3\n---\n# Beta\n\nAfter the reference folder.\n",
        "reference/_category_.json": '{"label": "Reference", "position": 2}',
        "reference/b-cli.md": "---\nsidebar_position: 1\n---\n# CLI\n\nFirst in its folder.\n",
        "reference/a-api.md": "# API\n\nUnpositioned in its folder.\n",
    }
    titles = await listed_titles(client, make_settings, tmp_path / "site", pages)

    assert titles == ["Zeta", "CLI", "API", "Beta", "Alpha"]


async def test_the_projects_own_book_follows_its_positions(client: AsyncClient, make_settings: Any) -> None:
    docs = Path(__file__).parents[2] / "docs"
    await ingest(make_settings, docs)

    listed = (await client.get("/api/book/pages")).json()["pages"]
    routes = [page["route"] for page in listed]

    assert listed[0]["title"] == "What Lectern is"
    decisions = [i for i, route in enumerate(routes) if route.startswith("/decisions/")]
    decided = sorted(path.name for path in (docs / "decisions").glob("0*.md"))
    assert len(decided) >= 6
    assert decisions == list(range(decisions[0], decisions[0] + len(decided)))  # together, in their positions' order
    assert [listed[i]["title"][:4] for i in decisions] == [name[:4] for name in decided]
    # The folder's `position: 16` puts it after the top-level pages (1 to 15), before the reference folder (17).
    assert routes.index("/benchmarks") < decisions[0] and decisions[-1] < routes.index("/reference/vercel-emulator")
    top_level = [route for route in routes if route.count("/") == 1]
    assert top_level[:3] == ["/intro", "/getting-started", "/configuration"]


def write_pages(root: Path, pages: dict[str, str]) -> None:
    for relative, text in pages.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")


async def ingest(make_settings: Any, root: Path) -> None:
    database = Database(make_settings())
    try:
        report = await ingest_book(await database.engine(), root, IngestOptions(base_url="http://127.0.0.1:8000"))
        assert report.ok, report.failures
    finally:
        await database.dispose()
