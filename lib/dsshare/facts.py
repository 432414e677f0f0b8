"""Gather the live facts plans are computed from (the only AWS-touching part of planning).

Owner side: the owner directory and its share records (:func:`gather_directory`). The
organization: what the caller can see of it (:func:`gather_organization`). Consumer side:
the shared directories each consumer account sees in its own DescribeDirectories, through
the cross-account role (:func:`gather_invitations`), which works whoever the owner is,
inside the organization or not. Everything is returned as the plain dataclasses of
:mod:`dsshare.preflight`, so the decisions made from them are pure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError

from dsshare.calls import describe_directory, iter_directories, iter_shared_directories
from dsshare.connection import Connection
from dsshare.errors import DsShareError, EntityDoesNotExistError
from dsshare.model import ALL
from dsshare.organization import (
    describe_organization,
    expand_targets,
    iter_accounts,
    trusted_access_enabled,
)
from dsshare.preflight import DirectoryFacts, OrgFacts, ShareFact

__all__ = [
    "Invitation",
    "ReadFailure",
    "gather_directory",
    "gather_invitations",
    "gather_organization",
    "regions_of",
    "resolve_accounts",
]

logger = logging.getLogger(__name__)

#: DescribeDirectories Type of an owned, shareable directory and of a consumer's copy.
MICROSOFT_AD = "MicrosoftAD"
SHARED_MICROSOFT_AD = "SharedMicrosoftAD"


def gather_directory(
    conn: Connection, directory_id: str, region: str, owner_account_id: str
) -> DirectoryFacts:
    """Describe the owner directory and list all its share records (any status)."""
    try:
        description = describe_directory(
            conn, directory_id, region=region, account_id=owner_account_id
        )
    except EntityDoesNotExistError:
        logger.info("directory %s not found in %s/%s", directory_id, owner_account_id, region)
        return DirectoryFacts(directory_id, region, owner_account_id, exists=False)
    kind = description.get("Type")
    shares: tuple[ShareFact, ...] = ()
    if kind == MICROSOFT_AD:
        shares = tuple(
            ShareFact.from_record(record)
            for record in iter_shared_directories(
                conn, directory_id, region=region, owner_account_id=owner_account_id
            )
        )
    return DirectoryFacts(
        directory_id=directory_id,
        region=region,
        owner_account_id=owner_account_id,
        exists=True,
        type=kind,
        edition=description.get("Edition"),
        stage=description.get("Stage"),
        name=description.get("Name"),
        shares=shares,
        regions=regions_of(description, region),
    )


def regions_of(description: Mapping[str, Any], region: str) -> tuple[str, ...]:
    """Every Region a directory is in, primary first, from its RegionsInfo.

    A directory that was never replicated has no RegionsInfo: it is in ``region`` only.
    """
    info = description.get("RegionsInfo") or {}
    primary = info.get("PrimaryRegion")
    if not primary:
        return (region,)
    return tuple(dict.fromkeys([str(primary), *(str(r) for r in info.get("AdditionalRegions") or [])]))


def gather_organization(conn: Connection) -> OrgFacts:
    """What the caller can read about its organization.

    Only the management account can list members and service access; for other callers
    those stay None (unknown) and preflight treats unknown as not satisfied.
    """
    caller = conn.caller_account_id
    organization = describe_organization(conn)
    if organization is None:
        return OrgFacts.none(caller)
    management = organization.get("MasterAccountId")
    trusted: bool | None = None
    members: frozenset[str] | None = None
    if caller == management:
        trusted = trusted_access_enabled(conn)
        members = frozenset(account["Id"] for account in iter_accounts(conn))
    return OrgFacts(
        caller_account_id=caller,
        in_organization=True,
        management_account_id=management,
        feature_set=organization.get("FeatureSet"),
        trusted_access=trusted,
        members=members,
    )


# -- consumer side --------------------------------------------------------------------------


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
class ReadFailure:
    """An account and Region whose shared directories could not be read, and why."""

    account_id: str
    region: str
    code: str


def resolve_accounts(conn: Connection, accounts: Sequence[str]) -> list[str]:
    """``["ALL"]``: every ACTIVE account of the organization; else accounts and OUs expanded."""
    if list(accounts) == [ALL]:
        return sorted(a["Id"] for a in iter_accounts(conn) if a.get("Status", "ACTIVE") == "ACTIVE")
    return expand_targets(conn, accounts)


def consumer_directories(conn: Connection, account_id: str, region: str) -> list[Invitation]:
    """The SharedMicrosoftAD directories ``account_id`` sees in ``region`` (any status)."""
    return [
        Invitation.from_description(account_id, region, d)
        for d in iter_directories(conn, region=region, account_id=account_id)
        if d.get("Type") == SHARED_MICROSOFT_AD
    ]


def gather_invitations(
    conn: Connection,
    account_ids: Sequence[str],
    regions: Sequence[str],
    *,
    max_workers: int = 8,
) -> tuple[list[Invitation], list[ReadFailure]]:
    """Read every account x Region from the consumer side, concurrently.

    An account or Region that cannot be read (role not assumable, access denied) is a
    :class:`ReadFailure`, not an abort: the rest is still read.
    """
    units = [(a, r) for a in account_ids for r in regions]

    def read(unit: tuple[str, str]) -> list[Invitation] | ReadFailure:
        try:
            return consumer_directories(conn, *unit)
        except (DsShareError, BotoCoreError) as err:
            logger.info("could not read %s in %s: %s", unit[0], unit[1], type(err).__name__)
            return ReadFailure(unit[0], unit[1], str(getattr(err, "code", type(err).__name__)))

    pacer = conn.pacer(max_workers)

    def paced(unit: tuple[str, str]) -> list[Invitation] | ReadFailure:
        with pacer.bound():
            return read(unit)

    with ThreadPoolExecutor(max_workers=pacer.threads, thread_name_prefix="dsshare-read") as pool:
        outcomes = list(pool.map(paced, units))
    invitations: list[Invitation] = []
    failures: list[ReadFailure] = []
    for outcome in outcomes:
        if isinstance(outcome, ReadFailure):
            failures.append(outcome)
        else:
            invitations.extend(outcome)
    return invitations, failures
