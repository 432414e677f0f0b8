"""The sharing half of Directory Service, added to moto's backend.

Semantics follow docs/aws-sharing.md; where AWS is silent the sandbox
applies "dsshare models it as" lines of that file, listed in the README ("The sandbox").
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from moto.core.base_backend import AccountSpecificBackend, BackendDict
from moto.ds.models import Directory, DirectoryServiceBackend
from moto.utilities.paginator import Paginator

from .exceptions import (
    ClientException,
    DirectoryAlreadyInRegionException,
    DirectoryAlreadySharedException,
    DirectoryNotSharedException,
    EntityDoesNotExistException,
    InvalidTargetException,
    OrganizationsException,
    ShareLimitExceededException,
    SharingError,
    UnsupportedOperationException,
)
from .organization import org_facts
from .records import (
    BLOCKS_RESHARE,
    EDITION_QUOTAS,
    FINISHED,
    HIDDEN_FROM_CONSUMER,
    REGISTRY,
    ShareRecord,
    utcnow,
)

PAGINATION_MODEL = {
    "describe_shared_directories": {
        "input_token": "next_token",
        "limit_key": "limit",
        "limit_default": 50,
        "unique_attribute": "shared_directory_id",
    },
    "describe_directories": {
        "input_token": "next_token",
        "limit_key": "limit",
        "limit_default": 100,
        "unique_attribute": "directory_id",
    },
}

T = TypeVar("T")


def paginated(func: Callable[..., list[T]]) -> Callable[..., tuple[list[T], str | None]]:
    """moto's ``@paginate(pagination_model=PAGINATION_MODEL)`` for the sandbox's own methods.

    The same moto Paginator issues and checks the tokens, over the same parameters
    (every keyword but ``next_token`` and ``limit``), so pages and tokens are moto's.
    moto's decorator also deep-copies the keywords and inspects the method's signature
    on every call, for methods of any shape; these two take keywords alone.
    """
    config = PAGINATION_MODEL[func.__name__]

    @wraps(func)
    def page(
        self: Any, next_token: str | None = None, limit: int | None = None, **kwargs: Any
    ) -> tuple[list[T], str | None]:
        paginator = Paginator(
            max_results=limit,
            max_results_default=config["limit_default"],
            starting_token=next_token,
            unique_attribute=config["unique_attribute"],
            param_values_to_check=dict(kwargs),
        )
        results: tuple[list[T], str | None] = paginator.paginate(func(self, **kwargs))
        return results

    return page


#: How the consumer's directory Stage reads for each share status.
CONSUMER_STAGE = {
    "Sharing": "Requested",
    "PendingAcceptance": "Requested",
    "Shared": "Active",
    "Rejecting": "Deleting",
    "Deleting": "Deleting",
    "ShareFailed": "Failed",
    "RejectFailed": "Failed",
}
#: The owner's VpcSettings members a consumer's OwnerDirectoryDescription carries (the
#: AWS CLI's documented describe-directories example: no SecurityGroupId).
OWNER_VPC_MEMBERS = ("VpcId", "SubnetIds", "AvailabilityZones")
#: The Size a SharedMicrosoftAD reports: "Small" for Standard, as the AWS CLI's documented
#: example shows; "Large" for the larger editions is modelled.
SHARED_SIZE = {"Standard": "Small"}


class ConsumerView:
    """The SharedMicrosoftAD a consumer account sees for one share record.

    Its members are those of the AWS CLI's documented ``describe-directories`` example of
    a SharedMicrosoftAD (tests/fixtures/aws_examples.json): the consumer's own id, alias
    and access URL, the owner's name and edition, the share's status, method and notes
    (when any), and the owner's id, account, DNS addresses and VPC; no Description and
    no top-level DnsIpAddrs. RADIUS members appear only when the owner configured RADIUS.
    """

    def __init__(self, record: ShareRecord, owner: Directory) -> None:
        self.record = record
        self.owner = owner
        self.directory_id = record.shared_directory_id

    def describe(self, now: dt.datetime) -> dict[str, Any]:
        owner, record = self.owner, self.record
        status = record.status(now)
        shared_id = record.shared_directory_id
        owner_description: dict[str, Any] = {
            "DirectoryId": owner.directory_id,
            "AccountId": owner.account_id,
            "DnsIpAddrs": owner.dns_ip_addrs,
            "VpcSettings": {
                k: v for k, v in (owner.vpc_settings or {}).items() if k in OWNER_VPC_MEMBERS
            },
        }
        if owner.radius_settings:
            owner_description["RadiusSettings"] = owner.radius_settings
            owner_description["RadiusStatus"] = owner.radius_status
        description: dict[str, Any] = {
            "DirectoryId": shared_id,
            "Name": owner.name,
            "ShortName": owner.short_name,
            "Size": SHARED_SIZE.get(owner.edition or "Standard", "Large"),
            "Edition": owner.edition,
            "Alias": shared_id,
            "AccessUrl": f"{shared_id}.awsapps.com",
            "Stage": CONSUMER_STAGE.get(status, "Requested"),
            "ShareStatus": status,
            "ShareMethod": record.method,
            "ShareNotes": record.notes,
            "LaunchTime": record.created,
            "StageLastUpdatedDateTime": record.last_updated(now),
            "Type": "SharedMicrosoftAD",
            "SsoEnabled": False,
            "DesiredNumberOfDomainControllers": 0,
            "OwnerDirectoryDescription": owner_description,
        }
        if record.notes is None:
            del description["ShareNotes"]
        return description


def regions_of(directory: Directory) -> list[str]:
    """Every Region a (possibly replicated) directory is in, primary first."""
    primary = getattr(directory, "dsshare_primary_region", directory.region)
    return [primary, *getattr(directory, "dsshare_additional_regions", [])]


def regions_info(directory: Directory) -> dict[str, Any] | None:
    """The API's RegionsInfo for a replicated directory (None when it has one Region)."""
    additional = getattr(directory, "dsshare_additional_regions", [])
    if not additional:
        return None
    return {"PrimaryRegion": directory.dsshare_primary_region, "AdditionalRegions": additional}


