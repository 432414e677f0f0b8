"""What the console asks of the library, as one small interface, and its real implementation.

The console's models call a :class:`Services` object and never boto3: the real one,
:class:`LibraryServices`, holds one :class:`~dsshare.connection.Connection` and calls the
same engine the runbooks use (``plan``/``plan_responses`` then ``apply`` with the reviewed
fingerprint, the ``unshare`` verb, ``collect_inventory``, ``export_inventory``), so an
interactive session and a headless run behave identically: the same guardrails, the same
write-ahead audit (``runs/<UTC timestamp>-console/audit.jsonl`` unless an AuditLog is
given), the same waiter and timeout contract. Model tests substitute a fake with the same
methods.

Results come back as small frozen records (:class:`Identity`, :class:`DirectoryChoice`,
:class:`TargetChoice`, :class:`Invitation`) or as the library's own DataFrames.

Example
-------
>>> services = connect_services(region="us-east-1")       # doctest: +SKIP
>>> [d.label for d in services.directories()]             # doctest: +SKIP
['corp.example.com (d-...) · Standard · Active · 23 of 25 free']
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import botocore.session
import pandas as pd
from botocore.exceptions import BotoCoreError

from dsshare.audit import AuditLog
from dsshare.calls import iter_directories, iter_shared_directories
from dsshare.connection import Connection
from dsshare.errors import AwsError, DsShareError, WaitTimeoutError
from dsshare.execution import apply
from dsshare.facts import MICROSOFT_AD, SHARED_MICROSOFT_AD, regions_of
from dsshare.inventory.collect import collect_inventory, enabled_regions
from dsshare.inventory.export import export_inventory
from dsshare.inventory.model import Inventory
from dsshare.model import ALL_REGIONS, INACTIVE_STATUSES, Action, Outcome, ShareStatus
from dsshare.organization import (
    describe_organization,
    iter_accounts,
    iter_organizational_units,
    trusted_access_enabled,
)
from dsshare.planning import Plan, plan, plan_responses
from dsshare.preflight import quota_for
from dsshare.sharing import unshare

__all__ = [
    "INVITATION_COLUMNS",
    "SHARE_COLUMNS",
    "DirectoryChoice",
    "Identity",
    "Invitation",
    "LibraryServices",
    "Services",
    "ServicesFactory",
    "TargetChoice",
    "connect_services",
]

logger = logging.getLogger(__name__)

#: Columns of :meth:`Services.shares` (AWS names, ShareNotes left out).
SHARE_COLUMNS: tuple[str, ...] = (
    "SharedAccountId",
    "account_name",
    "ShareStatus",
    "ShareMethod",
    "SharedDirectoryId",
    "CreatedDateTime",
    "LastUpdatedDateTime",
    "region",
)
#: Columns of an invitations frame (see :meth:`Invitation.as_row`).
INVITATION_COLUMNS: tuple[str, ...] = (
    "account_id",
    "account_name",
    "SharedDirectoryId",
    "ShareStatus",
    "ShareMethod",
    "owner_account_id",
    "owner_directory_id",
    "directory_name",
    "ShareNotes",
)
#: Where the console's audit folders go (``<root>/<UTC timestamp>-console/audit.jsonl``).
CONSOLE_RUNS_ROOT = Path("runs")


@dataclass(frozen=True)
class Identity:
    """Who the console acts as, and the organization around it."""

    account_id: str
    arn: str
    region: str
    endpoint_url: str | None = None
    profile: str | None = None
    organization_id: str | None = None
    management_account_id: str | None = None
    feature_set: str | None = None
    trusted_access: bool | None = None
    #: Regions enabled for the account (EC2 DescribeRegions), for the Inventory tab's
    #: Region list; empty when they could not be read.
    enabled_regions: tuple[str, ...] = ()

    @property
    def is_management(self) -> bool:
        """True when the caller is the organization's management account."""
        return self.account_id == self.management_account_id


