"""State and logic of the sharing console, one ``HasTraits`` model per tab; no widgets here.

Each model holds what its tab shows and the operator's choices as traits, and exposes the
actions its buttons trigger as plain methods (``preview``, ``confirm_apply``, ``accept``...).
Actions call a :class:`~dsshare.widgets.services.Services` object and store what it returns;
they raise :class:`~dsshare.errors.DsShareError` (with a next step) when the operator has to
do something first. Views link widgets to these traits and route button clicks to these
methods; tests drive the methods directly with a fake :class:`Services`.

Example
-------
>>> model = ShareModel()
>>> model.typed = "200000000004, 12345"
>>> model.typed_valid, model.typed_errors
(['200000000004'], ['12345: not a 12-digit account id'])
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from traitlets import Any as AnyTrait
from traitlets import Bool, Enum, HasTraits, Instance, List, Unicode, observe

from dsshare import inputs
from dsshare.errors import DsShareError, ParameterError, WaitTimeoutError
from dsshare.inventory.export import check_output_folder, is_snapshot_folder
from dsshare.model import ShareStatus
from dsshare.validation import METHODS, is_account_id

from .services import DirectoryChoice, Invitation, TargetChoice

if TYPE_CHECKING:
    from dsshare.inventory.model import Inventory
    from dsshare.planning import Plan

    from .services import Identity, Services, ServicesFactory

__all__ = [
    "ConnectionModel",
    "ConsoleModel",
    "ConsoleStateError",
    "InventoryModel",
    "InvitationsModel",
    "NotConnectedError",
    "RowsFailedError",
    "ShareModel",
    "SharesModel",
    "filter_targets",
    "merge_selection",
    "parse_account_ids",
]

ALL = ""  # filter value meaning "no filter"
_SEPARATORS = re.compile(r"[\s,;]+")


#: Owner-side statuses of a share that is gone or on its way out.
_GONE_OR_GOING = frozenset(
    {ShareStatus.DELETED, ShareStatus.REJECTED, ShareStatus.DELETING, ShareStatus.REJECTING}
)

class NotConnectedError(DsShareError):
    """An action needs AWS but the console is not connected yet."""

    default_next_step = (
        "Open the Connection tab, choose credentials (or the sandbox endpoint) and a Region, "
        "and press Connect."
    )

    def __init__(self) -> None:
        super().__init__("The console is not connected.")


class ConsoleStateError(DsShareError):
    """An action was asked for before its prerequisites in the console were met."""


class RowsFailedError(DsShareError):
    """An apply finished but some rows failed; the result table says which and why."""

    default_next_step = (
        "Read error_code and message in the result table, fix the cause, then Preview and "
        "Apply again: rows already done are skipped, so a rerun finishes the job."
    )

    def __init__(self, failed: int, total: int) -> None:
        super().__init__(f"{failed} of {total} row(s) failed.")


def _raise_for_failed(result: pd.DataFrame) -> None:
    if "outcome" in result.columns:
        failed = int((result["outcome"] == "failed").sum())
        if failed:
            raise RowsFailedError(failed, len(result))


# -- pure helpers --------------------------------------------------------------------------


def parse_account_ids(text: str) -> tuple[list[str], list[str]]:
    """Split typed text into valid 12-digit account ids and error lines for the rest.

    Ids keep the text that was typed (``012345670123`` stays that id); a token with a
    control character is shown escaped in its error line.

    Example
    -------
    >>> parse_account_ids("200000000004 200000000004\\nabc")
    (['200000000004'], ['abc: not a 12-digit account id'])
    """
    valid: dict[str, None] = {}
    errors: list[str] = []
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        if is_account_id(token):
            valid.setdefault(token, None)
        else:
            try:
                shown = inputs.check_text(token, "account id")
            except ParameterError:
                shown = repr(token)
            errors.append(f"{shown}: not a 12-digit account id")
    return list(valid), errors


def filter_targets(choices: Iterable[TargetChoice], text: str) -> list[TargetChoice]:
    """Choices whose label contains every word of ``text`` (case-insensitive)."""
    words = text.lower().split()
    return [c for c in choices if all(word in c.label.lower() for word in words)]


def merge_selection(selected: Sequence[str], visible: Sequence[str], chosen: Sequence[str]) -> list[str]:
    """New selection after the operator changed the visible part of a filtered list.

    Hidden selections survive a filter; visible ones become exactly ``chosen``.

    Example
    -------
    >>> merge_selection(["a", "b"], visible=["b", "c"], chosen=["c"])
    ['a', 'c']
    """
    shown = set(visible)
    kept = [s for s in selected if s not in shown]
    return kept + [c for c in chosen if c not in kept]


def _need(services: Services | None) -> Services:
    if services is None:
        raise NotConnectedError()
    return services


# -- connection ----------------------------------------------------------------------------


class ConnectionModel(HasTraits):
    """Connection tab: credentials, endpoint and Region, and who we turned out to be."""

    profiles = List(Unicode(), help="named profiles available; '' is the default chain")
    profile = Unicode("", help="'' for boto3's default credential chain")
    endpoint_url = Unicode("", help="sandbox endpoint; '' for AWS itself")
    regions = List(Unicode())
    region = Unicode("")
    identity = AnyTrait(None, allow_none=True, help="Identity once connected")

    def describe(self) -> list[tuple[str, str]]:
        """(label, value) lines for the identity panel."""
        ident: Identity | None = self.identity
        if ident is None:
            return [("Status", "not connected")]
        org = ident.organization_id or "none (the account belongs to no organization)"
        lines = [
            ("Account", ident.account_id),
            ("Caller", ident.arn),
            ("Region", ident.region),
            ("Endpoint", ident.endpoint_url or "AWS"),
            ("Organization", org),
        ]
        if ident.organization_id:
            mgmt = ident.management_account_id or "unknown"
            if ident.is_management:
                mgmt += " (this account)"
            lines.append(("Management account", mgmt))
            lines.append(("Feature set", ident.feature_set or "unknown"))
            trusted = {True: "enabled", False: "disabled", None: "unknown (not the management account)"}
            lines.append(("Trusted access for ds.amazonaws.com", trusted[ident.trusted_access]))
        return lines


# -- share ---------------------------------------------------------------------------------


class ShareModel(HasTraits):
    """Share tab: directory, targets, method and notes; preview, confirm and apply."""

    services = AnyTrait(None, allow_none=True)
    directories = List(Instance(DirectoryChoice), help="owned directories")
    directory_id = Unicode("")
    targets = List(Instance(TargetChoice), help="OUs and accounts")
    filter_text = Unicode("")
    visible = List(Instance(TargetChoice), help="targets matching filter_text")
    selected = List(Unicode(), help="ids of picked accounts and OUs")
    typed = Unicode("", help="account ids typed by the operator")
    typed_valid = List(Unicode())
    typed_errors = List(Unicode())
    method = Enum(METHODS, default_value="HANDSHAKE")
    notes = Unicode("")
    allow_external = Bool(False)
    plan = AnyTrait(None, allow_none=True, help="the reviewed Plan")
    stage = Enum(("edit", "previewed", "confirming", "applied"), default_value="edit")
    result = Instance(pd.DataFrame, allow_none=True)

    @observe("targets", "filter_text")
    def _refilter(self, _: Any = None) -> None:
        self.visible = filter_targets(self.targets, self.filter_text)

    @observe("typed")
    def _parse_typed(self, _: Any = None) -> None:
        self.typed_valid, self.typed_errors = parse_account_ids(self.typed)

    @observe("directory_id", "selected", "typed", "method", "notes", "allow_external")
    def _invalidate(self, _: Any = None) -> None:
        # A reviewed plan no longer describes what would be applied.
        if self.stage in ("previewed", "confirming"):
            self.plan = None
            self.stage = "edit"

    # -- derived ----------------------------------------------------------------------

    @property
    def directory(self) -> DirectoryChoice | None:
        """The chosen directory record."""
        found: list[DirectoryChoice] = [
            d for d in self.directories if d.directory_id == self.directory_id
        ]
        return found[0] if found else None

    def chosen_targets(self) -> list[str]:
        """Picked ids then typed ids, deduplicated in order."""
        return list(dict.fromkeys([*self.selected, *self.typed_valid]))

    def target_summary(self) -> str:
        """One line naming what is picked."""
        labels = {t.id: t.label for t in self.targets}
        chosen = self.chosen_targets()
        if not chosen:
            return "No targets picked yet."
        return f"{len(chosen)} target(s): " + "; ".join(labels.get(t, t) for t in chosen)

    def choose_visible(self, chosen: Sequence[str]) -> None:
        """The operator changed the selection among the visible (filtered) choices."""
        visible = [t.id for t in self.visible]
        self.selected = merge_selection(self.selected, visible, chosen)

    def with_names(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with an ``account_name`` column after ``account_id`` (org names)."""
        names = {t.id: t.name for t in self.targets if t.kind == "account"}
        out = frame.copy()
        position = list(out.columns).index("account_id") + 1 if "account_id" in out.columns else 0
        values = [names.get(str(a), "") for a in out["account_id"]] if "account_id" in out.columns else []
        out.insert(position, "account_name", values)
        return out

    def plan_frame(self) -> pd.DataFrame | None:
        """The reviewed plan as a frame with account names, or None."""
        return None if self.plan is None else self.with_names(self.plan.to_frame())

    def change_count(self) -> int:
        """Rows of the reviewed plan apply will act on."""
        return 0 if self.plan is None else len(self.plan.changes)

    # -- actions ----------------------------------------------------------------------

    def load(self) -> None:
        """Read the owned directories and the organization's targets."""
        services = _need(self.services)
        self.directories = services.directories()
        self.targets = services.targets()
        ids = [d.directory_id for d in self.directories]
        if self.directory_id not in ids:
            self.directory_id = ids[0] if ids else ""
        self.selected = [s for s in self.selected if s in {t.id for t in self.targets}]

    def preview(self) -> None:
        """Plan the share against live state; nothing changes in AWS."""
        services = _need(self.services)
        if not self.directory_id:
            raise ConsoleStateError(
                "No directory is chosen.",
                next_step="Pick a directory in the Directory list (Connect first if it is empty).",
            )
        if self.typed_errors:
            raise ConsoleStateError(
                "Some typed account ids are not valid: " + "; ".join(self.typed_errors) + ".",
                next_step="Correct or remove them in the account id box, then Preview again.",
            )
        targets = self.chosen_targets()
        if not targets:
            raise ConsoleStateError(
                "No targets are chosen.",
                next_step="Pick accounts or OUs in the target list, or type account ids.",
            )
        inputs.notes_text(self.notes, "notes")  # the reader's rule: no control characters
        self.plan = services.plan(
            self.directory_id, targets, self.method, self.notes, self.allow_external
        )
        self.stage = "previewed"

    def request_apply(self) -> None:
        """Ask for confirmation of the reviewed plan."""
        if self.stage != "previewed" or self.plan is None:
            raise ConsoleStateError(
                "There is no reviewed plan to apply.",
                next_step="Press Preview, read the plan, then Apply.",
            )
        if not self.change_count():
            raise ConsoleStateError(
                "The plan has nothing to change (every row is skip or refuse).",
                next_step="Read the reason column; fix refused rows or pick other targets, then Preview.",
            )
        self.stage = "confirming"

    def cancel_apply(self) -> None:
        """Back to the reviewed plan without changing anything."""
        if self.stage == "confirming":
            self.stage = "previewed"

    def confirm_apply(self) -> None:
        """Apply the reviewed plan; the library refuses if live state changed since."""
        services = _need(self.services)
        if self.stage != "confirming" or self.plan is None:
            raise ConsoleStateError(
                "Apply was not confirmed.", next_step="Press Apply, then Confirm."
            )
        plan: Plan = self.plan
        try:
            self.result = services.apply(plan, plan.fingerprint)
        except WaitTimeoutError as err:
            if isinstance(err.results, pd.DataFrame):
                self.result = err.results
            self.stage = "applied"
            raise
        except DsShareError:
            self.stage = "edit"
            self.plan = None
            raise
        self.stage = "applied"
        _raise_for_failed(self.result)

    def confirmation_text(self) -> str:
        """What the confirmation asks."""
        directory = self.directory
        name = directory.name if directory else self.directory_id
        counts: dict[str, int] = {}
        if self.plan is not None:
            for row in self.plan.changes:
                counts[row.action] = counts.get(row.action, 0) + 1
        what = ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "nothing"
        return f"Apply {what} on {name} ({self.directory_id}) with {self.method}?"

    def pending_accounts(self) -> list[str]:
        """Accounts the last apply left waiting for acceptance."""
        if self.result is None or self.result.empty:
            return []
        rows = self.result[self.result["share_status"] == ShareStatus.PENDING_ACCEPTANCE]
        return list(dict.fromkeys(str(a) for a in rows["account_id"]))


