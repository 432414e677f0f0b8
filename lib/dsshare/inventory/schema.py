"""Declared schemas of every inventory frame: columns, dtypes and meanings.

Every frame the inventory produces, reads back or writes goes through
:func:`conform`, so the same columns come out in the same order with the same
dtypes whatever the scope, including an empty one. Columns that mirror an AWS
field keep the AWS name (``DirectoryId``, ``ShareStatus``); derived columns are
snake_case and described here, which is also where ``docs/inventory.md`` takes
its tables from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dsshare.errors import UnknownNameError

#: Bumped whenever a column is added, removed, renamed or changes dtype.
SCHEMA_VERSION = 1

STRING = "string"
INT = "Int64"
BOOL = "boolean"
FLOAT = "float64"
TIMESTAMP = "datetime64[ns, UTC]"

_DTYPES: dict[str, object] = {
    STRING: pd.StringDtype("python"),
    INT: pd.Int64Dtype(),
    BOOL: pd.BooleanDtype(),
    FLOAT: "float64",
    TIMESTAMP: pd.DatetimeTZDtype("ns", "UTC"),
}


@dataclass(frozen=True)
class Column:
    """One declared column: its name, dtype kind and what it means."""

    name: str
    kind: str
    description: str


@dataclass(frozen=True)
class FrameSchema:
    """The declared columns of one frame, in output order."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    def dtype(self, column: str) -> object:
        """The pandas dtype object of ``column``."""
        for c in self.columns:
            if c.name == column:
                return _DTYPES[c.kind]
        raise UnknownNameError("column", column)


class SchemaError(ValueError):
    """A frame carries columns its schema does not declare (a programming error)."""


def _cols(*spec: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(n, k, d) for n, k, d in spec)


DIRECTORIES = FrameSchema(
    "directories",
    "One row per directory seen by DescribeDirectories in one account and Region: "
    "owner directories and consumers' SharedMicrosoftAD directories alike.",
    _cols(
        ("account_id", STRING, "Account whose DescribeDirectories listed the directory."),
        ("region", STRING, "Region the directory was listed in."),
        ("DirectoryId", STRING, "AWS DirectoryId (for a consumer: its SharedDirectoryId)."),
        ("Name", STRING, "AWS Name (fully qualified domain name)."),
        ("ShortName", STRING, "AWS ShortName (NetBIOS name)."),
        ("Type", STRING, "AWS Type: MicrosoftAD, SimpleAD, ADConnector or SharedMicrosoftAD."),
        ("Edition", STRING, "AWS Edition: Standard, Enterprise or Hybrid (MicrosoftAD only)."),
        ("Size", STRING, "AWS Size (SimpleAD and ADConnector)."),
        ("Stage", STRING, "AWS Stage (Active, Creating, Requested, ...)."),
        ("LaunchTime", TIMESTAMP, "AWS LaunchTime."),
        ("ShareStatus", STRING, "AWS ShareStatus (consumer side only)."),
        ("ShareMethod", STRING, "AWS ShareMethod (consumer side only)."),
        (
            "side",
            STRING,
            "'owner' for a directory the account owns, 'consumer' for a SharedMicrosoftAD.",
        ),
        (
            "owner_account_id",
            STRING,
            "Owning account: account_id for owners, OwnerDirectoryDescription.AccountId for consumers.",
        ),
        (
            "owner_directory_id",
            STRING,
            "Owner's DirectoryId: DirectoryId for owners, OwnerDirectoryDescription.DirectoryId for consumers.",
        ),
        ("primary_region", STRING, "RegionsInfo.PrimaryRegion when AWS reports it, else region."),
        (
            "additional_regions",
            STRING,
            "RegionsInfo.AdditionalRegions joined with ',' (missing when not replicated).",
        ),
        ("shareable", BOOL, "True for MicrosoftAD (the only type that can be shared)."),
        (
            "share_quota",
            INT,
            "Edition quota of accounts this directory can be shared with per Region (MicrosoftAD only).",
        ),
        (
            "notes_sha256",
            STRING,
            "SHA-256 of the consumer's ShareNotes (the text itself is never kept).",
        ),
        ("notes_length", INT, "Length of the consumer's ShareNotes in characters."),
    ),
    key=("account_id", "region", "DirectoryId"),
)