@dataclass(frozen=True)
class DirectoryChoice:
    """One owned directory the Share tab can pick, with its quota headroom."""

    directory_id: str
    name: str
    edition: str | None
    stage: str | None
    region: str
    owner_account_id: str
    active_shares: int
    #: Every Region the directory is in, primary first (DescribeDirectories RegionsInfo);
    #: empty means ``region`` only.
    regions: tuple[str, ...] = ()

    @property
    def all_regions(self) -> tuple[str, ...]:
        """The Regions a share can name for this directory (``regions``, else ``region``)."""
        return self.regions or (self.region,)

    @property
    def quota(self) -> int:
        """The edition's share quota per Region."""
        return quota_for(self.edition)

    @property
    def headroom(self) -> int:
        """Accounts this directory can still be shared with in its Region."""
        return self.quota - self.active_shares

    @property
    def label(self) -> str:
        """One line for a picker: name, id, edition, stage and headroom."""
        return (
            f"{self.name} ({self.directory_id}) · {self.edition or 'unknown edition'} · "
            f"{self.stage or 'unknown stage'} · {self.headroom} of {self.quota} free"
        )


@dataclass(frozen=True)
class TargetChoice:
    """An account or OU the target picker offers."""

    kind: str  # "account" or "ou"
    id: str
    name: str
    path: str = ""

    @property
    def label(self) -> str:
        """One line for a picker, e.g. ``OU Workloads/Prod (ou-...)``."""
        if self.kind == "ou":
            return f"OU {self.path or self.name} ({self.id})"
        return f"{self.name} ({self.id})"


@dataclass(frozen=True)
class Invitation:
    """A shared directory as one consumer account sees it."""

    account_id: str
    shared_directory_id: str
    status: str
    method: str | None = None
    owner_account_id: str | None = None
    owner_directory_id: str | None = None
    directory_name: str | None = None
    notes: str = ""
    account_name: str = ""

    @property
    def pending(self) -> bool:
        """True while the consumer can still accept or reject it."""
        return self.status == ShareStatus.PENDING_ACCEPTANCE

    @property
    def label(self) -> str:
        """One line for a picker."""
        who = f"{self.account_name} ({self.account_id})" if self.account_name else self.account_id
        return (
            f"{who} ← {self.directory_name or self.owner_directory_id} "
            f"from {self.owner_account_id} · {self.status} · {self.shared_directory_id}"
        )

    def as_row(self) -> dict[str, Any]:
        """A row with :data:`INVITATION_COLUMNS`."""
        return {
            "account_id": self.account_id,
            "account_name": self.account_name,
            "SharedDirectoryId": self.shared_directory_id,
            "ShareStatus": self.status,
            "ShareMethod": self.method,
            "owner_account_id": self.owner_account_id,
            "owner_directory_id": self.owner_directory_id,
            "directory_name": self.directory_name,
            "ShareNotes": self.notes,
        }


class Services(Protocol):
    """The library calls the console needs; :class:`LibraryServices` is the real one."""

    def identity(self) -> Identity:
        """Caller identity and organization."""
        ...

    def directories(self) -> list[DirectoryChoice]:
        """Owned MicrosoftAD directories in the connection's Region."""
        ...

    def targets(self) -> list[TargetChoice]:
        """OUs (parents first) and accounts of the organization."""
        ...

    def plan(
        self,
        directory_id: str,
        targets: Sequence[str],
        method: str,
        notes: str,
        allow_external: bool,
        regions: Sequence[str] | str | None = None,
    ) -> Plan:
        """Plan a share (nothing changes) in ``regions`` (a list or ``"all"``; None: the
        connection's Region)."""
        ...

    def apply(self, plan: Plan, fingerprint: str) -> pd.DataFrame:
        """Apply a reviewed plan; refuses when live state changed since review."""
        ...

    def shares(self, directory_id: str, regions: Sequence[str] | str | None = None) -> pd.DataFrame:
        """Owner-side share records of one directory in each of ``regions`` (a list or
        ``"all"``; None: the connection's Region), :data:`SHARE_COLUMNS`."""
        ...

    def unshare(
        self, directory_id: str, accounts: Sequence[str], regions: Sequence[str] | str | None = None
    ) -> pd.DataFrame:
        """Stop sharing with accounts in ``regions``; one result row per account and Region."""
        ...

    def invitations(self, accounts: Sequence[str]) -> list[Invitation]:
        """Shared directories seen by each consumer account (cross-account role)."""
        ...

    def plan_response(self, invitation: Invitation, accept: bool) -> Plan:
        """Plan accepting or rejecting one invitation (nothing changes), for review."""
        ...

    def respond(self, invitation: Invitation, accept: bool) -> Invitation:
        """Accept or reject one invitation in its consumer account; return its new state."""
        ...

    def collect_inventory(self, regions: Sequence[str]) -> Inventory:
        """The org-wide inventory over ``regions``."""
        ...

    def export_inventory(self, inventory: Inventory, folder: str | Path, replace: bool = False) -> Path:
        """Write snapshot and report into a new or empty folder (or replace an earlier
        snapshot when ``replace``); return the report's path."""
        ...


