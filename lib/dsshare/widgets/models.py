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

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from traitlets import Any as AnyTrait
from traitlets import Bool, Enum, HasTraits, Instance, List, Unicode, observe

from dsshare import inputs
from dsshare.errors import DsShareError, ParameterError, PlanMismatchError, WaitTimeoutError
from dsshare.inventory.export import check_output_folder, is_snapshot_folder
from dsshare.inventory.findings import findings, quota
from dsshare.model import ALL_REGIONS, Outcome, ShareMethod, ShareStatus
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


def _count(n: int, word: str) -> str:
    """``1 account`` / ``3 accounts``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _named(account_id: str, names: dict[str, str]) -> str:
    """``prod-app1 (200000000001)``, or the id alone when no name is known."""
    name = names.get(account_id, "")
    return f"{name} ({account_id})" if name else account_id


def _outcomes(result: pd.DataFrame | None) -> dict[str, int]:
    if result is None or result.empty or "outcome" not in result.columns:
        return {}
    return {str(k): int(v) for k, v in result["outcome"].value_counts().items()}


def _outcome_line(counts: dict[str, int]) -> str:
    order = [Outcome.DONE, Outcome.FAILED, Outcome.IN_DOUBT]
    parts = [f"{counts[o]} {o}" for o in order if counts.get(o)]
    parts += [f"{n} {o}" for o, n in sorted(counts.items()) if o not in order and n]
    return ", ".join(parts) or "nothing"


#: Region name prefixes of the partitions other than ``aws`` (longest first).
_PARTITION_PREFIXES: tuple[tuple[str, str], ...] = (
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("us-gov-", "aws-us-gov"),
    ("cn-", "aws-cn"),
)


def partition_of(region: str) -> str:
    """The partition a Region name belongs to (``aws``, ``aws-cn``, ``aws-us-gov``...).

    Example
    -------
    >>> partition_of("cn-north-1"), partition_of("eu-west-1")
    ('aws-cn', 'aws')
    """
    for prefix, partition in _PARTITION_PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"


def partition_regions(current: str, regions: Iterable[str], enabled: Iterable[str] = ()) -> list[str]:
    """Regions of ``current``'s partition: ``current`` first, then enabled ones, then the rest.

    Example
    -------
    >>> partition_regions("eu-west-1", ["us-east-1", "cn-north-1", "us-gov-west-1", "ap-south-1"])
    ['eu-west-1', 'ap-south-1', 'us-east-1']
    """
    partition = partition_of(current)
    same = sorted({r for r in regions if partition_of(r) == partition} - {current})
    on = set(enabled)
    return [current, *(r for r in same if r in on), *(r for r in same if r not in on)]


def _need(services: Services | None) -> Services:
    if services is None:
        raise NotConnectedError()
    return services


# -- connection ----------------------------------------------------------------------------


def _region_choices(directory: DirectoryChoice | None, chosen: Sequence[str]) -> tuple[list[str], list[str]]:
    """(offered, kept): ``all`` then the directory's Regions, and the choices still offered
    (the directory's own Region when none is left)."""
    if directory is None:
        return [], []
    offered = [ALL_REGIONS, *directory.all_regions]
    kept = [r for r in chosen if r in offered]
    return offered, kept or [directory.region]


def _regions_argument(chosen: Sequence[str]) -> list[str] | str | None:
    """What the library takes: ``"all"``, a list, or None (the connection's Region)."""
    if ALL_REGIONS in chosen:
        return ALL_REGIONS
    return list(chosen) or None


def _regions_phrase(planned: Sequence[str], chosen: Sequence[str]) -> str:
    """`` in us-east-1 and eu-west-1`` (the planned Regions, else the chosen ones)."""
    regions = [r for r in planned if r] or list(chosen)
    if not regions:
        return ""
    if regions == [ALL_REGIONS]:
        return " in all its Regions"
    head = ", ".join(regions[:-1])
    return f" in {head} and {regions[-1]}" if head else f" in {regions[0]}"


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
    owner_account_id = Unicode("", help="the connected account: owns the directories, never a target")
    regions = List(Unicode(), help="Regions to share in, or ['all']; empty: the connection's Region")
    regions_available = List(Unicode(), help="'all' then the chosen directory's Regions (RegionsInfo)")

    @observe("directories", "directory_id")
    def _follow_regions(self, _: Any = None) -> None:
        self.regions_available, self.regions = _region_choices(self.directory, self.regions)

    @observe("targets", "filter_text", "owner_account_id")
    def _refilter(self, _: Any = None) -> None:
        self.visible = filter_targets(self.offered(), self.filter_text)

    @observe("typed")
    def _parse_typed(self, _: Any = None) -> None:
        self.typed_valid, self.typed_errors = parse_account_ids(self.typed)

    @observe("directory_id", "selected", "typed", "method", "notes", "allow_external", "regions")
    def _invalidate(self, _: Any = None) -> None:
        # A reviewed plan no longer describes what would be applied, and an earlier result
        # describes other inputs: neither stays on screen.
        self.clear()

    def clear(self) -> None:
        """Drop the plan and the result (the inputs or the connection changed)."""
        self.plan = None
        self.result = None
        self.stage = "edit"

    def offered(self) -> list[TargetChoice]:
        """Targets the picker offers: every OU and account except the owner itself."""
        return [t for t in self.targets if not (t.kind == "account" and t.id == self.owner_account_id)]

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
        if self.directories:
            self.owner_account_id = self.directories[0].owner_account_id
        self.targets = services.targets()
        ids = [d.directory_id for d in self.directories]
        if self.directory_id not in ids:
            self.directory_id = ids[0] if ids else ""
        self.selected = [s for s in self.selected if s in {t.id for t in self.offered()}]

    def refresh_directories(self) -> None:
        """Read the directories again (headroom changes with every share and unshare)."""
        services = _need(self.services)
        self.directories = services.directories()

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
            self.directory_id, targets, self.method, self.notes, self.allow_external,
            regions=_regions_argument(self.regions),
        )  # fmt: skip
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
        except PlanMismatchError as err:
            self.clear()
            raise ConsoleStateError(
                f"{err.args[0]} The state in AWS changed since you pressed Preview.",
                next_step="Press Preview to review the plan against the current state, then Apply.",
            ) from err
        except DsShareError:
            self.clear()
            raise
        finally:
            if self.result is not None:
                self.refresh_directories()  # the headroom label follows what was just done
        self.stage = "applied"
        _raise_for_failed(self.result)

    def names(self) -> dict[str, str]:
        """Account id -> name, from the organization."""
        return {t.id: t.name for t in self.targets if t.kind == "account"}

    def confirmation_text(self) -> str:
        """What the confirmation asks: directory, method, counts and the account names."""
        directory = self.directory
        name = f"{directory.name} ({self.directory_id})" if directory else self.directory_id
        changes = [] if self.plan is None else list(self.plan.changes)
        names = self.names()
        accounts = list(dict.fromkeys(str(r.account_id) for r in changes))
        shown = [_named(a, names) for a in accounts[:10]]
        more = f" and {len(accounts) - 10} more" if len(accounts) > 10 else ""
        # Several Regions: one change per account and Region, so say how many.
        per_region = f" ({_count(len(changes), 'share')}, one per Region)" if len(changes) > len(accounts) else ""
        untouched = 0 if self.plan is None else len(self.plan.rows) - len(changes)
        verb = "changes" if untouched == 1 else "change"
        rest = f" {_count(untouched, 'other row')} (skip or refuse) {verb} nothing." if untouched else ""
        where = _regions_phrase(self.plan.regions if self.plan is not None else [], self.regions)
        return (
            f"Share {name}{where} by {self.method} with {_count(len(accounts), 'account')}: "
            f"{', '.join(shown)}{more}{per_region}?{rest}"
        )

    def result_message(self) -> str:
        """What the apply did, with counts, and the next step in the console's words."""
        if self.result is None:
            return ""
        counts = _outcomes(self.result)
        total = len(self.result)
        name = self.directory.name if self.directory else self.directory_id
        text = f"Applied the plan on {name}: {_count(total, 'row')}, {_outcome_line(counts)}."
        pending = self.pending_accounts()
        if pending:
            text += (
                f" {_count(len(pending), 'account')} must accept the invitation: open the "
                "Invitations tab and press Find invitations (those accounts are already chosen)."
            )
            elsewhere = self.pending_elsewhere()
            if elsewhere:
                text += (
                    f" The Invitations tab reads {self.directory.region if self.directory else 'this Region'} "
                    f"only: for {', '.join(elsewhere)}, connect to that Region or run respond_to_invitations."
                )
        elif self.method == ShareMethod.ORGANIZATIONS and counts.get(Outcome.DONE):
            text += " The accounts use the directory now; the Shares tab lists the records."
        return text

    def pending_elsewhere(self) -> list[str]:
        """Regions other than the connection's where the last apply left invitations pending."""
        if self.result is None or self.result.empty or "region" not in self.result.columns:
            return []
        here = self.directory.region if self.directory else ""
        rows = self.result[self.result["share_status"] == ShareStatus.PENDING_ACCEPTANCE]
        return [r for r in dict.fromkeys(str(x) for x in rows["region"]) if r and r != here]

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
    regions = List(Unicode(), help="Regions to list and unshare in, or ['all']; empty: the connection's")
    regions_available = List(Unicode(), help="'all' then the chosen directory's Regions (RegionsInfo)")

    @observe("directories", "directory_id")
    def _follow_regions(self, _: Any = None) -> None:
        found = [d for d in self.directories if d.directory_id == self.directory_id]
        self.regions_available, self.regions = _region_choices(found[0] if found else None, self.regions)

    @observe("directory_id", "regions")
    def _forget(self, _: Any = None) -> None:
        self.clear()

    def unsharable(self) -> list[tuple[str, str]]:
        """(label, account id) of records that can be unshared (not Deleted/Rejected/-ing)."""
        if self.frame is None or self.frame.empty:
            return []
        out = []
        states: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        for row in self.frame.to_dict("records"):
            if row["ShareStatus"] in _GONE_OR_GOING:
                continue
            account = str(row["SharedAccountId"])
            names[account] = str(row.get("account_name") or "")
            region = row.get("region")
            states.setdefault(account, []).append(f"{region} {row['ShareStatus']}" if region else str(row["ShareStatus"]))
        for account, status in states.items():
            name = f" {names[account]}" if names[account] else ""
            out.append((f"{account}{name} · {', '.join(status)}", account))
        return out

    def refresh(self) -> None:
        """Read the directory's share records again."""
        services = _need(self.services)
        if not self.directory_id:
            raise ConsoleStateError(
                "No directory is chosen.", next_step="Pick a directory above (Connect first if empty)."
            )
        self.frame = services.shares(self.directory_id, regions=_regions_argument(self.regions))
        allowed = {acct for _, acct in self.unsharable()}
        self.selected = [s for s in self.selected if s in allowed]

    @observe("selected")
    def _unconfirm(self, _: Any = None) -> None:
        self.confirming = False  # a confirmation names exactly what was selected

    def clear(self) -> None:
        """Forget records, selection and result (the connection changed)."""
        self.frame = None
        self.selected = []
        self.confirming = False
        self.result = None

    def names(self) -> dict[str, str]:
        """Account id -> name, from the share records read."""
        if self.frame is None or self.frame.empty:
            return {}
        return {str(r["SharedAccountId"]): str(r.get("account_name") or "") for r in self.frame.to_dict("records")}

    def directory_label(self) -> str:
        """``corp.example.com (d-...)``, or the id alone."""
        found = [d for d in self.directories if d.directory_id == self.directory_id]
        return f"{found[0].name} ({self.directory_id})" if found else self.directory_id

    def request_unshare(self) -> None:
        """Ask for confirmation before unsharing the selected accounts."""
        if not self.selected:
            raise ConsoleStateError(
                "No share is selected: nothing was unshared.",
                next_step="Select one or more accounts in the Unshare list, then press Unshare selected.",
            )
        self.confirming = True

    def confirmation_text(self) -> str:
        """What the confirmation asks: directory, count and account names."""
        names = self.names()
        shown = ", ".join(_named(a, names) for a in self.selected)
        where = _regions_phrase([], self.regions)
        return (
            f"Stop sharing {self.directory_label()}{where} with {_count(len(self.selected), 'account')}: "
            f"{shown}? They lose access to the directory."
        )

    def result_message(self) -> str:
        """What the unshare did, with counts and the next step."""
        if self.result is None:
            return ""
        counts = _outcomes(self.result)
        text = (
            f"Unshare on {self.directory_label()}: {_count(len(self.result), 'account')}, "
            f"{_outcome_line(counts)}."
        )
        if counts.get(Outcome.FAILED) or counts.get(Outcome.IN_DOUBT):
            text += " Read the result table, then press Refresh and try the rest again."
        else:
            text += " The share records below are read again."
        return text

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
        self.result = services.unshare(self.directory_id, accounts, regions=_regions_argument(self.regions))
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
    answer = Unicode("", help="'accept' or 'reject' while asking for confirmation, else ''")
    last = Unicode("", help="what the last confirmed answer did")

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

    def clear(self) -> None:
        """Forget what was found and answered (the connection changed)."""
        self.invitations = []
        self.acted = []
        self.selected = []
        self.answer = ""
        self.last = ""

    @observe("selected", "invitations")
    def _unconfirm(self, _: Any = None) -> None:
        self.answer = ""  # a confirmation names exactly what was selected

    def _chosen_pending(self) -> list[Invitation]:
        if not self.selected:
            raise ConsoleStateError(
                "No invitation is selected: nothing was answered.",
                next_step="Select one or more pending invitations in the Invitations list first.",
            )
        by_id = {i.shared_directory_id: i for i in self.invitations}
        not_pending = [s for s in self.selected if s in by_id and not by_id[s].pending]
        if not_pending:
            raise ConsoleStateError(
                f"{', '.join(not_pending)} is not PendingAcceptance.",
                next_step="Only pending invitations can be answered; press Find invitations to refresh.",
            )
        return [by_id[s] for s in self.selected if s in by_id]

    def request(self, accept: bool) -> None:
        """Review accepting (or rejecting) the selected invitations through the engine's plan.

        Nothing changes in AWS. Refused rows (guardrails, an owner outside the organization)
        raise :class:`ConsoleStateError` naming the accounts and the rule; otherwise the
        confirmation is shown (:meth:`confirmation_text`).
        """
        services = _need(self.services)
        chosen = self._chosen_pending()
        refused: list[str] = []
        for invitation in chosen:
            the_plan = services.plan_response(invitation, accept)
            for row in the_plan.refusals:
                if row.shared_directory_id in (None, invitation.shared_directory_id):
                    refused.append(f"{_named(invitation.account_id, self.names())}: {row.check} ({row.reason})")
        verb = "accept" if accept else "reject"
        if refused:
            raise ConsoleStateError(
                f"Refused before any call, nothing was {verb}ed: " + "; ".join(refused) + ".",
                next_step="Deselect these invitations; the guardrails policy decides who may "
                "accept (ask its owner to change it if this is wrong).",
            )
        self.answer = verb

    def cancel(self) -> None:
        """Drop the pending confirmation; nothing is answered."""
        self.answer = ""

    def confirm(self) -> None:
        """Carry out the confirmed answer (audited, write-ahead) in each consumer account."""
        services = _need(self.services)
        if not self.answer:
            raise ConsoleStateError(
                "Nothing was confirmed.", next_step="Press Accept or Reject, then Confirm."
            )
        accept = self.answer == "accept"
        chosen = self._chosen_pending()
        self.answer = ""
        updated = {i.shared_directory_id: i for i in self.invitations}
        done: list[Invitation] = []
        try:
            for invitation in chosen:
                updated[invitation.shared_directory_id] = services.respond(invitation, accept)
                done.append(updated[invitation.shared_directory_id])
                self.acted = [*self.acted, invitation.shared_directory_id]
        finally:
            self.invitations = [updated[i.shared_directory_id] for i in self.invitations]
            self.selected = []
            names = self.names()
            states = "; ".join(f"{_named(i.account_id, names)} now {i.status}" for i in done)
            verb = "Accept" if accept else "Reject"
            self.last = (
                f"{verb}ed {len(done)} of {_count(len(chosen), 'invitation')}" + (f": {states}." if states else ".")
            )
            if accept and done:
                self.last += " The owner's Shares tab shows them as Shared once they settle."

    def confirmation_text(self) -> str:
        """What the confirmation asks: each account, directory, owner and method."""
        by_id = {i.shared_directory_id: i for i in self.invitations}
        chosen = [by_id[s] for s in self.selected if s in by_id]
        names = self.names()
        lines = ", ".join(
            f"{_named(i.account_id, names)} ← {i.directory_name or i.owner_directory_id} "
            f"({i.owner_directory_id}) from {i.owner_account_id}, {i.method or 'unknown method'}"
            for i in chosen
        )
        return f"{self.answer.capitalize()} {_count(len(chosen), 'invitation')}: {lines}?"

    def names(self) -> dict[str, str]:
        """Account id -> name, from the organization."""
        return {a.id: a.name for a in self.accounts}

    def accept(self) -> None:
        """Ask to accept the selected invitations (then :meth:`confirm`)."""
        self.request(True)

    def reject(self) -> None:
        """Ask to reject the selected invitations (then :meth:`confirm`)."""
        self.request(False)

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
    runs_root = Unicode("runs", help="where a new export folder goes by default")
    folder = Unicode("", help="export folder; '' for a new folder under runs_root")
    exported = Unicode("")
    replace_pending = Bool(False, help="the folder holds an earlier snapshot: asking to replace it")
    names = AnyTrait(None, allow_none=True, help="account id -> name, from the organization")

    @observe("folder", "inventory")
    def _forget_replace(self, _: Any = None) -> None:
        self.replace_pending = False

    def clear(self) -> None:
        """Forget the collected inventory (the connection changed)."""
        self.inventory = None
        self.exported = ""
        self.replace_pending = False
        self.account = self.region = self.status = self.directory = ALL
        self.regions_available = []
        self.regions = []

    def label(self, column: str, value: str) -> str:
        """A filter value with its name next to the id (accounts and directories)."""
        inv: Inventory | None = self.inventory
        name = ""
        if column in ("SharedAccountId", "OwnerAccountId"):
            name = dict(self.names or {}).get(value, "")
            if not name and inv is not None and not inv.accounts.empty and "Id" in inv.accounts.columns:
                found = inv.accounts[inv.accounts["Id"] == value]
                name = str(found.iloc[0].get("Name", "")) if len(found) else ""
        elif column == "OwnerDirectoryId" and inv is not None and not inv.shares.empty:
            found = inv.shares[inv.shares["OwnerDirectoryId"] == value]
            if len(found) and "owner_directory_name" in found.columns:
                name = str(found.iloc[0]["owner_directory_name"] or "")
        return f"{name} ({value})" if name and name != "nan" else value

    def filter_text(self) -> str:
        """The active filters in words, or '' when none is set."""
        parts = []
        for label, value, column in (("account", self.account, "SharedAccountId"),
                                     ("Region", self.region, "region"),
                                     ("status", self.status, "ShareStatus"),
                                     ("directory", self.directory, "OwnerDirectoryId")):  # fmt: skip
            if value:
                parts.append(f"{label} {self.label(column, value)}")
        return ", ".join(parts)

    def findings_by_severity(self) -> pd.DataFrame:
        """Every finding of the collected inventory, most severe first."""
        inv: Inventory | None = self.inventory
        if inv is None:
            return pd.DataFrame()
        return findings(inv)

    def collected_at(self) -> str:
        """When the inventory was collected, in UTC."""
        inv: Inventory | None = self.inventory
        if inv is None:
            return ""
        when = inv.meta.collected_at
        if when.tzinfo is not None:
            when = when.astimezone(dt.UTC)
        return when.strftime("%Y-%m-%d %H:%M:%S UTC")

    def collect(self) -> None:
        """Collect the inventory over the chosen Regions."""
        services = _need(self.services)
        if not self.regions:
            raise ConsoleStateError(
                "No Region is chosen.", next_step="Select one or more Regions, then Collect."
            )
        self.inventory = None
        self.exported = ""
        self.account = self.region = self.status = self.directory = ALL
        self.inventory = services.collect_inventory(list(self.regions))

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
        shares = self.filtered_shares()
        owners = inv.directories[inv.directories["side"] == "owner"]
        found = findings(inv)
        tiles = {
            "owner directories": len(owners),
            "share records": len(shares),
            "shared": int((shares["ShareStatus"] == ShareStatus.SHARED).sum()),
            "pending invitations": int((shares["ShareStatus"] == ShareStatus.PENDING_ACCEPTANCE).sum()),
        }
        for severity in ("high", "medium", "low", "info"):
            tiles[f"{severity} findings"] = int((found["severity"] == severity).sum()) if len(found) else 0
        tiles["collection errors"] = len(inv.errors)
        return tiles

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
        frame = quota(inv)
        if self.region:
            frame = frame[frame["region"] == self.region]
        if self.directory:
            frame = frame[frame["DirectoryId"] == self.directory]
        return frame

    def _export_folder(self) -> str:
        folder = inputs.check_text(self.folder, "folder").strip()
        if not folder:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            folder = self.folder = str(Path(self.runs_root) / f"console-inventory-{stamp}")
        return folder

    def to_export(self) -> Inventory:
        """The inventory to write: with the active filters applied to its share records."""
        inv: Inventory = self.inventory
        if not self.filter_text():
            return inv
        shares = self.filtered_shares()
        directories = inv.directories
        if self.region:
            directories = directories[directories["region"] == self.region]
        if self.directory:
            directories = directories[directories["DirectoryId"] == self.directory]
        return dataclasses.replace(inv, shares=shares, directories=directories)

    def export_note(self) -> str:
        """What the export holds: everything, or the filtered records (and which filter)."""
        inv: Inventory | None = self.inventory
        if inv is None:
            return ""
        active = self.filter_text()
        if not active:
            return f"all {len(inv.shares)} share records (no filter)"
        return f"{len(self.filtered_shares())} of {len(inv.shares)} share records (filter: {active})"

    def export(self) -> None:
        """Write the snapshot and the HTML report into ``folder`` (new or empty).

        An empty ``folder`` means a new folder under ``runs_root``. The active filters
        apply (:meth:`export_note` says so). A folder holding other files is refused; one
        holding an earlier dsshare snapshot sets ``replace_pending`` and raises
        :class:`ConsoleStateError` (nothing is written) until the operator confirms with
        :meth:`confirm_replace`.
        """
        services = _need(self.services)
        if self.inventory is None:
            raise ConsoleStateError(
                "No inventory has been collected.", next_step="Press Collect first, then Export report."
            )
        folder = self._export_folder()
        if is_snapshot_folder(folder) and any(Path(folder).iterdir()):
            self.replace_pending = True
            raise ConsoleStateError(
                f"{folder} holds an earlier dsshare snapshot; nothing was written.",
                next_step="Press Replace snapshot to replace it with this inventory, or Keep it "
                "and clear the Folder box (a new folder under runs/ is made).",
            )
        check_output_folder(folder, parameter="folder")
        self.exported = str(services.export_inventory(self.to_export(), folder))

    def confirm_replace(self) -> None:
        """Replace the earlier snapshot in ``folder`` (after :meth:`export` asked)."""
        services = _need(self.services)
        if not self.replace_pending or self.inventory is None:
            raise ConsoleStateError("Nothing is waiting to replace.", next_step="Press Export first.")
        folder = self._export_folder()
        self.exported = str(services.export_inventory(self.to_export(), folder, replace=True))
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
        self.share.observe(self._follow_directories, "directories")
        self.shares.observe(self._after_unshare, "result")

    @property
    def connected(self) -> bool:
        """True while the console holds a working connection."""
        return self.services is not None and self.connection.identity is not None

    def header(self) -> str:
        """The line every tab shows: who the console acts as, where, and through what."""
        ident: Identity | None = self.connection.identity
        if ident is None or self.services is None:
            return "Not connected: open the Connection tab and press Connect."
        names = self.share.names()
        who = _named(ident.account_id, names)
        return f"Account {who} · Region {ident.region} · Endpoint {ident.endpoint_url or 'AWS'}"

    def _follow_directory(self, change: dict[str, Any]) -> None:
        self.shares.directory_id = change["new"]

    def _follow_directories(self, change: dict[str, Any]) -> None:
        self.shares.directories = list(change["new"])

    def _follow_result(self, change: dict[str, Any]) -> None:
        pending = self.share.pending_accounts()
        if pending:
            self.invitations.chosen = pending

    def _after_unshare(self, change: dict[str, Any]) -> None:
        if change["new"] is not None and self.services is not None:
            self.share.refresh_directories()  # the headroom label follows the unshare

    def disconnect(self) -> None:
        """Drop the connection and everything read or planned through it."""
        self.services = None
        self.connection.identity = None
        for model in (self.share, self.shares, self.invitations, self.inventory):
            model.services = None
        self.share.clear()
        self.share.directories = []
        self.share.directory_id = ""
        self.share.targets = []
        self.share.selected = []
        self.share.owner_account_id = ""
        self.shares.clear()
        self.shares.directories = []
        self.invitations.clear()
        self.invitations.accounts = []
        self.invitations.chosen = []
        self.inventory.clear()

    def connect(self) -> None:
        """Connect with the Connection tab's choices and load every tab's choices.

        Whatever was read, planned or shown through an earlier connection goes first; a
        failed connect leaves the console disconnected (its action tabs say so), never on
        the earlier connection.
        """
        c = self.connection
        profile, region, endpoint = (
            inputs.check_text(value, name).strip() or None
            for value, name in ((c.profile, "profile"), (c.region, "region"), (c.endpoint_url, "endpoint"))
        )
        self.disconnect()
        try:
            services = self.factory(profile, region, endpoint)
            identity = services.identity()
            for model in (self.share, self.shares, self.invitations, self.inventory):
                model.services = services
            self.share.owner_account_id = identity.account_id
            self.share.load()
        except BaseException:
            self.disconnect()
            raise
        self.services = services
        c.identity = identity
        self.shares.directories = list(self.share.directories)
        self.shares.directory_id = self.share.directory_id
        self.invitations.accounts = [t for t in self.share.targets if t.kind == "account"]
        inv = self.inventory
        inv.regions_available = partition_regions(
            identity.region, c.regions, identity.enabled_regions
        )
        inv.regions = [identity.region]


def default_region() -> str:
    """The Region boto3 would use, else us-east-1."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