SHARES = FrameSchema(
    "shares",
    "One row per share record: an owner directory shared with a consumer account in a "
    "Region, the owner's DescribeSharedDirectories record joined to the consumer's "
    "SharedMicrosoftAD. Re-sharing after Deleted or Rejected makes a new record (new "
    "SharedDirectoryId), so one owner directory x consumer account pair can have several "
    "rows; is_latest marks the newest.",
    _cols(
        ("region", STRING, "Region of the share (sharing is Regional)."),
        ("OwnerAccountId", STRING, "AWS OwnerAccountId."),
        ("OwnerDirectoryId", STRING, "AWS OwnerDirectoryId."),
        ("SharedAccountId", STRING, "AWS SharedAccountId (the consumer account)."),
        ("SharedDirectoryId", STRING, "AWS SharedDirectoryId (the consumer's DirectoryId)."),
        (
            "ShareMethod",
            STRING,
            "AWS ShareMethod from the owner record (consumer's when no owner record was seen).",
        ),
        (
            "ShareStatus",
            STRING,
            "AWS ShareStatus from the owner record (consumer's when no owner record was seen).",
        ),
        ("CreatedDateTime", TIMESTAMP, "AWS CreatedDateTime of the owner record."),
        ("LastUpdatedDateTime", TIMESTAMP, "AWS LastUpdatedDateTime of the owner record."),
        ("notes_sha256", STRING, "SHA-256 of ShareNotes (the text itself is never kept)."),
        ("notes_length", INT, "Length of ShareNotes in characters."),
        ("owner_directory_name", STRING, "Name of the owner directory."),
        ("owner_edition", STRING, "Edition of the owner directory."),
        (
            "shared_account_name",
            STRING,
            "Organizations name of the consumer account (empty outside the organization).",
        ),
        ("owner_record_seen", BOOL, "The owner's DescribeSharedDirectories listed this record."),
        (
            "consumer_seen",
            BOOL,
            "The consumer's DescribeDirectories listed this SharedDirectoryId.",
        ),
        (
            "owner_readable",
            BOOL,
            "The owner account and Region were read without error, so a missing owner record is real.",
        ),
        (
            "consumer_readable",
            BOOL,
            "The consumer account and Region were read without error, so a missing consumer directory is real.",
        ),
        (
            "consumer_share_status",
            STRING,
            "ShareStatus as the consumer's DescribeDirectories reports it.",
        ),
        ("consumer_stage", STRING, "Stage of the consumer's SharedMicrosoftAD."),
        (
            "in_organization",
            BOOL,
            "SharedAccountId is a member of the organization (NA when the organization could not be read).",
        ),
        (
            "counts_against_quota",
            BOOL,
            "The record counts against the edition quota (status neither Deleted nor Rejected).",
        ),
        ("is_latest", BOOL, "Newest record of its owner directory x consumer account x Region."),
    ),
    key=("region", "OwnerDirectoryId", "SharedDirectoryId"),
)

ACCOUNTS = FrameSchema(
    "accounts",
    "One row per account of the organization (or per requested account when the "
    "organization cannot be read), with where it sits and whether it was read.",
    _cols(
        ("Id", STRING, "AWS account Id."),
        ("Name", STRING, "AWS account Name."),
        ("Email", STRING, "AWS account Email."),
        ("Status", STRING, "AWS account Status (ACTIVE, SUSPENDED, ...)."),
        ("JoinedMethod", STRING, "AWS JoinedMethod (INVITED or CREATED)."),
        ("JoinedTimestamp", TIMESTAMP, "AWS JoinedTimestamp."),
        ("ou_id", STRING, "Id of the parent OU or root."),
        ("ou_path", STRING, "Path of OU names from the root, e.g. 'Root/Workloads/Prod'."),
        ("is_management", BOOL, "The organization's management account."),
        ("in_scope", BOOL, "The account was part of the collection scope."),
        ("regions_read", INT, "Regions read without error in this account."),
        ("regions_failed", INT, "Regions that could not be read in this account (see errors)."),
    ),
    key=("Id",),
)

