"""Turn raw AWS records into the declared frames: the owner/consumer join lives here.

Pure: input is what DescribeDirectories, DescribeSharedDirectories and
Organizations returned (plain dicts), output is conformed frames. ShareNotes
text is reduced to a SHA-256 and a length on the way in and never stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from dsshare.model import INACTIVE_STATUSES

from . import schema
from .raw import RawInventory

#: Default per-Region quota of consumer accounts for one directory, by edition.
EDITION_QUOTAS: Mapping[str, int] = {"Standard": 25, "Enterprise": 500, "Hybrid": 125}
#: Statuses that do not count against the quota (dsshare's model, see docs/aws-sharing.md).
NOT_COUNTING = INACTIVE_STATUSES


def notes_digest(notes: str | None) -> tuple[str | None, int | None]:
    """Return (sha256 hex, length) of ShareNotes, or (None, None) when absent.

    Examples
    --------
    >>> notes_digest("hi")[1]
    2
    """
    if notes is None:
        return None, None
    return hashlib.sha256(notes.encode("utf-8")).hexdigest(), len(notes)


def directory_row(account_id: str, region: str, d: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten one DirectoryDescription into a directories row (notes hashed)."""
    kind = d.get("Type")
    consumer = kind == "SharedMicrosoftAD"
    owner = d.get("OwnerDirectoryDescription") or {}
    regions_info = d.get("RegionsInfo") or {}
    edition = d.get("Edition")
    digest, length = notes_digest(d.get("ShareNotes"))
    return {
        "account_id": account_id,
        "region": region,
        "DirectoryId": d.get("DirectoryId"),
        "Name": d.get("Name"),
        "ShortName": d.get("ShortName"),
        "Type": kind,
        "Edition": edition,
        "Size": d.get("Size"),
        "Stage": d.get("Stage"),
        "LaunchTime": d.get("LaunchTime"),
        "ShareStatus": d.get("ShareStatus"),
        "ShareMethod": d.get("ShareMethod"),
        "side": "consumer" if consumer else "owner",
        "owner_account_id": owner.get("AccountId") if consumer else account_id,
        "owner_directory_id": owner.get("DirectoryId") if consumer else d.get("DirectoryId"),
        "primary_region": regions_info.get("PrimaryRegion") or region,
        "additional_regions": ",".join(regions_info.get("AdditionalRegions") or []) or None,
        "shareable": kind == "MicrosoftAD",
        "share_quota": EDITION_QUOTAS.get(str(edition)) if kind == "MicrosoftAD" else None,
        "notes_sha256": digest,
        "notes_length": length,
    }


def build_directories(raw: RawInventory) -> pd.DataFrame:
    """The directories frame, sorted by account, Region and name."""
    rows = [directory_row(a, r, d) for a, r, d in raw.directories]
    frame = schema.conform(rows, schema.DIRECTORIES)
    return frame.sort_values(["account_id", "region", "side", "Name", "DirectoryId"]).reset_index(
        drop=True
    )


def _owner_rows(records: Iterable[tuple[str, Mapping[str, Any]]]) -> pd.DataFrame:
    rows = []
    for region, rec in records:
        digest, length = notes_digest(rec.get("ShareNotes"))
        rows.append(
            {
                "region": region,
                "OwnerAccountId": rec.get("OwnerAccountId"),
                "OwnerDirectoryId": rec.get("OwnerDirectoryId"),
                "SharedAccountId": rec.get("SharedAccountId"),
                "SharedDirectoryId": rec.get("SharedDirectoryId"),
                "ShareMethod": rec.get("ShareMethod"),
                "ShareStatus": rec.get("ShareStatus"),
                "CreatedDateTime": rec.get("CreatedDateTime"),
                "LastUpdatedDateTime": rec.get("LastUpdatedDateTime"),
                "notes_sha256": digest,
                "notes_length": length,
                "owner_record_seen": True,
            }
        )
    frame = schema.conform(rows, schema.SHARES)
    return frame.drop_duplicates(["region", "SharedDirectoryId"], keep="last")


