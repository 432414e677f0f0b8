"""Directory Service calls: one wrapper per boto3 operation, and the ds readers.

Single-call wrappers keep the boto3 operation's name (``share_directory``), validate their
input before calling, translate AWS errors into :mod:`dsshare.errors` classes and, when
given an :class:`~dsshare.audit.AuditLog`, append one line per mutating call. ``iter_*``
readers yield raw AWS records through paginators.

A failed mutating call is audited ``failed``, or ``in_doubt`` when it may have landed
(:attr:`dsshare.errors.AwsError.in_doubt`). The bulk verbs built on these are in
:mod:`dsshare.sharing`.

Example
-------
>>> sid = share_directory(conn, "d-1234567890", "200000000004", method="ORGANIZATIONS")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from dsshare.audit import AuditLog
from dsshare.connection import Connection
from dsshare.errors import EntityDoesNotExistError, ParameterError, from_client_error
from dsshare.model import INACTIVE_STATUSES, Outcome, ShareMethod
from dsshare.validation import (
    validate_account_id,
    validate_directory_id,
    validate_method,
    validate_notes,
    validate_region,
)

if TYPE_CHECKING:  # loaded where a frame is made: the inventory's collection reads without it
    import pandas as pd

__all__ = [
    "SHARED_DIRECTORY_COLUMNS",
    "accept_shared_directory",
    "delete_directory",
    "describe_directory",
    "iter_directories",
    "iter_shared_directories",
    "leave_shared_directory",
    "reject_shared_directory",
    "share_directory",
    "shared_directories",
    "unshare_directory",
]

logger = logging.getLogger(__name__)


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
                outcome=Outcome.IN_DOUBT if error.in_doubt else Outcome.FAILED,
                error_code=error.code,
                request_id=error.request_id,
                call_id=call_id,
            )
        logger.info(
            "%s in %s/%s %s: %s", operation, account, region,
            "in doubt" if error.in_doubt else "failed", error.code,
        )  # fmt: skip
        raise error from err
    request_id = response.get("ResponseMetadata", {}).get("RequestId")
    if audit is not None:
        audit.record(
            caller_arn=conn.caller_arn,
            account_id=account,
            region=region,
            operation=operation,
            parameters=parameters,
            outcome=Outcome.DONE,
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
    method: str = ShareMethod.HANDSHAKE,
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
    import pandas as pd  # here, not at the top: see the TYPE_CHECKING import

    rows = [
        {
            **{key: record.get(key) for key in SHARED_DIRECTORY_COLUMNS[:-1]},
            "active": record.get("ShareStatus") not in INACTIVE_STATUSES,
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
