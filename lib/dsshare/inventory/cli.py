"""``dsshare inventory``: collect, snapshot, report; a thin adapter over the library.

Exit codes: 0 when every account and Region was read, 3 when some could not be
(they are listed, and are rows of errors.csv), 1 on an error that stopped the
run, 2 on bad arguments (found before any AWS call, e.g. an ``--out`` folder that
holds other files, or an earlier snapshot without ``--force``).

``--export-desired FILE`` and ``--export-terraform DIR`` also write what is shared now as
desired state and as Terraform (:mod:`dsshare.inventory.adoption`); with
``--from-snapshot DIR`` they are written from an earlier snapshot, without any AWS call.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from dsshare.errors import DsShareError, ParameterError
from dsshare.validation import validate_role_name

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
        help="replace earlier dsshare output: the snapshot in --out, the --export-desired "
        "file, the adoption files in --export-terraform (never anything else)",
    )  # fmt: skip
    adopt = parser.add_argument_group(
        "adoption", "describe what is shared now as desired state or Terraform "
        "(Shared records only; the rest are listed as comments)",
    )  # fmt: skip
    adopt.add_argument(
        "--export-desired", type=Path, metavar="FILE",
        help="write the desired-state YAML of the active shares (a new file, or --force)",
    )  # fmt: skip
    adopt.add_argument(
        "--export-terraform", type=Path, metavar="DIR",
        help="write Terraform resources, accepters and import blocks for the active shares "
        "(provider aliases assume --role-name in other accounts)",
    )  # fmt: skip
    adopt.add_argument(
        "--from-snapshot", type=Path, metavar="SNAPSHOT_DIR",
        help="adopt from an earlier snapshot instead of collecting (no AWS call, no --out)",
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


def _check_adoption_args(args: argparse.Namespace) -> None:
    """Refuse bad adoption arguments before any AWS call."""
    from .adoption import check_desired_target, check_terraform_target
    from .snapshot import MANIFEST

    if args.from_snapshot is not None:
        if args.export_desired is None and args.export_terraform is None:
            raise ParameterError(
                "--from-snapshot", str(args.from_snapshot),
                "used with --export-desired and/or --export-terraform",
            )  # fmt: skip
        given = [name for name, value in (
            ("--accounts", args.accounts), ("--ous", args.ous), ("--all", args.all_accounts),
            ("--regions", args.regions), ("--all-regions", args.all_regions),
            ("--out", args.out), ("--compare", args.compare),
        ) if value]  # fmt: skip
        if given:
            raise ParameterError(given[0], "given", "not with --from-snapshot (nothing is collected)")
        folder = args.from_snapshot
        if not (folder / MANIFEST).is_file() and (folder / "snapshot" / MANIFEST).is_file():
            args.from_snapshot = folder = folder / "snapshot"  # an inventory_report run folder
        if not (folder / MANIFEST).is_file():
            raise ParameterError(
                "--from-snapshot", str(folder),
                f"a snapshot folder (one holding {MANIFEST}) or an inventory_report run folder",
            )  # fmt: skip
    if args.export_desired is not None:
        check_desired_target(args.export_desired, force=args.force)
    if args.export_terraform is not None:
        validate_role_name(args.role_name, "--role-name")
        check_terraform_target(args.export_terraform, force=args.force)


def _adopt(args: argparse.Namespace, source: Any) -> list[str]:
    """Write the adoption files asked for; the lines saying what they hold."""
    from .adoption import adopt_inventory, write_desired_state, write_terraform

    adoption = adopt_inventory(source)
    counts = adoption.summary()
    what = (
        f"{counts['adopted']} active share(s) adopted, {counts['commented']} record(s) "
        "listed as comments"
    )
    lines: list[str] = []
    if args.export_desired is not None:
        path = write_desired_state(adoption, args.export_desired, force=args.force)
        lines.append(f"  desired state: {path} ({what})")
    if args.export_terraform is not None:
        paths = write_terraform(
            adoption, args.export_terraform, role_name=args.role_name, force=args.force
        )
        lines.append(f"  terraform: {', '.join(str(p) for p in paths)} ({what})")
    return lines


def _adopt_snapshot(args: argparse.Namespace) -> int:
    from .snapshot import read_snapshot

    try:
        _check_adoption_args(args)
        inventory = read_snapshot(args.from_snapshot)
        lines = _adopt(args, inventory)
    except ParameterError as err:
        print(f"dsshare inventory: {err}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    except DsShareError as err:
        print(f"dsshare inventory: {err}", file=sys.stderr)
        return 1
    print(f"Adopted from the snapshot {args.from_snapshot} ({inventory.meta.scope.describe()})")
    print("\n".join(lines))
    return 0


def run(args: argparse.Namespace) -> int:
    """Handle ``dsshare inventory``; return the exit code."""
    from dsshare.connection import Connection

    from .collect import DEFAULT_CONCURRENCY, collect_inventory, enabled_regions
    from .export import check_output_folder, export_inventory

    if args.from_snapshot is not None:
        return _adopt_snapshot(args)

    accounts = [a for item in args.accounts or [] for a in _list(item)]
    ous = [o for item in args.ous or [] for o in _list(item)]
    regions = [r for item in args.regions or [] for r in _list(item)] or None
    out = args.out or Path("runs") / f"inventory-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    concurrency = DEFAULT_CONCURRENCY if args.concurrency is None else args.concurrency
    try:
        # Checked before any AWS call: collecting for minutes, then failing to write, wastes
        # the run (and an existing file in the way would otherwise be a traceback).
        check_output_folder(out, replace=args.force)
        _check_adoption_args(args)
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
        adoption_lines = _adopt(args, inventory)
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
    for line in adoption_lines:
        print(line)
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
