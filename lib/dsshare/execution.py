"""Apply a plan: make the calls concurrently, wait, and report one row per target.

One executor for every plan: owner-side rows (share, unshare), consumer-side rows
(accept, reject, leave, read from the consumer accounts by
:func:`dsshare.planning.plan_responses`) and mixed plans. Calls run on a bounded thread
pool with a ``tqdm.auto`` progress bar; one failure never aborts the batch, and every plan
row becomes a result row (:data:`~dsshare.model.RESULT_COLUMNS`). Every call is audited
before it is made (write-ahead); without an audit log from the caller, into a default one.

Given ``expected_fingerprint``, apply first re-plans against live state and refuses with
:class:`~dsshare.errors.PlanMismatchError` if anything changed since review. Because plans
skip targets already in the wanted state, re-applying is a no-op and an interrupted apply
completes when re-planned and applied again; that is also how a row ``in_doubt`` (the
call's answer was lost after botocore's retries) is resolved.

One timeout contract: targets still pending at the deadline become failed rows with
error_code ``WaitTimeout``, and :class:`~dsshare.errors.WaitTimeoutError` is raised with
the whole result frame in ``.results``.

Example
-------
>>> p = plan(conn, "d-1234567890", ["ou-ab12-cd34ef56"], method="ORGANIZATIONS")  # doctest: +SKIP
>>> apply(conn, p, expected_fingerprint=p.fingerprint, audit=AuditLog("audit.jsonl"))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from concurrent.futures import wait as wait_for
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from dsshare import calls
from dsshare.audit import AuditLog, default_audit_log
from dsshare.connection import Connection
from dsshare.errors import (
    AwsError,
    DirectoryAlreadySharedError,
    DirectoryNotSharedError,
    DsShareError,
    ParameterError,
    PlanMismatchError,
    WaitTimeoutError,
)
from dsshare.model import (
    MUTATING_ACTIONS,
    RESULT_COLUMNS,
    Action,
    Outcome,
    PlanRow,
    ShareMethod,
    ShareStatus,
    Side,
    row_changes,
    transition,
)
from dsshare.pacing import Pacer
from dsshare.planning import Plan, replan
from dsshare.validation import validate_positive
from dsshare.waiting import Watch, WatchedShare, backoff_delays, read_statuses, wait_for_shares

__all__ = ["OUTCOMES", "RESULT_COLUMNS", "apply", "plan_frame_as_results"]

logger = logging.getLogger(__name__)

OUTCOMES: tuple[str, ...] = tuple(Outcome)
#: What a row in doubt says, besides the error.
IN_DOUBT_MESSAGE = (
    "outcome unknown: the answer was lost after retries and the call may have landed; "
    "run the same plan again: it re-reads live state and skips or completes this target"
)
_PENDING = "pending"
#: error_code of a row still pending when the wait timed out.
_WAIT_TIMEOUT = "WaitTimeout"


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
            "action": str(self.action),
            "outcome": str(self.outcome),
            "share_status": None if self.share_status is None else str(self.share_status),
            "shared_directory_id": self.shared_directory_id,
            "method": None if self.row.method is None else str(self.row.method),
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
        error_code=row.check if row.action == Action.REFUSE else None,
        message=row.reason,
    )


def plan_frame_as_results(plan: Plan) -> pd.DataFrame:
    """The plan as a result frame for a dry run: planned, skipped or failed (refused)."""
    outcome = {Action.SKIP: Outcome.SKIPPED, Action.REFUSE: Outcome.FAILED}
    return _frame([_initial(row, outcome.get(Action(row.action), Outcome.PLANNED)) for row in plan.rows])


def _call(
    conn: Connection,
    row: PlanRow,
    action: str,
    sid: str | None,
    notes: str,
    audit: AuditLog | None,
) -> str | None:
    """Make the one AWS call for ``row``; return the SharedDirectoryId concerned.

    ``sid`` is the share's current SharedDirectoryId: consumer actions act on it in the
    consumer account, whichever side the row was planned from.
    """
    owner = row.owner_account_id
    if action == Action.SHARE:
        return calls.share_directory(
            conn, row.directory_id, row.account_id, method=row.method or ShareMethod.HANDSHAKE,
            notes=notes, region=row.region, owner_account_id=owner, audit=audit,
        )  # fmt: skip
    if action == Action.UNSHARE:
        return calls.unshare_directory(
            conn, row.directory_id, row.account_id, region=row.region,
            owner_account_id=owner, audit=audit,
        )  # fmt: skip
    if sid is None:
        return None
    consumer_call = {
        Action.ACCEPT: calls.accept_shared_directory,
        Action.REJECT: calls.reject_shared_directory,
        Action.LEAVE: calls.leave_shared_directory,
    }[Action(action)]
    consumer_call(conn, sid, account_id=row.account_id, region=row.region, audit=audit)
    return sid


def _attempt(
    conn: Connection, result: _Result, action: str, notes: str, audit: AuditLog | None
) -> None:
    """Make ``result``'s call for ``action``; record its outcome in place."""
    try:
        sid = _call(
            conn, result.row, action, result.shared_directory_id, notes, audit
        )
    except (DirectoryAlreadySharedError, DirectoryNotSharedError) as err:
        result.outcome, result.error_code, result.message = Outcome.SKIPPED, err.code, str(err)
        return
    except AwsError as err:
        if err.in_doubt:
            result.outcome, result.error_code = Outcome.IN_DOUBT, err.code
            result.message = f"{action} {IN_DOUBT_MESSAGE} ({err.operation} {err.code})"
            return
        result.outcome, result.error_code, result.message = Outcome.FAILED, err.code, str(err)
        return
    except DsShareError as err:
        result.outcome, result.error_code = Outcome.FAILED, type(err).__name__
        result.message = str(err)
        return
    if sid is None:
        result.outcome, result.error_code = Outcome.FAILED, "NoSharedDirectory"
        result.message = f"no known SharedDirectoryId to {action}; re-plan"
        return
    result.outcome, result.error_code = Outcome.DONE, None
    result.shared_directory_id = sid
    result.share_status = None  # unknown until the wait reads it
    result.message = f"{action} called"


