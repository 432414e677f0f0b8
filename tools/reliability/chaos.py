"""Chaos accounting: inject faults, then count what went wrong.

A chaos run injects throttling and server faults (with latency jitter) on Directory
Service, Organizations and STS, runs a job, clears the faults and reads the final state
back through the API. The figures it yields:

- final-state mismatches against a fault-free run of the same job;
- duplicate shares (two records of one directory for one account that are not Deleted or
  Rejected);
- audit lines lost (a mutating call that reached the service without its audit line) or
  extra (an audit line without a call), counted per operation and account against the
  sandbox's request log, where injected fault answers are counted apart: they never reached
  the service, so they must not be audited;
- torn audit lines (not one complete JSON object with every field).

Example
-------
>>> inject_chaos(sb)                                           # doctest: +SKIP
>>> share_state(conn, directory_id)                            # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsshare.audit import AUDIT_FIELDS, INTENT_FIELDS, intents_path
from dsshare.preflight import INACTIVE_STATUSES

if TYPE_CHECKING:
    from dsshare.connection import Connection
    from dsshare.sandbox import Sandbox

__all__ = [
    "CHAOS_SERVICES",
    "MUTATING_OPERATIONS",
    "AuditAccount",
    "ShareState",
    "account_audit",
    "duplicate_shares",
    "inject_chaos",
    "read_audit_lines",
    "read_in_doubt",
    "share_state",
    "state_mismatches",
    "torn_lines",
]

#: Services the chaos rules hit.
CHAOS_SERVICES: tuple[str, ...] = ("ds", "organizations", "sts")
#: Operations that change something and so must each have one audit line.
MUTATING_OPERATIONS: frozenset[str] = frozenset(
    {
        "ShareDirectory",
        "UnshareDirectory",
        "AcceptSharedDirectory",
        "RejectSharedDirectory",
        "DeleteDirectory",
    }
)
#: Each service's own spelling of a throttle and of a server fault.
_THROTTLE = {"ds": "ThrottlingException", "organizations": "TooManyRequestsException",
             "sts": "Throttling"}  # fmt: skip
_SERVER = {"ds": "ServiceException", "organizations": "ServiceException", "sts": "InternalFailure"}


def inject_chaos(
    sb: Sandbox,
    *,
    throttle: float = 0.20,
    server: float = 0.05,
    latency_ms: float = 5.0,
    jitter_ms: float = 5.0,
    services: Sequence[str] = CHAOS_SERVICES,
) -> None:
    """Add the chaos rules: ``throttle`` and ``server`` fault rates, latency with jitter.

    The rates are per request and independent: a request draws the throttle rule first,
    then the server rule, so about ``throttle + (1 - throttle) * server`` of requests fail.
    The sandbox's fault random source is seeded, so a run repeats.
    """
    for service in services:
        sb.add_fault("*", code=_THROTTLE[service], probability=throttle, service=service)
        sb.add_fault("*", code=_SERVER[service], probability=server, service=service)
    sb.set_latency(latency_ms, jitter_ms=jitter_ms)


@dataclass(frozen=True)
class ShareState:
    """One directory's share records as an operator compares them: ids and times left out.

    ``records`` maps each account to the sorted (ShareStatus, ShareMethod) of its records.
    """

    directory_id: str
    records: Mapping[str, tuple[tuple[str, str], ...]]

    def statuses(self) -> Counter[str]:
        """Records per ShareStatus."""
        return Counter(status for recs in self.records.values() for status, _ in recs)


def share_state(
    conn: Connection, directory_id: str, region: str | None = None,
    owner_account_id: str | None = None,
) -> ShareState:  # fmt: skip
    """Read ``directory_id``'s share records through the API (DescribeSharedDirectories)."""
    from dsshare.calls import iter_shared_directories

    found: dict[str, list[tuple[str, str]]] = {}
    for record in iter_shared_directories(
        conn, directory_id, region=region, owner_account_id=owner_account_id
    ):
        found.setdefault(str(record["SharedAccountId"]), []).append(
            (str(record["ShareStatus"]), str(record["ShareMethod"]))
        )
    return ShareState(directory_id, {a: tuple(sorted(r)) for a, r in sorted(found.items())})