ORGANIZATIONAL_UNITS = FrameSchema(
    "organizational_units",
    "One row per root and organizational unit of the organization.",
    _cols(
        ("Id", STRING, "AWS Id of the root or OU."),
        ("Name", STRING, "AWS Name."),
        ("parent_id", STRING, "Id of the parent (empty for the root)."),
        ("path", STRING, "Path of names from the root."),
        ("depth", INT, "0 for the root, 1 for its children, ..."),
    ),
    key=("Id",),
)

ERRORS = FrameSchema(
    "errors",
    "One row per unit of work that could not be read; collection goes on past it.",
    _cols(
        ("account_id", STRING, "Account being read (empty for organization-wide reads)."),
        ("region", STRING, "Region being read (empty for global reads)."),
        (
            "stage",
            STRING,
            "What was being read: organization, assume_role, directories, shared_directories.",
        ),
        ("directory_id", STRING, "Owner directory being read, for shared_directories."),
        ("operation", STRING, "AWS operation that failed, when known."),
        ("code", STRING, "AWS error code or exception class."),
        ("message", STRING, "Error message."),
        ("request_id", STRING, "AWS request id, when known."),
    ),
)

QUOTA = FrameSchema(
    "quota",
    "Quota headroom per shareable owner directory and Region.",
    _cols(
        ("account_id", STRING, "Owner account."),
        ("region", STRING, "Region."),
        ("DirectoryId", STRING, "Owner DirectoryId."),
        ("Name", STRING, "Directory name."),
        ("Edition", STRING, "Edition."),
        ("share_quota", INT, "Edition quota of consumer accounts per Region."),
        ("shares_counting", INT, "Share records that count (status neither Deleted nor Rejected)."),
        ("headroom", INT, "share_quota - shares_counting."),
        ("utilisation", FLOAT, "shares_counting / share_quota."),
    ),
    key=("account_id", "region", "DirectoryId"),
)

PENDING = FrameSchema(
    "pending",
    "Invitations waiting for the consumer (ShareStatus PendingAcceptance), oldest first.",
    _cols(
        ("region", STRING, "Region."),
        ("OwnerAccountId", STRING, "AWS OwnerAccountId."),
        ("OwnerDirectoryId", STRING, "AWS OwnerDirectoryId."),
        ("owner_directory_name", STRING, "Owner directory name."),
        ("SharedAccountId", STRING, "AWS SharedAccountId."),
        ("shared_account_name", STRING, "Consumer account name, when in the organization."),
        ("SharedDirectoryId", STRING, "AWS SharedDirectoryId: what the consumer accepts."),
        ("CreatedDateTime", TIMESTAMP, "When the invitation was made."),
        ("age_days", FLOAT, "Days between CreatedDateTime and collection."),
        ("in_organization", BOOL, "Consumer is a member of the organization."),
    ),
)

FINDINGS = FrameSchema(
    "findings",
    "Consistency and hygiene findings, most severe first.",
    _cols(
        ("finding", STRING, "Finding type (see docs/inventory.md)."),
        ("severity", STRING, "high, medium or low."),
        ("region", STRING, "Region concerned."),
        ("account_id", STRING, "Owner account concerned."),
        ("DirectoryId", STRING, "Owner DirectoryId concerned."),
        ("SharedAccountId", STRING, "Consumer account concerned, if any."),
        ("SharedDirectoryId", STRING, "Share record concerned, if any."),
        ("detail", STRING, "What was observed."),
        ("action", STRING, "What the operator should do next."),
    ),
)