def build_shares(
    raw: RawInventory, directories: pd.DataFrame, accounts: pd.DataFrame
) -> pd.DataFrame:
    """Join owner share records to the consumers' SharedMicrosoftAD directories.

    The join key is (Region, SharedDirectoryId): the consumer's DirectoryId is the
    SharedDirectoryId of the owner record. A consumer directory whose owner record
    was not seen still gets a row (``owner_record_seen`` False), filled from the
    consumer's view, so orphans show up instead of vanishing.
    """
    owner = _owner_rows(raw.share_records)
    consumers = directories[directories["side"] == "consumer"]
    consumer = pd.DataFrame(
        {
            "region": consumers["region"],
            "SharedDirectoryId": consumers["DirectoryId"],
            "c_account": consumers["account_id"],
            "c_owner_account": consumers["owner_account_id"],
            "c_owner_directory": consumers["owner_directory_id"],
            "c_method": consumers["ShareMethod"],
            "c_notes_sha256": consumers["notes_sha256"],
            "c_notes_length": consumers["notes_length"],
            "consumer_share_status": consumers["ShareStatus"],
            "consumer_stage": consumers["Stage"],
            "c_created": consumers["LaunchTime"],
        }
    ).drop_duplicates(["region", "SharedDirectoryId"])
    merged = owner.drop(columns=["consumer_share_status", "consumer_stage"]).merge(
        consumer, on=["region", "SharedDirectoryId"], how="outer", indicator=True
    )
    only_consumer = merged["_merge"] == "right_only"
    merged["consumer_seen"] = merged["_merge"] != "left_only"
    merged["owner_record_seen"] = ~only_consumer
    fill = {
        "OwnerAccountId": "c_owner_account",
        "OwnerDirectoryId": "c_owner_directory",
        "SharedAccountId": "c_account",
        "ShareMethod": "c_method",
        "ShareStatus": "consumer_share_status",
        "notes_sha256": "c_notes_sha256",
        "notes_length": "c_notes_length",
        "CreatedDateTime": "c_created",
    }
    for target, source in fill.items():
        merged.loc[only_consumer, target] = merged.loc[only_consumer, source]
    merged = merged.drop(
        columns=[c for c in fill.values() if c != "consumer_share_status"] + ["_merge"]
    )

    owner_dirs = directories[directories["side"] == "owner"]
    names = dict(
        zip(
            zip(owner_dirs["region"], owner_dirs["DirectoryId"], strict=True),
            owner_dirs["Name"],
            strict=True,
        )
    )
    editions = dict(
        zip(
            zip(owner_dirs["region"], owner_dirs["DirectoryId"], strict=True),
            owner_dirs["Edition"],
            strict=True,
        )
    )
    keys = list(zip(merged["region"], merged["OwnerDirectoryId"], strict=True))
    merged["owner_directory_name"] = [names.get(k) for k in keys]
    merged["owner_edition"] = [editions.get(k) for k in keys]
    account_names = dict(zip(accounts["Id"], accounts["Name"], strict=True))
    merged["shared_account_name"] = merged["SharedAccountId"].map(account_names)
    merged["owner_readable"] = [k in raw.read_owner_directories for k in keys]
    merged["consumer_readable"] = [
        (a, r) in raw.read_units
        for a, r in zip(merged["SharedAccountId"], merged["region"], strict=True)
    ]
    if raw.organization_known:
        members = set(accounts["Id"])
        merged["in_organization"] = merged["SharedAccountId"].isin(members)
    else:
        merged["in_organization"] = pd.NA
    merged["counts_against_quota"] = ~merged["ShareStatus"].isin(NOT_COUNTING)
    frame = schema.conform(merged, schema.SHARES)
    if not frame.empty:
        newest = frame.groupby(["region", "OwnerDirectoryId", "SharedAccountId"], dropna=False)[
            "CreatedDateTime"
        ].transform("max")
        frame["is_latest"] = (frame["CreatedDateTime"] == newest).fillna(True).astype("boolean")
    return frame.sort_values(
        ["region", "OwnerAccountId", "OwnerDirectoryId", "SharedAccountId", "CreatedDateTime"]
    ).reset_index(drop=True)


def build_organizational_units(raw: RawInventory) -> pd.DataFrame:
    """Roots and OUs with their name paths and depths."""
    by_id = {ou["Id"]: ou for ou in raw.organizational_units}

    def lineage(ou_id: str) -> list[str]:
        chain: list[str] = []
        current: str | None = ou_id
        while current and current in by_id and len(chain) < 32:
            chain.append(current)
            current = by_id[current].get("ParentId")
        return chain[::-1]

    rows = []
    for ou in raw.organizational_units:
        chain = lineage(ou["Id"])
        rows.append(
            {
                "Id": ou["Id"],
                "Name": ou.get("Name"),
                "parent_id": ou.get("ParentId"),
                "path": "/".join(str(by_id[i].get("Name")) for i in chain),
                "depth": len(chain) - 1,
            }
        )
    frame = schema.conform(rows, schema.ORGANIZATIONAL_UNITS)
    return frame.sort_values(["depth", "path"]).reset_index(drop=True)


def build_accounts(
    raw: RawInventory, ous: pd.DataFrame, management_account_id: str | None
) -> pd.DataFrame:
    """Accounts of the organization (or the requested ones) with placement and read counts."""
    paths = dict(zip(ous["Id"], ous["path"], strict=True))
    listed = {a["Id"]: a for a in raw.accounts}
    for account_id in raw.scope_accounts:
        listed.setdefault(account_id, {"Id": account_id})
    scope = set(raw.scope_accounts)
    failed: dict[str, set[str]] = {}
    for err in raw.errors:
        if err.get("account_id") and err.get("region"):
            failed.setdefault(err["account_id"], set()).add(err["region"])
    read: dict[str, int] = {}
    for account_id, _region in raw.read_units:
        read[account_id] = read.get(account_id, 0) + 1
    rows = []
    for account_id, a in listed.items():
        parent = a.get("ParentId")
        rows.append(
            {
                "Id": account_id,
                "Name": a.get("Name"),
                "Email": a.get("Email"),
                "Status": a.get("State") or a.get("Status"),
                "JoinedMethod": a.get("JoinedMethod"),
                "JoinedTimestamp": a.get("JoinedTimestamp"),
                "ou_id": parent,
                "ou_path": paths.get(parent) if parent else None,
                "is_management": account_id == management_account_id,
                "in_scope": account_id in scope,
                "regions_read": read.get(account_id, 0),
                "regions_failed": len(failed.get(account_id, ())),
            }
        )
    frame = schema.conform(rows, schema.ACCOUNTS)
    return frame.sort_values("Id").reset_index(drop=True)


def build_errors(raw: RawInventory) -> pd.DataFrame:
    """The errors frame, sorted by account and Region."""
    frame = schema.conform(list(raw.errors), schema.ERRORS)
    return frame.sort_values(["account_id", "region", "stage"], na_position="first").reset_index(
        drop=True
    )
