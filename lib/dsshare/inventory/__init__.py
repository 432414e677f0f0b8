"""Org-wide directory sharing inventory: frames, findings, drift, snapshots, report.

Collect with :func:`collect_inventory` (needs AWS or the sandbox); everything
else works on the returned :class:`Inventory` or on a snapshot read back from
disk, without AWS.

Each public name imports its submodule on first use: ``collect`` needs boto3 but not
pandas until its calls are done, and the frames' modules need pandas, which ``dsshare
inventory`` loads beside its first calls.

Examples
--------
>>> from dsshare.connection import Connection                        # doctest: +SKIP
>>> inv = collect_inventory(Connection(), all_accounts=True)         # doctest: +SKIP
>>> findings(inv)[["finding", "severity", "action"]]                 # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .collect import collect_inventory
    from .findings import FINDING_TYPES, findings, pending, quota
    from .model import Inventory, InventoryMeta, Scope
    from .schema import SCHEMA_VERSION, SCHEMAS

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

#: Public name -> the submodule that defines it.
_SOURCES = {
    "FINDING_TYPES": "findings",
    "findings": "findings",
    "pending": "findings",
    "quota": "findings",
    "Inventory": "model",
    "InventoryMeta": "model",
    "Scope": "model",
    "SCHEMA_VERSION": "schema",
    "SCHEMAS": "schema",
    "collect_inventory": "collect",
}


def __getattr__(name: str) -> Any:
    """Import the submodule defining public ``name`` on first use and cache the value."""
    if name not in _SOURCES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_SOURCES[name]}", __name__), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """This package, keeping the function ``findings`` under its name.

    Importing a submodule sets it as an attribute of its package, and the submodule
    ``findings`` defines the public function ``findings``: without this, the first import
    of the submodule would replace the function (what the eager ``from .findings import
    findings`` used to undo).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "findings" and isinstance(value, types.ModuleType):
            value = value.findings
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
