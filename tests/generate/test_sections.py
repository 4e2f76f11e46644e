"""A page rebuilt from its chunks and cut by headings into sections and units; the glossary file; languages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lectern.errors import AppError
from lectern.generate.glossary import GlossaryInvalid, load_glossary, parse_glossary
from lectern.generate.languages import describe, direction
from lectern.generate.sections import outline, page_markdown, select_section, units
from lectern.ingest.chunking import chunk_page
from lectern.ingest.markdown import parse_page

PAGE = """# Robot arms

Intro.

## Joints

A revolute joint rotates.

```python
# not a heading
angle = 90
```

## Sensors

Short.

## Wiring

Also short.

### Colours

Red is power.

## Example

First example.

## Example

Second example.
"""


def rebuilt(text: str, target_chars: int) -> str:
    parsed = parse_page(text, file_stem="arm")
    return page_markdown(parsed.title, chunk_page(parsed, url="u", target_chars=target_chars))


@pytest.mark.parametrize("target_chars", [20, 60, 2000])
def test_the_rebuilt_page_has_every_heading_and_anchor_whatever_the_chunking(target_chars: int) -> None:
    sections = outline(rebuilt(PAGE, target_chars))

    assert [(s.level, s.heading, s.anchor) for s in sections] == [
        (1, "Robot arms", None),
        (2, "Joints", "joints"),
        (2, "Sensors", "sensors"),
        (2, "Wiring", "wiring"),
        (3, "Colours", "colours"),
        (2, "Example", "example"),
        (2, "Example", "example-1"),
    ]
    assert "```python\n# not a heading\nangle = 90\n```" in sections[1].markdown


def test_a_section_comes_with_the_sections_under_it() -> None:
    sections = outline(PAGE)

    wiring = select_section(sections, "wiring")
    assert wiring is not None and [s.anchor for s in wiring] == ["wiring", "colours"]
    assert select_section(sections, "wheels") is None


def test_units_pack_small_sections_and_cut_long_ones_between_paragraphs_never_inside_code() -> None:
    code = "```\n" + "\n".join(f"line {n}" for n in range(80)) + "\n```"
    text = (
        "# T\n\n"
        + "\n\n".join(f"Paragraph {n} " + "word " * 30 for n in range(6))
        + "\n\n"
        + code
        + "\n\n## Small\n\nTiny."
    )
    packed = units(outline(text), 400)

    assert all(len(unit.markdown) <= 400 or unit.markdown == code for unit in packed)
    assert any(unit.markdown == code for unit in packed)
    assert "\n\n".join(unit.markdown for unit in packed) == text
    assert [unit.index for unit in packed] == list(range(len(packed)))
    assert packed[-1].markdown.endswith("## Small\n\nTiny.")


def test_the_glossary_file(tmp_path: Path) -> None:
    path = tmp_path / "glossary.json"
    path.write_text(json.dumps({"Lectern": {"keep": True}, "token": {"pt": "ficha", "pt-BR": "token (BR)"}}))

    glossary = load_glossary(path)
    assert glossary.terms_for("pt-BR") == {"Lectern": None, "token": "token (BR)"}
    assert glossary.terms_for("pt-PT") == {"Lectern": None, "token": "ficha"}
    assert glossary.terms_for("ur") == {"Lectern": None}
    assert load_glossary(None).terms_for("ur") == {}


@pytest.mark.parametrize(
    "data",
    [[], {"": {"keep": True}}, {"term": "keep"}, {"term": {}}, {"term": {"ur": ""}}, {"term": {"keep": False}}],
)
def test_a_glossary_of_the_wrong_shape_is_refused(data: object) -> None:
    with pytest.raises(GlossaryInvalid):
        parse_glossary(data)


def test_a_missing_or_unreadable_glossary_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    for path in (tmp_path / "missing.json", tmp_path / "bad.json"):
        with pytest.raises(AppError) as refused:
            load_glossary(path)
        assert refused.value.status_code == 503 and str(tmp_path) not in refused.value.detail


def test_languages() -> None:
    assert [direction(tag) for tag in ("ur", "ar-EG", "fa", "he", "en", "zh-Hant")] == ["rtl"] * 4 + ["ltr"] * 2
    assert describe("ur") == "Urdu (ur)" and describe("tlh") == "the language with the BCP 47 tag tlh"