#: Builds services from the Connection tab's choices: (profile, region, endpoint_url).
ServicesFactory = Callable[[str | None, str | None, str | None], Services]


class LibraryServices:
    """:class:`Services` backed by the dsshare library and one Connection.

    Parameters
    ----------
    conn
        Every call goes through it (and its cross-account role for consumer accounts).
    settle_timeout
        Seconds :meth:`respond` waits for the consumer-side status to settle.
    audit
        Audit log of every mutating call; None opens
        ``runs/<UTC timestamp>-console/audit.jsonl`` (under the working folder) at the
        first mutating call.
    allow_external_owners
        Allow accepting invitations from owners outside the organization.
    runs_root
        Where the audit folder goes when ``audit`` is None.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        settle_timeout: float = 60.0,
        audit: AuditLog | None = None,
        allow_external_owners: bool = False,
        runs_root: str | Path = CONSOLE_RUNS_ROOT,
    ) -> None:
        self.conn = conn
        self.runs_root = Path(runs_root)
        self.settle_timeout = settle_timeout
        self.allow_external_owners = allow_external_owners
        self._audit = audit
        self._audit_lock = threading.Lock()
        self._account_names: dict[str, str] | None = None
        self._organization: dict[str, Any] | None = None
        self._organization_read = False

    @property
    def audit(self) -> AuditLog:
        """The audit log mutating calls write to (opened on first use)."""
        with self._audit_lock:
            if self._audit is None:
                stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
                self._audit = AuditLog(self.runs_root / f"{stamp}-console" / "audit.jsonl")
            return self._audit

    def __repr__(self) -> str:
        return f"LibraryServices({self.conn!r})"

    # -- connection -------------------------------------------------------------------

    def organization(self) -> dict[str, Any] | None:
        """The caller's organization (None outside one), read once per connection."""
        if not self._organization_read:
            self._organization = describe_organization(self.conn)
            self._organization_read = True
        return self._organization

    def identity(self) -> Identity:
        conn = self.conn
        org = self.organization()
        trusted: bool | None = None
        if org is not None and org.get("MasterAccountId") == conn.caller_account_id:
            trusted = trusted_access_enabled(conn)
        return Identity(
            account_id=conn.caller_account_id,
            arn=conn.caller_arn,
            region=conn.region,
            endpoint_url=conn.endpoint_url,
            profile=conn.profile,
            organization_id=org.get("Id") if org else None,
            management_account_id=org.get("MasterAccountId") if org else None,
            feature_set=org.get("FeatureSet") if org else None,
            trusted_access=trusted,
            enabled_regions=self._enabled_regions(),
        )

    def _enabled_regions(self) -> tuple[str, ...]:
        try:
            return tuple(enabled_regions(self.conn))
        except AwsError as err:
            # Only the order of the Inventory tab's Region list depends on it.
            logger.info("enabled Regions unavailable: %s", err.code)
            return ()

    def account_names(self) -> dict[str, str]:
        """Account id -> name for the organization (empty outside one or for members)."""
        if self._account_names is None:
            try:
                self._account_names = {a["Id"]: a.get("Name", "") for a in iter_accounts(self.conn)}
            except AwsError as err:
                # Members may not list accounts: names are a convenience, ids still work.
                logger.info("account names unavailable: %s", err.code)
                self._account_names = {}
        return self._account_names

    # -- share tab --------------------------------------------------------------------

    def directories(self) -> list[DirectoryChoice]:
        conn = self.conn
        owner = conn.caller_account_id
        choices = []
        for d in iter_directories(conn):
            if d.get("Type") != MICROSOFT_AD:
                continue
            active = sum(
                1
                for record in iter_shared_directories(conn, d["DirectoryId"])
                if record.get("ShareStatus") not in INACTIVE_STATUSES
            )
            choices.append(
                DirectoryChoice(
                    directory_id=d["DirectoryId"],
                    name=d.get("Name", ""),
                    edition=d.get("Edition"),
                    stage=d.get("Stage"),
                    region=conn.region,
                    owner_account_id=owner,
                    active_shares=active,
                    regions=regions_of(d, conn.region),
                )
            )
        return sorted(choices, key=lambda c: (c.name, c.directory_id))

    def targets(self) -> list[TargetChoice]:
        if self.organization() is None:
            return []
        ous = list(iter_organizational_units(self.conn))
        names = {ou["id"]: ou["name"] for ou in ous}
        parents = {ou["id"]: ou["parent_id"] for ou in ous}

        def path(ou_id: str) -> str:
            parts = []
            while ou_id in names:
                parts.append(names[ou_id])
                ou_id = parents[ou_id]
            return "/".join(reversed(parts))

        choices = [TargetChoice("ou", ou["id"], ou["name"], path(ou["id"])) for ou in ous]
        accounts = sorted(self.account_names().items(), key=lambda item: (item[1], item[0]))
        choices.extend(TargetChoice("account", acct, name) for acct, name in accounts)
        return choices

    def plan(
        self,
        directory_id: str,
        targets: Sequence[str],
        method: str,
        notes: str,
        allow_external: bool,
        regions: Sequence[str] | str | None = None,
    ) -> Plan:
        return plan(
            self.conn, directory_id, list(targets), method=method, notes=notes,
            allow_external=allow_external, regions=regions,
        )  # fmt: skip

    def apply(self, plan: Plan, fingerprint: str) -> pd.DataFrame:
        # progress=True: inside the console's Output, tqdm.auto draws a widget progress bar.
        return apply(
            self.conn, plan, expected_fingerprint=fingerprint, audit=self.audit, progress=True
        )

    # -- shares tab -------------------------------------------------------------------

    def shares(self, directory_id: str, regions: Sequence[str] | str | None = None) -> pd.DataFrame:
        names = self.account_names()
        rows = [
            {
                **{k: record.get(k) for k in SHARE_COLUMNS if k not in ("account_name", "region")},
                "account_name": names.get(str(record.get("SharedAccountId")), ""),
                "region": region,
            }
            for region in self._regions_of(directory_id, regions)
            for record in iter_shared_directories(self.conn, directory_id, region=region)
        ]
        return pd.DataFrame(rows, columns=list(SHARE_COLUMNS))

    def _regions_of(self, directory_id: str, regions: Sequence[str] | str | None) -> list[str]:
        """``regions`` as a list: None is the connection's Region, ``"all"`` every Region
        the directory is in (its RegionsInfo, read in the connection's Region)."""
        if regions is None:
            return [self.conn.region]
        if isinstance(regions, str):
            regions = [regions]
        if ALL_REGIONS not in regions:
            return list(dict.fromkeys(regions))
        for d in iter_directories(self.conn):
            if d.get("DirectoryId") == directory_id:
                return list(regions_of(d, self.conn.region))
        return [self.conn.region]

    def unshare(
        self, directory_id: str, accounts: Sequence[str], regions: Sequence[str] | str | None = None
    ) -> pd.DataFrame:
        return unshare(
            self.conn, directory_id, list(accounts), regions=regions, audit=self.audit, progress=False
        )

    # -- invitations tab --------------------------------------------------------------

    def invitations(self, accounts: Sequence[str]) -> list[Invitation]:
        names = self.account_names()
        found: list[Invitation] = []
        for account_id in accounts:
            for d in iter_directories(self.conn, account_id=account_id):
                if d.get("Type") != SHARED_MICROSOFT_AD:
                    continue
                found.append(_invitation(account_id, d, names.get(account_id, "")))
        return found

    def plan_response(self, invitation: Invitation, accept: bool) -> Plan:
        """Plan accepting or rejecting one invitation (nothing changes), for review.

        Consumer-side plan of the invitation's account, owner directory and Region:
        guardrails and the external-owner rule make ``refuse`` rows.
        """
        return plan_responses(
            self.conn, [invitation.account_id], Action.ACCEPT if accept else Action.REJECT,
            owner_directory_ids=[invitation.owner_directory_id] if invitation.owner_directory_id else [],
            regions=[self.conn.region], allow_external_owners=self.allow_external_owners,
        )  # fmt: skip

    def respond(self, invitation: Invitation, accept: bool) -> Invitation:
        """Accept or reject one invitation with the engine; return its state afterwards.

        Plans (:meth:`plan_response`), raises PreflightError before any call when the plan
        refuses it, applies that plan (write-ahead audit, refusing if live state changed in
        between) and waits on the consumer's side. A failed or in-doubt call raises
        DsShareError with the row's message; a timeout returns the last status seen.
        """
        the_plan = self.plan_response(invitation, accept)
        the_plan.raise_for_refusals()
        try:
            results = apply(
                self.conn, the_plan, expected_fingerprint=the_plan.fingerprint,
                audit=self.audit, timeout=self.settle_timeout, progress=False,
            )  # fmt: skip
        except WaitTimeoutError as err:
            if err.results is None:
                raise
            results = err.results
        mine = results[results["shared_directory_id"] == invitation.shared_directory_id]
        if not len(mine):
            return invitation
        row = mine.iloc[0]
        if row["outcome"] in (Outcome.FAILED, Outcome.IN_DOUBT) and row["error_code"] != "WaitTimeout":
            raise DsShareError(
                f"{row['action']} {invitation.shared_directory_id} in {invitation.account_id}: "
                f"{row['outcome']} ({row['error_code']}): {row['message']}",
                next_step="Refresh the invitations to see the current state, then try again.",
            )
        return replace(invitation, status=str(row["share_status"] or invitation.status))

    # -- inventory tab ----------------------------------------------------------------

    def collect_inventory(self, regions: Sequence[str]) -> Inventory:
        org = self.organization()
        whole_org = org is not None and org.get("MasterAccountId") == self.conn.caller_account_id
        # progress=True: inside the console's Output, tqdm.auto draws a widget progress bar.
        return collect_inventory(self.conn, all_accounts=whole_org, regions=list(regions), progress=True)

    def export_inventory(self, inventory: Inventory, folder: str | Path, replace: bool = False) -> Path:
        return export_inventory(inventory, folder, replace=replace).report


