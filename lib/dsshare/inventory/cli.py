"""``dsshare inventory``: collect, snapshot, report; a thin adapter over the library.

Exit codes (the same scheme as ``dsshare run``): 0 when every account and Region was
read, 3 when some could not be (they are listed, and are rows of errors.csv), 1 on an
error that stopped the run, 2 on bad arguments, found before any AWS call: argparse's own
errors, an ``--out`` folder that holds other files or an earlier snapshot without
``--force``, a ``--compare`` folder that is not a snapshot.

``--export-desired FILE`` and ``--export-terraform DIR`` also write what is shared now as
desired state and as Terraform (:mod:`dsshare.inventory.adoption`); with
``--from-snapshot DIR`` they are written from an earlier snapshot, without any AWS call.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dsshare.errors import DsShareError, ParameterError
from dsshare.extras import require
from dsshare.safetext import terminal
from dsshare.validation import validate_role_name

from .folders import MANIFEST, check_output_folder

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
        "--concurrency", type=_positive, default=None, help="calls in flight at once (default 32)"
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


def _check_adoption_args(args: argparse.Namespace) -> None:
    """Refuse bad adoption arguments before any AWS call."""
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
    if args.export_desired is None and args.export_terraform is None:
        return
    # Imported only when adopting: it loads pandas, which a plain inventory loads beside
    # its first calls instead of before them.
    from .adoption import check_desired_target, check_terraform_target

    if args.export_desired is not None:
        check_desired_target(args.export_desired, force=args.force)
    if args.export_terraform is not None:
        validate_role_name(args.role_name, "--role-name")
        check_terraform_target(args.export_terraform, force=args.force)


def _adopt(args: argparse.Namespace, source: Any) -> list[str]:
    """Write the adoption files asked for; the lines saying what they hold."""
    if args.export_desired is None and args.export_terraform is None:
        return []
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


def _process_age() -> float | None:
    """Seconds since this process started (Linux /proc; None elsewhere)."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


#: What ``dsshare inventory`` needs once the calls are done, all of it on pandas: loaded in
#: the background while the first calls are in flight (see :class:`_Preload`).
PRELOADED = (
    "dsshare.inventory.build",
    "dsshare.inventory.export",
    "dsshare.inventory.summary",
)


class _Preload(threading.Thread):
    """Import ``modules`` in a daemon thread while the collection's calls are in flight.

    The collection waits on the network (50 ms or more per call, most of its wall time)
    while pandas and the output modules take a few hundred ms of CPU to import: importing
    them beside the first calls instead of before them takes that off the command's wall
    time (measured by ``benchmarks/process_bench.py``). The main thread imports the same
    modules afterwards, which waits for this import if it is still running and raises its
    error, if any, as a plain import would.
    """

    def __init__(self, modules: Sequence[str]) -> None:
        super().__init__(name="dsshare-preload", daemon=True)
        self.modules = tuple(modules)
        self.error: ImportError | None = None

    def run(self) -> None:
        try:
            for module in self.modules:
                importlib.import_module(module)
        except ImportError as err:
            # Kept for inspection; the main thread's own import of the module raises it.
            self.error = err


def format_timings(timings: Mapping[str, float]) -> str:
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

    lap("imports")
    # Checked before any AWS call; MissingExtraError reaches `dsshare`, which names the extra.
    if args.xlsx:
        require("openpyxl", "xlsx", "The XLSX workbook (--xlsx)")
    if args.parquet:
        require("pyarrow", "parquet", "Parquet copies of the snapshot (--parquet)")

    if args.from_snapshot is not None:
        return _adopt_snapshot(args)

    accounts = [a for item in args.accounts or [] for a in _list(item)]
    ous = [o for item in args.ous or [] for o in _list(item)]
    regions = [r for item in args.regions or [] for r in _list(item)] or None
    out = args.out or Path("runs") / f"inventory-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    concurrency = DEFAULT_CONCURRENCY if args.concurrency is None else args.concurrency
    try:
        # Checked before any AWS call: collecting for minutes, then failing to write or to
        # read the baseline, wastes the run (and would report a bad argument as a failure).
        check_output_folder(out, replace=args.force)
        _check_adoption_args(args)
        if args.compare is not None:
            from .export import check_compare_folder

            check_compare_folder(args.compare)
        preload = _Preload(PRELOADED)
        preload.start()
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
        preload.join()
        from .export import export_inventory
        from .summary import problem_lines, summary_lines

        lap("collect")
        result = export_inventory(
            inventory, out, compare=args.compare, replace=args.force,
            xlsx=args.xlsx, parquet=args.parquet,
        )  # fmt: skip
        timings.update(result.timings)
        clock = time.perf_counter()
        adoption_lines = _adopt(args, inventory)
    except ParameterError as err:
        print(f"dsshare inventory: {terminal(err)}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    except DsShareError as err:
        print(f"dsshare inventory: {terminal(err)}", file=sys.stderr)
        return 1
    for line in summary_lines(inventory, result):
        print(line)
    for line in adoption_lines:
        print(line)
    if args.timings:
        lap("summary")
        print(f"  {format_timings(timings)}")
    problems = problem_lines(inventory, all_accounts=args.all_accounts)
    for line in problems:
        print(line, file=sys.stderr)
    if inventory.failed_accounts or (args.all_accounts and not inventory.errors.empty):
        return EXIT_PARTIAL
    return 0
