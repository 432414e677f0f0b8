"""A self-contained HTML report of an inventory, and an XLSX export.

The HTML opens offline: CSS is inline, charts are inline SVG drawn here, and nothing
references a URL (no CDN, no fonts, no scripts). It fits a 1280 px screen and prints on
A4, portrait or landscape, without losing a column: text wraps, while ids, Regions and
times never break inside (``white-space: nowrap`` on those cells; the data is untouched,
so a copied id is the id). Every value from AWS goes through
:func:`dsshare.safetext.html_text`: HTML-escaped, control and bidi characters shown as
visible escapes. Pure: works on an inventory read back from a snapshot.

Headings follow :data:`dsshare.inventory.present.HEADINGS`: AWS field names where the
column is an AWS field, readable words for derived columns.
"""

from __future__ import annotations

import contextlib
import html
import importlib.util
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dsshare import __version__
from dsshare.extras import require
from dsshare.model import ShareStatus
from dsshare.safetext import html_text, terminal, xlsx_text

from . import schema
from .drift import Baseline, drift_counts
from .findings import SEVERITIES
from .findings import findings as compute_findings
from .findings import pending as compute_pending
from .findings import quota as compute_quota
from .model import Inventory
from .present import heading, human_age, percent, plural, scope_line, utc_time
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

#: Columns whose values never break inside: ids, Regions, codes and enumerations.
NOWRAP: frozenset[str] = frozenset(
    {
        "account_id", "owner_account_id", "OwnerAccountId", "SharedAccountId", "Id", "ou_id",
        "parent_id", "DirectoryId", "OwnerDirectoryId", "SharedDirectoryId", "directory_id",
        "owner_directory_id", "region", "primary_region", "request_id", "code", "severity",
        "ShareMethod", "Status", "Stage", "Type", "Edition", "side", "change", "frame",
        "operation", "stage",
    }
)  # fmt: skip
#: Free-text columns where ids, account numbers and Regions inside the text stay whole.
_PROSE = frozenset({"detail", "action", "message", "before", "after", "key"})
#: Directory, account, OU and root ids and Region names, as they appear inside prose.
_ID_IN_TEXT = re.compile(
    r"\b(?:d-[0-9a-f]{10}|\d{12}|ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32}|o-[0-9a-z]{10,32}"
    r"|[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)\b"
)
#: Where a name may wrap: after . / - _ @ : , ; | or a backslash, or after a run of
#: :data:`_LONGEST_RUN` characters that has none of them and no space.
_LONGEST_RUN = 20
_BREAK_POINT = re.compile(r"[./\-_@:,;|\\]|[^\s./\-_@:,;|\\]{20}")
#: Timestamp columns: the date and the time each stay whole, the cell may wrap between them.
_TIMES = frozenset({"CreatedDateTime", "LastUpdatedDateTime", "LaunchTime", "JoinedTimestamp"})

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5rem;color:#222;background:#fff;
 font-size:14px;line-height:1.35}
