"""The run folder: what a runbook run leaves behind, and how each file is written and read.

Layout of ``runs/<UTC timestamp>-<runbook>/``::

    <runbook>.ipynb     the executed notebook (written by papermill, also on failure)
    parameters.yaml     the resolved parameters (ShareNotes text replaced by a comment)
    plan.csv, plan.json the plan with its preflight rows and fingerprint (mutating runbooks)
    results.csv/.json   one row per target, columns dsshare.model.RESULT_COLUMNS
    audit.jsonl         one line per mutating AWS call (ShareNotes only as length + sha256)
    run.json            what ``dsshare run`` concluded: status, exit code, counts, failed cell
    report.html, snapshot/   inventory_report's report and snapshot

Credentials never reach the folder (the connection holds none that it prints), and
ShareNotes text never does either.

Example
-------
>>> print(parameters_yaml({"notes": "secret", "dry_run": True}), end="")
# notes: not recorded (ShareNotes is sensitive): 6 characters, sha256 2bb80d537b1d...
dry_run: true
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .parameters import NOTES_REFERENCE_PATTERN

# Frames are handled here, never made: `dsshare run`'s own process never loads pandas.
if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AUDIT",
    "PARAMETERS",
    "PLAN_CSV",
    "PLAN_JSON",
    "RESULTS_CSV",
    "RESULTS_JSON",
    "RUNS_ROOT",
    "RUN_JSON",
    "new_run_folder",
    "parameters_yaml",
    "read_json",
    "run_folder_name",
    "write_json",
    "write_parameters",
    "write_plan",
    "write_results",
]

RUNS_ROOT = Path("runs")
PARAMETERS = "parameters.yaml"
PLAN_CSV = "plan.csv"
PLAN_JSON = "plan.json"
RESULTS_CSV = "results.csv"
RESULTS_JSON = "results.json"
AUDIT = "audit.jsonl"
RUN_JSON = "run.json"


def run_folder_name(runbook: str, now: dt.datetime | None = None) -> str:
    """``<UTC timestamp>-<runbook>``, e.g. ``20261127T041411Z-share_directory``."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{runbook}"


def new_run_folder(
    runbook: str, root: str | os.PathLike[str] = RUNS_ROOT, now: dt.datetime | None = None
) -> Path:
    """Create and return a fresh run folder under ``root`` (``-2``, ``-3``... on a clash)."""
    base = Path(root) / run_folder_name(runbook, now)
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")


def _notes_comment(notes: str) -> str:
    digest = hashlib.sha256(notes.encode("utf-8")).hexdigest()
    return (
        f"# notes: not recorded (ShareNotes is sensitive): {len(notes)} characters, "
        f"sha256 {digest[:12]}...\n"
    )


def parameters_yaml(params: Mapping[str, Any]) -> str:
    """The parameters as YAML, with literal ShareNotes replaced by a comment.

    ``env:VAR`` and ``file:PATH`` references are kept: they name where the text is, not
    the text. The result can be passed back with ``-f`` (notes then has to be given again).
    """
    kept = dict(params)
    header = ""
    notes = kept.get("notes")
    if isinstance(notes, str) and notes and not NOTES_REFERENCE_PATTERN.match(notes):
        header = _notes_comment(notes)
        del kept["notes"]
    body = yaml.safe_dump(kept, sort_keys=False, default_flow_style=None, width=100)
    return header + body


def write_parameters(folder: Path, params: Mapping[str, Any]) -> Path:
    """Write ``parameters.yaml`` into ``folder``."""
    target = folder / PARAMETERS
    target.write_text(parameters_yaml(params), encoding="utf-8")
    return target


def _plain(value: Any) -> Any:
    """JSON-safe value of a cell whose missing values are already None: NaN becomes None,
    numpy scalars plain Python, datetimes ISO text."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return _plain(value.item())
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-safe dicts (missing values, NA and NaT included, as None)."""
    plain = frame.astype(object)
    plain = plain.where(plain.notna(), None)
    return [{str(k): _plain(v) for k, v in row.items()} for row in plain.to_dict(orient="records")]


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented JSON."""
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def read_json(path: Path) -> Any | None:
    """Parsed JSON at ``path``, or None when it does not exist."""
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_results(folder: Path, frame: pd.DataFrame) -> tuple[Path, Path]:
    """Write ``results.csv`` and ``results.json`` (a list of rows) into ``folder``."""
    csv_path = folder / RESULTS_CSV
    frame.to_csv(csv_path, index=False)
    json_path = write_json(folder / RESULTS_JSON, frame_records(frame))
    return csv_path, json_path


def write_plan(
    folder: Path, frame: pd.DataFrame, fingerprint: str, **extra: Any
) -> tuple[Path, Path]:
    """Write ``plan.csv`` and ``plan.json`` (``{"fingerprint", "summary", "rows", ...}``)."""
    csv_path = folder / PLAN_CSV
    frame.to_csv(csv_path, index=False)
    summary = {str(k): int(v) for k, v in frame["action"].value_counts().items()} if len(frame) else {}
    json_path = write_json(
        folder / PLAN_JSON,
        {"fingerprint": fingerprint, "summary": summary, **extra, "rows": frame_records(frame)},
    )
    return csv_path, json_path
