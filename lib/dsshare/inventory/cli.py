"""``dsshare inventory``: collect, snapshot, report; a thin adapter over the library.

Exit codes: 0 when every account and Region was read, 3 when some could not be
(they are listed, and are rows of errors.csv), 1 on an error that stopped the
run, 2 on bad arguments (found before any AWS call, e.g. an ``--out`` folder that
holds other files, or an earlier snapshot without ``--force``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handle ``dsshare inventory``; return the exit code."""
    from dsshare.connection import Connection

    from .collect import DEFAULT_CONCURRENCY, collect_inventory, enabled_regions
    from .export import check_output_folder, export_inventory

    accounts = [a for item in args.accounts or [] for a in _list(item)]
    ous = [o for item in args.ous or [] for o in _list(item)]
    regions = [r for item in args.regions or [] for r in _list(item)] or None
    out = args.out or Path("runs") / f"inventory-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    concurrency = DEFAULT_CONCURRENCY if args.concurrency is None else args.concurrency
    try:
        # Checked before any AWS call: collecting for minutes, then failing to write, wastes
        # the run (and an existing file in the way would otherwise be a traceback).
        check_output_folder(out, replace=args.force)
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
