"""The ``dsshare`` command: a thin adapter over the library.

Each subcommand lives in the module it is about and registers itself through a
``register(subparsers)`` function; this module only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Exit code after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

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
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        # A second Ctrl-C while a command was already stopping: no traceback either.
        print("dsshare: interrupted (Ctrl-C).", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":
    sys.exit(main())
