"""``dsshare inventory``: collect, snapshot, report; a thin adapter over the library.

Exit codes (the same scheme as ``dsshare run``): 0 when every account and Region was
read, 3 when some could not be (they are listed, and are rows of errors.csv), 1 on an
error that stopped the run, 2 on bad arguments, found before any AWS call: argparse's own
errors, an ``--out`` folder that holds other files or an earlier snapshot without
``--force``, a ``--compare`` folder that is not a snapshot.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from dsshare.errors import DsShareError, ParameterError
from dsshare.safetext import terminal

from . import schema
from .drift import Baseline, drift_counts
from .export import Export, check_compare_folder, check_output_folder, export_inventory
from .findings import SEVERITIES
from .model import Inventory
from .present import plural, scope_line, utc_time
from .schema import records
from .snapshot import SnapshotError, read_frame, read_manifest

#: Some accounts or Regions could not be read; the rest of the inventory was written.
EXIT_PARTIAL = 3
#: Bad arguments, found before any AWS call.
EXIT_BAD_ARGUMENTS = 2


def _positive(text: str) -> int:
    """argparse type: an integer of at least 1 (argparse turns the ValueError into exit 2)."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


_positive.__name__ = "positive integer"  # argparse: "invalid positive integer value: '0'"


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]


def register(subparsers: Any) -> None:
    """Add the ``inventory`` subcommand to the ``dsshare`` parser."""
    parser = subparsers.add_parser(
        "inventory",
        help="org-wide share inventory: snapshot, findings, drift and an HTML report",
        description="Read directories and share records across accounts and Regions, write a "
        "snapshot (CSV + manifest), findings and a self-contained HTML report into --out.",
    )
    who = parser.add_mutually_exclusive_group()
    who.add_argument(
        "--accounts", nargs="+", metavar="ID", help="account ids (space or comma separated)"
    )
    who.add_argument("--ous", nargs="+", metavar="OU", help="OU ids, expanded recursively")
    who.add_argument(
        "--all",
        dest="all_accounts",
        action="store_true",
        help="every active account of the organization",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--regions", nargs="+", metavar="REGION", help="Regions to read")
    where.add_argument(
        "--all-regions", action="store_true", help="every enabled Region offering Directory Service"
    )
    parser.add_argument(
        "--role-name",
        default="OrganizationAccountAccessRole",
        help="role assumed in member accounts",
    )
    parser.add_argument("--profile", help="named AWS profile")
    parser.add_argument(
        "--endpoint-url", help="send every call here (the sandbox); default AWS_ENDPOINT_URL"
    )
    parser.add_argument(
        "--out", type=Path,
        help="output folder, new or empty (default runs/inventory-<UTC time>)",
    )  # fmt: skip
    parser.add_argument(
        "--force", action="store_true",
        help="replace the earlier dsshare snapshot in --out (never any other folder)",
    )  # fmt: skip
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="PREV_DIR",
        help="earlier snapshot folder to compute drift against",
    )
    parser.add_argument(
        "--concurrency", type=_positive, default=None, help="calls in flight at once (default 32)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(handler=run)


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
    org_errors = errors[errors["stage"] == "organization"]
    if not org_errors.empty:
        first = records(org_errors)[0]
        lines.append(
            f"Could not read the organization ({terminal(first['code'])}: {terminal(first['message'])}); "
            "account names, OU paths and membership findings are incomplete."
        )
    failed = inventory.failed_accounts
    if failed or (all_accounts and not org_errors.empty):
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


def run(args: argparse.Namespace) -> int:
    """Handle ``dsshare inventory``; return the exit code."""
    from dsshare.connection import Connection

    from .collect import DEFAULT_CONCURRENCY, collect_inventory, enabled_regions

    accounts = [a for item in args.accounts or [] for a in _list(item)]
    ous = [o for item in args.ous or [] for o in _list(item)]
    regions = [r for item in args.regions or [] for r in _list(item)] or None
    out = args.out or Path("runs") / f"inventory-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    concurrency = DEFAULT_CONCURRENCY if args.concurrency is None else args.concurrency
    try:
        # Checked before any AWS call: collecting for minutes, then failing to write or to
        # read the baseline, wastes the run (and would report a bad argument as a failure).
        check_output_folder(out, replace=args.force)
        if args.compare is not None:
            check_compare_folder(args.compare)
        conn = Connection(
            profile=args.profile,
            regions=regions,
            endpoint_url=args.endpoint_url,
            role_name=args.role_name,
            max_pool_connections=max(concurrency, 10),
        )
        if args.all_regions:
            regions = enabled_regions(conn)
        inventory = collect_inventory(
            conn,
            accounts=accounts or None,
            ous=ous or None,
            all_accounts=args.all_accounts,
            regions=regions,
            concurrency=concurrency,
            progress=not args.no_progress,
        )
        result = export_inventory(inventory, out, compare=args.compare, replace=args.force)
    except ParameterError as err:
        print(f"dsshare inventory: {terminal(err)}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    except DsShareError as err:
        print(f"dsshare inventory: {terminal(err)}", file=sys.stderr)
        return 1
    for line in summary_lines(inventory, result):
        print(line)
    problems = problem_lines(inventory, all_accounts=args.all_accounts)
    for line in problems:
        print(line, file=sys.stderr)
    if inventory.failed_accounts or (args.all_accounts and not inventory.errors.empty):
        return EXIT_PARTIAL
    return 0
