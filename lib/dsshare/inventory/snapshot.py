"""Snapshot folders: CSV per frame, a JSON manifest, optional Parquet.

Layout of a snapshot folder::

    manifest.json            when, who, scope, schema version, frames with row counts and sha256
    directories.csv          collected frames (schemas in dsshare.inventory.schema)
    shares.csv
    accounts.csv
    organizational_units.csv
    errors.csv
    quota.csv                derived views, written for convenience (recomputed on read)
    pending.csv
    findings.csv
    drift.csv                only when compared with an earlier snapshot
    parquet/<frame>.parquet  the same frames, when asked for (needs pyarrow)

ShareNotes never reaches disk: frames only hold its SHA-256 and length. Text is written as
AWS returned it (control characters included), except that a text cell a spreadsheet
would run as a formula (starting with ``= + - @``, tab or CR) gets a leading apostrophe;
:func:`read_snapshot` takes it off again (see :func:`dsshare.safetext.csv_cell`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from dsshare import __version__
from dsshare.errors import DsShareError
from dsshare.extras import require
from dsshare.safetext import csv_cell, csv_value

from . import schema
from .folders import MANIFEST
from .model import Inventory, InventoryMeta

__all__ = [
    "MANIFEST",
    "SnapshotError",
    "parquet_available",
    "read_frame",
    "read_manifest",
    "read_snapshot",
    "write_snapshot",
]

logger = logging.getLogger(__name__)


class SnapshotError(DsShareError):
    """A snapshot folder is missing, incomplete or of an unknown schema version."""

    default_next_step = "Point --compare at a folder written by `dsshare inventory --out`."


def parquet_available() -> bool:
    """True when pyarrow is importable (Parquet copies can then be written)."""
    return importlib.util.find_spec("pyarrow") is not None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """One frame as CSV; text cells a spreadsheet would run as formulas get an apostrophe."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].map(lambda v: v.isoformat() if pd.notna(v) else None)
        elif isinstance(out[column].dtype, pd.StringDtype):
            out[column] = out[column].map(csv_cell, na_action="ignore")
    out.to_csv(path, index=False, lineterminator="\n")


def read_frame(path: str | Path, frame_schema: schema.FrameSchema) -> pd.DataFrame:
    """One CSV of a snapshot (collected or derived) with its declared columns and dtypes."""
    return _read_csv(Path(path), frame_schema)


def _read_csv(path: Path, frame_schema: schema.FrameSchema) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    for column in frame_schema.columns:
        if column.kind == schema.STRING and column.name in raw.columns:
            raw[column.name] = raw[column.name].map(csv_value, na_action="ignore")
    return schema.conform(raw, frame_schema)


def write_snapshot(
    inventory: Inventory,
    path: str | Path,
    *,
    derived: Mapping[str, pd.DataFrame] | None = None,
    parquet: bool = False,
    compared_with: Mapping[str, str] | None = None,
) -> Path:
    """Write ``inventory`` (and optional derived frames) into the folder ``path``.

    Parameters
    ----------
    inventory
        What to write.
    path
        Folder to create or overwrite files in.
    derived
        Extra frames by schema name (quota, pending, findings, drift).
    parquet
        Also write Parquet copies (needs pyarrow: MissingExtraError without it).
    compared_with
        The earlier snapshot ``derived["drift"]`` was computed against, as
        ``{"path": ..., "collected_at": ...}``; kept in the manifest.

    Returns
    -------
    pathlib.Path
        The manifest's path.

    Examples
    --------
    >>> write_snapshot(inv, "runs/inventory-2026-11-27")  # doctest: +SKIP
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    use_parquet = parquet
    if use_parquet:
        require("pyarrow", "parquet", "Parquet copies of the snapshot")
    frames: dict[str, pd.DataFrame] = dict(inventory.frames())
    for name, frame in (derived or {}).items():
        frames[name] = schema.conform(frame, schema.SCHEMAS[name])
    listed: dict[str, dict[str, Any]] = {}
    for name, frame in frames.items():
        target = folder / f"{name}.csv"
        _write_csv(frame, target)
        listed[name] = {"file": target.name, "rows": len(frame), "sha256": _sha256(target)}
        if use_parquet:
            (folder / "parquet").mkdir(exist_ok=True)
            pq = folder / "parquet" / f"{name}.parquet"
            frame.to_parquet(pq, index=False)
            listed[name]["parquet"] = f"parquet/{pq.name}"
    meta = inventory.meta
    manifest = {
        "schema_version": schema.SCHEMA_VERSION,
        "tool": f"dsshare {__version__}",
        "collected_at": meta.collected_at.isoformat(),
        "created_by": meta.caller_arn,
        "scope": meta.to_dict()["scope"],
        "meta": meta.to_dict(),
        "frames": listed,
        "parquet": use_parquet,
    }
    if compared_with is not None:
        manifest["compared_with"] = dict(compared_with)
    target = folder / MANIFEST
    target.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    logger.info("snapshot written to %s (%d frames)", folder, len(listed))
    return target


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of the snapshot folder ``path``."""
    target = Path(path) / MANIFEST
    if not target.is_file():
        raise SnapshotError(f"{path} is not a snapshot folder: {MANIFEST} is missing.")
    manifest: dict[str, Any] = json.loads(target.read_text())
    version = manifest.get("schema_version")
    if version != schema.SCHEMA_VERSION:
        raise SnapshotError(
            f"{path} has schema version {version}; this dsshare reads {schema.SCHEMA_VERSION}.",
            next_step="Collect a new snapshot with this version of dsshare.",
        )
    return manifest


def read_snapshot(path: str | Path) -> Inventory:
    """Read the collected frames of a snapshot folder back into an :class:`Inventory`.

    Frames come back with their declared dtypes (from the CSVs, which are
    always written), so drift and findings work on them as on fresh ones.

    Examples
    --------
    >>> before = read_snapshot("runs/inventory-last-week")  # doctest: +SKIP
    """
    folder = Path(path)
    manifest = read_manifest(folder)
    frames: dict[str, pd.DataFrame] = {}
    for frame_schema in schema.COLLECTED:
        entry = manifest["frames"].get(frame_schema.name)
        if entry is None or not (folder / entry["file"]).is_file():
            raise SnapshotError(f"{path}: {frame_schema.name}.csv is missing.")
        frames[frame_schema.name] = _read_csv(folder / entry["file"], frame_schema)
    return Inventory(**frames, meta=InventoryMeta.from_dict(manifest["meta"]))
