"""Preflight: pure checks over gathered facts that refuse what cannot succeed.

Nothing here calls AWS (this module imports neither boto3 nor botocore): the facts are
collected by :mod:`dsshare.facts` and passed in as plain data, so every check is tested
with plain values. A refusal becomes a plan row with action ``refuse``, a ``check`` code
and a reason, visible before anything is changed.

Check codes
-----------
DirectoryNotFound, DirectoryNotMicrosoftAD, DirectoryNotActive
    the directory is missing, is not AWS Managed Microsoft AD, or its Stage is not Active.
QuotaExceeded
    the edition quota (Standard 25, Enterprise 500, Hybrid 125 per Region) has no headroom.
NotManagementAccount, FeatureSetNotAll, TrustedAccessDisabled, TargetNotMember
    ORGANIZATIONS prerequisites.
TargetIsOwner
    the target is the directory's own account.
ExternalTarget
    a HANDSHAKE target outside the organization, refused unless ``allow_external``.
ShareInTransition
    the target's share is mid-transition (Deleting, Rejecting, Sharing for a consumer
    action, RejectFailed); re-plan once it settles.
ExternalOwner
    accepting an invitation from an owner outside the organization (or whose membership
    the caller cannot read), refused unless ``allow_external_owners``.
ReadFailed
    a consumer account or Region whose shared directories could not be read.

Example
-------
>>> d = DirectoryFacts("d-1234567890", "us-east-1", "123456789012", exists=False)
>>> [r.check for r in directory_refusals("share", "HANDSHAKE", d, OrgFacts.none("123456789012"))]
['DirectoryNotFound']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dsshare.model import INACTIVE_STATUSES, Action, ShareMethod, ShareStatus

__all__ = [
    "EDITION_QUOTAS",
    "INACTIVE_STATUSES",
    "DirectoryFacts",
    "OrgFacts",
    "Refusal",
    "ShareFact",
    "active_share_count",
    "directory_refusals",
    "quota_for",
    "target_refusal",
]

#: Accounts one directory can be shared with, per Region, by edition (AWS defaults).
EDITION_QUOTAS: dict[str, int] = {"Standard": 25, "Enterprise": 500, "Hybrid": 125}
#: Which record describes an account best when it has several: lower is more live.
_LIVENESS: dict[str, int] = {
    status: rank
    for rank, status in enumerate(
        [ShareStatus.SHARED, ShareStatus.PENDING_ACCEPTANCE, ShareStatus.SHARING,
         ShareStatus.DELETING, ShareStatus.REJECTING, ShareStatus.REJECT_FAILED,
         ShareStatus.SHARE_FAILED]
    )
}


@dataclass(frozen=True)
class ShareFact:
    """One owner-side share record, reduced to what planning reads."""

    account_id: str
    shared_directory_id: str
    status: str
    method: str

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ShareFact:
        """Build from a DescribeSharedDirectories record (ShareNotes is dropped)."""
        return cls(
            account_id=str(record.get("SharedAccountId", "")),
            shared_directory_id=str(record.get("SharedDirectoryId", "")),
            status=str(record.get("ShareStatus", "")),
            method=str(record.get("ShareMethod", "")),
        )

    @property
    def active(self) -> bool:
        """True unless Deleted or Rejected (what counts as shared and against the quota)."""
        return self.status not in INACTIVE_STATUSES


@dataclass(frozen=True)
class DirectoryFacts:
    """What the owner side knows about one directory in one Region."""

    directory_id: str
    region: str
    owner_account_id: str
    exists: bool = True
    type: str | None = None
    edition: str | None = None
    stage: str | None = None
    name: str | None = None
    shares: tuple[ShareFact, ...] = ()

    def current_share(self, account_id: str) -> ShareFact | None:
        """The record that describes the account now, or None if it was never shared.

        An account can have several records (shared, unshared, shared again). The most
        live one wins: Shared, PendingAcceptance, Sharing, then the transitional and failed
        states, and only then the Deleted/Rejected history (the last listed).
        """
        mine = [share for share in self.shares if share.account_id == account_id]
        if not mine:
            return None
        return min(
            enumerate(mine),
            key=lambda item: (_LIVENESS.get(item[1].status, len(_LIVENESS)), -item[0]),
        )[1]

    def identity(self) -> dict[str, Any]:
        """The facts that decide a plan, as canonical plain data (for fingerprints)."""
        return {
            "directory_id": self.directory_id,
            "region": self.region,
            "owner_account_id": self.owner_account_id,
            "exists": self.exists,
            "type": self.type,
            "edition": self.edition,
            "stage": self.stage,
            "shares": sorted(
                [s.shared_directory_id, s.account_id, s.status, s.method] for s in self.shares
            ),
        }


@dataclass(frozen=True)
class OrgFacts:
    """What the caller knows about its organization.

    ``trusted_access`` and ``members`` are None when the caller cannot read them (only the
    management account may list accounts and service access).
    """

    caller_account_id: str
    in_organization: bool
    management_account_id: str | None = None
    feature_set: str | None = None
    trusted_access: bool | None = None
    members: frozenset[str] | None = field(default=None)

    @classmethod
    def none(cls, caller_account_id: str) -> OrgFacts:
        """Facts for a caller that belongs to no organization."""
        return cls(caller_account_id=caller_account_id, in_organization=False)

    def identity(self, accounts: Iterable[str]) -> dict[str, Any]:
        """Canonical facts for a fingerprint; membership only of the accounts planned."""
        members = None
        if self.members is not None:
            members = sorted(a for a in set(accounts) if a in self.members)
        return {
            "caller_account_id": self.caller_account_id,
            "in_organization": self.in_organization,
            "management_account_id": self.management_account_id,
            "feature_set": self.feature_set,
            "trusted_access": self.trusted_access,
            "members": members,
        }


@dataclass(frozen=True)
class Refusal:
    """A failed preflight check: a code from the module docstring and a readable reason."""

    check: str
    reason: str


def quota_for(edition: str | None) -> int:
    """Edition quota; an unknown edition gets the smallest (Standard) to stay safe."""
    return EDITION_QUOTAS.get(edition or "", EDITION_QUOTAS["Standard"])


def active_share_count(directory: DirectoryFacts) -> int:
    """Shares counting against the quota: every record not Deleted or Rejected."""
    return sum(1 for share in directory.shares if share.active)


def directory_refusals(
    action: str, method: str | None, directory: DirectoryFacts, org: OrgFacts
) -> list[Refusal]:
    """Checks that apply to every target of a directory; empty when all pass."""
    if not directory.exists:
        return [
            Refusal(
                "DirectoryNotFound",
                f"{directory.directory_id} does not exist in account "
                f"{directory.owner_account_id}, {directory.region}",
            )
        ]
    refusals: list[Refusal] = []
    if directory.type != "MicrosoftAD":
        refusals.append(
            Refusal(
                "DirectoryNotMicrosoftAD",
                f"{directory.directory_id} is {directory.type}; only MicrosoftAD "
                "(AWS Managed Microsoft AD) can be shared",
            )
        )
    if action == Action.SHARE and directory.stage != "Active":
        refusals.append(
            Refusal(
                "DirectoryNotActive",
                f"{directory.directory_id} is in Stage {directory.stage}; it must be Active",
            )
        )
    if action == Action.SHARE and method == ShareMethod.ORGANIZATIONS:
        refusals.extend(_organizations_refusals(directory, org))
    return refusals


def _organizations_refusals(directory: DirectoryFacts, org: OrgFacts) -> list[Refusal]:
    if not org.in_organization:
        return [
            Refusal(
                "NotManagementAccount",
                f"account {directory.owner_account_id} belongs to no organization; "
                "ORGANIZATIONS sharing needs the management account (use HANDSHAKE)",
            )
        ]
    refusals: list[Refusal] = []
    if directory.owner_account_id != org.management_account_id:
        refusals.append(
            Refusal(
                "NotManagementAccount",
                f"the directory is in account {directory.owner_account_id}, not the "
                f"management account {org.management_account_id}",
            )
        )
    if org.feature_set != "ALL":
        refusals.append(
            Refusal(
                "FeatureSetNotAll",
                f"the organization's feature set is {org.feature_set}; ORGANIZATIONS "
                "sharing needs all features",
            )
        )
    if org.trusted_access is not True:
        state = "unknown (caller cannot read it)" if org.trusted_access is None else "disabled"
        refusals.append(
            Refusal(
                "TrustedAccessDisabled",
                f"trusted access for ds.amazonaws.com is {state}",
            )
        )
    return refusals


def target_refusal(
    action: str,
    method: str | None,
    account_id: str,
    directory: DirectoryFacts,
    org: OrgFacts,
    allow_external: bool,
) -> Refusal | None:
    """Per-target checks (owner, membership, external); None when the target may proceed.

    Membership only matters for a new share: unshare, accept, reject and leave act on
    whatever record exists.
    """
    if account_id == directory.owner_account_id:
        return Refusal("TargetIsOwner", f"{account_id} owns the directory")
    if action != Action.SHARE:
        return None
    member = None if org.members is None else account_id in org.members
    if method == ShareMethod.ORGANIZATIONS:
        if member is False:
            return Refusal(
                "TargetNotMember", f"{account_id} is not a member of the organization"
            )
        if member is None:
            return Refusal(
                "TargetNotMember", f"membership of {account_id} cannot be read by the caller"
            )
        return None
    if member is not True and not allow_external:
        why = "outside the organization" if member is False else "of unknown membership"
        return Refusal(
            "ExternalTarget",
            f"{account_id} is {why}; HANDSHAKE to it needs allow_external=True",
        )
    return None


def owner_is_external(owner_account_id: str, org: OrgFacts) -> bool:
    """True when the owner is outside the caller's organization or its membership is unknown.

    The caller's own account is never external.
    """
    if owner_account_id == org.caller_account_id:
        return False
    return org.members is None or owner_account_id not in org.members


def owner_refusal(
    action: str, owner_account_id: str, org: OrgFacts, allow_external_owners: bool
) -> Refusal | None:
    """Accepting from an external owner needs ``allow_external_owners``; other actions pass."""
    if action != Action.ACCEPT or allow_external_owners:
        return None
    if not owner_is_external(owner_account_id, org):
        return None
    why = "is outside the organization" if org.members is not None else (
        "is of unknown membership (the caller cannot list the organization's accounts)"
    )
    return Refusal(
        "ExternalOwner",
        f"owner account {owner_account_id} {why}; accepting its share needs "
        "allow_external_owners=True",
    )
