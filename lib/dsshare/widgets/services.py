"""What the console asks of the library, as one small interface, and its real implementation.

The console's models call a :class:`Services` object and never boto3: the real one,
:class:`LibraryServices`, holds one :class:`~dsshare.connection.Connection` and calls the
same library functions the runbooks use (``plan``, ``apply``, ``unshare``, the single-call
consumer wrappers, ``collect_inventory``, ``export_inventory``), so an interactive session and
a headless run behave identically. Model tests substitute a fake with the same methods.

Results come back as small frozen records (:class:`Identity`, :class:`DirectoryChoice`,
:class:`TargetChoice`, :class:`Invitation`) or as the library's own DataFrames.

Example
-------
>>> services = connect_services(region="us-east-1")       # doctest: +SKIP
>>> [d.label for d in services.directories()]             # doctest: +SKIP
['corp.example.com (d-...) · Standard · Active · 23 of 25 free']
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from dsshare.preflight import INACTIVE_STATUSES, quota_for

if TYPE_CHECKING:
    from dsshare.connection import Connection
    from dsshare.inventory.model import Inventory
    from dsshare.plan import Plan

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
#: Consumer-side statuses that are on their way somewhere: accept/reject poll past them.
TRANSITIONAL: frozenset[str] = frozenset({"Sharing", "Rejecting", "Deleting"})


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
        return self.status == "PendingAcceptance"

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
    ) -> Plan:
        """Plan a share (nothing changes)."""
        ...

    def apply(self, plan: Plan, fingerprint: str) -> pd.DataFrame:
        """Apply a reviewed plan; refuses when live state changed since review."""
        ...

    def shares(self, directory_id: str) -> pd.DataFrame:
        """Owner-side share records of one directory (:data:`SHARE_COLUMNS`)."""
        ...

    def unshare(self, directory_id: str, accounts: Sequence[str]) -> pd.DataFrame:
        """Stop sharing with accounts; one result row per account."""
        ...

    def invitations(self, accounts: Sequence[str]) -> list[Invitation]:
        """Shared directories seen by each consumer account (cross-account role)."""
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
        Seconds :meth:`respond` waits for a consumer-side status to leave a transition.
    """

    def __init__(self, conn: Connection, *, settle_timeout: float = 60.0) -> None:
        self.conn = conn
        self.settle_timeout = settle_timeout
        self._account_names: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"LibraryServices({self.conn!r})"

    # -- connection -------------------------------------------------------------------

    def identity(self) -> Identity:
        from dsshare.organization import trusted_access_enabled

        conn = self.conn
        org = conn.organization
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
        )

    def account_names(self) -> dict[str, str]:
        """Account id -> name for the organization (empty outside one or for members)."""
        from dsshare.errors import AwsError
        from dsshare.organization import iter_accounts

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
        from dsshare.sharing import iter_directories, iter_shared_directories

        conn = self.conn
        owner = conn.caller_account_id
        choices = []
        for d in iter_directories(conn):
            if d.get("Type") != "MicrosoftAD":
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
                )
            )
        return sorted(choices, key=lambda c: (c.name, c.directory_id))

    def targets(self) -> list[TargetChoice]:
        from dsshare.organization import iter_organizational_units

        if self.conn.organization is None:
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
    ) -> Plan:
        from dsshare.plan import plan

        return plan(
            self.conn, directory_id, list(targets), method=method, notes=notes,
            allow_external=allow_external,
        )  # fmt: skip

    def apply(self, plan: Plan, fingerprint: str) -> pd.DataFrame:
        from dsshare.apply import apply

        # progress=True: inside the console's Output, tqdm.auto draws a widget progress bar.
        return apply(self.conn, plan, expected_fingerprint=fingerprint, progress=True)

    # -- shares tab -------------------------------------------------------------------

    def shares(self, directory_id: str) -> pd.DataFrame:
        from dsshare.sharing import iter_shared_directories

        names = self.account_names()
        rows = [
            {
                **{k: record.get(k) for k in SHARE_COLUMNS if k != "account_name"},
                "account_name": names.get(str(record.get("SharedAccountId")), ""),
            }
            for record in iter_shared_directories(self.conn, directory_id)
        ]
        return pd.DataFrame(rows, columns=list(SHARE_COLUMNS))

    def unshare(self, directory_id: str, accounts: Sequence[str]) -> pd.DataFrame:
        from dsshare.sharing import unshare

        return unshare(self.conn, directory_id, list(accounts), progress=False)

    # -- invitations tab --------------------------------------------------------------

    def invitations(self, accounts: Sequence[str]) -> list[Invitation]:
        from dsshare.sharing import iter_directories

        names = self.account_names()
        found: list[Invitation] = []
        for account_id in accounts:
            for d in iter_directories(self.conn, account_id=account_id):
                if d.get("Type") != "SharedMicrosoftAD":
                    continue
                found.append(_invitation(account_id, d, names.get(account_id, "")))
        return found

    def _consumer_view(self, account_id: str, shared_directory_id: str) -> dict[str, Any] | None:
        from dsshare.sharing import iter_directories

        for d in iter_directories(self.conn, account_id=account_id):
            if d.get("DirectoryId") == shared_directory_id:
                return d
        return None

    def respond(self, invitation: Invitation, accept: bool) -> Invitation:
        from dsshare.sharing import accept_shared_directory, reject_shared_directory

        call = accept_shared_directory if accept else reject_shared_directory
        call(self.conn, invitation.shared_directory_id, account_id=invitation.account_id)
        deadline = time.monotonic() + self.settle_timeout
        delay = 0.1
        while True:
            seen = self._consumer_view(invitation.account_id, invitation.shared_directory_id)
            if seen is None:
                # A rejected share disappears from the consumer's listing.
                status = "Rejected" if not accept else "Deleted"
                return _replace_status(invitation, status)
            status = str(seen.get("ShareStatus", ""))
            if status not in TRANSITIONAL or time.monotonic() > deadline:
                return _invitation(invitation.account_id, seen, invitation.account_name)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    # -- inventory tab ----------------------------------------------------------------

    def collect_inventory(self, regions: Sequence[str]) -> Inventory:
        from dsshare.inventory.collect import collect_inventory

        org = self.conn.organization
        whole_org = org is not None and org.get("MasterAccountId") == self.conn.caller_account_id
        return collect_inventory(self.conn, all_accounts=whole_org, regions=list(regions))

    def export_inventory(self, inventory: Inventory, folder: str | Path, replace: bool = False) -> Path:
        from dsshare.inventory.export import export_inventory

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


def _replace_status(invitation: Invitation, status: str) -> Invitation:
    from dataclasses import replace

    return replace(invitation, status=status)


def connect_services(
    profile: str | None = None, region: str | None = None, endpoint_url: str | None = None
) -> LibraryServices:
    """Build :class:`LibraryServices` on a new Connection (the default factory).

    ``endpoint_url`` None falls back to ``AWS_ENDPOINT_URL`` (the sandbox's export).
    """
    from dsshare.connection import Connection

    return LibraryServices(Connection(profile=profile, region=region, endpoint_url=endpoint_url))


def available_profiles() -> list[str]:
    """Named profiles in the shared AWS config (none when it cannot be read)."""
    import botocore.session
    from botocore.exceptions import BotoCoreError

    try:
        return sorted(botocore.session.get_session().available_profiles)
    except BotoCoreError as err:
        logger.info("AWS profiles unavailable: %s", err)
        return []
