"""Citation markers: unknown ids removed, code left alone, and a stream checked piece by piece reads as the whole."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lectern.chat.citations import MarkerFilter, cited_ids, keep_known_markers, strip_markers

KNOWN = ("1", "2", "3")


@pytest.mark.parametrize(
    ("answer", "checked"),
    [
        ("Tokens rotate [1].", "Tokens rotate [1]."),
        ("Tokens rotate [9].", "Tokens rotate."),
        ("Tokens rotate [1][9][2].", "Tokens rotate [1][2]."),
        ("Both [1, 9, 2] and [ 3 ].", "Both [1, 2] and [3]."),
        ("Twice [1, 1].", "Twice [1]."),
        ("[9] Starts a line.\n[2] Next.", " Starts a line.\n[2] Next."),
        ("A link [see here](https://x) and [note].", "A link [see here](https://x) and [note]."),
        ("Code:\n```python\nitems[9] = 1\n```\nafter [9].", "Code:\n```python\nitems[9] = 1\n```\nafter."),
        ("Unclosed [1", "Unclosed [1"),
    ],
)
def test_markers_keep_only_known_ids(answer: str, checked: str) -> None:
    assert keep_known_markers(answer, KNOWN) == checked


def test_cited_ids_and_stripping() -> None:
    answer = "A [2]. B [1, 2]. ```x[7]``` C [3]"
    assert cited_ids(answer) == ["2", "1", "3"]
    assert strip_markers(answer) == "A. B. ```x[7]``` C"


def test_a_marker_split_across_pieces_is_checked_whole() -> None:
    markers = MarkerFilter(KNOWN)
    pieces = ["Tokens rotate ", "[", "9", "]", " and expire", " [", "2", "]."]
    out = [markers.feed(piece) for piece in pieces]
    assert "".join(out) + markers.flush() == "Tokens rotate and expire [2]."
    assert out[1:4] == ["", "", ""]  # held back until the marker was complete


def test_a_fence_split_across_pieces_still_protects_code() -> None:
    markers = MarkerFilter(KNOWN)
    streamed = markers.feed("```") + markers.feed("[9]``") + markers.feed("`") + markers.feed(" after [9]")
    assert streamed + markers.flush() == "```[9]``` after"


ANSWER_PARTS = st.lists(
    st.sampled_from(
        ["Tokens", " rotate", " ", "[1]", "[9]", "[1, 9]", "[", "]", ",", "2", "\n", "```", "`", "x[9]", "."]
    ),
    max_size=40,
)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(parts=ANSWER_PARTS, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_a_stream_checked_in_any_pieces_equals_the_whole_checked(parts: list[str], cuts: list[int]) -> None:
    answer = "".join(parts)
    bounds = sorted({0, len(answer), *(c for c in cuts if c < len(answer))})
    markers = MarkerFilter(KNOWN)
    streamed = "".join(markers.feed(answer[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)) + markers.flush()
    assert streamed == keep_known_markers(answer, KNOWN)
    assert set(cited_ids(streamed)) <= set(KNOWN)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(parts=ANSWER_PARTS)
def test_a_stream_fed_part_by_part_equals_the_whole_checked(parts: list[str]) -> None:
    markers = MarkerFilter(KNOWN)
    streamed = "".join(markers.feed(part) for part in parts) + markers.flush()
    assert streamed == keep_known_markers("".join(parts), KNOWN)