def _invitation(account_id: str, d: dict[str, Any], account_name: str) -> Invitation:
    owner = d.get("OwnerDirectoryDescription") or {}
    return Invitation(
        account_id=account_id,
        shared_directory_id=str(d.get("DirectoryId", "")),
        status=str(d.get("ShareStatus", "")),
        method=d.get("ShareMethod"),
        owner_account_id=owner.get("AccountId"),
        owner_directory_id=owner.get("DirectoryId"),
        directory_name=d.get("Name"),
        notes=str(d.get("ShareNotes") or ""),
        account_name=account_name,
    )


def connect_services(
    profile: str | None = None, region: str | None = None, endpoint_url: str | None = None,
    *, runs_root: str | Path = CONSOLE_RUNS_ROOT,
) -> LibraryServices:
    """Build :class:`LibraryServices` on a new Connection (the default factory).

    ``endpoint_url`` None falls back to ``AWS_ENDPOINT_URL`` (the sandbox's export);
    ``runs_root`` holds the console's audit folders.
    """
    conn = Connection(profile=profile, region=region, endpoint_url=endpoint_url)
    return LibraryServices(conn, runs_root=runs_root)


def available_profiles() -> list[str]:
    """Named profiles in the shared AWS config (none when it cannot be read)."""
    try:
        return sorted(botocore.session.get_session().available_profiles)
    except BotoCoreError as err:
        logger.info("AWS profiles unavailable: %s", err)
        return []
