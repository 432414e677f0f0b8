"""Directory Service sharing calls: one wrapper per boto3 operation, readers, and bulk verbs.

Single-call wrappers keep the boto3 operation's name (``share_directory``), validate their
input before calling, translate AWS errors into :mod:`dsshare.errors` classes and, when
given an :class:`~dsshare.audit.AuditLog`, append one line per mutating call. ``iter_*``
readers yield raw AWS records through paginators.

The bulk verbs (:func:`share`, :func:`unshare`, :func:`accept`, :func:`reject`,
:func:`leave`) plan, run preflight, apply concurrently and wait; each returns one row per
target (see :data:`dsshare.apply.RESULT_COLUMNS`).

Example
-------
>>> sid = share_directory(conn, "d-1234567890", "200000000004", method="ORGANIZATIONS")  # doctest: +SKIP
>>> frame = share(conn, "d-1234567890", ["ou-ab12-cd34ef56"], method="ORGANIZATIONS")  # doctest: +SKIP
>>> frame[["account_id", "outcome", "share_status"]]                                   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from dsshare.errors import EntityDoesNotExistError, ParameterError, from_client_error
from dsshare.validation import (
    validate_account_id,
    validate_directory_id,
    validate_method,
    validate_notes,
    validate_positive,
    validate_region,
)

if TYPE_CHECKING:
    import pandas as pd

    from dsshare.audit import AuditLog
    from dsshare.connection import Connection
    from dsshare.guardrails import Guardrails

__all__ = [
    "SHARED_DIRECTORY_COLUMNS",
    "accept",
    "accept_shared_directory",
    "delete_directory",
    "describe_directory",
    "iter_directories",
    "iter_shared_directories",
    "leave",
    "leave_shared_directory",
    "reject",
    "reject_shared_directory",
    "share",
    "shared_directories",
    "share_directory",
    "unshare",
    "unshare_directory",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 600.0
DEFAULT_MAX_WORKERS = 8


def _region(conn: Connection, region: str | None) -> str:
    return conn.region if region is None else validate_region(region)


def _account(conn: Connection, account_id: str | None) -> str:
    return conn.caller_account_id if account_id is None else validate_account_id(account_id)


def _mutate(
    conn: Connection,
    operation: str,
    parameters: Mapping[str, Any],
    *,
    account_id: str | None,
    region: str | None,
    audit: AuditLog | None,
) -> dict[str, Any]:
    """Make one mutating ds call, translate errors and write the audit line."""
    region = _region(conn, region)
    account = _account(conn, account_id)
    client = conn.client("ds", region=region, account_id=account)
    method = getattr(client, _snake(operation))
    call_id = None
    if audit is not None:
        # Write-ahead: a run killed while the call is in flight leaves this intent behind.
        call_id = audit.begin(
            caller_arn=conn.caller_arn, account_id=account, region=region,
            operation=operation, parameters=parameters,
        )  # fmt: skip
    try:
        response: dict[str, Any] = method(**parameters)
    except (ClientError, BotoCoreError) as err:
        error = from_client_error(err, operation)
        if audit is not None:
            audit.record(
                caller_arn=conn.caller_arn,
                account_id=account,
                region=region,
                operation=operation,
                parameters=parameters,
                outcome="failed",
                error_code=error.code,
                request_id=error.request_id,
                call_id=call_id,
            )
        logger.info("%s in %s/%s failed: %s", operation, account, region, error.code)
        raise error from err
    request_id = response.get("ResponseMetadata", {}).get("RequestId")
    if audit is not None:
        audit.record(
            caller_arn=conn.caller_arn,
            account_id=account,
            region=region,
            operation=operation,
            parameters=parameters,
            outcome="done",
            error_code=None,
            request_id=request_id,
            call_id=call_id,
        )
    logger.info("%s in %s/%s done", operation, account, region)
    return response


def _snake(operation: str) -> str:
    out = []
    for index, char in enumerate(operation):
        if char.isupper() and index:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


# -- single calls (owner side) ----------------------------------------------------------


def share_directory(
    conn: Connection,
    directory_id: str,
    account_id: str,
    *,
    method: str = "HANDSHAKE",
    notes: str = "",
    region: str | None = None,
    owner_account_id: str | None = None,
    audit: AuditLog | None = None,
) -> str:
    """ShareDirectory: share ``directory_id`` with one account; return the SharedDirectoryId.

    Example
    -------
    >>> share_directory(conn, "d-1234567890", "200000000004", method="ORGANIZATIONS")  # doctest: +SKIP
    'd-9a8b7c6d5e'
    """
    parameters = {
        "DirectoryId": validate_directory_id(directory_id),
        "ShareTarget": {"Id": validate_account_id(account_id), "Type": "ACCOUNT"},
        "ShareMethod": validate_method(method),
        "ShareNotes": validate_notes(notes),
    }
    response = _mutate(
        conn, "ShareDirectory", parameters, account_id=owner_account_id, region=region, audit=audit
    )
    return str(response["SharedDirectoryId"])


def unshare_directory(
    conn: Connection,
    directory_id: str,
    account_id: str,
    *,
    region: str | None = None,
    owner_account_id: str | None = None,
    audit: AuditLog | None = None,
) -> str:
    """UnshareDirectory: stop sharing with one account; return the SharedDirectoryId."""
    parameters = {
        "DirectoryId": validate_directory_id(directory_id),
        "UnshareTarget": {"Id": validate_account_id(account_id), "Type": "ACCOUNT"},
    }
    response = _mutate(
        conn,
        "UnshareDirectory",
        parameters,
        account_id=owner_account_id,
        region=region,
        audit=audit,
    )
    return str(response["SharedDirectoryId"])


def iter_shared_directories(
    conn: Connection,
    directory_id: str,
    region: str | None = None,
    *,
    owner_account_id: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every share record of an owned directory (DescribeSharedDirectories).

    Records of every status are yielded, Deleted and Rejected included: callers decide.
    ShareNotes is part of the AWS record; do not log it.
    """
    directory_id = validate_directory_id(directory_id)
    client = conn.client(
        "ds", region=_region(conn, region), account_id=_account(conn, owner_account_id)
    )
    paginator = client.get_paginator("describe_shared_directories")
    try:
        for page in paginator.paginate(OwnerDirectoryId=directory_id):
            yield from page.get("SharedDirectories", [])
    except (ClientError, BotoCoreError) as err:
        raise from_client_error(err, "DescribeSharedDirectories") from err