def owner_directory(account_id: str, region: str, directory_id: str) -> Directory | None:
    """The owner's moto Directory for a record, if it still exists."""
    return sharing_backends[account_id][region].directories.get(directory_id)


class SharingBackend(DirectoryServiceBackend):
    """moto's Directory Service backend with the five sharing operations."""

    # -- owner side -------------------------------------------------------

    def _owned_directory(
        self, directory_id: str, shared_error: type[SharingError] | None = None
    ) -> Directory:
        """The caller's own directory; ``shared_error`` if it names a SharedMicrosoftAD it sees.

        A consumer's SharedMicrosoftAD exists, but it is not a directory that can be
        shared or unshared (docs/aws-sharing.md, "The two methods and what each needs").
        """
        directory = self.directories.get(directory_id)
        if directory is not None:
            return directory
        record = REGISTRY.get(directory_id)
        if shared_error is not None and record is not None and self._is_consumer_of(record):
            raise shared_error(
                f"Directory {directory_id} is a SharedMicrosoftAD shared with this account by "
                f"{record.owner_account_id}; only the owner's MicrosoftAD directory can be "
                "shared or unshared."
            )
        raise EntityDoesNotExistException(f"Directory {directory_id} does not exist.")

    def share_directory(
        self,
        directory_id: str,
        share_target: dict[str, str],
        share_method: str,
        share_notes: str | None,
    ) -> str:
        target = share_target["Id"]
        if not target.isdigit() or len(target) != 12:
            raise InvalidTargetException(
                f"ShareTarget.Id '{target}' is not a valid AWS account id (12 digits)."
            )
        directory = self._owned_directory(directory_id, UnsupportedOperationException)
        if directory.directory_type != "MicrosoftAD":
            raise UnsupportedOperationException(
                f"Directory {directory_id} is a {directory.directory_type}; only "
                "AWS Managed Microsoft AD (MicrosoftAD) directories can be shared."
            )
        if directory.stage != "Active":
            raise ClientException(
                f"Directory {directory_id} is in stage {directory.stage}; it can be "
                "shared once it is Active."
            )
        if target == self.account_id:
            raise InvalidTargetException(
                f"Directory {directory_id} cannot be shared with its owner account {target}."
            )
        if share_method == "ORGANIZATIONS":
            self._check_organizations_prerequisites(target)
        with REGISTRY.lock:
            records = REGISTRY.for_owner(self.account_id, self.region_name, directory_id)
            now = utcnow()
            for record in records:
                if record.shared_account_id == target and record.status(now) in BLOCKS_RESHARE:
                    raise DirectoryAlreadySharedException(
                        f"Directory {directory_id} is already shared with account {target} "
                        f"({record.shared_directory_id}, {record.status(now)})."
                    )
            quota = EDITION_QUOTAS.get(directory.edition or "Standard", 25)
            used = sum(1 for r in records if r.status(now) not in FINISHED)
            if used >= quota:
                raise ShareLimitExceededException(
                    f"Directory {directory_id} ({directory.edition}) is already shared with "
                    f"{used} accounts; the quota is {quota} per Region."
                )
            record = ShareRecord(
                shared_directory_id=REGISTRY.new_id(),
                owner_account_id=self.account_id,
                owner_directory_id=directory_id,
                shared_account_id=target,
                region=self.region_name,
                method=share_method,
                notes=share_notes,
                created=now,
            )
            final = "PendingAcceptance" if share_method == "HANDSHAKE" else "Shared"
            record.move(["Sharing", final], REGISTRY.transition_delay, now)
            REGISTRY.add(record)
        return record.shared_directory_id

    def _check_organizations_prerequisites(self, target: str) -> None:
        facts = org_facts(self.account_id)
        if facts.organization_id is None:
            raise OrganizationsException(
                f"Account {self.account_id} is not in an organization; the ORGANIZATIONS "
                "method needs one. Use HANDSHAKE instead."
            )
        if facts.management_account_id != self.account_id:
            raise OrganizationsException(
                f"Account {self.account_id} is not the management account of "
                f"{facts.organization_id}; only the management account can share with the "
                "ORGANIZATIONS method."
            )
        if facts.feature_set != "ALL":
            raise OrganizationsException(
                f"Organization {facts.organization_id} has feature set {facts.feature_set}; "
                "the ORGANIZATIONS method needs all features enabled."
            )
        if not facts.trusted_access:
            raise OrganizationsException(
                f"Trusted access for ds.amazonaws.com is not enabled in {facts.organization_id}; "
                "enable it with organizations:EnableAWSServiceAccess."
            )
        if target not in facts.member_ids:
            raise OrganizationsException(
                f"Account {target} is not a member of organization {facts.organization_id}; "
                "share with HANDSHAKE instead."
            )

    def unshare_directory(self, directory_id: str, unshare_target: dict[str, str]) -> str:
        target = unshare_target["Id"]
        if not target.isdigit() or len(target) != 12:
            raise InvalidTargetException(
                f"UnshareTarget.Id '{target}' is not a valid AWS account id (12 digits)."
            )
        # UnsupportedOperationException is not in UnshareDirectory's model: ClientException.
        self._owned_directory(directory_id, ClientException)
        if target == self.account_id:
            raise InvalidTargetException(
                f"Directory {directory_id} is never shared with its owner account {target}."
            )
        with REGISTRY.lock:
            now = utcnow()
            for record in REGISTRY.for_owner(self.account_id, self.region_name, directory_id):
                status = record.status(now)
                if record.shared_account_id == target and status not in FINISHED | {"Deleting"}:
                    record.move(["Deleting", "Deleted"], REGISTRY.transition_delay, now)
                    return record.shared_directory_id
        raise DirectoryNotSharedException(
            f"Directory {directory_id} is not shared with account {target}."
        )

    @paginated
    def describe_shared_directories(
        self, owner_directory_id: str, shared_directory_ids: list[str] | None = None
    ) -> list[ShareRecord]:
        directory = self._owned_directory(owner_directory_id, UnsupportedOperationException)
        if directory.directory_type != "MicrosoftAD":
            raise UnsupportedOperationException(
                f"Directory {owner_directory_id} is a {directory.directory_type}; only "
                "MicrosoftAD directories have shares."
            )
        records = REGISTRY.for_owner(self.account_id, self.region_name, owner_directory_id)
        if shared_directory_ids:
            records = [r for r in records if r.shared_directory_id in shared_directory_ids]
        return records

    def delete_directory(self, directory_id: str) -> str:
        record = REGISTRY.get(directory_id)
        if record is not None and self._is_consumer_of(record):
            return self._leave(record)
        directory = self._owned_directory(directory_id)
        # Under the registry lock, so a share cannot slip in between check and delete.
        with REGISTRY.lock:
            now = utcnow()
            active = [
                r.shared_directory_id
                for r in REGISTRY.for_owner(self.account_id, self.region_name, directory_id)
                if r.status(now) not in FINISHED
            ]
            if active:
                raise ClientException(
                    f"Directory {directory.directory_id} cannot be deleted while it is shared: "
                    f"unshare {', '.join(active)} first."
                )
            return super().delete_directory(directory_id)

    # -- consumer side ----------------------------------------------------

    def _validate_directory_id(self, directory_id: str) -> None:
        """moto's check that a directory exists, knowing the caller's SharedMicrosoftAD too.

        moto reaches it only for the operations a consumer may call on its shared
        directory (tags: ListTagsForResource, AddTagsToResource, RemoveTagsFromResource);
        the others are refused before moto (:func:`consumer_refusal`). Tags a consumer puts
        on its shared directory are its own, kept in its own backend.
        """
        record = REGISTRY.get(directory_id)
        if (
            directory_id not in self.directories
            and record is not None
            and self._is_consumer_of(record)
            and not record.hidden_from_consumer
        ):
            return
        super()._validate_directory_id(directory_id)

    def consumer_directory(self, directory_id: str) -> ShareRecord | None:
        """The share record behind ``directory_id`` if it is a SharedMicrosoftAD the caller sees."""
        if directory_id in self.directories:
            return None
        record = REGISTRY.get(directory_id)
        if record is None or record.hidden_from_consumer or not self._is_consumer_of(record):
            return None
        return record

    def _is_consumer_of(self, record: ShareRecord, now: dt.datetime | None = None) -> bool:
        return (
            record.shared_account_id == self.account_id
            and record.region == self.region_name
            and record.status(now) not in HIDDEN_FROM_CONSUMER
        )

    def _consumer_record(self, shared_directory_id: str) -> ShareRecord:
        record = REGISTRY.get(shared_directory_id)
        if record is None or not self._is_consumer_of(record):
            raise EntityDoesNotExistException(
                f"Shared directory {shared_directory_id} does not exist in account "
                f"{self.account_id} ({self.region_name})."
            )
        return record

    def _leave(self, record: ShareRecord) -> str:
        with REGISTRY.lock:
            status = record.status()
            if status != "Shared":
                raise ClientException(
                    f"Shared directory {record.shared_directory_id} is {status}; only a Shared "
                    "directory can be left. Reject a pending invitation instead."
                )
            record.move(["Deleting", "Deleted"], REGISTRY.transition_delay)
        return record.shared_directory_id

    def _answer_invitation(self, shared_directory_id: str, steps: list[str]) -> ShareRecord:
        """Move a HANDSHAKE invitation the caller consumes through ``steps``.

        The invitation can be answered from the moment ShareDirectory returned: while it
        is still Sharing (on its way to PendingAcceptance) as well as PendingAcceptance.
        Terraform's accepter calls AcceptSharedDirectory right after ShareDirectory, and
        the provider's acceptance tests pass against AWS that way (docs/aws-sharing.md).
        """
        with REGISTRY.lock:
            record = self._consumer_record(shared_directory_id)
            status = record.status()
            invited = status == "PendingAcceptance" or (
                status == "Sharing" and record.method == "HANDSHAKE"
            )
            if not invited:
                raise DirectoryAlreadySharedException(
                    f"Shared directory {shared_directory_id} is {status}, not PendingAcceptance."
                )
            record.move(steps, REGISTRY.transition_delay)
        return record

    def accept_shared_directory(self, shared_directory_id: str) -> ShareRecord:
        return self._answer_invitation(shared_directory_id, ["Shared"])

    def reject_shared_directory(self, shared_directory_id: str) -> str:
        return self._answer_invitation(
            shared_directory_id, ["Rejecting", "Rejected"]
        ).shared_directory_id

    def consumer_views(self) -> list[ConsumerView]:
        now = utcnow()
        views = []
        for record in REGISTRY.for_consumer(self.account_id, self.region_name):
            if record.status(now) in HIDDEN_FROM_CONSUMER or record.hidden_from_consumer:
                continue
            owner = owner_directory(
                record.owner_account_id, record.region, record.owner_directory_id
            )
            if owner is not None:
                views.append(ConsumerView(record, owner))
        return views

    # -- multi-Region replication (Enterprise) -------------------------------

    def add_region(self, directory_id: str, region_name: str, vpc_settings: dict[str, Any]) -> None:
        """Replicate an Enterprise directory to ``region_name`` under the same DirectoryId.

        Sharing stays Regional (docs/aws-sharing.md, "The two methods and what each needs"): the
        replica is shared, or not, with its own ShareDirectory calls in its Region.
        """
        directory = self._owned_directory(directory_id)
        if directory.directory_type != "MicrosoftAD" or directory.edition != "Enterprise":
            raise UnsupportedOperationException(
                f"Directory {directory_id} is {directory.edition or directory.directory_type}; "
                "only Enterprise Edition AWS Managed Microsoft AD can be replicated to other Regions."
            )
        primary = getattr(directory, "dsshare_primary_region", self.region_name)
        regions = regions_of(directory)
        if region_name in regions:
            raise DirectoryAlreadyInRegionException(
                f"Directory {directory_id} is already in {region_name}."
            )
        target: DirectoryServiceBackend = sharing_backends[self.account_id][region_name]
        target._verify_subnets(region_name, vpc_settings)
        replica = Directory(
            self.account_id,
            region_name,
            directory.name,
            directory.password,
            "MicrosoftAD",
            vpc_settings=vpc_settings,
            short_name=directory.short_name,
            description=directory.description,
            edition=directory.edition,
        )
        replica.directory_id = directory.directory_id
        replica.alias = directory.alias
        replica.access_url = directory.access_url
        target.directories[directory.directory_id] = replica
        everyone = [owner_directory(self.account_id, r, directory_id) for r in regions]
        for member in [*everyone, replica]:
            if member is not None:
                member.dsshare_primary_region = primary
                member.dsshare_additional_regions = sorted(
                    {*(r for r in regions if r != primary), region_name}
                )

    # -- both sides -------------------------------------------------------

    @paginated
    def describe_directories(  # type: ignore[override]
        self, directory_ids: list[str] | None = None
    ) -> list[Directory | ConsumerView]:
        entries: list[Directory | ConsumerView] = sorted(
            self.directories.values(), key=lambda d: d.launch_time
        )
        entries += self.consumer_views()
        if directory_ids:
            known = {e.directory_id for e in entries}
            for directory_id in directory_ids:
                if directory_id not in known:
                    raise EntityDoesNotExistException(f"Directory {directory_id} does not exist.")
            entries = [e for e in entries if e.directory_id in directory_ids]
        return entries


