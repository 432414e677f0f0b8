"""Apply a plan: make the calls concurrently, wait, and report one row per target.

Calls run on a bounded thread pool with a ``tqdm.auto`` progress bar; one failure never
aborts the batch, and every plan row becomes a result row (:data:`RESULT_COLUMNS`). Given
``expected_fingerprint``, apply first re-plans against live state and refuses with
:class:`~dsshare.errors.PlanMismatchError` if anything changed since review. Because plans
skip targets already in the wanted state, re-applying is a no-op and an interrupted apply
completes when re-planned and applied again.

Example
-------
>>> p = plan(conn, "d-1234567890", ["ou-ab12-cd34ef56"], method="ORGANIZATIONS")  # doctest: +SKIP
>>> apply(conn, p, expected_fingerprint=p.fingerprint, audit=AuditLog("audit.jsonl"))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from tqdm.auto import tqdm

from dsshare import sharing
from dsshare.errors import (
    AwsError,
    DirectoryAlreadySharedError,
    DirectoryNotSharedError,
    DsShareError,
    ParameterError,
    PlanMismatchError,
    WaitTimeoutError,
)
from dsshare.plan import MUTATING_ACTIONS, Plan, PlanRow, replan
from dsshare.validation import validate_positive
from dsshare.waiters import Watch, terminal_statuses, wait_for_share_status

if TYPE_CHECKING:
    from dsshare.audit import AuditLog
    from dsshare.connection import Connection

__all__ = ["OUTCOMES", "RESULT_COLUMNS", "apply", "plan_frame_as_results"]

logger = logging.getLogger(__name__)

#: Columns of every bulk result frame, in order.
#:
#: directory_id, region
#:     the owner directory and its Region.
#: account_id
#:     the target account.
#: action
#:     what was (or would be) done: share | unshare | accept | reject | leave | skip | refuse.
#:     A share that was also accepted (auto_accept) stays ``share``.
#: outcome
#:     planned (dry run) | done | skipped | failed.
#: share_status
#:     the record's ShareStatus after the action (and the wait), else the last known one.
#: shared_directory_id
#:     the consumer-side SharedDirectoryId, when there is one.
#: method
#:     ShareMethod.
#: error_code
#:     AWS error code, a preflight check code (refuse rows), a failure status
#:     (ShareFailed, RejectFailed, ...) or WaitTimeout; None on success.
#: message
#:     what happened, in words (never the ShareNotes text).
RESULT_COLUMNS: tuple[str, ...] = (
    "directory_id",
    "region",
    "account_id",
    "action",
    "outcome",
    "share_status",
    "shared_directory_id",
    "method",
    "error_code",
    "message",
)
OUTCOMES: tuple[str, ...] = ("planned", "done", "skipped", "failed")


@dataclass
class _Result:
    row: PlanRow
    action: str
    outcome: str
    share_status: str | None
    shared_directory_id: str | None
    error_code: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "directory_id": self.row.directory_id,
            "region": self.row.region,
            "account_id": self.row.account_id,
            "action": self.action,
            "outcome": self.outcome,
            "share_status": self.share_status,
            "shared_directory_id": self.shared_directory_id,
            "method": self.row.method,
            "error_code": self.error_code,
            "message": self.message,
        }


def _frame(results: Sequence[_Result]) -> pd.DataFrame:
    # object columns keep None as None (not NaN), the same with or without rows
    return pd.DataFrame([r.as_dict() for r in results], columns=list(RESULT_COLUMNS), dtype=object)


def _initial(row: PlanRow, outcome: str) -> _Result:
    return _Result(
        row=row,
        action=row.action,
        outcome=outcome,
        share_status=row.share_status,
        shared_directory_id=row.shared_directory_id,
        error_code=row.check if row.action == "refuse" else None,
        message=row.reason,
    )


def plan_frame_as_results(plan: Plan) -> pd.DataFrame:
    """The plan as a result frame for a dry run: planned, skipped or failed (refused)."""
    outcome = {"skip": "skipped", "refuse": "failed"}
    return _frame([_initial(row, outcome.get(row.action, "planned")) for row in plan.rows])


def _call(
    conn: Connection,
    row: PlanRow,
    action: str,
    sid: str | None,
    notes: str,
    audit: AuditLog | None,
) -> str:
    """Make the one AWS call for ``row``; return the SharedDirectoryId concerned.

    ``sid`` is the share's current SharedDirectoryId (consumer actions need it).
    """
    owner = row.owner_account_id
    if action == "share":
        return sharing.share_directory(
            conn, row.directory_id, row.account_id, method=row.method or "HANDSHAKE",
            notes=notes, region=row.region, owner_account_id=owner, audit=audit,
        )  # fmt: skip
    if action == "unshare":
        return sharing.unshare_directory(
            conn, row.directory_id, row.account_id, region=row.region,
            owner_account_id=owner, audit=audit,
        )  # fmt: skip
    if sid is None:
        raise ParameterError("shared_directory_id", None, f"a known share for {action}")
    if action == "accept":
        sharing.accept_shared_directory(
            conn, sid, account_id=row.account_id, region=row.region, audit=audit
        )
    elif action == "reject":
        sharing.reject_shared_directory(
            conn, sid, account_id=row.account_id, region=row.region, audit=audit
        )
    elif action == "leave":
        sharing.leave_shared_directory(
            conn, sid, account_id=row.account_id, region=row.region, audit=audit
        )
    else:
        raise ParameterError("action", action, "share, unshare, accept, reject or leave")
    return sid


def _run_calls(
    conn: Connection,
    work: Sequence[tuple[_Result, str]],
    notes_for: Callable[[PlanRow], str],
    audit: AuditLog | None,
    progress: bool,
    max_workers: int,
    description: str,
) -> None:
    """Run one call per (result, action) concurrently; record outcomes in place."""
    if not work:
        return

    def task(result: _Result, action: str) -> None:
        try:
            sid = _call(
                conn, result.row, action, result.shared_directory_id, notes_for(result.row), audit
            )
        except DirectoryAlreadySharedError as err:
            result.outcome, result.error_code, result.message = "skipped", err.code, str(err)
            return
        except DirectoryNotSharedError as err:
            result.outcome, result.error_code, result.message = "skipped", err.code, str(err)
            return
        except AwsError as err:
            result.outcome, result.error_code, result.message = "failed", err.code, str(err)
            return
        except DsShareError as err:
            result.outcome, result.error_code, result.message = "failed", type(err).__name__, str(err)
            return
        result.outcome, result.error_code = "done", None
        result.shared_directory_id = sid
        result.share_status = None  # unknown until the wait reads it
        result.message = f"{action} called"

    with (
        ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="dsshare") as pool,
        tqdm(total=len(work), desc=description, unit="call", disable=not progress) as bar,
    ):
        futures = [pool.submit(task, result, action) for result, action in work]
        for future in as_completed(futures):
            future.result()
            bar.update(1)


def _wait(
    conn: Connection,
    waiting: Sequence[tuple[_Result, Watch]],
    deadline: float,
    poll_interval: float,
) -> dict[str, str]:
    """Wait per owner directory until ``deadline`` (monotonic); update results in place.

    Returns account -> last status for the targets still pending.
    """
    groups: dict[tuple[str, str, str], dict[str, tuple[_Result, Watch]]] = {}
    for result, watch in waiting:
        row = result.row
        key = (row.directory_id, row.region, row.owner_account_id)
        assert result.shared_directory_id is not None
        groups.setdefault(key, {})[result.shared_directory_id] = (result, watch)
    pending: dict[str, str] = {}
    for (directory_id, region, owner), members in groups.items():
        watches = {sid: watch for sid, (_, watch) in members.items()}
        # Every group shares one deadline; one that starts late still polls once.
        timeout = max(deadline - time.monotonic(), 0.001)
        try:
            final = wait_for_share_status(
                conn, directory_id, watches, region=region, owner_account_id=owner,
                timeout=timeout, poll_interval=poll_interval,
            )  # fmt: skip
        except WaitTimeoutError as err:
            pending.update(err.pending)
            for result, _ in members.values():
                status = err.pending.get(result.row.account_id)
                if status is not None:
                    result.share_status = status
                    result.outcome, result.error_code = "failed", "WaitTimeout"
                    result.message = f"still {status} when the wait timed out"
            continue
        for sid, status in final.items():
            result, watch = members[sid]
            result.share_status = status
            if status in watch.failure:
                result.outcome, result.error_code = "failed", status
                result.message = f"{result.action} ended in {status}"
            else:
                result.message = f"{result.action} done: {status}"
    return pending


def apply(
    conn: Connection,
    plan: Plan,
    expected_fingerprint: str | None = None,
    auto_accept: bool = False,
    wait: bool = True,
    timeout: float = 600.0,
    audit: AuditLog | None = None,
    progress: bool = True,
    max_workers: int = 8,
    *,
    poll_interval: float = 0.25,
) -> pd.DataFrame:
    """Carry out a plan; return one row per plan row (:data:`RESULT_COLUMNS`).

    Parameters
    ----------
    conn
        The connection.
    plan
        From :func:`dsshare.plan.plan` or :func:`dsshare.plan.plan_desired_state`.
    expected_fingerprint
        The fingerprint the operator reviewed. When given, apply re-plans against live
        state and raises PlanMismatchError (calling nothing) if it differs; the live rows
        are then applied. When None, the plan's rows are applied as they are.
    auto_accept
        For HANDSHAKE shares, also accept in each consumer account (through the
        cross-account role) once PendingAcceptance, then wait for Shared. Rows skipped as
        already PendingAcceptance are accepted too.
    wait, timeout
        Wait up to ``timeout`` seconds for terminal statuses; WaitTimeoutError names the
        targets still pending and carries the result frame in ``.results``.
    audit
        Audit log; one line per mutating call.
    progress
        Show ``tqdm.auto`` progress bars.
    max_workers
        Concurrent calls.
    poll_interval
        First delay between status polls (it backs off from there).

    Example
    -------
    >>> apply(conn, p, expected_fingerprint="3f2a...")  # doctest: +SKIP
    """
    timeout = validate_positive(timeout, "timeout")
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ParameterError("max_workers", max_workers, "an integer >= 1")
    if expected_fingerprint is not None:
        live = replan(conn, plan)
        if live.fingerprint != expected_fingerprint:
            raise PlanMismatchError(expected_fingerprint, live.fingerprint)
        plan = live
    # Requests leave region and owner unset for "the connection's"; rows carry them resolved.
    notes = {
        (r.directory_id, r.region or conn.region, r.owner_account_id or conn.caller_account_id): r.notes
        for r in plan.requests
    }

    def notes_for(row: PlanRow) -> str:
        return notes.get((row.directory_id, row.region, row.owner_account_id), "")

    results = [
        _initial(row, "failed" if row.action == "refuse" else "skipped") for row in plan.rows
    ]
    calls = [(r, r.action) for r in results if r.action in MUTATING_ACTIONS]
    for result, _ in calls:
        result.outcome = "pending"
    label = ", ".join(sorted({f"{a} {r.row.directory_id}" for r, a in calls})) or "apply"
    _run_calls(conn, calls, notes_for, audit, progress, max_workers, label)

    deadline = time.monotonic() + timeout
    pending: dict[str, str] = {}
    if auto_accept:
        share_keys = {
            (r.directory_id, r.region or conn.region, r.owner_account_id or conn.caller_account_id)
            for r in plan.requests
            if r.action == "share"
        }
        pending.update(
            _accept_handshakes(
                conn, results, share_keys, notes_for, audit, progress, max_workers, deadline,
                poll_interval,
            )
        )  # fmt: skip
    if wait:
        waiting: list[tuple[_Result, Watch]] = []
        for r in results:
            if r.outcome != "done" or r.shared_directory_id is None:
                continue
            success, failure = terminal_statuses(r.action, r.row.method, auto_accept=auto_accept)
            if r.share_status not in success:
                waiting.append((r, Watch(r.row.account_id, success, failure)))
        pending.update(_wait(conn, waiting, deadline, poll_interval))
    frame = _frame(results)
    if pending:
        raise WaitTimeoutError(pending, timeout, results=frame)
    return frame


def _accept_handshakes(
    conn: Connection,
    results: Sequence[_Result],
    share_keys: set[tuple[str, str, str]],
    notes_for: Callable[[PlanRow], str],
    audit: AuditLog | None,
    progress: bool,
    max_workers: int,
    deadline: float,
    poll_interval: float,
) -> dict[str, str]:
    """Auto-accept: wait for PendingAcceptance, then accept as each consumer.

    Accepts the HANDSHAKE shares just made, and the targets of a share request that were
    skipped because their share was already PendingAcceptance. Returns pending targets.
    """
    made = [r for r in results if r.outcome == "done" and r.action == "share"
            and r.row.method == "HANDSHAKE"]  # fmt: skip
    pending = _wait(
        conn,
        [(r, Watch(r.row.account_id, *terminal_statuses("share", "HANDSHAKE"))) for r in made],
        deadline,
        poll_interval,
    )
    to_accept = [r for r in made if r.outcome == "done" and r.share_status == "PendingAcceptance"]
    for r in results:
        key = (r.row.directory_id, r.row.region, r.row.owner_account_id)
        if (
            r.action == "skip"
            and key in share_keys
            and r.row.method == "HANDSHAKE"
            and r.row.share_status == "PendingAcceptance"
            and r.row.shared_directory_id
        ):
            r.action = "accept"
            r.outcome = "pending"
            to_accept.append(r)
    work = [(r, "accept") for r in to_accept]
    _run_calls(conn, work, notes_for, audit, progress, max_workers, "accept")
    return pending
