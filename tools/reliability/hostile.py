"""Hostile input: a corpus of malformed and adversarial values, and a verdict for each try.

An entry point treated an input well when it either succeeds or raises a
:class:`~dsshare.errors.DsShareError` whose message names the problem. Anything else
(``KeyError``, ``TypeError``, ``FileExistsError``... escaping from deep inside) is a crash:
the operator gets a traceback instead of a next step.

Example
-------
>>> from dsshare.validation import validate_account_id
>>> classify(validate_account_id, "12345").verdict
'refused'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dsshare.errors import DsShareError

__all__ = ["HOSTILE_IDS", "HOSTILE_NOTES", "HOSTILE_YAML", "Verdict", "classify"]

#: Malformed ids, wrong types and lookalikes for directory, account, OU and Region slots.
HOSTILE_IDS: tuple[object, ...] = (
    "", " ", "d-", "d-123", "d-12345678901", "D-1234567890", "d-123456789G", "d-1234567890\n",
    "d-1234567890\x00", "d-１２３４５６７８９０", "1234567890123", "12345678901", "-12345678901",
    "12345678901２", "123456789012 ", "ou-", "ou-ab12-", "ou-AB12-CD34EF56", "r-", "../../etc/passwd",
    "'; DROP TABLE shares; --", "${AWS_SECRET_ACCESS_KEY}", "{{7*7}}", "\u202e2100000000", "x" * 10_000,
    None, 0, 123456789012, -1, 1.5, True, [], {}, ["200000000004"], b"200000000004",
    dt.date(2026, 11, 27), float("nan"),
)
#: ShareNotes: unicode, control characters, the length limit and beyond.
HOSTILE_NOTES: tuple[object, ...] = (
    "", "\x00\x01\x02\x1b[31m red \x07", "line\nbreak\r\n", "\u202eevil", "🔑" * 300, "é" * 1024,
    "x" * 1024, "x" * 1025, "x" * 1_000_000, "\ud800", None, 42, ["a"],
)
#: Desired-state YAML documents exercising YAML's surprises.
HOSTILE_YAML: tuple[str, ...] = (
    "", "~", "[]", "42", "directories:", "directories: yes",
    "directories: [{directory_id: d-1234567890, targets: [000000000017]}]",
    "directories: [{directory_id: d-1234567890, targets: [2_0000_0000_004]}]",
    "directories: [{directory_id: d-1234567890, targets: [1:20:30]}]",
    "directories: [{directory_id: d-1234567890, notes: 2026-11-27}]",
    "directories: [{directory_id: d-1234567890, allow_external: yes}]",
    "directories: [{directory_id: d-1234567890, allow_external: 'true'}]",
    "directories: [{directory_id: d-1234567890, region: no}]",
    "directories: [{directory_id: d-1234567890, method: !!binary aGVsbG8=}]",
    "a: &a [x, x]\nb: &b [*a, *a, *a]\ndirectories: [{directory_id: d-1234567890, targets: *b}]",
    "defaults: &d {method: HANDSHAKE}\ndirectories: [{<<: *d, directory_id: d-1234567890}]",
    "directories: [{directory_id: d-1234567890}, {directory_id: d-1234567890}]",
    "{1: x, a: y}", "directories: [[], 1, null]", "version: true\ndirectories: []",
    "directories: !!python/object/apply:os.system [echo pwned]",
    "directories: [{directory_id: d-1234567890, targets: [" + ", ".join(['"200000000004"'] * 5000) + "]}]",
    "\t- bad indentation", "directories: [{directory_id: d-1234567890, targets: {a: 1}}]",
)


@dataclass(frozen=True)
class Verdict:
    """``ok``, ``refused`` (a DsShareError) or ``crash`` (anything else), with the error."""

    verdict: str
    error: BaseException | None = None

    @property
    def message(self) -> str:
        """The error's text ('' when it succeeded)."""
        return "" if self.error is None else str(self.error)