#: Columns of :func:`shared_directories`: the AWS record's names (ShareNotes left out, it is
#: sensitive), plus ``active`` (derived: False for Deleted and Rejected, which never count as
#: shared nor against the quota).
SHARED_DIRECTORY_COLUMNS: tuple[str, ...] = (
    "OwnerAccountId",
    "OwnerDirectoryId",
    "SharedAccountId",
    "SharedDirectoryId",
    "ShareMethod",
    "ShareStatus",
    "CreatedDateTime",
    "LastUpdatedDateTime",
    "active",
)


def shared_directories(
    conn: Connection,
    directory_id: str,
    region: str | None = None,
    *,
    owner_account_id: str | None = None,
) -> pd.DataFrame:
    """Every share record of an owned directory as a DataFrame (:data:`SHARED_DIRECTORY_COLUMNS`).

    Example
    -------
    >>> shared_directories(conn, "d-1234567890").query("active")  # doctest: +SKIP
    """
    import pandas as pd

    rows = [
        {
            **{key: record.get(key) for key in SHARED_DIRECTORY_COLUMNS[:-1]},
            "active": record.get("ShareStatus") not in ("Deleted", "Rejected"),
        }
        for record in iter_shared_directories(
            conn, directory_id, region=region, owner_account_id=owner_account_id
        )
    ]
    frame = pd.DataFrame(rows, columns=list(SHARED_DIRECTORY_COLUMNS), dtype=object)
    return frame.astype({"active": bool})


# -- readers (both sides) -----------------------------------------------------------------


def iter_directories(
    conn: Connection, region: str | None = None, account_id: str | None = None
) -> Iterator[dict[str, Any]]:
    """Yield DirectoryDescriptions of one account and Region (owned and SharedMicrosoftAD)."""
    client = conn.client("ds", region=_region(conn, region), account_id=account_id)
    paginator = client.get_paginator("describe_directories")
    try:
        for page in paginator.paginate():
            yield from page.get("DirectoryDescriptions", [])
    except (ClientError, BotoCoreError) as err:
        raise from_client_error(err, "DescribeDirectories") from err