class SharingBackendDict(BackendDict):  # type: ignore[type-arg]
    """The sandbox's own Directory Service state: account id -> Region -> SharingBackend.

    A moto ``BackendDict`` that only the sandbox's server reads (through
    :class:`dsshare.sandbox.responses.SharingResponse`); moto's ``ds_backends`` stays
    moto's, so ``mock_aws`` code in the same process sees moto's Directory Service
    unchanged. Two differences from moto's dicts, both local to this one:

    - an account is created on first lookup without joining moto's reset list
      (``BackendDict._instances``, which every ``mock_aws`` start resets): the sandbox
      resets its own world (:meth:`dsshare.sandbox.Sandbox.reset`);
    - a present account is read straight from the dict. moto's lookup re-registers the
      account on every call, scanning every account and every registered dict under its
      global lock (~20 us per lookup with a few hundred accounts).
    """

    def __init__(self) -> None:
        super().__init__(SharingBackend, "ds")
        self._accounts_lock = threading.Lock()

    def __getitem__(self, account_id: str) -> AccountSpecificBackend[SharingBackend]:
        accounts: AccountSpecificBackend[SharingBackend] | None = dict.get(self, account_id)
        if accounts is None:
            with self._accounts_lock:
                accounts = dict.get(self, account_id)
                if accounts is None:
                    accounts = AccountSpecificBackend(
                        service_name=self.service_name,
                        account_id=account_id,
                        backend=self.backend,
                        use_boto3_regions=self._use_boto3_regions,
                        additional_regions=self._additional_regions,
                    )
                    dict.__setitem__(self, account_id, accounts)
        return accounts


