"""Write everything an operator keeps from one inventory run into one folder.

Pure with respect to AWS: takes an :class:`Inventory` (and optionally the
previous snapshot's folder) and writes the snapshot, the derived views, the
HTML report and, when openpyxl is installed, an XLSX workbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .drift import drift as compute_drift
from .findings import findings as compute_findings
from .findings import pending as compute_pending
from .findings import quota as compute_quota
from .model import Inventory
from .report import write_report, write_xlsx, xlsx_available
from .snapshot import read_snapshot, write_snapshot

__all__ = ["Export", "export_inventory"]

REPORT = "report.html"
WORKBOOK = "inventory.xlsx"


@dataclass
class Export:
    """What :func:`export_inventory` wrote and computed."""

    folder: Path
    manifest: Path
    report: Path
    workbook: Path | None
    findings: pd.DataFrame
    quota: pd.DataFrame
    pending: pd.DataFrame
    drift: pd.DataFrame | None = None
    files: list[Path] = field(default_factory=list)


def export_inventory(
    inventory: Inventory, out: str | Path, *, compare: str | Path | None = None
) -> Export:
    """Write snapshot, derived views, report (and XLSX) for ``inventory`` into ``out``.

    Parameters
    ----------
    inventory
        The inventory to keep.
    out
        Folder to write (created if missing).
    compare
        An earlier snapshot folder; its drift to this inventory is computed,
        written as ``drift.csv`` and shown in the report.

    Examples
    --------
    >>> result = export_inventory(inv, "runs/inv", compare="runs/last-week")  # doctest: +SKIP
    >>> result.drift.groupby("change").size()                                 # doctest: +SKIP
    """
    folder = Path(out)
    drift = compute_drift(read_snapshot(compare), inventory) if compare is not None else None
    derived = {
        "quota": compute_quota(inventory),
        "pending": compute_pending(inventory),
        "findings": compute_findings(inventory),
    }
    if drift is not None:
        derived["drift"] = drift
    manifest = write_snapshot(inventory, folder, derived=derived)
    report = write_report(inventory, folder / REPORT, drift=drift)
    workbook = None
    if xlsx_available():
        workbook = write_xlsx({**inventory.frames(), **derived}, folder / WORKBOOK)
    return Export(
        folder=folder,
        manifest=manifest,
        report=report,
        workbook=workbook,
        findings=derived["findings"],
        quota=derived["quota"],
        pending=derived["pending"],
        drift=drift,
        files=sorted(p for p in folder.rglob("*") if p.is_file()),
    )