# -- shares --------------------------------------------------------------------------------


class SharesModel(HasTraits):
    """Shares tab: one directory's share records; unshare after confirmation."""

    services = AnyTrait(None, allow_none=True)
    directories = List(Instance(DirectoryChoice), help="owned directories")
    directory_id = Unicode("")
    frame = Instance(pd.DataFrame, allow_none=True)
    selected = List(Unicode(), help="accounts to unshare")
    confirming = Bool(False)
    result = Instance(pd.DataFrame, allow_none=True)

    @observe("directory_id")
    def _forget(self, _: Any = None) -> None:
        self.frame = None
        self.selected = []
        self.confirming = False

    def unsharable(self) -> list[tuple[str, str]]:
        """(label, account id) of records that can be unshared (not Deleted/Rejected/-ing)."""
        if self.frame is None or self.frame.empty:
            return []
        out = []
        for row in self.frame.to_dict("records"):
            if row["ShareStatus"] in _GONE_OR_GOING:
                continue
            name = f" {row['account_name']}" if row.get("account_name") else ""
            out.append((f"{row['SharedAccountId']}{name} · {row['ShareStatus']}", str(row["SharedAccountId"])))
        return out

    def refresh(self) -> None:
        """Read the directory's share records again."""
        services = _need(self.services)
        if not self.directory_id:
            raise ConsoleStateError(
                "No directory is chosen.", next_step="Pick a directory above (Connect first if empty)."
            )
        self.frame = services.shares(self.directory_id)
        allowed = {acct for _, acct in self.unsharable()}
        self.selected = [s for s in self.selected if s in allowed]

    def request_unshare(self) -> None:
        """Ask for confirmation before unsharing the selected accounts."""
        if not self.selected:
            raise ConsoleStateError(
                "No share is selected.", next_step="Select one or more rows in the list, then Unshare."
            )
        self.confirming = True

    def cancel_unshare(self) -> None:
        """Drop the pending confirmation."""
        self.confirming = False

    def confirm_unshare(self) -> None:
        """Unshare the selected accounts, then refresh."""
        services = _need(self.services)
        if not self.confirming:
            raise ConsoleStateError("Unshare was not confirmed.", next_step="Press Unshare, then Confirm.")
        accounts = list(self.selected)
        self.confirming = False
        self.result = services.unshare(self.directory_id, accounts)
        self.selected = []
        self.refresh()
        _raise_for_failed(self.result)


