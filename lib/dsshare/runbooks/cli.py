"""``dsshare run``: execute a runbook notebook headless; a thin adapter over the library.

    dsshare run RUNBOOK [-f params.yaml]... [-p key value]... [--out DIR]
    dsshare run --list
    dsshare run --describe RUNBOOK
    dsshare run --template RUNBOOK [--out FILE]

Parameter files apply in the order given, then ``-p`` pairs. Exit codes: 0 success, 1 a
target failed or a cell raised (the executed notebook is still written), 2 bad parameters
(nothing executed: no kernel started, no AWS call made), 130 stopped by Ctrl-C (results.csv
holds what finished, run.json says interrupted; a rerun finishes the job).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from dsshare.errors import ParameterError
from dsshare.model import MUTATING_ACTIONS

from .catalog import get_runbook, runbooks
from .files import write_template

__all__ = [
    "EXIT_BAD_PARAMETERS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "apply_command",
    "describe",
    "format_result",
    "register",
    "run",
]

EXIT_FAILED = 1
EXIT_BAD_PARAMETERS = 2
#: Ctrl-C (SIGINT): 128 + 2, as shells report it.
EXIT_INTERRUPTED = 130


def register(subparsers: Any) -> None:
    """Add the ``run`` subcommand to the ``dsshare`` parser."""
    names = ", ".join(spec.name for spec in runbooks())
    parser = subparsers.add_parser(
        "run",
        help="run a runbook notebook headless (papermill) into a run folder",
        description="Execute a runbook notebook with papermill into runs/<UTC timestamp>-"
        f"<runbook>/ (or --out). Runbooks: {names}. Mutating runbooks are dry runs unless "
        "dry_run is false; a dry run prints the plan's fingerprint for expected_plan.",
        epilog="exit codes: 0 success; 1 a target failed or a cell raised; 2 bad parameters "
        "(nothing sent); 130 interrupted by Ctrl-C (results.csv holds what finished)",
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
    parser.add_argument(
        "--out", metavar="DIR",
        help="run folder (new or empty); with --template, the file to write",
    )  # fmt: skip
    parser.add_argument("--list", action="store_true", help="list the runbooks and exit")
    parser.add_argument("--describe", metavar="RUNBOOK", help="show a runbook's parameters")
    parser.add_argument(
        "--template", metavar="RUNBOOK",
        help="write RUNBOOK's commented parameter file to start from (RUNBOOK.yaml, or --out; "
        "never overwrites) and exit",
    )  # fmt: skip
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
        # inventory_report: findings by severity and the drift against the named snapshot.
        # Imported here, after the run: it reads CSV with pandas, which the other runbooks
        # leave to the kernel (`dsshare run` starts its kernel sooner without it).
        from dsshare.inventory.summary import snapshot_summary_lines

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


def apply_command(runbook: str, files: Sequence[str], pairs: Sequence[Sequence[str]], fingerprint: str) -> str:
    """The ``dsshare run`` command that applies the plan a dry run printed: the same
    runbook, files and ``-p`` pairs, with ``dry_run false`` and ``expected_plan``.

    Example
    -------
    >>> apply_command("share_directory", ["p.yaml"], [["targets", "a b"]], "ab12")
    "dsshare run share_directory -f p.yaml -p targets 'a b' -p dry_run false -p expected_plan ab12"
    """
    argv = ["dsshare", "run", runbook]
    for path in files:
        argv += ["-f", str(path)]
    for key, value in pairs:
        if key not in ("dry_run", "expected_plan", "output_dir"):
            argv += ["-p", key, value]
    argv += ["-p", "dry_run", "false", "-p", "expected_plan", fingerprint]
    return shlex.join(argv)


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
        if args.template:
            written = write_template(args.template, args.out)
            print(f"wrote {written}; fill it in, then: dsshare run {args.template} -f {written}")
            return 0
        if not args.runbook:
            names = ", ".join(spec.name for spec in runbooks())
            print(
                "dsshare run: no runbook named. Name one of: " + names + ".\n"
                "  e.g. dsshare run share_directory -f parameters/share_directory.sandbox.yaml\n"
                "  (dsshare run --list describes them; --describe RUNBOOK shows its parameters)",
                file=sys.stderr,
            )
            return EXIT_BAD_PARAMETERS
        spec, params = prepare(args.runbook, args.files, args.pairs)
        result = execute(spec, params, args.out, notes_folders=parameter_folders(args.files))
    except ParameterError as err:
        print(f"dsshare run: {err}", file=sys.stderr)
        return EXIT_BAD_PARAMETERS
    except KeyboardInterrupt:
        print("dsshare run: interrupted (Ctrl-C) before the runbook started; nothing was sent.",
              file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
    for line in format_result(result):
        print(line)
    if result.interrupted:
        counts = ", ".join(f"{n} {o}" for o, n in result.outcomes.items()) or "no calls made"
        print(
            f"dsshare run: interrupted (Ctrl-C): {counts}. results.csv lists what finished "
            "(in_doubt: the call may have landed; skipped/Interrupted: never started) and "
            "run.json says interrupted.\n"
            "  Run the same command again: it re-plans from live state, so what finished is "
            "skipped and the rest is done.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    changes = any(action in MUTATING_ACTIONS for action in result.plan_summary)
    if result.dry_run and result.fingerprint and result.exit_code == 0 and changes and not result.interrupted:
        print("to apply exactly this plan (refused if live state changes first), run:")
        print("  " + apply_command(args.runbook, args.files, args.pairs, result.fingerprint))
    if result.failure is not None:
        print(f"dsshare run: {result.runbook} failed: {result.failure}", file=sys.stderr)
        print(f"  executed notebook: {result.notebook}", file=sys.stderr)
    elif result.failed:
        print(f"dsshare run: {len(result.failed)} target(s) failed; see results.csv",
              file=sys.stderr)  # fmt: skip
    code: int = result.exit_code
    return code
