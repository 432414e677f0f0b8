"""HTML the console shows: tables, messages, headline tiles and bar charts (pure, offline).

Everything is HTML-escaped and self-contained (inline styles, no scripts, no URLs), so it
renders the same in JupyterLab, Voila and a screenshot, with no network.

Example
-------
>>> "<table" in table(pd.DataFrame({"a": [1]}))
True
"""

from __future__ import annotations

import html
import re
import traceback
from collections.abc import Mapping, Sequence

import pandas as pd

from dsshare.inventory.report import STATUS_COLOURS
from dsshare.safetext import html_text

__all__ = [
    "bar_chart",
    "error_box",
    "info_box",
    "key_values",
    "table",
    "tiles",
    "unexpected_box",
]

_ROW_COLOURS = {
    "refuse": "#fde0dd",
    "failed": "#fde0dd",
    "share": "#e5f5e0",
    "unshare": "#fff3cd",
    "done": "#e5f5e0",
    "skip": "#f0f0f0",
    "skipped": "#f0f0f0",
}
_TABLE_STYLE = (
    "border-collapse:collapse;font-size:12px;font-family:sans-serif;margin:4px 0;"
)
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"


#: Text never broken across lines: directory, OU and root ids, account ids, Region names.
_UNBROKEN = re.compile(r"^(?:(?:d|ou|r)-[0-9a-z-]+|\d{12}|[a-z]{2}(?:-[a-z]+)+-\d)$")


def _e(value: object) -> str:
    """A cell's text, escaped; control and bidi characters (legal in AWS names) shown as
    visible escapes (:func:`dsshare.safetext.html_text`)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, pd.Timestamp):
        return html.escape(value.strftime("%Y-%m-%d %H:%M"))
    return html_text(str(value))


def _cell_style(value: object) -> str:
    if isinstance(value, str) and _UNBROKEN.match(value):
        return f"{_CELL};white-space:nowrap"
    return _CELL


def table(
    frame: pd.DataFrame | None,
    columns: Sequence[str] | None = None,
    *,
    css_class: str = "dsshare-table",
    colour_by: str | None = None,
    empty: str = "No rows.",
    limit: int = 500,
) -> str:
    """An escaped HTML table; rows tinted by the value of ``colour_by`` (action, outcome)."""
    if frame is None or frame.empty:
        return f'<div class="{css_class} dsshare-empty"><i>{html.escape(empty)}</i></div>'
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    head = "".join(f'<th style="{_CELL};background:#eee">{_e(c)}</th>' for c in cols)
    body = []
    for row in frame.head(limit).to_dict("records"):
        tint = _ROW_COLOURS.get(str(row.get(colour_by)), "") if colour_by else ""
        style = f' style="background:{tint}"' if tint else ""
        cells = "".join(f'<td style="{_cell_style(row.get(c))}">{_e(row.get(c))}</td>' for c in cols)
        body.append(f"<tr{style}>{cells}</tr>")
    more = ""
    if len(frame) > limit:
        more = f"<div><i>{len(frame) - limit} more rows not shown.</i></div>"
    return (
        f'<table class="{css_class}" style="{_TABLE_STYLE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{more}"
    )


def key_values(lines: Sequence[tuple[str, str]]) -> str:
    """A two-column table of labels and values."""
    rows = "".join(
        f'<tr><th style="{_CELL};background:#eee">{_e(k)}</th><td style="{_CELL}">{_e(v)}</td></tr>'
        for k, v in lines
    )
    return f'<table class="dsshare-identity" style="{_TABLE_STYLE}">{rows}</table>'


def error_box(message: str, next_step: str) -> str:
    """A failure with the library's message and what to do next."""
    step = f"<div><b>Next step:</b> {_e(next_step)}</div>" if next_step else ""
    return (
        '<div class="dsshare-error" style="border-left:4px solid #d7191c;background:#fde0dd;'
        f'padding:6px 10px;margin:4px 0"><div><b>Failed:</b> {_e(message)}</div>{step}</div>'
    )


def unexpected_box(err: BaseException) -> str:
    """An unexpected exception: a plain message, a next step, and the traceback folded away."""
    trace = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    return error_box(
        f"{type(err).__name__}: {err}",
        "This is not an error dsshare expected. Check the inputs and the connection, press the "
        "button again; if it repeats, report it with the details below.",
    ) + f"<details><summary>Details</summary><pre>{_e(trace)}</pre></details>"


def info_box(message: str, *, css_class: str = "dsshare-info") -> str:
    """A neutral status line."""
    return (
        f'<div class="{css_class}" style="border-left:4px solid #1b9e77;background:#eef8f3;'
        f'padding:6px 10px;margin:4px 0">{_e(message)}</div>'
    )


def tiles(numbers: Mapping[str, int]) -> str:
    """Headline numbers as tiles."""
    cells = "".join(
        '<div class="dsshare-tile" style="display:inline-block;min-width:110px;margin:4px;'
        'padding:6px 10px;border:1px solid #ccc;border-radius:4px;text-align:center">'
        f'<div style="font-size:22px;font-weight:bold">{_e(n)}</div>'
        f'<div style="font-size:11px;color:#555">{_e(label)}</div></div>'
        for label, n in numbers.items()
    )
    return f'<div class="dsshare-tiles">{cells}</div>'


def bar_chart(
    values: Mapping[str, float],
    *,
    title: str,
    maximum: float | None = None,
    colours: Mapping[str, str] | None = None,
    suffix: Mapping[str, str] | None = None,
) -> str:
    """A horizontal bar chart as inline SVG; bars scale to ``maximum`` (default: largest)."""
    if not values:
        return f"<div><b>{_e(title)}</b><br><i>No data.</i></div>"
    colours = colours if colours is not None else STATUS_COLOURS
    suffix = suffix or {}
    top = maximum if maximum else max(values.values()) or 1
    bar_h, gap, left, width = 16, 6, 190, 260
    height = len(values) * (bar_h + gap) + 26
    parts = [
        f'<svg class="dsshare-chart" xmlns="http://www.w3.org/2000/svg" width="{left + width + 160}" '
        f'height="{height}" style="font-family:sans-serif;font-size:11px">',
        f'<text x="0" y="13" font-weight="bold">{_e(title)}</text>',
    ]
    for index, (label, value) in enumerate(values.items()):
        y = 22 + index * (bar_h + gap)
        ratio = max(0.0, min(1.0, float(value) / float(top)))
        colour = colours.get(label, "#4c72b0")
        parts.append(f'<text x="0" y="{y + 12}">{_e(label[:30])}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{width}" height="{bar_h}" fill="#f0f0f0"/>')
        parts.append(
            f'<rect x="{left}" y="{y}" width="{width * ratio:.1f}" height="{bar_h}" fill="{colour}"/>'
        )
        text = suffix.get(label, f"{value:g}")
        parts.append(f'<text x="{left + width + 6}" y="{y + 12}">{_e(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