def describe_directory(
    conn: Connection,
    directory_id: str,
    region: str | None = None,
    account_id: str | None = None,
) -> dict[str, Any]:
    """Return one DirectoryDescription; raise EntityDoesNotExistError when it is absent."""
    directory_id = validate_directory_id(directory_id)
    client = conn.client("ds", region=_region(conn, region), account_id=account_id)
    try:
        response = client.describe_directories(DirectoryIds=[directory_id])
    except (ClientError, BotoCoreError) as err:
        raise from_client_error(err, "DescribeDirectories") from err
    descriptions = response.get("DirectoryDescriptions", [])
    if not descriptions:
        # AWS usually raises for an unknown id; an empty answer means the same thing.
        raise EntityDoesNotExistError(
            "DescribeDirectories", EntityDoesNotExistError.code, f"{directory_id} not found"
        )
    description: dict[str, Any] = descriptions[0]
    return description


# -- single calls (consumer side) ---------------------------------------------------------


def accept_shared_directory(
    conn: Connection,
    shared_directory_id: str,
    *,
    account_id: str | None = None,
    region: str | None = None,
    audit: AuditLog | None = None,
) -> dict[str, Any]:
    """AcceptSharedDirectory in the consumer ``account_id``; return the SharedDirectory."""
    parameters = {"SharedDirectoryId": validate_directory_id(shared_directory_id, "shared_directory_id")}
    response = _mutate(
        conn,
        "AcceptSharedDirectory",
        parameters,
        account_id=account_id,
        region=region,
        audit=audit,
    )
    shared: dict[str, Any] = response.get("SharedDirectory", {})
    return shared


def reject_shared_directory(
    conn: Connection,
    shared_directory_id: str,
    *,
    account_id: str | None = None,
    region: str | None = None,
    audit: AuditLog | None = None,
) -> str:
    """RejectSharedDirectory in the consumer ``account_id``; return the SharedDirectoryId."""
    parameters = {"SharedDirectoryId": validate_directory_id(shared_directory_id, "shared_directory_id")}
    response = _mutate(
        conn,
        "RejectSharedDirectory",
        parameters,
        account_id=account_id,
        region=region,
        audit=audit,
    )
    return str(response["SharedDirectoryId"])


def delete_directory(
    conn: Connection,
    directory_id: str,
    *,
    account_id: str | None = None,
    region: str | None = None,
    audit: AuditLog | None = None,
    require_shared: bool = True,
) -> str:
    """DeleteDirectory; by default only on a SharedMicrosoftAD (the consumer leaves a share).

    With ``require_shared=True`` (the default) the directory is described first and a
    directory of any other type is refused with ParameterError, so this kit can never
    delete an owner's directory by mistake.
    """
    directory_id = validate_directory_id(directory_id)
    if require_shared:
        description = describe_directory(conn, directory_id, region=region, account_id=account_id)
        if description.get("Type") != "SharedMicrosoftAD":
            raise ParameterError(
                "directory_id",
                directory_id,
                f"a SharedMicrosoftAD directory (this one is {description.get('Type')}; "
                "dsshare only deletes consumer-side shared directories)",
            )
    response = _mutate(
        conn,
        "DeleteDirectory",
        {"DirectoryId": directory_id},
        account_id=account_id,
        region=region,
        audit=audit,
    )
    return str(response["DirectoryId"])


def leave_shared_directory(
    conn: Connection,
    shared_directory_id: str,
    *,
    account_id: str | None = None,
    region: str | None = None,
    audit: AuditLog | None = None,
) -> str:
    """The consumer leaves a share: DeleteDirectory on its SharedMicrosoftAD (checked first)."""
    return delete_directory(
        conn,
        shared_directory_id,
        account_id=account_id,
        region=region,
        audit=audit,
        require_shared=True,
    )


# -- bulk verbs -------------------------------------------------------------------------


