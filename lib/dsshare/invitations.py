"""The consumer side of sharing: find pending invitations in many accounts and accept or reject them.

An invitation is what a consumer account sees of a HANDSHAKE share: a ``SharedMicrosoftAD``
directory in its own DescribeDirectories, with ShareStatus ``PendingAcceptance`` and an
``OwnerDirectoryDescription``. Reading from the consumer side (through the cross-account
role) works whoever the owner is, inside the organization or not.

Like the owner-side engine this is plan, then apply: :func:`plan_invitations` reads and
decides one row per shared directory (pure decision in :func:`decide`), with a fingerprint
over what it read; :func:`respond` re-plans, refuses on a fingerprint mismatch, calls
AcceptSharedDirectory / RejectSharedDirectory concurrently (audited) and waits on the
consumer side for Shared / Rejected.

Example
-------
>>> p = plan_invitations(conn, ["ALL"], "accept", owner_account_ids=["200000000001"])  # doctest: +SKIP
>>> respond(conn, p, expected_fingerprint=p.fingerprint, audit=audit)                  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from botocore.exceptions import BotoCoreError

from dsshare.errors import (
    AwsError,
    DirectoryAlreadySharedError,
    DsShareError,
    EntityDoesNotExistError,
    ParameterError,
    PlanMismatchError,
)

if TYPE_CHECKING:
    from dsshare.audit import AuditLog
    from dsshare.connection import Connection

__all__ = [
    "INVITATION_PLAN_COLUMNS",
    "Invitation",
    "InvitationPlan",
    "InvitationRequest",
    "InvitationRow",
    "decide",
    "plan_invitations",
    "respond",
]

logger = logging.getLogger(__name__)

#: ``accounts=["ALL"]`` means every ACTIVE account of the organization.
ALL = "ALL"

#: Columns of :meth:`InvitationPlan.to_frame`. ``action`` is accept | reject | skip |
#: refuse (the account or Region could not be read; ``check`` is ``ReadFailed``).
INVITATION_PLAN_COLUMNS: tuple[str, ...] = (
    "account_id",
    "region",
    "shared_directory_id",
    "owner_account_id",
    "owner_directory_id",
    "directory_name",
    "share_status",
    "method",
    "action",
    "reason",
    "check",
)
#: ShareStatus that ends the wait, by action: (success, failure). ``Gone`` is a shared
#: directory the consumer can no longer see (what a completed reject leaves).
GONE = "Gone"
_TERMINAL: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "accept": (frozenset({"Shared"}), frozenset({"ShareFailed", "Rejected", "Deleted", GONE})),
    "reject": (frozenset({"Rejected", GONE}), frozenset({"RejectFailed", "Shared", "Deleted"})),
}


@dataclass(frozen=True)
class Invitation:
    """One SharedMicrosoftAD directory as its consumer account sees it (ShareNotes dropped)."""

    account_id: str
    region: str
    shared_directory_id: str
    owner_account_id: str
    owner_directory_id: str
    directory_name: str
    share_status: str
    method: str

    @classmethod
    def from_description(
        cls, account_id: str, region: str, description: Mapping[str, Any]
    ) -> Invitation:
        """Build from a consumer-side DirectoryDescription of Type SharedMicrosoftAD."""
        owner = description.get("OwnerDirectoryDescription") or {}
        return cls(
            account_id=account_id,
            region=region,
            shared_directory_id=str(description.get("DirectoryId", "")),
            owner_account_id=str(owner.get("AccountId", "")),
            owner_directory_id=str(owner.get("DirectoryId", "")),
            directory_name=str(description.get("Name", "")),
            share_status=str(description.get("ShareStatus", "")),
            method=str(description.get("ShareMethod", "")),
        )


@dataclass(frozen=True)
class InvitationRow:
    """One decision: an invitation and what to do with it (or an account that was unread)."""

    account_id: str
    region: str
    action: str
    reason: str
    shared_directory_id: str | None = None
    owner_account_id: str | None = None
    owner_directory_id: str | None = None
    directory_name: str | None = None
    share_status: str | None = None
    method: str | None = None
    check: str | None = None


@dataclass(frozen=True)
class InvitationRequest:
    """What the operator asked for; :func:`respond` re-plans from it."""

    accounts: tuple[str, ...]
    action: str
    regions: tuple[str, ...] = ()
    owner_account_ids: tuple[str, ...] = ()
    owner_directory_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvitationPlan:
    """Rows to review and apply, and the fingerprint of what they were decided from."""

    request: InvitationRequest
    rows: tuple[InvitationRow, ...]
    fingerprint: str
    accounts: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """The rows with :data:`INVITATION_PLAN_COLUMNS` (also when empty)."""
        return pd.DataFrame(
            [asdict(row) for row in self.rows], columns=list(INVITATION_PLAN_COLUMNS)
        )

    def summary(self) -> dict[str, int]:
        """Count of rows per action."""
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.action] = counts.get(row.action, 0) + 1
        return counts


# -- pure decision ------------------------------------------------------------------------


def decide(
    invitations: Iterable[Invitation],
    action: str,
    owner_account_ids: Sequence[str] = (),
    owner_directory_ids: Sequence[str] = (),
) -> list[InvitationRow]:
    """One row per shared directory passing the owner filters (empty filter: any owner).

    Only PendingAcceptance can be accepted or rejected; anything else is skipped with the
    reason (a Shared directory is left with ``leave``, not rejected).

    Example
    -------
    >>> inv = Invitation("200000000008", "us-east-1", "d-4d76802001", "200000000001",
    ...                  "d-b3e51dc791", "services.example.com", "PendingAcceptance", "HANDSHAKE")
    >>> [row.action for row in decide([inv], "accept", owner_account_ids=["200000000001"])]
    ['accept']
    """
    if action not in _TERMINAL:
        raise ParameterError("action", action, "accept or reject")
    owners, directories = set(owner_account_ids), set(owner_directory_ids)
    rows: list[InvitationRow] = []
    for inv in sorted(invitations, key=lambda i: (i.account_id, i.region, i.shared_directory_id)):
        if owners and inv.owner_account_id not in owners:
            continue
        if directories and inv.owner_directory_id not in directories:
            continue
        known = {k: v for k, v in asdict(inv).items() if k not in ("account_id", "region")}
        if inv.share_status == "PendingAcceptance":
            rows.append(InvitationRow(inv.account_id, inv.region, action, "PendingAcceptance", **known))
        elif inv.share_status == "Shared" and action == "accept":
            rows.append(InvitationRow(inv.account_id, inv.region, "skip", "already Shared", **known))
        else:
            hint = " (to stop using a Shared directory, leave it)" if inv.share_status == "Shared" else ""
            rows.append(InvitationRow(
                inv.account_id, inv.region, "skip",
                f"{inv.share_status}; only PendingAcceptance can be {action}ed{hint}", **known,
            ))  # fmt: skip
    return rows


def _fingerprint(request: InvitationRequest, accounts: Sequence[str], rows: Sequence[InvitationRow]) -> str:
    canonical = json.dumps(
        {
            "version": 1,
            "request": asdict(request),
            "accounts": list(accounts),
            "rows": [
                [r.account_id, r.region, r.shared_directory_id, r.owner_directory_id,
                 r.share_status, r.action, r.check]
                for r in rows
            ],  # fmt: skip
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- reading ------------------------------------------------------------------------------


def _resolve_accounts(conn: Connection, accounts: Sequence[str]) -> list[str]:
    from dsshare.organization import expand_targets, iter_accounts

    if list(accounts) == [ALL]:
        return sorted(a["Id"] for a in iter_accounts(conn) if a.get("Status", "ACTIVE") == "ACTIVE")
    return expand_targets(conn, accounts)


def _read(conn: Connection, account_id: str, region: str) -> list[Invitation]:
    from dsshare.sharing import iter_directories

    return [
        Invitation.from_description(account_id, region, d)
        for d in iter_directories(conn, region=region, account_id=account_id)
        if d.get("Type") == "SharedMicrosoftAD"
    ]


def plan_invitations(
    conn: Connection,
    accounts: Sequence[str],
    action: str,
    *,
    owner_account_ids: Sequence[str] = (),
    owner_directory_ids: Sequence[str] = (),
    regions: Sequence[str] | None = None,
    max_workers: int = 8,
) -> InvitationPlan:
    """Read every chosen account x Region from the consumer side and decide the rows.

    ``accounts`` holds account and OU ids, or ``["ALL"]`` (every ACTIVE account of the
    organization). An account or Region that cannot be read becomes a ``refuse`` row
    (check ``ReadFailed``) naming the error; the rest is still planned.
    """
    request = InvitationRequest(
        accounts=tuple(accounts),
        action=action,
        regions=tuple(regions or conn.regions),
        owner_account_ids=tuple(owner_account_ids),
        owner_directory_ids=tuple(owner_directory_ids),
    )
    return _plan(conn, request, max_workers)


def _plan(conn: Connection, request: InvitationRequest, max_workers: int) -> InvitationPlan:
    if request.action not in _TERMINAL:
        raise ParameterError("action", request.action, "accept or reject")
    account_ids = _resolve_accounts(conn, request.accounts)
    units = [(a, r) for a in account_ids for r in request.regions]

    def read(unit: tuple[str, str]) -> list[Invitation] | DsShareError | BotoCoreError:
        try:
            return _read(conn, *unit)
        except (DsShareError, BotoCoreError) as err:
            logger.info("could not read %s in %s: %s", unit[0], unit[1], err)
            return err

    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="dsshare-inv") as pool:
        outcomes = list(pool.map(read, units))
    invitations: list[Invitation] = []
    failures: list[InvitationRow] = []
    for (account_id, region), outcome in zip(units, outcomes, strict=True):
        if isinstance(outcome, list):
            invitations.extend(outcome)
            continue
        code = getattr(outcome, "code", type(outcome).__name__)
        failures.append(InvitationRow(
            account_id, region, "refuse", f"could not read this account: {code}",
            check="ReadFailed",
        ))  # fmt: skip
    rows = decide(invitations, request.action, request.owner_account_ids, request.owner_directory_ids)
    rows = sorted(rows + failures, key=lambda r: (r.account_id, r.region, r.shared_directory_id or ""))
    return InvitationPlan(
        request=request,
        rows=tuple(rows),
        fingerprint=_fingerprint(request, account_ids, rows),
        accounts=tuple(account_ids),
    )


# -- applying -----------------------------------------------------------------------------


def _result(row: InvitationRow, outcome: str, **changes: Any) -> dict[str, Any]:
    result = {
        "directory_id": row.owner_directory_id,
        "region": row.region,
        "account_id": row.account_id,
        "action": row.action,
        "outcome": outcome,
        "share_status": row.share_status,
        "shared_directory_id": row.shared_directory_id,
        "method": row.method,
        "error_code": row.check,
        "message": row.reason,
    }
    result.update(changes)
    return result


def plan_frame_as_results(plan: InvitationPlan) -> pd.DataFrame:
    """The plan as results of a dry run: planned, skipped, or failed (unread accounts)."""
    from dsshare.apply import RESULT_COLUMNS

    outcome = {"skip": "skipped", "refuse": "failed"}
    return pd.DataFrame(
        [_result(row, outcome.get(row.action, "planned")) for row in plan.rows],
        columns=list(RESULT_COLUMNS),
    )


def _call(conn: Connection, row: InvitationRow, audit: AuditLog | None) -> dict[str, Any]:
    from dsshare.sharing import accept_shared_directory, reject_shared_directory

    assert row.shared_directory_id is not None
    respond_call: Callable[..., Any] = (
        accept_shared_directory if row.action == "accept" else reject_shared_directory
    )
    try:
        respond_call(
            conn, row.shared_directory_id, account_id=row.account_id, region=row.region, audit=audit
        )
    except DirectoryAlreadySharedError as err:
        return _result(row, "skipped", error_code=err.code, message=str(err))
    except AwsError as err:
        return _result(row, "failed", error_code=err.code, message=str(err))
    return _result(row, "done", message=f"{row.action} called")


def _status(conn: Connection, row: Mapping[str, Any]) -> str:
    from dsshare.sharing import describe_directory

    try:
        description = describe_directory(
            conn, row["shared_directory_id"], region=row["region"], account_id=row["account_id"]
        )
    except EntityDoesNotExistError:
        return GONE
    return str(description.get("ShareStatus", ""))


def _wait(
    conn: Connection,
    results: list[dict[str, Any]],
    timeout: float,
    poll_interval: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll each done row on the consumer side until terminal; update the rows in place."""
    from dsshare.waiters import backoff_delays

    waiting = [r for r in results if r["outcome"] == "done"]
    deadline = time.monotonic() + timeout
    delays = backoff_delays(poll_interval)
    while waiting:
        still: list[dict[str, Any]] = []
        for result in waiting:
            status = _status(conn, result)
            success, failure = _TERMINAL[result["action"]]
            result["share_status"] = status
            if status in success:
                result["message"] = f"{result['action']} done: {status}"
            elif status in failure:
                result["outcome"], result["error_code"] = "failed", status
                result["message"] = f"{result['action']} ended in {status}"
            else:
                still.append(result)
        waiting = still
        remaining = deadline - time.monotonic()
        if waiting and remaining <= 0:
            for result in waiting:
                result["outcome"], result["error_code"] = "failed", "WaitTimeout"
                result["message"] = f"still {result['share_status']} after {timeout:g}s"
            return
        if waiting:
            sleep(min(delays(), remaining))