# -- invitations ---------------------------------------------------------------------------


class InvitationsModel(HasTraits):
    """Invitations tab: shared directories pending in chosen consumer accounts."""

    services = AnyTrait(None, allow_none=True)
    accounts = List(Instance(TargetChoice), help="accounts to choose from")
    chosen = List(Unicode(), help="consumer accounts to look in")
    pending_only = Bool(True)
    invitations = List(Instance(Invitation), help="invitations found")
    acted = List(Unicode(), help="SharedDirectoryIds answered in this session")
    selected = List(Unicode(), help="SharedDirectoryIds to accept or reject")

    def visible(self) -> list[Invitation]:
        """Invitations to list: pending ones (or all), plus those answered here."""
        return [
            i for i in self.invitations
            if not self.pending_only or i.pending or i.shared_directory_id in self.acted
        ]  # fmt: skip

    def choose_all(self) -> None:
        """Look in every account of the organization."""
        self.chosen = [a.id for a in self.accounts]

    def find(self) -> None:
        """Read each chosen consumer account's shared directories."""
        services = _need(self.services)
        if not self.chosen:
            raise ConsoleStateError(
                "No consumer account is chosen.",
                next_step="Select accounts in the list (or press All accounts), then Find invitations.",
            )
        self.invitations = services.invitations(list(self.chosen))
        self.acted = []
        self.selected = []

    def _respond(self, accept: bool) -> None:
        services = _need(self.services)
        if not self.selected:
            raise ConsoleStateError(
                "No invitation is selected.",
                next_step="Select one or more pending invitations in the list first.",
            )
        by_id = {i.shared_directory_id: i for i in self.invitations}
        not_pending = [s for s in self.selected if s in by_id and not by_id[s].pending]
        if not_pending:
            raise ConsoleStateError(
                f"{', '.join(not_pending)} is not PendingAcceptance.",
                next_step="Only pending invitations can be answered; press Find invitations to refresh.",
            )
        updated = dict(by_id)
        try:
            for sid in self.selected:
                updated[sid] = services.respond(by_id[sid], accept)
                self.acted = [*self.acted, sid]
        finally:
            self.invitations = [updated[i.shared_directory_id] for i in self.invitations]
        self.selected = []

    def accept(self) -> None:
        """Accept the selected invitations in their consumer accounts."""
        self._respond(True)

    def reject(self) -> None:
        """Reject the selected invitations in their consumer accounts."""
        self._respond(False)

    def frame(self) -> pd.DataFrame:
        """The visible invitations as a frame."""
        from .services import INVITATION_COLUMNS

        return pd.DataFrame([i.as_row() for i in self.visible()], columns=list(INVITATION_COLUMNS))