DRIFT = FrameSchema(
    "drift",
    "Rows added, removed or changed between two snapshots; one row per changed field.",
    _cols(
        ("frame", STRING, "Frame compared: shares or directories."),
        ("change", STRING, "added, removed or changed."),
        ("key", STRING, "The row's key columns joined with '/'."),
        ("region", STRING, "Region."),
        ("account_id", STRING, "Owner account (shares) or listing account (directories)."),
        ("DirectoryId", STRING, "Owner DirectoryId (shares) or DirectoryId (directories)."),
        ("SharedAccountId", STRING, "Consumer account (shares only)."),
        ("SharedDirectoryId", STRING, "Share record (shares only)."),
        ("field", STRING, "Changed column (changed rows only)."),
        ("before", STRING, "Value in the earlier snapshot."),
        ("after", STRING, "Value in the later snapshot."),
    ),
)

#: Frames collected from AWS, in the order snapshots and reports list them.
COLLECTED: tuple[FrameSchema, ...] = (
    DIRECTORIES,
    SHARES,
    ACCOUNTS,
    ORGANIZATIONAL_UNITS,
    ERRORS,
)
#: Frames derived from the collected ones.
DERIVED: tuple[FrameSchema, ...] = (QUOTA, PENDING, FINDINGS, DRIFT)
SCHEMAS: Mapping[str, FrameSchema] = {s.name: s for s in COLLECTED + DERIVED}


def empty_frame(schema: FrameSchema) -> pd.DataFrame:
    """Return an empty frame with the declared columns and dtypes.

    Examples
    --------
    >>> list(empty_frame(ERRORS).columns)[:3]
    ['account_id', 'region', 'stage']
    """
    return conform(pd.DataFrame(), schema)


def conform(frame: pd.DataFrame | list[dict[str, object]], schema: FrameSchema) -> pd.DataFrame:
    """Return ``frame`` with exactly the declared columns, order and dtypes.

    Missing columns are added as missing values; a column the schema does not
    declare raises :class:`SchemaError`, because silently dropping data hides
    bugs.

    Examples
    --------
    >>> str(conform([{"account_id": "123456789012", "message": "boom"}], ERRORS).dtypes["account_id"])
    'string'
    """
    df = pd.DataFrame(frame) if isinstance(frame, list) else frame
    extra = [c for c in df.columns if c not in schema.names]
    if extra:
        raise SchemaError(f"{schema.name}: undeclared columns {extra}")
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    for column in schema.columns:
        dtype = _DTYPES[column.kind]
        if column.name in df.columns:
            values = df[column.name].reset_index(drop=True)
            out[column.name] = _cast(values, column.kind, dtype)
        else:
            missing = float("nan") if column.kind == FLOAT else pd.NA
            out[column.name] = pd.Series([missing] * len(df), dtype=dtype)  # type: ignore[call-overload]
    return out


def _cast(values: pd.Series, kind: str, dtype: object) -> pd.Series:
    if kind == TIMESTAMP:
        return pd.to_datetime(values, utc=True, format="ISO8601").astype(dtype)  # type: ignore[call-overload, no-any-return]
    if kind == BOOL and not pd.api.types.is_bool_dtype(values.dtype):
        mapped = values.astype(object).map(_to_bool)
        return mapped.astype(dtype)  # type: ignore[call-overload, no-any-return]
    if kind == STRING:
        values = values.astype(object).where(values.notna(), None)
    return values.astype(dtype)  # type: ignore[call-overload, no-any-return]


def _to_bool(value: object) -> object:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        return pd.NA
    if value is None or (isinstance(value, float) and value != value):
        return pd.NA
    return bool(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts, missing values as ``None`` (safe to test for truth).

    Examples
    --------
    >>> records(conform([{"account_id": "1"}], ERRORS))[0]["region"] is None
    True
    """
    if frame.empty:
        return []
    plain = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in plain.to_dict("records")]


def mask(series: pd.Series) -> pd.Series:
    """A nullable boolean column as a plain mask, missing values as False."""
    return series.astype("boolean").fillna(False).astype(bool)
