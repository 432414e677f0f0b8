"""What ``dsshare inventory`` (and ``dsshare run inventory_report``) print about an inventory:
the summary, the findings and drift lines, and what could not be read.

Apart from :mod:`dsshare.inventory.cli`, which imports it only once the collection is under
way: these lines are made from frames, and the command starts collecting before pandas
has finished loading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from dsshare.safetext import terminal

from . import schema
from .drift import Baseline, drift_counts
from .export import Export
from .findings import SEVERITIES
from .model import Inventory
from .present import plural, scope_line, utc_time
from .schema import records
from .snapshot import SnapshotError, read_frame, read_manifest

__all__ = [
    "drift_line",
    "findings_lines",
    "problem_lines",
    "snapshot_summary_lines",
    "summary_lines",
]


def summary_lines(inventory: Inventory, result: Export, *, top: int = 5) -> list[str]:
    """What ``dsshare inventory`` prints on success: scope, counts, findings, drift, files.

    Findings are counted by severity with the ``top`` most severe listed; drift names the
    snapshot it was computed against and when that was taken. Text from AWS is shown
    through :func:`dsshare.safetext.terminal` (control characters escaped).
    """
    shares = inventory.shares
    status = shares["ShareStatus"].value_counts().to_dict()
    lines = [
        f"Inventory of {scope_line(inventory)} in {inventory.meta.duration_seconds:.1f} s",
        f"  {plural(len(inventory.directories), 'directory', 'directories')}, "
        f"{plural(len(shares), 'share record')} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(status.items())) or 'none'}), "
        f"{plural(len(result.pending), 'pending invitation')}",
    ]
    names = dict(zip(inventory.accounts["Id"], inventory.accounts["Name"], strict=True))
    lines += findings_lines(result.findings, names, top=top)
    if result.drift is not None:
        lines.append(drift_line(result.drift, result.baseline))
    lines.append(f"  report: {terminal(result.report)}")
    lines.append(f"  snapshot: {terminal(result.folder)} ({plural(len(result.files), 'file')})")
    return lines


def findings_lines(found: pd.DataFrame, names: Mapping[str, Any] | None = None, *, top: int = 5) -> list[str]:
    """``findings: N (h high, m medium, l low)`` and the ``top`` most severe, one a line."""
    names = names or {}
    counts = found["severity"].value_counts().to_dict()
    lines = [
        f"  findings: {len(found)}"
        + (" (" + ", ".join(f"{int(counts.get(s, 0))} {s}" for s in SEVERITIES) + ")" if len(found) else "")
    ]
    for row in records(found.head(top)):
        where = " ".join(str(row[c]) for c in ("region", "DirectoryId", "SharedAccountId") if row.get(c))
        name = names.get(row["SharedAccountId"]) if row.get("SharedAccountId") else None
        lines.append(
            f"    {terminal(row['severity']):<6} {terminal(row['finding'])}: {terminal(where)}"
            + (f" ({terminal(name)})" if name is not None and not pd.isna(name) else "")
        )
    if len(found) > top:
        lines.append(f"    ... and {len(found) - top} more in findings.csv and the report")
    return lines


def drift_line(drift: pd.DataFrame, baseline: Baseline | None) -> str:
    """``compared with <path> taken <time>: N new, M gone, K changed``."""
    counts = drift_counts(drift)
    against = (
        f"{terminal(baseline.path)} taken {utc_time(baseline.collected_at)}"
        if baseline is not None
        else "the earlier snapshot"
    )
    return f"  compared with {against}: {counts['new']} new, {counts['gone']} gone, {counts['changed']} changed"


def snapshot_summary_lines(folder: str | Path) -> list[str]:
    """The findings and drift lines for a snapshot folder already written (``dsshare run``).

    Reads ``findings.csv``, ``drift.csv`` and the manifest's ``compared_with``; a folder
    without them gives no lines.
    """
    path = Path(folder)
    try:
        manifest = read_manifest(path)
    except SnapshotError:
        return []
    lines: list[str] = []
    if (path / "findings.csv").is_file():
        lines += findings_lines(read_frame(path / "findings.csv", schema.FINDINGS))
    if (path / "drift.csv").is_file():
        compared = manifest.get("compared_with") or {}
        baseline = (
            Baseline(Path(compared["path"]), dt.datetime.fromisoformat(compared["collected_at"]))
            if compared.get("path") and compared.get("collected_at")
            else None
        )
        lines.append(drift_line(read_frame(path / "drift.csv", schema.DRIFT), baseline))
    return lines


def problem_lines(inventory: Inventory, *, all_accounts: bool) -> list[str]:
    """What could not be read (printed on stderr): the organization once, then each account."""
    errors = inventory.errors
    lines: list[str] = []
    first = inventory.organization_error
    if first is not None:
        lines.append(
            f"Could not read the organization ({terminal(first['code'])}: {terminal(first['message'])}); "
            "account names, OU paths and membership findings are incomplete."
        )
    failed = inventory.failed_accounts
    if failed or (all_accounts and first is not None):
        lines.append(
            f"Could not read {plural(len(failed), 'account')}: "
            f"{', '.join(terminal(a) for a in failed) or '(the account list)'}"
        )
        for row in records(
            errors[errors["stage"] != "organization"].drop_duplicates(["account_id", "stage", "code"])
        ):
            lines.append(
                f"  {terminal(row['account_id'])} {terminal(row['region'] or '')} {row['stage']}: "
                f"{terminal(row['code'])} {terminal(row['message'])}"
            )
    return lines
