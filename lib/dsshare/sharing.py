"""The bulk verbs: plan, then apply with the one engine; one result row per target.

:func:`share`, :func:`unshare`, :func:`accept`, :func:`reject` and :func:`leave` act on one
owner directory for accounts and OUs; :func:`respond` accepts or rejects the invitations
consumer accounts see, from any owner. Each validates its inputs, plans (preflight and
guardrails rows refuse what must not or cannot happen, before any call for that account),
returns the plan as ``planned`` rows on a dry run, and otherwise applies it with
:func:`dsshare.execution.apply` (write-ahead audit, concurrent calls, one waiter, one
timeout contract). Columns: :data:`dsshare.model.RESULT_COLUMNS`.

Example
-------
>>> frame = share(conn, "d-1234567890", ["ou-ab12-cd34ef56"], method="ORGANIZATIONS")  # doctest: +SKIP
>>> frame[["account_id", "outcome", "share_status"]]                                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dsshare.audit import AuditLog
from dsshare.connection import Connection
from dsshare.errors import ParameterError
from dsshare.execution import apply, plan_frame_as_results
from dsshare.guardrails import Guardrails
from dsshare.model import Action, ShareMethod
from dsshare.planning import Plan, plan, plan_responses
from dsshare.validation import validate_positive

__all__ = ["accept", "leave", "reject", "respond", "share", "unshare"]

DEFAULT_TIMEOUT = 600.0
DEFAULT_MAX_WORKERS = 8


def _check_run_options(timeout: float, max_workers: int) -> None:
    # apply checks these too, but only after planning has called AWS: check them first.
    validate_positive(timeout, "timeout")
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ParameterError("max_workers", max_workers, "an integer >= 1")


def _run(
    conn: Connection,
    the_plan: Plan,
    *,
    dry_run: bool,
    auto_accept: bool,
    wait: bool,
    timeout: float,
    audit: AuditLog | None,
    progress: bool,
    max_workers: int,
) -> pd.DataFrame:
    if dry_run:
        return plan_frame_as_results(the_plan)
    return apply(
        conn, the_plan, auto_accept=auto_accept, wait=wait, timeout=timeout, audit=audit,
        progress=progress, max_workers=max_workers,
    )  # fmt: skip


def _bulk(
    conn: Connection,
    action: str,
    directory_id: str,
    targets: Sequence[str],
    *,
    method: str = ShareMethod.HANDSHAKE,
    notes: str = "",
    auto_accept: bool = False,
    allow_external: bool = False,
    dry_run: bool,
    wait: bool,
    timeout: float,
    audit: AuditLog | None,
    progress: bool,
    max_workers: int,
    region: str | None,
    owner_account_id: str | None,
    guardrails: Guardrails | None,
) -> pd.DataFrame:
    _check_run_options(timeout, max_workers)
    the_plan = plan(
        conn, directory_id, targets, method=method, notes=notes, action=action,
        allow_external=allow_external, region=region, owner_account_id=owner_account_id,
        guardrails=guardrails,
    )  # fmt: skip
    return _run(
        conn, the_plan, dry_run=dry_run, auto_accept=auto_accept, wait=wait, timeout=timeout,
        audit=audit, progress=progress, max_workers=max_workers,
    )  # fmt: skip


def share(
    conn: Connection,
    directory_id: str,
    targets: Sequence[str],
    method: str = ShareMethod.HANDSHAKE,
    notes: str = "",
    auto_accept: bool = False,
    allow_external: bool = False,
    dry_run: bool = False,
    wait: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    audit: AuditLog | None = None,
    progress: bool = True,
    max_workers: int = DEFAULT_MAX_WORKERS,
    *,
    region: str | None = None,
    owner_account_id: str | None = None,
    guardrails: Guardrails | None = None,
) -> pd.DataFrame:
    """Share a directory with accounts and OUs (expanded recursively); one row per account.

    Plans first (preflight rows refuse what cannot succeed, without calling AWS for them),
    then shares concurrently and waits for each target's terminal status: Shared for
    ORGANIZATIONS, PendingAcceptance for HANDSHAKE (Shared with ``auto_accept=True``, which
    accepts in each consumer account through the cross-account role). Accounts already
    sharing are skipped; Deleted and Rejected records do not count as shared.

    Parameters
    ----------
    conn
        The connection.
    directory_id
        Owner directory, ``d-`` + 10 hex digits.
    targets
        Account ids, OU ids and root ids.
    method
        ``HANDSHAKE`` or ``ORGANIZATIONS``.
    notes
        ShareNotes shown to the consumer (HANDSHAKE); never logged.
    auto_accept
        HANDSHAKE only: accept in each consumer account, then wait for Shared.
    allow_external
        Allow HANDSHAKE targets outside the organization.
    dry_run
        Return the plan as rows with outcome ``planned``; nothing is called or audited.
    wait, timeout
        Wait up to ``timeout`` seconds for terminal statuses (WaitTimeoutError names the
        targets still pending and carries the result frame).
    audit
        Audit log for every mutating call.
    progress
        Show a ``tqdm.auto`` progress bar.
    max_workers
        Concurrent calls.
    region, owner_account_id
        Where the directory lives (defaults: the connection's Region and account).
    guardrails
        Policy; None applies ``DSSHARE_GUARDRAILS`` if set.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`dsshare.model.RESULT_COLUMNS`.

    Example
    -------
    >>> share(conn, "d-1234567890", ["ou-ab12-cd34ef56"], method="ORGANIZATIONS")  # doctest: +SKIP
    """
    return _bulk(
        conn, Action.SHARE, directory_id, targets, method=method, notes=notes,
        auto_accept=auto_accept, allow_external=allow_external, dry_run=dry_run, wait=wait,
        timeout=timeout, audit=audit, progress=progress, max_workers=max_workers,
        region=region, owner_account_id=owner_account_id, guardrails=guardrails,
    )  # fmt: skip


def unshare(
    conn: Connection,
    directory_id: str,
    targets: Sequence[str],
    dry_run: bool = False,
    wait: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    audit: AuditLog | None = None,
    progress: bool = True,
    max_workers: int = DEFAULT_MAX_WORKERS,
    *,
    region: str | None = None,
    owner_account_id: str | None = None,
    guardrails: Guardrails | None = None,
) -> pd.DataFrame:
    """Stop sharing with accounts and OUs; wait for Deleted. Not-shared targets are skipped.

    Guardrails refuse protected accounts.

    Example
    -------
    >>> unshare(conn, "d-1234567890", ["200000000004"])  # doctest: +SKIP
    """
    return _bulk(
        conn, Action.UNSHARE, directory_id, targets, dry_run=dry_run, wait=wait,
        timeout=timeout, audit=audit, progress=progress, max_workers=max_workers,
        region=region, owner_account_id=owner_account_id, guardrails=guardrails,
    )  # fmt: skip


def accept(
    conn: Connection,
    directory_id: str,
    targets: Sequence[str],
    dry_run: bool = False,
    wait: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    audit: AuditLog | None = None,
    progress: bool = True,
    max_workers: int = DEFAULT_MAX_WORKERS,
    *,
    region: str | None = None,
    owner_account_id: str | None = None,
    allow_external_owners: bool = False,
    guardrails: Guardrails | None = None,
) -> pd.DataFrame:
    """Accept pending HANDSHAKE shares of owner ``directory_id`` in each consumer account.

    Each consumer is reached through the cross-account role (or the caller's own
    credentials when the caller is the consumer); the owner's records are read to find each
    SharedDirectoryId. Waits for Shared. Accepting grants access: guardrails refuse denied
    and protected accounts, and an owner outside the organization needs
    ``allow_external_owners=True``.

    Example
    -------
    >>> accept(conn, "d-1234567890", ["200000000008"], owner_account_id="200000000001")  # doctest: +SKIP
    """
    return _bulk(
        conn, Action.ACCEPT, directory_id, targets, allow_external=allow_external_owners,
        dry_run=dry_run, wait=wait, timeout=timeout, audit=audit, progress=progress,
        max_workers=max_workers, region=region, owner_account_id=owner_account_id,
        guardrails=guardrails,
    )  # fmt: skip


def reject(
    conn: Connection,
    directory_id: str,
    targets: Sequence[str],
    dry_run: bool = False,
    wait: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    audit: AuditLog | None = None,
    progress: bool = True,
    max_workers: int = DEFAULT_MAX_WORKERS,
    *,
    region: str | None = None,
    owner_account_id: str | None = None,
    guardrails: Guardrails | None = None,
) -> pd.DataFrame:
    """Reject pending HANDSHAKE shares of owner ``directory_id`` in each consumer account.

    Waits for Rejected (RejectFailed is reported as a failure).

    Example
    -------
    >>> reject(conn, "d-1234567890", ["200000000009"], owner_account_id="200000000001")  # doctest: +SKIP
    """
    return _bulk(
        conn, Action.REJECT, directory_id, targets, dry_run=dry_run, wait=wait,
        timeout=timeout, audit=audit, progress=progress, max_workers=max_workers,
        region=region, owner_account_id=owner_account_id, guardrails=guardrails,
    )  # fmt: skip


def leave(
    conn: Connection,
    directory_id: str,
    targets: Sequence[str],
    dry_run: bool = False,
    wait: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    audit: AuditLog | None = None,
    progress: bool = True,
    max_workers: int = DEFAULT_MAX_WORKERS,
    *,
    region: str | None = None,
    owner_account_id: str | None = None,
    guardrails: Guardrails | None = None,
) -> pd.DataFrame:
    """Each consumer leaves the share (DeleteDirectory on its SharedMicrosoftAD).

    Waits until the owner's record is Deleted.

    Example
    -------
    >>> leave(conn, "d-1234567890", ["200000000004"])  # doctest: +SKIP
    """
    return _bulk(
        conn, Action.LEAVE, directory_id, targets, dry_run=dry_run, wait=wait,
        timeout=timeout, audit=audit, progress=progress, max_workers=max_workers,
        region=region, owner_account_id=owner_account_id, guardrails=guardrails,
    )  # fmt: skip


def respond(
    conn: Connection,
    accounts: Sequence[str],
    action: str,
    *,
    owner_account_ids: Sequence[str] = (),
    owner_directory_ids: Sequence[str] = (),
    regions: Sequence[str] | None = None,
    allow_external_owners: bool = False,
    dry_run: bool = False,
    wait: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    audit: AuditLog | None = None,
    progress: bool = True,
    max_workers: int = DEFAULT_MAX_WORKERS,
    guardrails: Guardrails | None = None,
) -> pd.DataFrame:
    """Accept or reject the invitations consumer accounts see (or leave their Shared ones).

    Plans with :func:`dsshare.planning.plan_responses` (owners outside the organization
    need ``allow_external_owners``; guardrails apply) and applies with the one engine;
    waits on the consumer's side for Shared or Rejected.

    Example
    -------
    >>> respond(conn, ["ALL"], "accept", owner_account_ids=["200000000001"])  # doctest: +SKIP
    """
    _check_run_options(timeout, max_workers)
    the_plan = plan_responses(
        conn, accounts, action, owner_account_ids=owner_account_ids,
        owner_directory_ids=owner_directory_ids, regions=regions,
        allow_external_owners=allow_external_owners, guardrails=guardrails,
        max_workers=max_workers,
    )  # fmt: skip
    return _run(
        conn, the_plan, dry_run=dry_run, auto_accept=False, wait=wait, timeout=timeout,
        audit=audit, progress=progress, max_workers=max_workers,
    )  # fmt: skip