#: Every account's and Region's sharing backend, for the sandbox's server alone.
sharing_backends = SharingBackendDict()


#: What a consumer may call on its SharedMicrosoftAD, by DirectoryId or ResourceId, beyond
#: DescribeDirectories (which lists it): its own tags, leaving (DeleteDirectory), and the
#: sharing calls, which answer for it themselves. The rest AWS refuses (modelled on
#: AWS's answers to DescribeEventTopics and GetSnapshotLimits; docs/aws-sharing.md).
CONSUMER_OPERATIONS = frozenset(
    {
        "ListTagsForResource",
        "AddTagsToResource",
        "RemoveTagsFromResource",
        "DeleteDirectory",
        "ShareDirectory",
        "UnshareDirectory",
        "DescribeSharedDirectories",
    }
)
#: AWS's message for a refused operation on a SharedMicrosoftAD, and the exceptions.
NOT_FOR_SHARED = "Operation is not supported for Shared MicrosoftAD directories."
REFUSAL_MESSAGES = {
    "GetSnapshotLimits": "Snapshot limits can be fetched only for VPC or Microsoft AD directories.",
}


def consumer_refusal(
    account_id: str, region: str, operation: str, params: dict[str, Any]
) -> ClientException | None:
    """The ClientException AWS answers ``operation`` with on the caller's SharedMicrosoftAD.

    None when the request names no SharedMicrosoftAD of the caller, or the operation is
    one a consumer may call on it (:data:`CONSUMER_OPERATIONS`).
    """
    if operation in CONSUMER_OPERATIONS:
        return None
    directory_id = params.get("DirectoryId")
    if not isinstance(directory_id, str):
        return None
    accounts = dict.get(sharing_backends, account_id)
    backend = dict.get(accounts, region) if accounts is not None else None
    if backend is None:
        if not REGISTRY.get(directory_id):
            return None
        backend = sharing_backends[account_id][region]
    if backend.consumer_directory(directory_id) is None:
        return None
    return ClientException(REFUSAL_MESSAGES.get(operation, NOT_FOR_SHARED))