# -- inventory -----------------------------------------------------------------------------


class InventoryModel(HasTraits):
    """Inventory tab: collect, filter, summarise and export the org-wide inventory."""

    services = AnyTrait(None, allow_none=True)
    regions_available = List(Unicode())
    regions = List(Unicode())
    inventory = AnyTrait(None, allow_none=True, help="the collected Inventory")
    account = Unicode(ALL)
    region = Unicode(ALL)
    status = Unicode(ALL)
    directory = Unicode(ALL)
    folder = Unicode("runs/console-inventory")
    exported = Unicode("")
    replace_pending = Bool(False, help="the folder holds an earlier snapshot: asking to replace it")

    @observe("folder", "inventory")
    def _forget_replace(self, _: Any = None) -> None:
        self.replace_pending = False

    def collect(self) -> None:
        """Collect the inventory over the chosen Regions."""
        services = _need(self.services)
        if not self.regions:
            raise ConsoleStateError(
                "No Region is chosen.", next_step="Select one or more Regions, then Collect."
            )
        self.inventory = services.collect_inventory(list(self.regions))
        self.account = self.region = self.status = self.directory = ALL

    def options(self, column: str) -> list[str]:
        """Values a filter can take: the distinct values of a shares column."""
        inv: Inventory | None = self.inventory
        if inv is None or inv.shares.empty:
            return []
        return sorted({str(v) for v in inv.shares[column].dropna()})

    def filtered_shares(self) -> pd.DataFrame:
        """Share records matching every filter (an account matches as owner or consumer)."""
        inv: Inventory | None = self.inventory
        if inv is None:
            return pd.DataFrame()
        shares = inv.shares
        keep = pd.Series(True, index=shares.index)
        if self.account:
            keep &= (shares["SharedAccountId"] == self.account) | (shares["OwnerAccountId"] == self.account)
        if self.region:
            keep &= shares["region"] == self.region
        if self.status:
            keep &= shares["ShareStatus"] == self.status
        if self.directory:
            keep &= shares["OwnerDirectoryId"] == self.directory
        return shares[keep.fillna(False).astype(bool)]

    def headline(self) -> dict[str, int]:
        """Headline numbers over the filtered records."""
        inv: Inventory | None = self.inventory
        if inv is None:
            return {}
        from dsshare.inventory.findings import findings

        shares = self.filtered_shares()
        owners = inv.directories[inv.directories["side"] == "owner"]
        found = findings(inv)
        return {
            "owner directories": len(owners),
            "share records": len(shares),
            "shared": int((shares["ShareStatus"] == ShareStatus.SHARED).sum()),
            "pending invitations": int((shares["ShareStatus"] == ShareStatus.PENDING_ACCEPTANCE).sum()),
            "high findings": int((found["severity"] == "high").sum()),
            "collection errors": len(inv.errors),
        }

    def status_counts(self) -> dict[str, int]:
        """Filtered share records per ShareStatus."""
        shares = self.filtered_shares()
        if shares.empty:
            return {}
        counts = shares["ShareStatus"].value_counts()
        return {str(k): int(v) for k, v in counts.items()}

    def quota_frame(self) -> pd.DataFrame:
        """Quota headroom per owner directory (filtered by Region and directory)."""
        inv: Inventory | None = self.inventory
        if inv is None:
            return pd.DataFrame()
        from dsshare.inventory.findings import quota

        frame = quota(inv)
        if self.region:
            frame = frame[frame["region"] == self.region]
        if self.directory:
            frame = frame[frame["DirectoryId"] == self.directory]
        return frame

    def _export_folder(self) -> str:
        folder = inputs.check_text(self.folder, "folder").strip()
        if not folder:
            raise ConsoleStateError("No folder is given.", next_step="Type the folder to write into.")
        return folder

    def export(self) -> None:
        """Write the snapshot and the HTML report into ``folder`` (new or empty).

        A folder holding other files is refused; one holding an earlier dsshare snapshot
        sets ``replace_pending`` and raises :class:`ConsoleStateError` (nothing is written)
        until the operator confirms with :meth:`confirm_replace`.
        """
        services = _need(self.services)
        if self.inventory is None:
            raise ConsoleStateError(
                "No inventory has been collected.", next_step="Press Collect first, then Export."
            )
        folder = self._export_folder()
        if is_snapshot_folder(folder) and any(Path(folder).iterdir()):
            self.replace_pending = True
            raise ConsoleStateError(
                f"{folder} holds an earlier dsshare snapshot; nothing was written.",
                next_step="Press Replace snapshot to replace it with this inventory, or Keep it "
                "and choose another folder.",
            )
        check_output_folder(folder, parameter="folder")
        self.exported = str(services.export_inventory(self.inventory, folder))

    def confirm_replace(self) -> None:
        """Replace the earlier snapshot in ``folder`` (after :meth:`export` asked)."""
        services = _need(self.services)
        if not self.replace_pending or self.inventory is None:
            raise ConsoleStateError("Nothing is waiting to replace.", next_step="Press Export first.")
        folder = self._export_folder()
        self.exported = str(services.export_inventory(self.inventory, folder, replace=True))
        self.replace_pending = False

    def cancel_replace(self) -> None:
        """Keep the earlier snapshot; nothing is written."""
        self.replace_pending = False