def classify(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Verdict:
    """Call ``function`` and say how it treated the input (see the module docstring).

    A refusal must carry a message; ``SystemExit(2)`` (argparse's usage error) counts as a
    refusal too. Only ``Exception`` subclasses are caught: KeyboardInterrupt still stops.
    """
    try:
        function(*args, **kwargs)
    except DsShareError as err:
        return Verdict("refused" if str(err).strip() else "crash", err)
    except SystemExit as err:
        return Verdict("refused" if err.code == 2 else "crash", err)
    except Exception as err:  # noqa: BLE001 - classifying every escape is the point
        return Verdict("crash", err)
    return Verdict("ok")


@dataclass(frozen=True)
class Trial:
    """One hostile input given to one entry point, its verdict and the AWS calls it caused."""

    entry_point: str
    value: str
    verdict: Verdict
    aws_calls: int

    @property
    def called_aws_when_refused(self) -> bool:
        """A ParameterError must come before any AWS call."""
        from dsshare.errors import ParameterError

        return isinstance(self.verdict.error, ParameterError) and self.aws_calls > 0


def entry_points(
    conn: Any, directory_id: str, account_id: str, workdir: Any
) -> dict[str, Callable[[object], Any]]:
    """Library, desired-state, runbook-parameter and CLI entry points, each taking one value.

    ``directory_id`` and ``account_id`` are valid values for the slots not under test, so
    only the hostile value can be the reason of a refusal.
    """
    from pathlib import Path

    import dsshare
    from dsshare.desired import load_desired_state, parse_desired_state
    from dsshare.inventory.collect import collect_inventory
    from dsshare.runbooks.catalog import get_runbook
    from dsshare.runbooks.parameters import resolve_parameters

    share_spec = get_runbook("share_directory")
    base = {"directory_id": directory_id, "targets": [account_id]}
    folder = Path(workdir)

    def desired_file(text: object) -> Any:
        path = folder / "desired.yaml"
        path.write_text(str(text), encoding="utf-8", errors="surrogatepass")
        return load_desired_state(path)

    def desired_value(value: object) -> Any:
        return parse_desired_state(
            {"directories": [{"directory_id": directory_id, "targets": [value]}]}
        )

    return {
        "plan(directory_id)": lambda v: dsshare.plan(conn, v, [account_id]),
        "plan(targets[0])": lambda v: dsshare.plan(conn, directory_id, [v]),
        "plan(targets)": lambda v: dsshare.plan(conn, directory_id, v),
        "plan(notes)": lambda v: dsshare.plan(conn, directory_id, [account_id], notes=v),
        "plan(region)": lambda v: dsshare.plan(conn, directory_id, [account_id], region=v),
        "plan(method)": lambda v: dsshare.plan(conn, directory_id, [account_id], method=v),
        "share_directory(account_id)": lambda v: dsshare.share_directory(conn, directory_id, v),
        "share(dry_run, notes)": lambda v: dsshare.share(
            conn, directory_id, [account_id], notes=v, dry_run=True, progress=False),
        "collect_inventory(accounts)": lambda v: collect_inventory(conn, accounts=[v]),
        "collect_inventory(regions)": lambda v: collect_inventory(conn, regions=[v]),
        "parse_desired_state(targets[0])": desired_value,
        "load_desired_state(file)": desired_file,
        "share_directory parameters(directory_id)": lambda v: resolve_parameters(
            share_spec, [{**base, "directory_id": v}]),
        "share_directory parameters(targets)": lambda v: resolve_parameters(
            share_spec, [{**base, "targets": v}]),
        "share_directory parameters(notes)": lambda v: resolve_parameters(
            share_spec, [{**base, "notes": v}]),
        "share_directory parameters(output_dir)": lambda v: resolve_parameters(
            share_spec, [{**base, "output_dir": v}]),
    }


def run_corpus(
    conn: Any, sb: Any, directory_id: str, account_id: str, workdir: Any
) -> list[Trial]:
    """Every corpus value through every entry point; the sandbox log counts AWS calls."""
    points = entry_points(conn, directory_id, account_id, workdir)
    values: dict[str, tuple[object, ...]] = {
        name: (HOSTILE_YAML if "file" in name
               else HOSTILE_NOTES if "notes" in name else HOSTILE_IDS)
        for name in points
    }  # fmt: skip
    trials: list[Trial] = []
    for name, point in points.items():
        for value in values[name]:
            sb.clear_request_log()
            verdict = classify(point, value)
            calls = len(sb.request_log)
            trials.append(Trial(name, repr(value)[:80], verdict, calls))
    return trials