def state_mismatches(expected: ShareState, actual: ShareState) -> list[str]:
    """Accounts whose records differ between two states, with what each side has."""
    accounts = sorted(set(expected.records) | set(actual.records))
    return [
        f"{a}: expected {list(expected.records.get(a, ()))}, got {list(actual.records.get(a, ()))}"
        for a in accounts
        if expected.records.get(a) != actual.records.get(a)
    ]


def duplicate_shares(state: ShareState) -> dict[str, int]:
    """Accounts with more than one active (not Deleted/Rejected) record, and how many."""
    counts = {
        account: sum(1 for status, _ in recs if status not in INACTIVE_STATUSES)
        for account, recs in state.records.items()
    }
    return {account: n for account, n in counts.items() if n > 1}


@dataclass(frozen=True)
class AuditAccount:
    """Mutating calls that reached the service vs audit lines, per (operation, account).

    ``injected`` counts fault answers the sandbox gave instead of serving the call;
    ``in_doubt`` counts write-ahead intents with no outcome line (a run killed mid-call):
    they account for a call that reached the service, but never stand in for more.
    """

    reached: Counter[tuple[str, str]]
    audited: Counter[tuple[str, str]]
    injected: int
    in_doubt: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def lost(self) -> int:
        """Calls that reached the service with neither an audit line nor an intent."""
        return sum((self.reached - self.audited - self.in_doubt).values())

    @property
    def extra(self) -> int:
        """Audit (outcome) lines with no call behind them."""
        return sum((self.audited - self.reached).values())


def account_audit(
    request_log: Iterable[Mapping[str, Any]],
    audit_lines: Iterable[Mapping[str, Any]],
    in_doubt: Iterable[Mapping[str, Any]] = (),
) -> AuditAccount:
    """Compare the sandbox's request log with audit lines (see the module docstring)."""
    reached: Counter[tuple[str, str]] = Counter()
    injected = 0
    for entry in request_log:
        if entry.get("operation") not in MUTATING_OPERATIONS:
            continue
        if entry.get("injected"):
            injected += 1
            continue
        reached[(str(entry["operation"]), str(entry["account_id"]))] += 1
    audited: Counter[tuple[str, str]] = Counter(
        (str(line.get("operation")), str(line.get("account_id"))) for line in audit_lines
    )
    doubtful: Counter[tuple[str, str]] = Counter(
        (str(line.get("operation")), str(line.get("account_id"))) for line in in_doubt
    )
    return AuditAccount(reached, audited, injected, doubtful)


def read_audit_lines(paths: Iterable[Path]) -> tuple[list[dict[str, Any]], int]:
    """Every complete audit line of ``paths`` and the number of torn ones."""
    lines: list[dict[str, Any]] = []
    torn = 0
    for path in paths:
        good, bad = _parse(path)
        lines.extend(good)
        torn += bad
    return lines, torn


def read_in_doubt(paths: Iterable[Path]) -> tuple[list[dict[str, Any]], int]:
    """Intents of ``paths`` (audit files) with no outcome line, and torn intent lines."""
    doubtful: list[dict[str, Any]] = []
    torn = 0
    for path in paths:
        done = {line.get("call_id") for line in _parse(path)[0]}
        intents, bad = _parse(intents_path(path), INTENT_FIELDS)
        torn += bad
        doubtful.extend(line for line in intents if line["call_id"] not in done)
    return doubtful, torn


def torn_lines(path: Path) -> int:
    """Lines of an audit file (and of its intents sidecar) that are not one complete JSON
    object with every field."""
    return _parse(path)[1] + _parse(intents_path(path), INTENT_FIELDS)[1]


def _parse(
    path: Path, fields: tuple[str, ...] = AUDIT_FIELDS
) -> tuple[list[dict[str, Any]], int]:
    if not path.exists():
        return [], 0
    raw = path.read_bytes()
    good: list[dict[str, Any]] = []
    torn = 0
    chunks = raw.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    elif chunks:
        torn += 1  # the last line has no newline: written halfway
        chunks.pop()
    for chunk in chunks:
        try:
            line = json.loads(chunk)
        except ValueError:
            torn += 1
            continue
        if not isinstance(line, dict) or set(line) != set(fields):
            torn += 1
            continue
        good.append(line)
    return good, torn