def _bulk(
    conn: Connection,
    action: str,
    directory_id: str,
    targets: Sequence[str],
    *,
    method: str,
    notes: str,
    auto_accept: bool,
    allow_external: bool,
    dry_run: bool,
    wait: bool,
    timeout: float,
    audit: AuditLog | None,
    progress: bool,
    max_workers: int,
    region: str | None,
    owner_account_id: str | None,
    guardrails: Guardrails | None = None,
) -> pd.DataFrame:
    # Imported here: plan and apply build on the wrappers above.
    from dsshare.apply import apply, plan_frame_as_results
    from dsshare.plan import plan

    # apply checks these too, but only after planning has called AWS: check them first.
    validate_positive(timeout, "timeout")
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ParameterError("max_workers", max_workers, "an integer >= 1")

    the_plan = plan(
        conn,
        directory_id,
        targets,
        method=method,
        notes=notes,
        action=action,
        allow_external=allow_external,
        region=region,
        owner_account_id=owner_account_id,
        guardrails=guardrails,
    )
    if dry_run:
        return plan_frame_as_results(the_plan)
    return apply(
        conn,
        the_plan,
        auto_accept=auto_accept,
        wait=wait,
        timeout=timeout,
        audit=audit,
        progress=progress,
        max_workers=max_workers,
    )


def share(
    conn: Connection,
    directory_id: str,
    targets: Sequence[str],
    method: str = "HANDSHAKE",
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
        targets still pending).
    audit
        Audit log for every mutating call.
    progress
        Show a ``tqdm.auto`` progress bar.
    max_workers
        Concurrent calls.
    region, owner_account_id
        Where the directory lives (defaults: the connection's Region and account).
    guardrails
        Policy limiting new shares; None applies ``DSSHARE_GUARDRAILS`` if set.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`dsshare.apply.RESULT_COLUMNS`.

    Example
    -------
    >>> share(conn, "d-1234567890", ["ou-ab12-cd34ef56"], method="ORGANIZATIONS")  # doctest: +SKIP
    """
    return _bulk(
        conn, "share", directory_id, targets, method=method, notes=notes,
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
) -> pd.DataFrame:
    """Stop sharing with accounts and OUs; wait for Deleted. Not-shared targets are skipped.

    Example
    -------
    >>> unshare(conn, "d-1234567890", ["200000000004"])  # doctest: +SKIP
    """
    return _bulk(
        conn, "unshare", directory_id, targets, method="HANDSHAKE", notes="",
        auto_accept=False, allow_external=True, dry_run=dry_run, wait=wait, timeout=timeout,
        audit=audit, progress=progress, max_workers=max_workers, region=region,
        owner_account_id=owner_account_id,
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
) -> pd.DataFrame:
    """Accept pending HANDSHAKE shares of owner ``directory_id`` in each consumer account.

    Each consumer is reached through the cross-account role (or the caller's own
    credentials when the caller is the consumer); the owner's records are read to find each
    SharedDirectoryId. Waits for Shared.

    Example
    -------
    >>> accept(conn, "d-1234567890", ["200000000008"], owner_account_id="200000000001")  # doctest: +SKIP
    """
    return _bulk(
        conn, "accept", directory_id, targets, method="HANDSHAKE", notes="",
        auto_accept=False, allow_external=True, dry_run=dry_run, wait=wait, timeout=timeout,
        audit=audit, progress=progress, max_workers=max_workers, region=region,
        owner_account_id=owner_account_id,
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
) -> pd.DataFrame:
    """Reject pending HANDSHAKE shares of owner ``directory_id`` in each consumer account.

    Waits for Rejected (RejectFailed is reported as a failure).

    Example
    -------
    >>> reject(conn, "d-1234567890", ["200000000009"], owner_account_id="200000000001")  # doctest: +SKIP
    """
    return _bulk(
        conn, "reject", directory_id, targets, method="HANDSHAKE", notes="",
        auto_accept=False, allow_external=True, dry_run=dry_run, wait=wait, timeout=timeout,
        audit=audit, progress=progress, max_workers=max_workers, region=region,
        owner_account_id=owner_account_id,
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
) -> pd.DataFrame:
    """Each consumer leaves the share (DeleteDirectory on its SharedMicrosoftAD).

    Waits until the owner's record is Deleted.

    Example
    -------
    >>> leave(conn, "d-1234567890", ["200000000004"])  # doctest: +SKIP
    """
    return _bulk(
        conn, "leave", directory_id, targets, method="HANDSHAKE", notes="",
        auto_accept=False, allow_external=True, dry_run=dry_run, wait=wait, timeout=timeout,
        audit=audit, progress=progress, max_workers=max_workers, region=region,
        owner_account_id=owner_account_id,
    )  # fmt: skip

