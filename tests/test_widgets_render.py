"""What the console renders is escaped: ShareNotes and names come from other accounts."""

from __future__ import annotations

import pandas as pd

from dsshare.errors import PlanMismatchError
from dsshare.widgets import render

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_tables_escape_every_cell_and_header() -> None:
    html = render.table(pd.DataFrame([{"ShareNotes": HOSTILE, HOSTILE: 1}]))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_messages_escape_and_always_carry_the_next_step() -> None:
    err = PlanMismatchError("a" * 64, "b" * 64)
    html = render.error_box(HOSTILE, err.next_step)
    assert "<script>" not in html and "Next step" in html and "Re-run plan" in html
    try:
        raise ValueError(HOSTILE)
    except ValueError as caught:
        unexpected = render.unexpected_box(caught)
    assert "<script>" not in unexpected and "Next step" in unexpected and "<details>" in unexpected


def test_charts_and_tiles_escape_labels_and_scale_bars() -> None:
    svg = render.bar_chart({HOSTILE: 5, "Shared": 10}, title=HOSTILE)
    assert "<script>" not in svg and 'width="260.0"' in svg and 'width="130.0"' in svg
    assert "<script>" not in render.tiles({HOSTILE: 1})
    assert "No data" in render.bar_chart({}, title="empty")


def test_empty_and_long_tables_say_so() -> None:
    assert "No rows." in render.table(None)
    long = render.table(pd.DataFrame({"a": range(12)}), limit=10)
    assert "2 more rows not shown" in long