def _run_calls(
    conn: Connection,
    work: Sequence[tuple[_Result, str]],
    notes_for: Callable[[PlanRow], str],
    audit: AuditLog | None,
    progress: bool,
    pacer: Pacer,
    description: str,
    on_done: Callable[[_Result], None] = lambda _result: None,
) -> None:
    """Run one call per (result, action) concurrently; record outcomes in place.

    ``on_done(result)`` runs in the worker as soon as a call has succeeded.
    """
    if not work:
        return

    def task(result: _Result, action: str) -> None:
        with pacer.bound():
            _attempt(conn, result, action, notes_for(result.row), audit)
        if result.outcome == Outcome.DONE:
            on_done(result)

    with (
        ThreadPoolExecutor(max_workers=pacer.threads, thread_name_prefix="dsshare") as pool,
        tqdm(total=len(work), desc=description, unit="call", disable=not progress) as bar,
    ):
        futures = [pool.submit(task, result, action) for result, action in work]
        for future in as_completed(futures):
            future.result()
            bar.update(1)


def _watched(result: _Result, auto_accept: bool) -> WatchedShare:
    row = result.row
    found = transition(result.action, row.method, auto_accept)
    absent = found.absent if row.side == Side.CONSUMER else None
    return WatchedShare(
        side=row.side,
        directory_id=row.directory_id,
        region=row.region,
        owner_account_id=row.owner_account_id,
        shared_directory_id=result.shared_directory_id or "",
        watch=Watch(row.account_id, frozenset(found.success), frozenset(found.failure), absent),
    )


