"""Derived views of an inventory: quota headroom, pending invitations, findings.

Pure functions over :class:`~dsshare.inventory.model.Inventory` frames; they
never call AWS, so they work as well on a snapshot read back from disk.
A finding is only raised when the inventory can prove it: a missing consumer
directory counts only when the consumer account and Region were read, a
missing owner record only when the owner directory was read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from dsshare.model import ShareStatus

from . import schema
from .model import Inventory
from .schema import mask, records

#: Severity order, most severe first.
SEVERITIES = ("high", "medium", "low")

#: Finding types: (default severity, what it means, what to do).
FINDING_TYPES: dict[str, tuple[str, str, str]] = {
    "owner_shared_consumer_missing": (
        "high",
        "The owner record says Shared but the consumer account has no such directory.",
        "Confirm with the consumer account; unshare to free quota, or share again if it is still needed.",
    ),
    "consumer_without_owner_record": (
        "high",
        "The consumer account has the shared directory but the owner record is Deleted or missing.",
        "Have the consumer delete the stale SharedMicrosoftAD, or share again from the owner, then re-run the inventory.",
    ),
    "share_outside_organization": (
        "medium",
        "A share that counts against the quota targets an account that is not in the organization.",
        "Confirm the external account is intended; otherwise unshare it (ORGANIZATIONS shares to a departed member should be unshared).",
    ),
    "organizations_share_not_renewable": (
        "medium",
        "An ORGANIZATIONS share exists while trusted access for ds.amazonaws.com is off: it keeps working, but cannot be made again.",
        "Re-enable trusted access (organizations enable-aws-service-access --service-principal ds.amazonaws.com) or move the account to HANDSHAKE.",
    ),
    "replica_region_unshared": (
        "medium",
        "A directory replicated to several Regions is shared with this account in only some of them (sharing is Regional).",
        "Share the directory with the account in the missing Regions (share_directory with regions: all), or unshare it everywhere.",
    ),
    "share_failed": (
        "high",
        "A share record ended in ShareFailed or RejectFailed.",
        "Unshare the failed record and share again; if it fails again, open an AWS support case with the SharedDirectoryId.",
    ),
    "quota_exhausted": (
        "high",
        "The directory has no share quota left in this Region: new shares fail with ShareLimitExceededException.",
        "Unshare unused accounts (Deleted/Rejected do not count) or request a quota increase.",
    ),
    "quota_nearly_exhausted": (
        "low",
        "The directory has used most of its share quota in this Region.",
        "Review who still needs the directory before the quota runs out.",
    ),
    "pending_stale": (
        "low",
        "An invitation has waited for acceptance longer than the threshold.",
        "Remind the consumer's administrator to accept or reject, or unshare the invitation.",
    ),
}


def quota(inventory: Inventory) -> pd.DataFrame:
    """Quota headroom per shareable owner directory and Region.

    Examples
    --------
    >>> from dsshare.inventory.model import Inventory
    >>> quota(Inventory.empty()).columns[-1]
    'utilisation'
    """
    dirs = inventory.directories
    owners = dirs[(dirs["side"] == "owner") & mask(dirs["shareable"])].drop_duplicates(
        ["account_id", "region", "DirectoryId"]
    )
    shares = inventory.shares
    counting = shares[mask(shares["counts_against_quota"]) & mask(shares["owner_record_seen"])]
    counts: dict[tuple[str, str], int] = {}
    for r in records(counting[["region", "OwnerDirectoryId"]]):
        key = (r["region"], r["OwnerDirectoryId"])
        counts[key] = counts.get(key, 0) + 1
    rows = []
    for d in records(owners):
        used = counts.get((d["region"], d["DirectoryId"]), 0)
        limit = d["share_quota"]
        rows.append(
            {
                "account_id": d["account_id"],
                "region": d["region"],
                "DirectoryId": d["DirectoryId"],
                "Name": d["Name"],
                "Edition": d["Edition"],
                "share_quota": limit,
                "shares_counting": used,
                "headroom": None if limit is None else int(limit) - used,
                "utilisation": used / int(limit) if limit else float("nan"),
            }
        )
    frame = schema.conform(rows, schema.QUOTA)
    return frame.sort_values(
        ["utilisation", "region", "Name"], ascending=[False, True, True]
    ).reset_index(drop=True)


def pending(inventory: Inventory, now: dt.datetime | None = None) -> pd.DataFrame:
    """Invitations in PendingAcceptance, oldest first, with their age in days.

    The age is measured at ``now`` (default: when the inventory was collected).
    """
    now = now or inventory.meta.collected_at
    shares = inventory.shares
    waiting = shares[shares["ShareStatus"] == ShareStatus.PENDING_ACCEPTANCE]
    frame = schema.conform(
        waiting[[c for c in schema.PENDING.names if c in waiting.columns]].copy(), schema.PENDING
    )
    stamp = pd.Timestamp(now)
    stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")
    frame["age_days"] = (stamp - frame["CreatedDateTime"]).dt.total_seconds() / 86400.0
    return frame.sort_values("CreatedDateTime").reset_index(drop=True)


def _finding(
    kind: str,
    row: dict[str, Any] | None = None,
    *,
    severity: str | None = None,
    detail: str = "",
    **keys: Any,
) -> dict[str, Any]:
    default, meaning, action = FINDING_TYPES[kind]
    out: dict[str, Any] = {
        "finding": kind,
        "severity": severity or default,
        "detail": f"{meaning} {detail}".strip(),
        "action": action,
    }
    if row is not None:
        out.update(
            region=row["region"],
            account_id=row["OwnerAccountId"],
            DirectoryId=row["OwnerDirectoryId"],
            SharedAccountId=row["SharedAccountId"],
            SharedDirectoryId=row["SharedDirectoryId"],
        )
    out.update(keys)
    return out


def findings(
    inventory: Inventory,
    *,
    stale_after_days: float = 14.0,
    quota_warn_ratio: float = 0.8,
    quota_frame: pd.DataFrame | None = None,
    pending_frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Consistency and hygiene findings, most severe first.

    Parameters
    ----------
    inventory
        A collected or re-read inventory.
    stale_after_days
        Pending invitations older than this are reported as ``pending_stale``.
    quota_warn_ratio
        Utilisation at or above which ``quota_nearly_exhausted`` is reported.
    quota_frame, pending_frame
        :func:`quota` and :func:`pending` of this inventory when already computed (the
        export computes them once for the snapshot, the report and the findings).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`dsshare.inventory.schema.FINDINGS`; the types are listed in
        :data:`FINDING_TYPES`.

    Examples
    --------
    >>> from dsshare.inventory.model import Inventory
    >>> findings(Inventory.empty()).empty
    True
    """
    shares = inventory.shares
    out: list[dict[str, Any]] = []

    missing = shares[
        (shares["ShareStatus"] == ShareStatus.SHARED)
        & mask(shares["owner_record_seen"])
        & ~mask(shares["consumer_seen"])
        & mask(shares["consumer_readable"])
    ]
    for row in records(missing):
        out.append(
            _finding(
                "owner_shared_consumer_missing",
                row,
                detail=f"Record {row['SharedDirectoryId']} is Shared; account "
                f"{row['SharedAccountId']} lists no such directory.",
            )
        )

    orphan = shares[
        mask(shares["consumer_seen"])
        & mask(shares["owner_readable"])
        & (~mask(shares["owner_record_seen"]) | (shares["ShareStatus"] == ShareStatus.DELETED))
    ]
    for row in records(orphan):
        state = "is Deleted" if row["owner_record_seen"] else "is missing"
        out.append(
            _finding(
                "consumer_without_owner_record",
                row,
                detail=f"Account {row['SharedAccountId']} still has {row['SharedDirectoryId']} "
                f"({row['consumer_share_status']}); the owner record {state}.",
            )
        )

    outside_mask = shares["in_organization"].astype("boolean").eq(False).fillna(False).astype(bool)
    outside = shares[outside_mask & mask(shares["counts_against_quota"])]
    for row in records(outside):
        severity = "high" if row["ShareMethod"] == "ORGANIZATIONS" else "medium"
        out.append(
            _finding(
                "share_outside_organization",
                row,
                severity=severity,
                detail=f"{row['ShareMethod']} share {row['SharedDirectoryId']} to "
                f"{row['SharedAccountId']} ({row['ShareStatus']}).",
            )
        )

    if inventory.meta.trusted_access is False:
        stuck = shares[
            (shares["ShareMethod"] == "ORGANIZATIONS") & mask(shares["counts_against_quota"])
        ]
        for row in records(stuck):
            out.append(
                _finding(
                    "organizations_share_not_renewable",
                    row,
                    detail=f"Share {row['SharedDirectoryId']} to {row['SharedAccountId']} "
                    f"({row['ShareStatus']}).",
                )
            )

    out.extend(_replica_findings(inventory))

    for row in records(shares[shares["ShareStatus"].isin([ShareStatus.SHARE_FAILED, ShareStatus.REJECT_FAILED])]):
        out.append(
            _finding(
                "share_failed",
                row,
                detail=f"Record {row['SharedDirectoryId']} is {row['ShareStatus']}.",
            )
        )

    for q in records(quota(inventory) if quota_frame is None else quota_frame):
        if q["share_quota"] is None:
            continue
        keys = {
            "region": q["region"],
            "account_id": q["account_id"],
            "DirectoryId": q["DirectoryId"],
        }
        detail = (
            f"{q['Name']}: {q['shares_counting']} of {q['share_quota']} used, {q['headroom']} left."
        )
        if int(q["headroom"]) <= 0:
            out.append(_finding("quota_exhausted", detail=detail, **keys))
        elif float(q["utilisation"]) >= quota_warn_ratio:
            out.append(_finding("quota_nearly_exhausted", detail=detail, **keys))

    waiting = pending(inventory) if pending_frame is None else pending_frame
    for row in records(waiting[waiting["age_days"] > stale_after_days]):
        out.append(
            _finding(
                "pending_stale",
                row,
                detail=f"Invitation {row['SharedDirectoryId']} to {row['SharedAccountId']} has "
                f"waited {float(row['age_days']):.1f} days.",
            )
        )

    frame = schema.conform(out, schema.FINDINGS)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    frame = frame.assign(_rank=frame["severity"].map(order).astype("Int64"))
    return (
        frame.sort_values(["_rank", "finding", "region", "DirectoryId", "SharedAccountId"])
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def _replica_findings(inventory: Inventory) -> list[dict[str, Any]]:
    """Accounts sharing a multi-Region directory in some of its Regions but not all.

    Only Regions inside the collection scope are judged: a Region that was not
    read proves nothing.
    """
    dirs = inventory.directories
    replicated = dirs[(dirs["side"] == "owner") & (dirs["additional_regions"].fillna("") != "")]
    if replicated.empty:
        return []
    in_scope = set(inventory.meta.scope.regions) or {str(r) for r in dirs["region"].dropna()}
    shares = inventory.shares
    active = records(shares[mask(shares["counts_against_quota"])])
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for d in records(replicated):
        directory_id = str(d["DirectoryId"])
        if directory_id in seen:
            continue
        seen.add(directory_id)
        regions = {str(d["primary_region"]), *str(d["additional_regions"]).split(",")}
        judged = regions & in_scope
        by_account: dict[str, set[str]] = {}
        for s in active:
            if s["OwnerDirectoryId"] == directory_id:
                by_account.setdefault(str(s["SharedAccountId"]), set()).add(str(s["region"]))
        for account_id, shared_in in sorted(by_account.items()):
            gaps = sorted(judged - shared_in)
            if gaps:
                out.append(
                    _finding(
                        "replica_region_unshared",
                        detail=f"{d['Name']} is shared with {account_id} in "
                        f"{','.join(sorted(shared_in))} but not in {','.join(gaps)}.",
                        region=",".join(gaps),
                        account_id=d["account_id"],
                        DirectoryId=directory_id,
                        SharedAccountId=account_id,
                    )
                )
    return out
