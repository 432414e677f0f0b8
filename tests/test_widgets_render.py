"""What the console renders is escaped: ShareNotes and names come from other accounts."""

from __future__ import annotations

import pandas as pd
from bs4 import BeautifulSoup

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


def test_ids_and_regions_never_wrap_and_control_characters_show_as_escapes() -> None:
    frame = pd.DataFrame(
        [{"directory_id": "d-b3e51dc791", "region": "us-east-1", "account_id": "200000000004",
          "name": "evil\x1b[31mred\u202etxt", "message": "a long message that may wrap"}]
    )  # fmt: skip
    soup = BeautifulSoup(render.table(frame), "html.parser")
    cells = {td.get_text(): str(td.get("style", "")) for td in soup.find_all("td")}
    for text in ("d-b3e51dc791", "us-east-1", "200000000004"):
        assert "white-space:nowrap" in cells[text], text
    assert "white-space:nowrap" not in cells["a long message that may wrap"]
    (name,) = [text for text in cells if text.startswith("evil")]
    assert "\x1b" not in name and "\u202e" not in name
    assert "\\x1b" in name and "\\u202e" in name