# -- the whole console ---------------------------------------------------------------------


class ConsoleModel(HasTraits):
    """The console: one model per tab, and the services once connected."""

    connection = Instance(ConnectionModel, args=())
    share = Instance(ShareModel, args=())
    shares = Instance(SharesModel, args=())
    invitations = Instance(InvitationsModel, args=())
    inventory = Instance(InventoryModel, args=())
    services = AnyTrait(None, allow_none=True)

    def __init__(self, factory: ServicesFactory, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factory = factory
        self.share.observe(self._follow_directory, "directory_id")
        self.share.observe(self._follow_result, "result")

    def _follow_directory(self, change: dict[str, Any]) -> None:
        self.shares.directory_id = change["new"]

    def _follow_result(self, change: dict[str, Any]) -> None:
        pending = self.share.pending_accounts()
        if pending:
            self.invitations.chosen = pending

    def connect(self) -> None:
        """Connect with the Connection tab's choices and load every tab's choices."""
        c = self.connection
        profile, region, endpoint = (
            inputs.check_text(value, name).strip() or None
            for value, name in ((c.profile, "profile"), (c.region, "region"), (c.endpoint_url, "endpoint"))
        )
        services = self.factory(profile, region, endpoint)
        identity = services.identity()
        self.services = services
        c.identity = identity
        for model in (self.share, self.shares, self.invitations, self.inventory):
            model.services = services
        self.share.load()
        self.shares.directories = list(self.share.directories)
        self.shares.directory_id = self.share.directory_id
        self.invitations.accounts = [t for t in self.share.targets if t.kind == "account"]
        inv = self.inventory
        # The connection's Region first: it is the one an operator reads most.
        inv.regions_available = [identity.region, *(r for r in c.regions if r != identity.region)]
        inv.regions = [identity.region]
        inv.inventory = None


def default_region() -> str:
    """The Region boto3 would use, else us-east-1."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