def _wait(
    conn: Connection,
    waiting: Sequence[tuple[_Result, WatchedShare]],
    deadline: float,
    poll_interval: float,
) -> dict[str, str]:
    """Wait until ``deadline`` (monotonic); update results in place.

    Returns account -> last status for the targets still pending, whose rows become
    failed rows with error_code ``WaitTimeout``.
    """
    if not waiting:
        return {}
    final, still = wait_for_shares(
        conn, [share for _, share in waiting], deadline=deadline, poll_interval=poll_interval
    )
    for index, status in still.items():
        waiting[index][0].share_status = status
    pending = _timed_out([waiting[index] for index in still])
    for index, status in final.items():
        result, share = waiting[index]
        result.share_status = status
        if status in share.watch.failure:
            result.outcome, result.error_code = Outcome.FAILED, status
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
    """Carry out any plan; return one row per plan row (:data:`RESULT_COLUMNS`).

    Parameters
    ----------
    conn
        The connection.
    plan
        From :func:`dsshare.planning.plan`, :func:`~dsshare.planning.plan_desired_state`
        or :func:`~dsshare.planning.plan_responses`.
    expected_fingerprint
        The fingerprint the operator reviewed. When given, apply re-plans against live
        state and raises PlanMismatchError (calling nothing) if it differs; the live rows
        are then applied. When None, the plan's rows are applied as they are.
    auto_accept
        For HANDSHAKE shares, also accept in each consumer account (through the
        cross-account role) once PendingAcceptance, then wait for Shared. Rows skipped as
        already PendingAcceptance are accepted too.
    wait, timeout
        Wait up to ``timeout`` seconds for terminal statuses; targets still pending are
        failed rows (WaitTimeout) and WaitTimeoutError, naming them, carries the result
        frame in ``.results``.
    audit
        Audit log; an intent line before and one line after each mutating call. None
        writes one anyway, under ``$DSSHARE_RUNS_DIR`` (else ``runs/``) in a
        ``<UTC time>-library`` folder (:func:`dsshare.audit.default_audit_log`): no entry
        point makes an unaudited call.
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
            changed = row_changes((asdict(r) for r in plan.rows), (asdict(r) for r in live.rows))
            raise PlanMismatchError(expected_fingerprint, live.fingerprint, changed)
        plan = live
    # Requests leave region and owner unset for "the connection's"; rows carry them resolved.
    notes = {
        (r.directory_id, r.region or conn.region, r.owner_account_id or conn.caller_account_id): r.notes
        for r in plan.regional_requests
    }

    def notes_for(row: PlanRow) -> str:
        if row.action != Action.SHARE:
            return ""
        return notes.get((row.directory_id, row.region, row.owner_account_id), "")

    results = [
        _initial(row, Outcome.FAILED if row.action == Action.REFUSE else Outcome.SKIPPED)
        for row in plan.rows
    ]
    work = [(r, r.action) for r in results if r.action in MUTATING_ACTIONS]
    owned: AuditLog | None = None
    if audit is None and (work or auto_accept):
        audit = owned = default_audit_log("library")
        logger.info("no audit log given: writing %s", audit.path)
    for result, _ in work:
        result.outcome = _PENDING
    try:
        label = ", ".join(sorted({f"{a} {r.row.directory_id or r.row.account_id}" for r, a in work}))
        # One pacer for the whole apply: shares and accepts made side by side share its
        # ``max_workers`` calls in flight.
        pacer = conn.pacer(max_workers)
        pending: dict[str, str] = {}
        if auto_accept:
            share_keys = {
                (r.directory_id, r.region or conn.region, r.owner_account_id or conn.caller_account_id)
                for r in plan.regional_requests
                if r.action == Action.SHARE
            }
            auto = _AutoAccept(conn, results, share_keys, audit, progress, pacer, poll_interval)
            deadline = auto.run(work, notes_for, label or "apply", timeout)
            pending.update(auto.pending)
        else:
            _run_calls(conn, work, notes_for, audit, progress, pacer, label or "apply")
            deadline = time.monotonic() + timeout
        if wait:
            waiting: list[tuple[_Result, WatchedShare]] = []
            for r in results:
                if r.outcome != Outcome.DONE or r.shared_directory_id is None:
                    continue
                share = _watched(r, auto_accept)
                if r.share_status not in share.watch.success:
                    waiting.append((r, share))
            pending.update(_wait(conn, waiting, deadline, poll_interval))
        frame = _frame(results)
        if pending:
            if len({r.row.region for r in results}) > 1:
                # One account can be pending in several Regions: name each (account in Region).
                pending = {
                    f"{r.row.account_id} in {r.row.region}": str(r.share_status)
                    for r in results if r.error_code == _WAIT_TIMEOUT
                }  # fmt: skip
            raise WaitTimeoutError(pending, timeout, results=frame)
        return frame
    finally:
        if owned is not None:
            owned.close()


class _AutoAccept:
    """Share and accept side by side: each HANDSHAKE share is accepted as soon as its
    owner-side record reads PendingAcceptance, while the other shares are still being made.

    Shares made are polled once per owner directory per round (every ``poll_interval``
    while new shares arrive, backing off after); accepts go to a second pool behind the
    same pacer. One slow share (a call retried through several throttles) delays its own
    accept, not everyone's. Targets skipped because their share was already
    PendingAcceptance are accepted at once. The wait for PendingAcceptance ends ``timeout``
    after the last share call finished; targets still waiting then are failed rows
    (WaitTimeout) listed in :attr:`pending`.
    """

    def __init__(
        self,
        conn: Connection,
        results: Sequence[_Result],
        share_keys: set[tuple[str, str, str]],
        audit: AuditLog | None,
        progress: bool,
        pacer: Pacer,
        poll_interval: float,
    ) -> None:
        self.conn, self.results, self.share_keys = conn, results, share_keys
        self.audit, self.progress, self.pacer = audit, progress, pacer
        self.poll_interval = poll_interval
        self.pending: dict[str, str] = {}
        self._made: list[_Result] = []
        self._lock = threading.Lock()

    def _share_made(self, result: _Result) -> None:
        if result.action == Action.SHARE and result.row.method == ShareMethod.HANDSHAKE:
            with self._lock:
                self._made.append(result)

    def _already_pending(self) -> list[_Result]:
        """Skipped rows of these share requests whose share waits for acceptance."""
        found = []
        for r in self.results:
            key = (r.row.directory_id, r.row.region, r.row.owner_account_id)
            if (
                r.action == Action.SKIP
                and key in self.share_keys
                and r.row.method == ShareMethod.HANDSHAKE
                and r.row.share_status == ShareStatus.PENDING_ACCEPTANCE
                and r.row.shared_directory_id
            ):
                r.action, r.outcome = Action.ACCEPT, _PENDING
                found.append(r)
        return found

    def run(
        self,
        work: Sequence[tuple[_Result, str]],
        notes_for: Callable[[PlanRow], str],
        description: str,
        timeout: float,
    ) -> float:
        """Make ``work``'s calls and the accepts; return the wait's deadline (monotonic)."""
        accepts: list[Future[None]] = []
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="dsshare-calls") as runner,
            ThreadPoolExecutor(
                max_workers=self.pacer.threads, thread_name_prefix="dsshare-accept"
            ) as pool,
            tqdm(total=0, desc="accept", unit="call", disable=not self.progress) as bar,
        ):
            calls_made = runner.submit(
                _run_calls, self.conn, work, notes_for, self.audit, self.progress, self.pacer,
                description, self._share_made,
            )  # fmt: skip

            def accept(results: Sequence[_Result]) -> None:
                bar.total += len(results)
                bar.refresh()
                for r in results:
                    r.outcome = _PENDING
                    accepts.append(pool.submit(self._accept, r))
                    accepts[-1].add_done_callback(lambda _future: bar.update(1))

            accept(self._already_pending())
            deadline = self._accept_when_pending(calls_made, accept, timeout)
            for future in accepts:
                future.result()  # a bug in a task must not pass silently
        return deadline

    def _accept(self, result: _Result) -> None:
        with self.pacer.bound():
            _attempt(self.conn, result, Action.ACCEPT, "", self.audit)

    def _accept_when_pending(
        self,
        calls_made: Future[None],
        accept: Callable[[Sequence[_Result]], None],
        timeout: float,
    ) -> float:
        """Poll the shares made so far; accept each once PendingAcceptance."""
        watching: list[tuple[_Result, WatchedShare]] = []
        taken = 0
        delays = backoff_delays(self.poll_interval)
        deadline: float | None = None
        while True:
            finished = calls_made.done()
            with self._lock:
                new = self._made[taken:]
                taken = len(self._made)
            if new:
                watching += [(r, _watched(r, False)) for r in new]
                delays = backoff_delays(self.poll_interval)  # new shares: poll promptly
            before = len(watching)
            if watching:
                watching = self._poll(watching, accept)
            progressed = len(watching) < before
            if finished:
                calls_made.result()  # a bug in a call task must not pass silently
                if deadline is None:
                    deadline = time.monotonic() + timeout
                if not watching:
                    return deadline
                if time.monotonic() >= deadline:
                    self.pending = _timed_out(watching)
                    return deadline
                time.sleep(min(delays(progressed), max(0.0, deadline - time.monotonic())))
            else:
                wait_for([calls_made], timeout=delays(progressed))

    def _poll(
        self,
        watching: list[tuple[_Result, WatchedShare]],
        accept: Callable[[Sequence[_Result]], None],
    ) -> list[tuple[_Result, WatchedShare]]:
        """One round: accept what is PendingAcceptance, fail what ended; keep the rest."""
        statuses = read_statuses(self.conn, [share for _, share in watching])
        ready: list[_Result] = []
        still: list[tuple[_Result, WatchedShare]] = []
        for index, (result, share) in enumerate(watching):
            status = statuses[index]
            result.share_status = status
            if status == ShareStatus.PENDING_ACCEPTANCE:
                ready.append(result)
            elif status in share.watch.failure:
                result.outcome, result.error_code = Outcome.FAILED, status
                result.message = f"{result.action} ended in {status}"
            elif status in share.watch.success:
                result.message = f"{result.action} done: {status}"  # accepted meanwhile
            else:
                still.append((result, share))
        if ready:
            accept(ready)
        return still


def _timed_out(waiting: Sequence[tuple[_Result, WatchedShare]]) -> dict[str, str]:
    """Targets still pending at the deadline become failed WaitTimeout rows."""
    pending: dict[str, str] = {}
    for result, _ in waiting:
        status = str(result.share_status)
        pending[result.row.account_id] = status
        result.outcome, result.error_code = Outcome.FAILED, _WAIT_TIMEOUT
        result.message = f"still {status} when the wait timed out"
    return pending
