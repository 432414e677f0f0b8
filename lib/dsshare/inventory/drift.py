"""What changed between two inventories: added, removed and changed rows.

Pure. Shares are matched on (Region, OwnerDirectoryId, SharedDirectoryId), so
an unshare shows as ShareStatus Shared -> Deleted on the same record, and a
share made again after Deleted shows as a new (added) record, as AWS keeps both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import schema
from .model import Inventory
from .schema import records

__all__ = ["COMPARED", "Baseline", "drift", "drift_counts"]

#: Columns compared for each frame (the rest is identity or derived context).
COMPARED: dict[str, tuple[str, ...]] = {
    "shares": ("ShareStatus", "ShareMethod", "notes_sha256"),
    "directories": ("Stage", "Edition", "ShareStatus", "additional_regions"),
}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _context(frame_name: str, row: dict[str, Any]) -> dict[str, Any]:
    if frame_name == "shares":
        return {
            "region": row["region"],
            "account_id": row["OwnerAccountId"],
            "DirectoryId": row["OwnerDirectoryId"],
            "SharedAccountId": row["SharedAccountId"],
            "SharedDirectoryId": row["SharedDirectoryId"],
        }
    return {
        "region": row["region"],
        "account_id": row["account_id"],
        "DirectoryId": row["DirectoryId"],
    }


def _diff_frame(name: str, before: pd.DataFrame, after: pd.DataFrame) -> list[dict[str, Any]]:
    key = schema.SCHEMAS[name].key
    fields = COMPARED[name]

    def index(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
        return {"/".join(str(r[k]) for k in key): r for r in records(frame)}

    old, new = index(before), index(after)
    out: list[dict[str, Any]] = []
    for k in sorted(new.keys() - old.keys()):
        out.append({"frame": name, "change": "added", "key": k, **_context(name, new[k])})
    for k in sorted(old.keys() - new.keys()):
        out.append({"frame": name, "change": "removed", "key": k, **_context(name, old[k])})
    for k in sorted(old.keys() & new.keys()):
        for f in fields:
            a, b = _text(old[k].get(f)), _text(new[k].get(f))
            if a != b:
                out.append(
                    {
                        "frame": name,
                        "change": "changed",
                        "key": k,
                        **_context(name, new[k]),
                        "field": f,
                        "before": a,
                        "after": b,
                    }
                )
    return out


def drift(before: Inventory, after: Inventory) -> pd.DataFrame:
    """Rows added, removed or changed from ``before`` to ``after``.

    Parameters
    ----------
    before, after
        Two inventories, typically a snapshot read back and a fresh collection.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`dsshare.inventory.schema.DRIFT`: one row per added or
        removed record, and one per changed field (ShareStatus, ShareMethod and
        notes_sha256 for shares; Stage, Edition, ShareStatus and replication for
        directories).

    Examples
    --------
    >>> from dsshare.inventory.model import Inventory
    >>> drift(Inventory.empty(), Inventory.empty()).empty
    True
    """
    rows = _diff_frame("shares", before.shares, after.shares)
    rows += _diff_frame("directories", before.directories, after.directories)
    return schema.conform(rows, schema.DRIFT)


@dataclass(frozen=True)
class Baseline:
    """The earlier snapshot a drift was computed against: where it is and when it was taken."""

    path: Path
    collected_at: dt.datetime


def drift_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Records ``new`` (added), ``gone`` (removed) and ``changed`` (one or more fields).

    A record with several changed fields counts once.

    Examples
    --------
    >>> from dsshare.inventory.model import Inventory
    >>> drift_counts(drift(Inventory.empty(), Inventory.empty()))
    {'new': 0, 'gone': 0, 'changed': 0}
    """
    changed = frame[frame["change"] == "changed"]
    return {
        "new": int((frame["change"] == "added").sum()),
        "gone": int((frame["change"] == "removed").sum()),
        "changed": int(changed[["frame", "key"]].drop_duplicates().shape[0]),
    }