h1{font-size:1.5rem;margin:0 0 .3rem}
h2{font-size:1.15rem;margin:1.6rem 0 .4rem;border-bottom:1px solid #ddd}
.meta{color:#444;font-size:.85rem;margin:.1rem 0}
.meta b{color:#222;font-weight:600}
.banner{border:2px solid #d7191c;background:#fdecea;color:#5f0b0b;padding:.6rem .9rem;border-radius:6px;
 margin:.8rem 0}
.banner h2{border:0;margin:0 0 .3rem;font-size:1.05rem;color:#b00}
.banner ul{margin:.2rem 0 .2rem 1.2rem;padding:0}
.tiles{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0}
.tile{border:1px solid #ddd;border-radius:6px;padding:.4rem .8rem;min-width:7.5rem}
.tile .n{font-size:1.4rem;font-weight:600}.tile .l{font-size:.78rem;color:#555}
.tile.bad .n{color:#d7191c}.tile.warn .n{color:#b35c00}
.summary{margin:.3rem 0}
table{border-collapse:collapse;font-size:.78rem;margin:.4rem 0;max-width:100%}
th,td{border:1px solid #ddd;padding:.15rem .35rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f1f1f1;font-weight:600}
td.nw,.nw{white-space:nowrap;overflow-wrap:normal}
td.num{text-align:right;white-space:nowrap}
td.finding{white-space:nowrap}
tr:nth-child(even) td{background:#fafafa}
tr.failed td{background:#fdecea}
.sev-high{color:#d7191c;font-weight:600}.sev-medium{color:#b35c00;font-weight:600}.sev-low{color:#555}
.empty{color:#777;font-style:italic}
.aside{color:#555;font-style:italic}
td.enum{overflow-wrap:normal}
.ctl{color:#b00;background:#fff0f0;font-family:ui-monospace,monospace;unicode-bidi:isolate}
td,th,.meta,.banner li{unicode-bidi:isolate}
svg{max-width:100%;height:auto}
svg text{font-size:11px;font-family:system-ui,sans-serif}
@page{size:A4;margin:10mm}
@media print{
 body{margin:0;font-size:9pt}
 h1{font-size:14pt}h2{font-size:11pt;break-after:avoid}
 table{font-size:6.5pt}
 th,td{padding:1px 2px}
 thead{display:table-header-group}
 tr,.tile,svg,.banner{break-inside:avoid}
 .tile{padding:2px 6px;min-width:0}.tile .n{font-size:11pt}
 tr:nth-child(even) td{background:#fff}
 td.finding{white-space:normal}
}
@media print and (orientation:landscape){table{font-size:7.5pt}}
"""


def _camel_breaks(name: str) -> str:
    """An AWS field name with break opportunities between its words (``Shared<wbr>Account...``)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "<wbr>", html_text(name))


def _svg_text(value: object) -> str:
    """Text inside SVG ``<text>``: escapes as in the terminal (an HTML span would not render)."""
    return html.escape(terminal(value))


def _breakable(text: str) -> str:
    """``text`` escaped, with break opportunities after . / - _ @ : and within long runs.

    Names wrap at their dots and hyphens (``corp.<wbr>example.<wbr>com``) instead of at any
    letter, and a run of more than :data:`_LONGEST_RUN` characters without one gets a break
    opportunity anyway, so no name can push a table past the page.
    """
    parts: list[str] = []
    last = 0
    for match in _BREAK_POINT.finditer(text):
        parts.append(html_text(text[last : match.end()]))
        parts.append("<wbr>")
        last = match.end()
    parts.append(html_text(text[last:]))
    return "".join(parts)


def _prose(text: str) -> str:
    """Free text: ids, account numbers and Regions inside it kept whole, the rest breakable."""
    out: list[str] = []
    last = 0
    for match in _ID_IN_TEXT.finditer(text):
        out.append(_breakable(text[last : match.start()]))
        out.append(f'<span class="nw">{match.group()}</span>')
        last = match.end()
    out.append(_breakable(text[last:]))
    return "".join(out)


def _heading(column: str) -> str:
    return _camel_breaks(heading(column))


def _bool(value: object) -> str:
    if value is None:
        return "unknown"
    return "yes" if value else "no"


def _time(value: object) -> str:
    text = utc_time(value)  # type: ignore[arg-type]
    if not text:
        return ""
    day, clock, zone = text.split(" ")
    return f'<span class="nw">{day}</span> <span class="nw">{clock}&nbsp;{zone}</span>'


def _cell(column: str, value: object) -> tuple[str, str]:
    """(css class, inner HTML) of one cell."""
    if value is None or (isinstance(value, float) and value != value):
        return "", ""
    if column in _TIMES:
        return "", _time(value)
    if column == "age_days":
        return "num", html_text(human_age(float(value)))  # type: ignore[arg-type]
    if column == "utilisation":
        return "num", html_text(percent(float(value)))  # type: ignore[arg-type]
    if isinstance(value, bool):
        return "", _bool(value)
    if isinstance(value, int):
        return "num", str(value)
    if column == "additional_regions":
        parts = [p for p in str(value).split(",") if p]
        return "", ", ".join(f'<span class="nw">{html_text(p)}</span>' for p in parts)
    if column == "finding":
        return "finding", html_text(value).replace("_", "_<wbr>")
    if column == "severity":
        return f"nw sev-{html_text(value)}", html_text(value)
    if column in ("ShareStatus", "consumer_share_status"):
        return "enum", _camel_breaks(str(value))
    if column in NOWRAP:
        return "nw", html_text(value)
    if column in _PROSE:
        return "", _prose(str(value))
    return "", _breakable(str(value))


def _table(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    name: str,
    empty: str,
    row_class: Callable[[dict[str, Any]], str] | None = None,
    companions: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """One table; ``companions`` maps a shown column to (other column, label): the other's
    value is added on a second line of the cell when it differs (e.g. the consumer's status)."""
    companions = companions or {}
    if frame.empty:
        return f'<p class="empty">{html_text(empty)}</p>'
    head = "".join(f'<th scope="col" data-column="{c}">{_heading(c)}</th>' for c in columns)
    body = []
    extra = [other for other, _ in companions.values() if other not in columns]
    # Ids, Regions, statuses and names repeat down a column: each distinct (column, value)
    # is rendered once (the type is in the key: True and 1 render differently).
    rendered: dict[tuple[str, type, object], tuple[str, str]] = {}

    def cell(column: str, value: object) -> tuple[str, str]:
        key = (column, type(value), value)
        found = rendered.get(key)
        if found is None:
            found = rendered[key] = _cell(column, value)
        return found

    for row in records(frame[list(columns) + extra]):
        css = row_class(row) if row_class else ""
        cells = []
        for c in columns:
            klass, inner = cell(c, row[c])
            if c in companions:
                other, label = companions[c]
                if row[other] is not None and row[other] != row[c]:
                    _, shown = cell(other, row[other])
                    inner += f'<br><span class="aside">{html_text(label)}: {shown}</span>'
            cells.append(f'<td class="{klass}">{inner}</td>' if klass else f"<td>{inner}</td>")
        body.append((f'<tr class="{css}">' if css else "<tr>") + "".join(cells) + "</tr>")
    return (
        f'<table data-table="{name}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


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
    bar_h, gap, left, width = 18, 6, 260, 380
    total_w = left + width + 60
    legend_rows, run = 1, 0
    for status in statuses:
        step = 20 + 7 * len(str(status))
        if run + step > total_w:
            legend_rows, run = legend_rows + 1, 0
        run += step
    height = len(counts) * (bar_h + gap) + 6 + 18 * legend_rows
    parts = [
        f'<svg role="img" aria-label="Share records by status per directory" '
        f'width="{total_w}" height="{height}" viewBox="0 0 {total_w} {height}">'
    ]
    for i, (label, row) in enumerate(counts.iterrows()):
        y = i * (bar_h + gap)
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_svg_text(label)}</text>')
        x = float(left)
        for status in statuses:
            n = int(row.get(status, 0))
            if not n:
                continue
            w = width * n / longest
            colour = STATUS_COLOURS.get(str(status), _OTHER)
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                f"<title>{_svg_text(status)}: {n}</title></rect>"
            )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 13}">{int(row.sum())}</text>')
    y = len(counts) * (bar_h + gap) + 14
    x = 0.0
    for status in statuses:
        step = 20 + 7 * len(str(status))
        if x + step > total_w:
            x, y = 0.0, y + 18
        colour = STATUS_COLOURS.get(str(status), _OTHER)
        parts.append(f'<rect x="{x:.0f}" y="{y - 10}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 13:.0f}" y="{y}">{_svg_text(status)}</text>')
        x += step
    parts.append("</svg>")
    return "".join(parts)


def _quota_chart(quota: pd.DataFrame) -> str:
    """One bar per directory: share quota used, on a 0-100% scale."""
    frame = quota[quota["share_quota"].notna()]
    if frame.empty:
        return '<p class="empty">No shareable directories.</p>'
    bar_h, gap, left, width = 18, 6, 260, 300
    height = len(frame) * (bar_h + gap) + 10
    total_w = left + width + 170
    parts = [
        f'<svg role="img" aria-label="Share quota used per directory" '
        f'width="{total_w}" height="{height}" viewBox="0 0 {total_w} {height}">'
    ]
    for i, q in enumerate(records(frame)):
        y = i * (bar_h + gap)
        ratio = min(float(q["utilisation"]), 1.0)
        colour = "#d7191c" if ratio >= 1 else "#e6ab02" if ratio >= 0.8 else "#1b9e77"
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_svg_text(q["Name"])} '
            f"({_svg_text(q['region'])})</text>"
            f'<rect x="{left}" y="{y}" width="{width}" height="{bar_h}" fill="#eeeeee"/>'
            f'<rect x="{left}" y="{y}" width="{width * ratio:.1f}" height="{bar_h}" fill="{colour}">'
            f"<title>{q['shares_counting']} of {q['share_quota']}</title></rect>"
            f'<text x="{left + width + 6}" y="{y + 13}">{q["shares_counting"]} of {q["share_quota"]} '
            f"({percent(q['utilisation'])}), {q['headroom']} left</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _account_names(inventory: Inventory) -> dict[str, str]:
    accounts = inventory.accounts
    return {
        str(i): str(n)
        for i, n in zip(accounts["Id"], accounts["Name"], strict=True)
        if pd.notna(n)
    }


def _banner(inventory: Inventory) -> str:
    """The warning at the top of an incomplete inventory: who could not be read, and where."""
    errors = inventory.errors
    if errors.empty:
        return ""
    names = _account_names(inventory)
    items: list[str] = []
    first = inventory.organization_error
    if first is not None:
        items.append(
            f"<li>The organization could not be read ({html_text(first['code'])}): account "
            "names, OU paths and membership findings are incomplete.</li>"
        )
    failed = inventory.failed_accounts
    shown = 20
    for account_id in failed[:shown]:
        mine = errors[errors["account_id"] == account_id]
        regions = sorted({str(r) for r in mine["region"].dropna()})
        where = ", ".join(f'<span class="nw">{html_text(r)}</span>' for r in regions)
        codes = ", ".join(sorted({str(c) for c in mine["code"].dropna()}))
        name = names.get(account_id)
        label = f'<span class="nw">{html_text(account_id)}</span>' + (
            f" ({html_text(name)})" if name else ""
        )
        items.append(
            f"<li>{label}: {where or 'the account itself'} ({html_text(codes or 'error')})</li>"
        )
    if len(failed) > shown:
        items.append(f"<li>and {len(failed) - shown} more accounts (see Collection errors)</li>")
    counted = plural(len(failed), "account") + " could not be read" if failed else "Not everything was read"
    return (
        '<div class="banner" role="alert" id="incomplete"><h2>Incomplete inventory</h2>'
        f"<p>{counted}. What is missing is not in the tables below, and findings that "
        "need it are not raised:</p>"
        f"<ul>{''.join(items)}</ul>"
        '<p>See <a href="#collection-errors">Collection errors</a> for the messages, '
        "fix access and collect again.</p></div>"
    )


def _drift_section(drift: pd.DataFrame | None, baseline: Baseline | None) -> tuple[str, str]:
    if drift is None:
        return "Drift", '<p class="empty">No earlier snapshot was compared (dsshare inventory --compare).</p>'
    counts = drift_counts(drift)
    against = (
        f"Compared with <b>{html_text(baseline.path)}</b>, taken {html_text(utc_time(baseline.collected_at))}: "
        if baseline is not None
        else "Compared with an earlier snapshot: "
    )
    line = (
        f'<p class="summary" id="drift-summary">{against}{counts["new"]} new, '
        f"{counts['gone']} gone, {counts['changed']} changed.</p>"
    )
    columns = [
        "change", "frame", "region", "account_id", "DirectoryId", "SharedAccountId",
        "SharedDirectoryId", "field", "before", "after",
    ]  # fmt: skip
    return "Drift", line + _table(drift, columns, name="drift", empty="No change.")


def _ou_frame(inventory: Inventory) -> pd.DataFrame:
    ous = inventory.organizational_units.copy()
    direct = inventory.accounts["ou_id"].value_counts()
    ous["accounts_direct"] = [int(direct.get(i, 0)) for i in ous["Id"]]
    return ous


def _section(anchor: str, title: str, content: str) -> str:
    return f'<section id="{anchor}"><h2>{html_text(title)}</h2>{content}</section>'


def render_report(
    inventory: Inventory,
    *,
    drift: pd.DataFrame | None = None,
    baseline: Baseline | None = None,
    title: str = "Directory sharing inventory",
    derived: Mapping[str, pd.DataFrame] | None = None,
) -> str:
    """Return the report as one self-contained HTML document.

    Parameters
    ----------
    inventory
        Collected or re-read inventory.
    drift
        Optional drift frame (from :func:`dsshare.inventory.drift.drift`).
    baseline
        The snapshot ``drift`` was computed against, named in the header and drift section.
    title
        Page title.
    derived
        The ``quota``, ``pending`` and ``findings`` frames of this inventory when already
        computed (:func:`~dsshare.inventory.export.export_inventory` passes the ones it
        writes into the snapshot); each one missing is computed here.

    Examples
    --------
    >>> from dsshare.inventory.model import Inventory
    >>> render_report(Inventory.empty()).startswith("<!DOCTYPE html>")
    True
    """
    meta = inventory.meta
    derived = derived or {}
    quota = derived["quota"] if "quota" in derived else compute_quota(inventory)
    waiting = derived["pending"] if "pending" in derived else compute_pending(inventory)
    found = (
        derived["findings"]
        if "findings" in derived
        else compute_findings(inventory, quota_frame=quota, pending_frame=waiting)
    )
    shares = inventory.shares
    owners = inventory.directories[inventory.directories["side"] == "owner"]
    accounts = inventory.accounts
    in_scope = accounts[accounts["in_scope"].fillna(False).astype(bool)]
    read = int(in_scope["regions_read"].fillna(0).gt(0).sum())
    severities = found["severity"].value_counts()
    failed_accounts = set(inventory.failed_accounts)
    tiles = [
        ("accounts read", f"{read} of {len(in_scope)}", "bad" if read < len(in_scope) else ""),
        ("Regions", str(len(meta.scope.regions)), ""),
        ("owner directories", str(len(owners)), ""),
        ("share records", str(len(shares)), ""),
        ("active shares", str(int((shares["ShareStatus"] == ShareStatus.SHARED).sum())), ""),
        ("pending invitations", str(len(waiting)), ""),
        *(
            (f"{s} findings", str(int(severities.get(s, 0))), {"high": "bad", "medium": "warn"}.get(s, ""))
            for s in SEVERITIES
        ),
        ("collection errors", str(len(inventory.errors)), "bad" if len(inventory.errors) else ""),
    ]
    tile_html = "".join(
        f'<div class="tile{" " + css if css and n not in ("0", "0 of 0") else ""}" data-tile="{label}">'
        f'<div class="n">{n}</div><div class="l">{html_text(label)}</div></div>'
        for label, n, css in tiles
    )
    trusted = {True: "on", False: "OFF", None: "unknown"}[meta.trusted_access]
    compared = (
        f"<b>{html_text(baseline.path)}</b>, taken {html_text(utc_time(baseline.collected_at))}"
        if baseline is not None
        else ("an earlier snapshot" if drift is not None else "none (no --compare)")
    )
    header = (
        f"<header><h1>{html_text(title)}</h1>"
        f'<p class="meta" id="meta-scope"><b>Scope:</b> {html_text(scope_line(inventory))}</p>'
        f'<p class="meta" id="meta-collected"><b>Collected:</b> {html_text(utc_time(meta.collected_at, seconds=True))} '
        f"in {meta.duration_seconds:.1f} s by <span class=\"nw\">{html_text(meta.caller_arn)}</span></p>"
        f'<p class="meta" id="meta-organization"><b>Organization:</b> {html_text(meta.organization_id or "unknown")} '
        f"(trusted access for ds.amazonaws.com: {trusted})</p>"
        f'<p class="meta" id="meta-compared"><b>Compared with:</b> {compared}</p>'
        f'<p class="meta" id="meta-tool"><b>Tool:</b> dsshare {html_text(__version__)}, '
        f"inventory schema v{schema.SCHEMA_VERSION}</p></header>"
    )
    sections = [
        _section(
            "findings", "Findings",
            _table(found, ["severity", "finding", "region", "account_id", "DirectoryId",
                           "SharedAccountId", "detail", "action"],
                   name="findings", empty="No findings."),
        ),
        _section("drift", *_drift_section(drift, baseline)),
        _section("chart-status", "Shares by status per directory", _status_chart(shares)),
        _section("chart-quota", "Quota headroom", _quota_chart(quota)),
        _section(
            "pending", "Pending invitations",
            _table(waiting, ["region", "owner_directory_name", "SharedAccountId", "shared_account_name",
                             "SharedDirectoryId", "CreatedDateTime", "age_days"],
                   name="pending", empty="No invitation is waiting."),
        ),
        _section(
            "shares", "Shares",
            _table(shares, ["region", "owner_directory_name", "OwnerAccountId", "SharedAccountId",
                            "shared_account_name", "SharedDirectoryId", "ShareMethod", "ShareStatus",
                            "in_organization", "CreatedDateTime", "LastUpdatedDateTime"],
                   name="shares", empty="No share records.",
                   companions={"ShareStatus": ("consumer_share_status", "consumer")}),
        ),
        _section(
            "quota", "Quota",
            _table(quota, ["account_id", "region", "DirectoryId", "Name", "Edition", "share_quota",
                           "shares_counting", "headroom", "utilisation"],
                   name="quota", empty="No shareable directories."),
        ),
        _section(
            "directories", "Directories",
            _table(inventory.directories, ["account_id", "region", "DirectoryId", "Name", "Type", "Edition",
                                           "Stage", "side", "ShareStatus", "owner_account_id",
                                           "additional_regions"],
                   name="directories", empty="No directories."),
        ),
        _section(
            "accounts", "Accounts",
            _table(accounts, ["Id", "Name", "Status", "ou_path", "is_management", "in_scope",
                              "regions_read", "regions_failed"],
                   name="accounts", empty="No accounts.",
                   row_class=lambda r: "failed" if (r["regions_failed"] or 0) > 0
                   or r["Id"] in failed_accounts else ""),
        ),
        _section(
            "organizational-units", "Organizational units",
            _table(_ou_frame(inventory), ["Id", "Name", "path", "depth", "accounts_direct"],
                   name="organizational_units", empty="The organization's tree was not read."),
        ),
        _section(
            "collection-errors", "Collection errors",
            _table(inventory.errors, ["account_id", "region", "stage", "directory_id", "operation", "code",
                                      "message", "request_id"],
                   name="errors", empty="None: every account and Region in scope was read."),
        ),
    ]  # fmt: skip
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html_text(title)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"{header}{_banner(inventory)}"
        f'<div class="tiles">{tile_html}</div>{"".join(sections)}</body></html>\n'
    )


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed over it only when the block succeeds.

    A failure (or an interruption) leaves no half-written file under the real name.
    """
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_report(
    inventory: Inventory,
    path: str | Path,
    *,
    drift: pd.DataFrame | None = None,
    baseline: Baseline | None = None,
    derived: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8, whole or not at all) and return the path."""
    target = Path(path)
    document = render_report(inventory, drift=drift, baseline=baseline, derived=derived)
    with _atomic(target) as temporary:
        temporary.write_text(document, encoding="utf-8")
    return target


def xlsx_available() -> bool:
    """True when openpyxl is importable."""
    return importlib.util.find_spec("openpyxl") is not None


def _xlsx_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            # Excel has no time zones: timestamps are written as naive UTC.
            out[column] = out[column].dt.tz_convert("UTC").dt.tz_localize(None)
        elif isinstance(out[column].dtype, pd.StringDtype):
            out[column] = out[column].map(xlsx_text, na_action="ignore")
    return out


def write_xlsx(frames: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write each frame to a sheet of one workbook (needs openpyxl); whole or not at all.

    Text is written as text: characters XML cannot hold are shown as escapes (``\\x1b``),
    and a value starting with ``=`` stays a string, never a formula. Timestamps are naive
    UTC (Excel has no time zones). The workbook is written to a temporary file and renamed,
    so a failure leaves no half-written ``.xlsx``.
    """
    require("openpyxl", "xlsx", "The XLSX workbook")
    target = Path(path)
    with _atomic(target) as temporary:
        with pd.ExcelWriter(temporary, engine="openpyxl") as writer:
            for name, frame in frames.items():
                _xlsx_frame(frame).to_excel(writer, sheet_name=name[:31], index=False)
            for sheet in writer.book.worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        if cell.data_type == "f":  # openpyxl takes "=..." for a formula
                            cell.data_type = "s"
    return target
