"""Where an inventory may be written: checked before any AWS call, without pandas.

``dsshare inventory`` checks its ``--out`` folder before it starts collecting, and starts
collecting before pandas has finished loading (it loads beside the first calls), so this
check lives here, apart from :mod:`dsshare.inventory.export`, which re-exports it.
"""

from __future__ import annotations

import json
from pathlib import Path

from dsshare.errors import ParameterError

__all__ = ["MANIFEST", "check_output_folder", "is_snapshot_folder"]

#: The file that makes a folder a dsshare snapshot (written last, by the snapshot writer).
MANIFEST = "manifest.json"


def is_snapshot_folder(path: str | Path) -> bool:
    """True when ``path`` is a folder holding a dsshare snapshot manifest."""
    manifest = Path(path) / MANIFEST
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and str(data.get("tool", "")).startswith("dsshare")
        and isinstance(data.get("frames"), dict)
        and "schema_version" in data
    )


def check_output_folder(path: str | Path, *, replace: bool = False, parameter: str = "--out") -> bool:
    """Refuse an output folder an export must not write into; True when it will replace one.

    A missing folder (it is created) or an empty one is fine. An existing non-empty folder
    is refused, unless it holds a dsshare snapshot and ``replace`` is true. Raises
    :class:`~dsshare.errors.ParameterError` naming ``parameter``.

    Example
    -------
    >>> check_output_folder("runs/inventory-new")  # doctest: +SKIP
    False
    """
    folder = Path(path)
    if not folder.exists() and not folder.is_symlink():
        return False
    if not folder.is_dir():
        raise ParameterError(parameter, str(folder), "a folder: new, empty, or an earlier dsshare snapshot")
    if not any(folder.iterdir()):
        return False
    if not is_snapshot_folder(folder):
        raise ParameterError(
            parameter, str(folder),
            "a new or empty folder: this one holds other files, and an export never writes "
            "among them (choose another folder)",
        )  # fmt: skip
    if not replace:
        raise ParameterError(
            parameter, str(folder),
            "a new or empty folder; this one holds an earlier dsshare snapshot: confirm "
            "replacing it (dsshare inventory --force) or choose another folder",
        )  # fmt: skip
    return True