def respond(
    conn: Connection,
    plan: InvitationPlan,
    expected_fingerprint: str | None = None,
    *,
    audit: AuditLog | None = None,
    wait: bool = True,
    timeout: float = 600.0,
    poll_interval: float = 0.25,
    max_workers: int = 8,
) -> pd.DataFrame:
    """Accept or reject the plan's invitations; one result row per plan row.

    With ``expected_fingerprint``, re-plans first and raises PlanMismatchError (calling
    nothing) when live state differs from what was reviewed. Columns are
    :data:`dsshare.apply.RESULT_COLUMNS`; ``directory_id`` is the owner directory.
    """
    from dsshare.apply import RESULT_COLUMNS

    if expected_fingerprint is not None:
        live = _plan(conn, plan.request, max_workers)
        if live.fingerprint != expected_fingerprint:
            raise PlanMismatchError(expected_fingerprint, live.fingerprint)
        plan = live
    calls = [row for row in plan.rows if row.action in _TERMINAL]
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="dsshare-respond") as pool:
        called = dict(zip(calls, pool.map(lambda row: _call(conn, row, audit), calls), strict=True))
    outcome = {"skip": "skipped", "refuse": "failed"}
    results = [called.get(row) or _result(row, outcome.get(row.action, "skipped")) for row in plan.rows]
    if wait:
        _wait(conn, results, timeout, poll_interval)
    return pd.DataFrame(results, columns=list(RESULT_COLUMNS))
