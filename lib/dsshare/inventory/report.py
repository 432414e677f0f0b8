"""A self-contained HTML report of an inventory, and an XLSX export.

The HTML opens offline: CSS is inline, charts are inline SVG drawn here, and
nothing references a URL (no CDN, no fonts, no scripts). Every value is
HTML-escaped. Pure: works on an inventory read back from a snapshot.
"""

from __future__ import annotations

import html
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from dsshare.model import ShareStatus

from . import schema
from .findings import findings as compute_findings
from .findings import pending as compute_pending
from .findings import quota as compute_quota
from .model import Inventory
from .schema import records

__all__ = ["STATUS_COLOURS", "render_report", "write_report", "write_xlsx", "xlsx_available"]

#: Fill colour of each ShareStatus in charts (colour-blind friendly palette).
STATUS_COLOURS: dict[str, str] = {
    ShareStatus.SHARED: "#1b9e77",
    ShareStatus.PENDING_ACCEPTANCE: "#e6ab02",
    ShareStatus.SHARING: "#66a61e",
    ShareStatus.REJECTED: "#a6761d",
    ShareStatus.REJECTING: "#d95f02",
    ShareStatus.DELETED: "#999999",
    ShareStatus.DELETING: "#bbbbbb",
    ShareStatus.SHARE_FAILED: "#d7191c",
    ShareStatus.REJECT_FAILED: "#7570b3",
}
_OTHER = "#444444"

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;color:#222;background:#fff}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:.9rem}
.tiles{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.tile{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:8rem}
.tile .n{font-size:1.6rem;font-weight:600}.tile .l{font-size:.8rem;color:#555}
.tile.bad .n{color:#d7191c}
table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}
th{background:#f4f4f4;position:sticky;top:0}
tr:nth-child(even) td{background:#fafafa}
.sev-high{color:#d7191c;font-weight:600}.sev-medium{color:#d95f02}.sev-low{color:#555}
.empty{color:#777;font-style:italic}
svg text{font-size:11px;font-family:inherit}
"""


def _e(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return html.escape(f"{value:.3g}")
    if isinstance(value, pd.Timestamp):
        return html.escape(value.strftime("%Y-%m-%d %H:%M:%SZ"))
    return html.escape(str(value))


def _table(frame: pd.DataFrame, columns: Sequence[str] | None = None, *, caption: str = "") -> str:
    cols = list(columns or frame.columns)
    if frame.empty:
        return f'<p class="empty">{_e(caption or "Nothing to show")}: none.</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = []
    for row in records(frame[cols]):
        cells = []
        for c in cols:
            value = row[c]
            css = f' class="sev-{_e(value)}"' if c == "severity" else ""
            cells.append(f"<td{css}>{_e(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _status_chart(shares: pd.DataFrame) -> str:
    """Horizontal stacked bars: share records by status, one bar per owner directory."""
    if shares.empty:
        return '<p class="empty">No share records.</p>'
    frame = shares.assign(
        label=shares["owner_directory_name"].fillna(shares["OwnerDirectoryId"])
        + " ("
        + shares["region"]
        + ")"
    )
    counts = frame.groupby(["label", "ShareStatus"]).size().unstack(fill_value=0)
    statuses = [s for s in STATUS_COLOURS if s in counts.columns] + [
        s for s in counts.columns if s not in STATUS_COLOURS
    ]
    longest = max(int(counts.sum(axis=1).max()), 1)
    bar_h, gap, left, width = 18, 6, 260, 420
    height = len(counts) * (bar_h + gap) + 40
    parts = [
        f'<svg role="img" aria-label="Share records by status per directory" '
        f'width="{left + width + 60}" height="{height}" viewBox="0 0 {left + width + 60} {height}">'
    ]
    for i, (label, row) in enumerate(counts.iterrows()):
        y = i * (bar_h + gap)
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_e(label)}</text>')
        x = float(left)
        for status in statuses:
            n = int(row.get(status, 0))
            if not n:
                continue
            w = width * n / longest
            colour = STATUS_COLOURS.get(str(status), _OTHER)
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                f"<title>{_e(status)}: {n}</title></rect>"
            )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 13}">{int(row.sum())}</text>')
    y = len(counts) * (bar_h + gap) + 14
    x = float(left)
    for status in statuses:
        colour = STATUS_COLOURS.get(str(status), _OTHER)
        parts.append(f'<rect x="{x:.0f}" y="{y - 10}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 13:.0f}" y="{y}">{_e(status)}</text>')
        x += 20 + 7 * len(str(status))
    parts.append("</svg>")
    return "".join(parts)


def _quota_chart(quota: pd.DataFrame) -> str:
    """One bar per directory: share quota used, on a 0-100% scale."""
    frame = quota[quota["share_quota"].notna()]
    if frame.empty:
        return '<p class="empty">No shareable directories.</p>'
    bar_h, gap, left, width = 18, 6, 260, 420
    height = len(frame) * (bar_h + gap) + 10
    parts = [
        f'<svg role="img" aria-label="Share quota used per directory" '
        f'width="{left + width + 160}" height="{height}" viewBox="0 0 {left + width + 160} {height}">'
    ]
    for i, q in enumerate(records(frame)):
        y = i * (bar_h + gap)
        ratio = min(float(q["utilisation"]), 1.0)
        colour = "#d7191c" if ratio >= 1 else "#e6ab02" if ratio >= 0.8 else "#1b9e77"
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_e(q["Name"])} ({_e(q["region"])})</text>'
            f'<rect x="{left}" y="{y}" width="{width}" height="{bar_h}" fill="#eeeeee"/>'
            f'<rect x="{left}" y="{y}" width="{width * ratio:.1f}" height="{bar_h}" fill="{colour}">'
            f"<title>{_e(q['shares_counting'])} of {_e(q['share_quota'])}</title></rect>"
            f'<text x="{left + width + 6}" y="{y + 13}">{_e(q["shares_counting"])}/{_e(q["share_quota"])}'
            f" used, {_e(q['headroom'])} left</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def render_report(
    inventory: Inventory,
    *,
    drift: pd.DataFrame | None = None,
    title: str = "Directory sharing inventory",
) -> str:
    """Return the report as one self-contained HTML document.

    Parameters
    ----------
    inventory
        Collected or re-read inventory.
    drift
        Optional drift frame (from :func:`dsshare.inventory.drift.drift`).
    title
        Page title.

    Examples
    --------
    >>> from dsshare.inventory.model import Inventory
    >>> render_report(Inventory.empty()).startswith("<!DOCTYPE html>")
    True
    """
    meta = inventory.meta
    quota = compute_quota(inventory)
    waiting = compute_pending(inventory)
    found = compute_findings(inventory)
    shares = inventory.shares
    owners = inventory.directories[inventory.directories["side"] == "owner"]
    tiles = [
        ("accounts read", int(inventory.accounts["regions_read"].fillna(0).gt(0).sum()), False),
        ("Regions", len(meta.scope.regions), False),
        ("owner directories", len(owners), False),
        ("share records", len(shares), False),
        ("active shares", int((shares["ShareStatus"] == ShareStatus.SHARED).sum()), False),
        ("pending invitations", len(waiting), False),
        ("high findings", int((found["severity"] == "high").sum()), True),
        ("collection errors", len(inventory.errors), True),
    ]
    tile_html = "".join(
        f'<div class="tile{" bad" if bad and n else ""}"><div class="n">{n}</div>'
        f'<div class="l">{_e(label)}</div></div>'
        for label, n, bad in tiles
    )
    trusted = {True: "on", False: "OFF", None: "unknown"}[meta.trusted_access]
    sections = [
        ("Shares by status per directory", _status_chart(shares)),
        ("Quota headroom", _quota_chart(quota)),
        (
            "Findings",
            _table(
                found,
                [
                    "severity",
                    "finding",
                    "region",
                    "account_id",
                    "DirectoryId",
                    "SharedAccountId",
                    "detail",
                    "action",
                ],
                caption="Findings",
            ),
        ),
        (
            "Pending invitations",
            _table(
                waiting,
                [
                    "region",
                    "owner_directory_name",
                    "SharedAccountId",
                    "shared_account_name",
                    "SharedDirectoryId",
                    "CreatedDateTime",
                    "age_days",
                ],
                caption="Pending invitations",
            ),
        ),
        (
            "Shares",
            _table(
                shares,
                [
                    "region",
                    "owner_directory_name",
                    "OwnerAccountId",
                    "SharedAccountId",
                    "shared_account_name",
                    "SharedDirectoryId",
                    "ShareMethod",
                    "ShareStatus",
                    "consumer_share_status",
                    "in_organization",
                    "CreatedDateTime",
                    "LastUpdatedDateTime",
                ],
                caption="Shares",
            ),
        ),
        (
            "Quota",
            _table(quota, caption="Quota"),
        ),
        (
            "Directories",
            _table(
                inventory.directories,
                [
                    "account_id",
                    "region",
                    "DirectoryId",
                    "Name",
                    "Type",
                    "Edition",
                    "Stage",
                    "side",
                    "ShareStatus",
                    "owner_account_id",
                    "additional_regions",
                ],
                caption="Directories",
            ),
        ),
    ]
    if drift is not None:
        sections.append(("Drift since the previous snapshot", _table(drift, caption="Drift")))
    sections.append(("Collection errors", _table(inventory.errors, caption="Collection errors")))
    body = "".join(f"<section><h2>{_e(h)}</h2>{content}</section>" for h, content in sections)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="meta">Collected {_e(meta.collected_at.strftime("%Y-%m-%d %H:%M:%S UTC"))} by '
        f"{_e(meta.caller_arn)} &middot; scope: {_e(meta.scope.describe())} &middot; organization "
        f"{_e(meta.organization_id or 'unknown')} (trusted access for ds.amazonaws.com: {trusted})"
        f" &middot; schema v{schema.SCHEMA_VERSION}</p>"
        f'<div class="tiles">{tile_html}</div>{body}</body></html>\n'
    )


def write_report(
    inventory: Inventory, path: str | Path, *, drift: pd.DataFrame | None = None
) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    target.write_text(render_report(inventory, drift=drift), encoding="utf-8")
    return target


def xlsx_available() -> bool:
    """True when openpyxl is importable."""
    return importlib.util.find_spec("openpyxl") is not None


def write_xlsx(frames: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write each frame to a sheet of one workbook (needs openpyxl).

    Excel has no time zones: timestamps are written as naive UTC.
    """
    target = Path(path)
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for name, frame in frames.items():
            out = frame.copy()
            for column in out.columns:
                if isinstance(out[column].dtype, pd.DatetimeTZDtype):
                    out[column] = out[column].dt.tz_convert("UTC").dt.tz_localize(None)
            out.to_excel(writer, sheet_name=name[:31], index=False)
    return target
