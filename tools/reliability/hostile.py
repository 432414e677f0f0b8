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

__all__ = [
    "HOSTILE_DOCUMENTS",
    "HOSTILE_IDS",
    "HOSTILE_NOTES",
    "HOSTILE_TEXT",
    "HOSTILE_TYPED",
    "HOSTILE_YAML",
    "ReaderTrial",
    "Verdict",
    "classify",
    "reader_trials",
]

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


#: What an operator may type where an id, a boolean or a number is wanted, written plainly
#: (unquoted in YAML, or after ``-p``). YAML 1.1 would turn most of them into numbers or
#: booleans; the input reader keeps the text and the slot's type decides.
HOSTILE_TYPED: tuple[str, ...] = (
    "012345670123", "000000000017", "0777", "1e11", "1E3", "0x1F", "0o17", "0b101", "1_000",
    "1:30", "190:20:30", "no", "off", "yes", "on", "y", "n", "0", "1", ".nan",
    ".NaN", ".inf", "-.inf", "nan", "inf", "1e309", "2026-11-27", "true", "FALSE", "15", "0.5",
)
#: Text with control characters or bidirectional overrides (written with YAML escapes in files).
HOSTILE_TEXT: tuple[str, ...] = (
    "a\x00b", "\x1b[31mred", "bell\x07", "del\x7f", "c1\x85", "cr\rhidden", "\u202eevil",
    "\u2066isolate", "fine text",
)
#: Whole documents: tags, alias bombs, duplicate keys, nesting, several documents.
HOSTILE_DOCUMENTS: tuple[str, ...] = (
    "{key}: !!python/object/apply:os.system [echo pwned]",
    "{key}: !!python/name:os.system",
    "{key}: !!binary aGVsbG8=",
    "{key}: !custom x",
    "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "\n".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9))
    + "\n{key}: *a8",
    "{key}: x\n{key}: y",
    "{key}: " + "[" * 40,
    "---\n{key}: x\n---\n{key}: y",
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


# -- every reader, every slot ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReaderTrial:
    """One typed value through one reader's slot: refused with a ParameterError, or ``read``.

    ``faithful`` is True when the outcome is allowed: a refusal by ParameterError, or a value
    read exactly as typed for the slot's type (an id is the typed text; a boolean only from
    true/false; a number only from decimal digits, finite).
    """

    reader: str
    slot: str
    typed: str
    verdict: Verdict
    read: object = None

    @property
    def faithful(self) -> bool:
        from dsshare.errors import ParameterError

        if self.verdict.verdict == "refused":
            return isinstance(self.verdict.error, ParameterError)
        if self.verdict.verdict != "ok":
            return False
        return self.read == expected_value(self.slot, self.typed)


def expected_value(slot: str, typed: str) -> object:
    """What a slot may read from ``typed``, or a sentinel no read value equals."""
    import math
    import re

    if slot in ("id", "text"):
        return typed
    if slot == "bool":
        return {"true": True, "false": False}.get(typed.lower(), _NEVER)
    if slot == "int" and re.fullmatch(r"[+-]?(0|[1-9][0-9]*)", typed):
        return int(typed)
    if slot == "number" and re.fullmatch(r"[+-]?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][+-]?[0-9]+)?", typed):
        value = float(typed)
        return value if math.isfinite(value) else _NEVER
    return _NEVER


_NEVER = object()


def _yaml_escaped(text: str) -> str:
    return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


def reader_trials(workdir: Any) -> list[ReaderTrial]:
    """Every :data:`HOSTILE_TYPED`, :data:`HOSTILE_TEXT` and :data:`HOSTILE_DOCUMENTS` entry
    through every reader: a runbook parameter file, a ``-p`` override, a desired-state file,
    a guardrails file and the console's typed-id field. Pure: no AWS call is made."""
    from pathlib import Path

    from dsshare.desired import load_desired_state
    from dsshare.guardrails import load_guardrails
    from dsshare.runbooks.catalog import get_runbook
    from dsshare.runbooks.execute import load_parameter_file, parse_overrides
    from dsshare.runbooks.parameters import resolve_parameters
    from dsshare.widgets.models import parse_account_ids

    folder = Path(workdir)
    spec = get_runbook("share_directory")
    base = {"directory_id": "d-1234567890", "targets": ["200000000004"]}
    directory = "directories:\n  - directory_id: d-1234567890\n    targets: ['200000000004']\n"

    def write(name: str, text: str) -> Path:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path

    def runbook_file(key: str, pick: Any) -> Any:
        def read(line: str) -> object:
            data = load_parameter_file(write("params.yaml", line))
            return pick(resolve_parameters(spec, [base, data]))
        return read

    def override(key: str, pick: Any) -> Any:
        return lambda typed: pick(resolve_parameters(spec, [base, parse_overrides(spec, [[key, typed]])]))

    def desired(line: str) -> Any:
        return load_desired_state(write("desired.yaml", line))

    def guardrails(line: str) -> Any:
        return load_guardrails(write("guardrails.yaml", line))

    def console_ids(typed: str) -> object:
        valid, errors = parse_account_ids(typed)
        if errors:
            from dsshare.errors import ParameterError

            raise ParameterError("account ids", typed, "; ".join(errors))
        return valid[0] if valid else None

    # reader, slot, how a typed value becomes the reader's input, how to read the value back
    slots: list[tuple[str, str, Any]] = [
        ("runbook file", "id", lambda t: runbook_file("targets", lambda p: p["targets"][0])(
            f"targets: [{t}]")),
        ("runbook file", "bool", lambda t: runbook_file("dry_run", lambda p: p["dry_run"])(
            f"dry_run: {t}")),
        ("runbook file", "number", lambda t: runbook_file("w", lambda p: p["wait_timeout_minutes"])(
            f"wait_timeout_minutes: {t}")),
        ("-p override", "id", override("targets", lambda p: p["targets"][0])),
        ("-p override", "bool", override("dry_run", lambda p: p["dry_run"])),
        ("-p override", "number", override("wait_timeout_minutes", lambda p: p["wait_timeout_minutes"])),
        ("desired state", "id", lambda t: desired(
            f"directories:\n  - directory_id: d-1234567890\n    targets: [{t}]\n"
        ).directories[0].targets[0]),
        ("desired state", "bool", lambda t: desired(
            f"{directory}    allow_external: {t}\n").directories[0].allow_external),
        ("guardrails", "id", lambda t: next(iter(guardrails(f"denied_accounts: [{t}]").denied_accounts))),
        ("guardrails", "bool", lambda t: guardrails(
            f"allow_external_handshake: {t}").allow_external_handshake),
        ("guardrails", "int", lambda t: guardrails(f"max_targets_per_run: {t}").max_targets_per_run),
        ("console", "id", console_ids),
    ]
    text_slots: list[tuple[str, Any]] = [
        ("runbook file", lambda t: runbook_file("notes", lambda p: p["notes"])(f"notes: {_yaml_escaped(t)}")),
        ("-p override", override("notes", lambda p: p["notes"])),
        ("desired state", lambda t: desired(f"{directory}    notes: {_yaml_escaped(t)}\n").directories[0].notes),
    ]
    document_readers: list[tuple[str, str, Any]] = [
        ("runbook file", "notes", lambda d: load_parameter_file(write("params.yaml", d))),
        ("desired state", "directories", desired),
        ("guardrails", "denied_accounts", guardrails),
    ]
    trials: list[ReaderTrial] = []

    def attempt(reader: str, slot: str, typed: str, read: Any) -> None:
        box: list[object] = []
        verdict = classify(lambda: box.append(read(typed)))
        trials.append(ReaderTrial(reader, slot, typed, verdict, box[0] if box else None))

    for reader, slot, read in slots:
        for typed in HOSTILE_TYPED:
            attempt(reader, slot, typed, read)
    for reader, read in text_slots:
        for typed in HOSTILE_TEXT:
            attempt(reader, "text", typed, read)
    for reader, key, read in document_readers:
        for document in HOSTILE_DOCUMENTS:
            attempt(reader, "document", document.replace("{key}", key), read)
    return trials
