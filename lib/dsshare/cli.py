"""The ``dsshare`` command: a thin adapter over the library.

Each subcommand lives in the module it is about and registers itself through a
``register(subparsers)`` function; this module only assembles them.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

#: Modules that contribute a subcommand, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "dsshare.sandbox.cli",
    "dsshare.inventory.cli",
    "dsshare.runbooks.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="dsshare",
        description="Share AWS Managed Microsoft AD directories across accounts.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    if argv is None:
        # The process's own command line: it exits next. Freezing spares the interpreter's
        # final collection a walk over every object the command made and imported (~0.3 s
        # quiet, over 1 s on a busy 2-core machine, measured by benchmarks/process_bench.py).
        # Callers passing argv (tests, notebooks) keep collecting as usual.
        gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(main())
