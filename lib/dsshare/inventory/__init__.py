"""Org-wide directory sharing inventory: frames, findings, drift, snapshots, report.

Collect with :func:`collect_inventory` (needs AWS or the sandbox); everything
else works on the returned :class:`Inventory` or on a snapshot read back from
disk, without AWS.

Examples
--------
>>> from dsshare.connection import Connection                        # doctest: +SKIP
>>> inv = collect_inventory(Connection(), all_accounts=True)         # doctest: +SKIP
>>> findings(inv)[["finding", "severity", "action"]]                 # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .findings import FINDING_TYPES, findings, pending, quota
from .model import Inventory, InventoryMeta, Scope
from .schema import SCHEMA_VERSION, SCHEMAS

if TYPE_CHECKING:  # the real import is lazy (see __getattr__): it pulls in boto3
    from .collect import collect_inventory

__all__ = [
    "FINDING_TYPES",
    "SCHEMAS",
    "SCHEMA_VERSION",
    "Inventory",
    "InventoryMeta",
    "Scope",
    "collect_inventory",
    "findings",
    "pending",
    "quota",
]


def __getattr__(name: str) -> object:
    # collect imports boto3 and the library; keep the pure parts importable without it.
    if name == "collect_inventory":
        from .collect import collect_inventory

        return collect_inventory
    raise AttributeError(name)
