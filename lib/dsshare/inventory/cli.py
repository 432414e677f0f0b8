"""``dsshare inventory``: collect, snapshot, report; a thin adapter over the library.

Exit codes: 0 when every account and Region was read, 3 when some could not be
(they are listed, and are rows of errors.csv), 1 on an error that stopped the
run, 2 on bad arguments (found before any AWS call, e.g. an ``--out`` folder that
holds other files, or an earlier snapshot without ``--force``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

from dsshare.errors import DsShareError, ParameterError

from .schema import records

#: Some accounts or Regions could not be read; the rest of the inventory was written.
EXIT_PARTIAL = 3
#: Bad arguments, found before any AWS call.
EXIT_BAD_ARGUMENTS = 2


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
        "--concurrency", type=int, default=None, help="calls in flight at once (default 32)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument(
        "--xlsx", action="store_true", help="also write inventory.xlsx (needs openpyxl)"
    )
    parser.add_argument(
        "--parquet", action="store_true", help="also write parquet/<frame>.parquet (needs pyarrow)"
    )
    parser.add_argument(
        "--timings",
        action="store_true",
        help="print where the time went: start-up, collection, each output",
    )
    parser.set_defaults(handler=run)


def _process_age() -> float | None:
    """Seconds since this process started (Linux /proc; None elsewhere)."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def format_timings(timings: dict[str, float]) -> str:
    """One line: each step's seconds, in order (``dsshare inventory --timings``)."""
    return "timings: " + ", ".join(f"{step} {seconds:.2f}s" for step, seconds in timings.items())


def run(args: argparse.Namespace) -> int:
    """Handle ``dsshare inventory``; return the exit code."""
    timings: dict[str, float] = {}
    age = _process_age()
    if age is not None:
        timings["start-up"] = age
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = now - clock
        clock = now

    from dsshare.connection import Connection

    from .collect import DEFAULT_CONCURRENCY, collect_inventory, enabled_regions
    from .export import check_output_folder, export_inventory
    from .report import xlsx_available
    from .snapshot import parquet_available

    lap("imports")

    accounts = [a for item in args.accounts or [] for a in _list(item)]
    ous = [o for item in args.ous or [] for o in _list(item)]
    regions = [r for item in args.regions or [] for r in _list(item)] or None
    out = args.out or Path("runs") / f"inventory-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    concurrency = DEFAULT_CONCURRENCY if args.concurrency is None else args.concurrency
    try:
        # Checked before any AWS call: collecting for minutes, then failing to write, wastes
        # the run (and an existing file in the way would otherwise be a traceback).
        check_output_folder(out, replace=args.force)
        if args.xlsx and not xlsx_available():
            raise ParameterError("--xlsx", True, "openpyxl installed: pip install 'dsshare[xlsx]'")
        if args.parquet and not parquet_available():
            raise ParameterError(
                "--parquet", True, "pyarrow installed: pip install 'dsshare[parquet]'"
            )
        if args.compare is not None and not args.compare.is_dir():
            raise ParameterError("--compare", str(args.compare), "an earlier snapshot folder")
        conn = Connection(
            profile=args.profile,
            regions=regions,
            endpoint_url=args.endpoint_url,
            role_name=args.role_name,
            max_pool_connections=max(concurrency, 10),
        )
        if args.all_regions:
            regions = enabled_regions(conn)
        lap("connect")
        inventory = collect_inventory(
            conn,
            accounts=accounts or None,
            ous=ous or None,
            all_accounts=args.all_accounts,
            regions=regions,
            concurrency=concurrency,
            progress=not args.no_progress,
        )
        lap("collect")
        result = export_inventory(
            inventory, out, compare=args.compare, replace=args.force,
            xlsx=args.xlsx, parquet=args.parquet,
        )  # fmt: skip
        timings.update(result.timings)
        clock = time.perf_counter()
    except ParameterError as err:
        print(f"dsshare inventory: {err}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    except DsShareError as err:
        print(f"dsshare inventory: {err}", file=sys.stderr)
        return 1
    shares = inventory.shares
    status = shares["ShareStatus"].value_counts().to_dict()
    print(
        f"Inventory of {inventory.meta.scope.describe()} in {inventory.meta.duration_seconds:.1f}s"
    )
    print(
        f"  {len(inventory.directories)} directories, {len(shares)} share records "
        f"({', '.join(f'{k} {v}' for k, v in sorted(status.items())) or 'none'})"
    )
    severities = result.findings["severity"].value_counts().to_dict()
    print(
        f"  {len(result.pending)} pending invitation(s); findings: "
        + (
            ", ".join(f"{severities[s]} {s}" for s in ("high", "medium", "low") if s in severities)
            or "none"
        )
    )
    if result.drift is not None:
        changes = result.drift["change"].value_counts().to_dict()
        print(
            "  drift: " + (", ".join(f"{v} {k}" for k, v in sorted(changes.items())) or "no change")
        )
    print(f"  report: {result.report}")
    print(f"  snapshot: {result.folder} ({len(result.files)} files)")
    if args.timings:
        lap("summary")
        print(f"  {format_timings(timings)}")
    errors = inventory.errors
    org_errors = errors[errors["stage"] == "organization"]
    if not org_errors.empty:
        first = records(org_errors)[0]
        print(
            f"Could not read the organization ({first['code']}: {first['message']}); "
            "account names, OU paths and membership findings are incomplete.",
            file=sys.stderr,
        )
    failed = inventory.failed_accounts
    if failed or (args.all_accounts and not org_errors.empty):
        print(
            f"Could not read {len(failed)} account(s): {', '.join(failed) or '(the account list)'}",
            file=sys.stderr,
        )
        for row in records(
            errors[errors["stage"] != "organization"].drop_duplicates(
                ["account_id", "stage", "code"]
            )
        ):
            print(
                f"  {row['account_id']} {row['stage']}: {row['code']} {row['message']}",
                file=sys.stderr,
            )
        return EXIT_PARTIAL
    return 0
