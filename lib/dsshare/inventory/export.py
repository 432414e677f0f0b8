"""Write everything an operator keeps from one inventory run into one folder.

Pure with respect to AWS: takes an :class:`Inventory` (and optionally the
previous snapshot's folder) and writes the snapshot, the derived views, the
HTML report and, when asked for (``xlsx=True``, ``parquet=True``), an XLSX workbook and
Parquet copies of the frames: the optional formats cost nothing unless asked for.

The output folder is new, empty, or an earlier dsshare snapshot that the operator asked to
replace (``--force``, or the console's confirmation): :func:`check_output_folder` refuses
anything else before any AWS call, so an export never writes among other files. A replaced
snapshot is swapped whole: the new one is written beside it, then renamed into place.
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dsshare.errors import ParameterError
from dsshare.extras import require

from .drift import Baseline
from .drift import drift as compute_drift
from .findings import findings as compute_findings
from .findings import pending as compute_pending
from .findings import quota as compute_quota
from .folders import check_output_folder, is_snapshot_folder
from .model import Inventory
from .report import write_report, write_xlsx
from .snapshot import MANIFEST, SnapshotError, read_manifest, read_snapshot, write_snapshot

__all__ = [
    "Export",
    "check_compare_folder",
    "check_output_folder",
    "export_inventory",
    "is_snapshot_folder",
]

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
    baseline: Baseline | None = None
    """The snapshot ``drift`` was computed against."""
    files: list[Path] = field(default_factory=list)
    #: Seconds each step took: drift, derived, snapshot (CSV, and Parquet when asked),
    #: report, xlsx (only the steps that ran).
    timings: dict[str, float] = field(default_factory=dict)


def check_compare_folder(path: str | Path, *, parameter: str = "--compare") -> None:
    """Refuse, before any AWS call, a baseline that is not a snapshot this dsshare can read.

    Raises :class:`~dsshare.errors.ParameterError` naming ``parameter`` when ``path`` is
    missing, is not a dsshare snapshot folder, or has another schema version.
    """
    folder = Path(path)
    if not folder.is_dir() or not is_snapshot_folder(folder):
        raise ParameterError(
            parameter, str(folder),
            f"an earlier snapshot folder (written by dsshare inventory --out, holding {MANIFEST})",
        )  # fmt: skip
    try:
        read_manifest(folder)
    except SnapshotError as err:
        raise ParameterError(parameter, str(folder), f"a snapshot this dsshare reads ({err.message})") from err


def export_inventory(
    inventory: Inventory,
    out: str | Path,
    *,
    compare: str | Path | None = None,
    replace: bool = False,
    xlsx: bool = False,
    parquet: bool = False,
) -> Export:
    """Write snapshot, derived views, report (and XLSX, Parquet) for ``inventory`` into ``out``.

    Parameters
    ----------
    inventory
        The inventory to keep.
    out
        Folder to write: new or empty (created if missing), or an earlier dsshare
        snapshot when ``replace`` is true (see :func:`check_output_folder`).
    compare
        An earlier snapshot folder; its drift to this inventory is computed,
        written as ``drift.csv`` and shown in the report (it may be ``out`` itself).
    replace
        Replace the earlier snapshot in ``out``.
    xlsx, parquet
        Also write ``inventory.xlsx`` (needs openpyxl) and ``parquet/<frame>.parquet``
        (needs pyarrow); MissingExtraError when asked for without the package.

    Examples
    --------
    >>> result = export_inventory(inv, "runs/inv", compare="runs/last-week")  # doctest: +SKIP
    >>> result.drift.groupby("change").size()                                 # doctest: +SKIP
    """
    if xlsx:  # checked before anything is written
        require("openpyxl", "xlsx", "The XLSX workbook")
    final = Path(out)
    replacing = check_output_folder(final, replace=replace)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = now - clock
        clock = now

    drift: pd.DataFrame | None = None
    baseline: Baseline | None = None
    if compare is not None:
        before = read_snapshot(compare)
        drift = compute_drift(before, inventory)
        baseline = Baseline(Path(compare), before.meta.collected_at)
        lap("drift")
    folder = final.with_name(f".{final.name}.dsshare-new-{uuid.uuid4().hex[:8]}") if replacing else final
    quota = compute_quota(inventory)
    waiting = compute_pending(inventory)
    derived = {
        "quota": quota,
        "pending": waiting,
        "findings": compute_findings(inventory, quota_frame=quota, pending_frame=waiting),
    }
    if drift is not None:
        derived["drift"] = drift
    lap("derived")
    compared_with = (
        None
        if baseline is None
        else {"path": str(baseline.path), "collected_at": baseline.collected_at.isoformat()}
    )
    manifest = write_snapshot(
        inventory, folder, derived=derived, parquet=parquet, compared_with=compared_with
    )
    lap("snapshot")
    report = write_report(
        inventory, folder / REPORT, drift=drift, baseline=baseline, derived=derived
    )
    lap("report")
    workbook = None
    if xlsx:
        workbook = write_xlsx({**inventory.frames(), **derived}, folder / WORKBOOK)
        lap("xlsx")
    if replacing:
        old = final.with_name(f".{final.name}.dsshare-old-{uuid.uuid4().hex[:8]}")
        final.rename(old)
        folder.rename(final)
        shutil.rmtree(old)
        folder = final
        manifest = final / manifest.name
        report = final / report.name
        workbook = None if workbook is None else final / workbook.name
    return Export(
        folder=folder,
        manifest=manifest,
        report=report,
        workbook=workbook,
        findings=derived["findings"],
        quota=derived["quota"],
        pending=derived["pending"],
        drift=drift,
        baseline=baseline,
        files=sorted(p for p in folder.rglob("*") if p.is_file()),
        timings=timings,
    )
