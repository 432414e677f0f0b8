"""The ``dsshare`` command: a thin adapter over the library.

Each subcommand lives in the module it is about and registers itself through a
``register(subparsers)`` function; this module only assembles them. A subcommand's module
is imported only when that subcommand is chosen, so ``dsshare --help`` stays fast and only
``dsshare sandbox`` loads moto.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

from dsshare import __version__
from dsshare.errors import MissingExtraError
from dsshare.extras import require

__all__ = ["COMMANDS", "EXIT_INTERRUPTED", "EXIT_MISSING_EXTRA", "build_parser", "main"]

#: Exit code when the chosen command needs an extra that is not installed (nothing ran).
EXIT_MISSING_EXTRA = 2
#: Exit code after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

#: Subcommand -> (module that registers it, its one-line help, the extra its module needs),
#: in the order ``--help`` lists them. The help is repeated here so listing the commands
#: imports none of them; ``tests/test_cli_startup.py`` checks it matches what each module
#: registers.
COMMANDS: dict[str, tuple[str, str, str | None]] = {
    "sandbox": (
        "dsshare.sandbox.cli",
        "run the AWS-faithful Directory Service sharing sandbox",
        "sandbox",
    ),
    "inventory": (
        "dsshare.inventory.cli",
        "org-wide share inventory: snapshot, findings, drift and an HTML report",
        None,
    ),
    "run": (
        "dsshare.runbooks.cli",
        "run a runbook notebook headless (papermill) into a run folder",
        None,  # its module loads without the runbooks extra; running one requires it
    ),
}


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (its first positional word), if any."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the top-level parser; ``command``'s module registers its full subparser.

    The other subcommands get a placeholder carrying their help line, which is all
    ``dsshare --help`` shows. ``command="*"`` registers every subcommand in full.
    """
    parser = argparse.ArgumentParser(
        prog="dsshare",
        description="Share AWS Managed Microsoft AD directories across accounts.",
    )
    parser.add_argument("--version", action="version", version=f"dsshare {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_line, extra) in COMMANDS.items():
        if command in (name, "*"):
            loaded = (
                importlib.import_module(module)
                if extra is None
                else require(module, extra, f"dsshare {name}")
            )
            loaded.register(subparsers)
        else:
            subparsers.add_parser(name, help=help_line)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(chosen_command(words))
        args = parser.parse_args(words)
        code: int = args.handler(args)
    except MissingExtraError as err:
        print(f"dsshare: {err}", file=sys.stderr)
        return EXIT_MISSING_EXTRA
    except KeyboardInterrupt:
        # A second Ctrl-C while a command was already stopping: no traceback either.
        print("dsshare: interrupted (Ctrl-C).", file=sys.stderr)
        return EXIT_INTERRUPTED
    if argv is None:
        # The process's own command line: it exits next. Freezing spares the interpreter's
        # final collection a walk over every object the command made and imported (~0.3 s
        # quiet, over 1 s on a busy 2-core machine, measured by benchmarks/process_bench.py).
        # Callers passing argv (tests, notebooks) keep collecting as usual.
        gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(main())
