"""``dsshare run``: execute a runbook notebook headless; a thin adapter over the library.

    dsshare run RUNBOOK [-f params.yaml]... [-p key value]... [--out DIR]
    dsshare run --list
    dsshare run --describe RUNBOOK

Parameter files apply in the order given, then ``-p`` pairs. Exit codes: 0 success, 1 a
target failed or a cell raised (the executed notebook is still written), 2 bad parameters
(nothing executed: no kernel started, no AWS call made).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from dsshare.errors import ParameterError
from dsshare.inventory.cli import snapshot_summary_lines

from .catalog import get_runbook, runbooks

__all__ = ["EXIT_BAD_PARAMETERS", "EXIT_FAILED", "describe", "format_result", "register", "run"]

EXIT_FAILED = 1
EXIT_BAD_PARAMETERS = 2


def register(subparsers: Any) -> None:
    """Add the ``run`` subcommand to the ``dsshare`` parser."""
    names = ", ".join(spec.name for spec in runbooks())
    parser = subparsers.add_parser(
        "run",
        help="run a runbook notebook headless (papermill) into a run folder",
        description="Execute a runbook notebook with papermill into runs/<UTC timestamp>-"
        f"<runbook>/ (or --out). Runbooks: {names}. Mutating runbooks are dry runs unless "
        "dry_run is false; a dry run prints the plan's fingerprint for expected_plan.",
        epilog="exit codes: 0 success; 1 a target failed or a cell raised; 2 bad parameters",
    )
    parser.add_argument("runbook", nargs="?", metavar="RUNBOOK", help="runbook to run")
    parser.add_argument(
        "-f", "--parameters-file", dest="files", action="append", default=[], metavar="FILE",
        help="YAML parameters file; repeatable, later files win",
    )  # fmt: skip
    parser.add_argument(
        "-p", "--parameter", dest="pairs", action="append", nargs=2, default=[],
        metavar=("KEY", "VALUE"),
        help="one parameter, overriding files; lists as a,b or [a, b]; repeatable",
    )  # fmt: skip
    parser.add_argument("--out", metavar="DIR", help="run folder (new or empty)")
    parser.add_argument("--list", action="store_true", help="list the runbooks and exit")
    parser.add_argument("--describe", metavar="RUNBOOK", help="show a runbook's parameters")
    parser.set_defaults(handler=run)


def describe(name: str, stream: TextIO) -> None:
    """Print ``name``'s parameters: type, default and help."""
    spec = get_runbook(name)
    print(f"{spec.name}: {spec.title}", file=stream)
    print(f"  {spec.description}", file=stream)
    print("parameters:", file=stream)
    width = max(len(p.name) for p in spec.params)
    for p in spec.params:
        default = repr(p.default)
        print(f"  {p.name:<{width}}  {p.annotation:<9} default {default:<33} {p.help}", file=stream)


def format_result(result: Any) -> list[str]:
    """The summary lines ``dsshare run`` prints for a :class:`~.execute.RunResult`."""
    lines = [
        f"run folder: {result.folder}",
        f"notebook: {result.notebook}",
        "outcomes: " + (", ".join(f"{k} {v}" for k, v in result.outcomes.items()) or "no results"),
    ]
    if result.plan_summary:
        lines.append("plan: " + ", ".join(f"{k} {v}" for k, v in result.plan_summary.items()))
    if result.report is not None:
        lines.append(f"report: {result.report}")
        # inventory_report: findings by severity and the drift against the named snapshot
        lines.extend(line.removeprefix("  ") for line in snapshot_summary_lines(result.folder / "snapshot"))
    if result.dry_run and result.fingerprint:
        lines.append(f"fingerprint: {result.fingerprint}")
    if result.dry_run and result.notes_text:
        # The operator's own review of what the consumer will read; the run folder, logs
        # and audit keep only its length and hash. The reader refused control characters,
        # so the text cannot drive the terminal.
        lines.append(
            f"notes to be sent ({len(result.notes_text)} characters; shown here for your "
            "review only, recorded nowhere):"
        )
        lines.extend(f"  | {line}" for line in result.notes_text.split("\n"))
    return lines


def run(args: argparse.Namespace) -> int:
    """Handle ``dsshare run``; return the exit code."""
    from .execute import execute, parameter_folders, prepare

    try:
        if args.list:
            for spec in runbooks():
                kind = "mutating, dry run by default" if spec.mutating else "read-only"
                print(f"{spec.name:<24} {spec.title} ({kind})")
            return 0
        if args.describe:
            describe(args.describe, sys.stdout)
            return 0
        if not args.runbook:
            raise ParameterError("runbook", None, "a runbook name (see dsshare run --list)")
        spec, params = prepare(args.runbook, args.files, args.pairs)
        result = execute(spec, params, args.out, notes_folders=parameter_folders(args.files))
    except ParameterError as err:
        print(f"dsshare run: {err}", file=sys.stderr)
        return EXIT_BAD_PARAMETERS
    for line in format_result(result):
        print(line)
    if result.failure is not None:
        print(f"dsshare run: {result.runbook} failed: {result.failure}", file=sys.stderr)
        print(f"  executed notebook: {result.notebook}", file=sys.stderr)
    elif result.failed:
        print(f"dsshare run: {len(result.failed)} target(s) failed; see results.csv",
              file=sys.stderr)  # fmt: skip
    code: int = result.exit_code
    return code
