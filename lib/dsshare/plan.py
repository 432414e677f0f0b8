"""Plan: compare what is asked for with live state; one row per target, with a reason.

Row actions are ``share``, ``unshare``, ``accept``, ``reject``, ``leave`` (calls apply will
make), ``skip`` (already in the wanted state) and ``refuse`` (a preflight check failed; see
:mod:`dsshare.preflight` for the check codes). Deleted and Rejected records never count as
shared, so an account once unshared is shared again.

A plan carries a fingerprint: sha256 over the request and the live facts it was computed
from. :func:`dsshare.apply.apply` re-plans and refuses when the fingerprint differs from the
one the operator reviewed.

The row logic (:func:`build_rows`, :func:`fingerprint`) is pure; :func:`plan` and
:func:`plan_desired_state` gather the facts and call it.

Example
-------
>>> p = plan(conn, "d-1234567890", ["ou-ab12-cd34ef56"], method="ORGANIZATIONS")  # doctest: +SKIP
>>> p.to_frame()[["account_id", "action", "reason"]]                            # doctest: +SKIP
>>> apply(conn, p, expected_fingerprint=p.fingerprint)                          # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from dsshare.errors import AwsError, PreflightError
from dsshare.guardrails import Guardrails, active_guardrails
from dsshare.preflight import (
    DirectoryFacts,
    OrgFacts,
    active_share_count,
    directory_refusals,
    quota_for,
    target_refusal,
)
from dsshare.validation import (
    validate_account_id,
    validate_action,
    validate_directory_id,
    validate_method,
    validate_notes,
    validate_region,
    validate_targets,
)

if TYPE_CHECKING:
    from dsshare.connection import Connection
    from dsshare.desired import DesiredState

__all__ = [
    "MUTATING_ACTIONS",
    "PLAN_COLUMNS",
    "Plan",
    "PlanRow",
    "ShareRequest",
    "build_rows",
    "fingerprint",
    "plan",
    "plan_desired_state",
]

logger = logging.getLogger(__name__)

MUTATING_ACTIONS: frozenset[str] = frozenset({"share", "unshare", "accept", "reject", "leave"})

#: Columns of :meth:`Plan.to_frame`, in order.
#:
#: directory_id, region, owner_account_id
#:     the owner directory, its Region and account.
#: account_id
#:     the target account.
#: action
#:     share | unshare | accept | reject | leave | skip | refuse.
#: reason
#:     why, in words.
#: check
#:     preflight check code for ``refuse`` rows (see :mod:`dsshare.preflight`), else None.
#: method
#:     ShareMethod (requested for share rows, the record's for others).
#: share_status, shared_directory_id
#:     the target's current record (ShareStatus, SharedDirectoryId), None if never shared.
#: external
#:     True for a HANDSHAKE target outside the organization.
PLAN_COLUMNS: tuple[str, ...] = (
    "directory_id",
    "region",
    "owner_account_id",
    "account_id",
    "action",
    "reason",
    "check",
    "method",
    "share_status",
    "shared_directory_id",
    "external",
)


@dataclass(frozen=True)
class ShareRequest:
    """What the operator asked for, for one directory (targets as given, before expansion)."""

    directory_id: str
    targets: tuple[str, ...]
    action: str = "share"
    method: str = "HANDSHAKE"
    notes: str = field(default="", repr=False)
    region: str | None = None
    owner_account_id: str | None = None
    allow_external: bool = False
    prune: bool = False

    def identity(self, accounts: Sequence[str]) -> dict[str, Any]:
        """Canonical request data for the fingerprint; notes only as a hash."""
        data = asdict(self)
        data["notes"] = hashlib.sha256(self.notes.encode("utf-8")).hexdigest()
        data["targets"] = list(self.targets)
        data["accounts"] = list(accounts)
        return data


@dataclass(frozen=True)
class PlanRow:
    """One decision for one target account."""

    directory_id: str
    region: str
    owner_account_id: str
    account_id: str
    action: str
    reason: str
    check: str | None = None
    method: str | None = None
    share_status: str | None = None
    shared_directory_id: str | None = None
    external: bool = False


@dataclass(frozen=True)
class Plan:
    """Rows to review and apply, plus the fingerprint of the state they came from.

    ``requests`` keep what was asked (apply re-plans from them); ``desired`` is set for a
    desired-state plan; ``guardrails`` is the policy passed explicitly, if any (otherwise
    re-planning applies ``DSSHARE_GUARDRAILS`` again, and a changed policy changes the
    fingerprint).
    """

    requests: tuple[ShareRequest, ...]
    rows: tuple[PlanRow, ...]
    fingerprint: str
    desired: DesiredState | None = field(default=None, repr=False)
    guardrails: Guardrails | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame with :data:`PLAN_COLUMNS` (also when empty)."""
        frame = pd.DataFrame(
            [asdict(row) for row in self.rows], columns=list(PLAN_COLUMNS), dtype=object
        )
        return frame.astype({"external": bool})

    @property
    def refusals(self) -> list[PlanRow]:
        """Rows preflight refused."""
        return [row for row in self.rows if row.action == "refuse"]

    @property
    def changes(self) -> list[PlanRow]:
        """Rows apply will act on."""
        return [row for row in self.rows if row.action in MUTATING_ACTIONS]

    def summary(self) -> dict[str, int]:
        """Count of rows per action, e.g. ``{"share": 3, "skip": 2}``."""
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.action] = counts.get(row.action, 0) + 1
        return counts

    def raise_for_refusals(self) -> None:
        """Raise PreflightError listing every refused row, if any."""
        if self.refusals:
            raise PreflightError(
                [(row.account_id, row.check or "", row.reason) for row in self.refusals]
            )


# -- pure decision logic -----------------------------------------------------------------


def _row(directory: DirectoryFacts, account_id: str, action: str, reason: str, **extra: Any) -> PlanRow:
    return PlanRow(
        directory_id=directory.directory_id,
        region=directory.region,
        owner_account_id=directory.owner_account_id,
        account_id=account_id,
        action=action,
        reason=reason,
        **extra,
    )


def _decide(
    request: ShareRequest, account_id: str, directory: DirectoryFacts, org: OrgFacts
) -> PlanRow:
    """The row for one target once directory-level checks passed (quota comes later)."""
    current = directory.current_share(account_id)
    known = {
        "share_status": current.status if current else None,
        "shared_directory_id": current.shared_directory_id if current else None,
        "method": current.method if current else None,
    }
    status = current.status if current else None
    if request.action == "share" and status in ("Shared", "PendingAcceptance", "Sharing"):
        # Already shared: nothing will be called, so membership checks do not apply.
        if account_id != directory.owner_account_id:
            return _decide_share(request, account_id, directory, org, True, status, known)
    refusal = target_refusal(
        request.action, request.method, account_id, directory, org, request.allow_external
    )
    if refusal is not None:
        method = request.method if request.action == "share" else known["method"]
        return _row(
            directory, account_id, "refuse", refusal.reason, check=refusal.check,
            **{**known, "method": method},
        )  # fmt: skip
    if request.action == "share":
        return _decide_share(request, account_id, directory, org, current is not None, status, known)
    if request.action == "unshare":
        if status in (None, "Deleted", "Rejected"):
            return _row(directory, account_id, "skip", "not shared", **known)
        if status in ("Deleting", "Rejecting"):
            return _row(directory, account_id, "skip", f"already {status}", **known)
        return _row(directory, account_id, "unshare", f"currently {status}", **known)
    # consumer actions: accept, reject, leave
    if status is None:
        return _row(directory, account_id, "skip", "not shared with this account", **known)
    wanted = {"accept": "Shared", "reject": "Rejected", "leave": "Deleted"}[request.action]
    if status == wanted:
        return _row(directory, account_id, "skip", f"already {status}", **known)
    if request.action == "leave":
        if status == "Shared":
            return _row(directory, account_id, "leave", "Shared; the consumer leaves", **known)
        hint = "; use reject" if status == "PendingAcceptance" else ""
        return _row(directory, account_id, "skip", f"{status}, nothing to leave{hint}", **known)
    if status == "PendingAcceptance":
        return _row(directory, account_id, request.action, "PendingAcceptance", **known)
    if status in ("Sharing", "Rejecting", "Deleting", "RejectFailed"):
        return _row(
            directory, account_id, "refuse", f"share is {status}; re-plan once it settles",
            check="ShareInTransition", **known,
        )  # fmt: skip
    return _row(
        directory, account_id, "skip", f"{status}; only PendingAcceptance can be {request.action}ed",
        **known,
    )  # fmt: skip


def _decide_share(
    request: ShareRequest,
    account_id: str,
    directory: DirectoryFacts,
    org: OrgFacts,
    has_record: bool,
    status: str | None,
    known: dict[str, Any],
) -> PlanRow:
    external = org.members is None or account_id not in org.members
    if status in ("Shared", "PendingAcceptance", "Sharing"):
        reason = f"already {status}"
        if known["method"] and known["method"] != request.method:
            reason += f" with {known['method']} (unshare first to change method)"
        return _row(directory, account_id, "skip", reason, **known)
    if status in ("Deleting", "Rejecting", "RejectFailed"):
        return _row(
            directory, account_id, "refuse", f"share is {status}; re-plan once it settles",
            check="ShareInTransition", **known,
        )  # fmt: skip
    if status is None:
        reason = "not shared"
    else:
        reason = f"previously {status}; sharing again"
    if request.method == "HANDSHAKE" and external:
        reason += " (external account)"
    return _row(
        directory, account_id, "share", reason,
        method=request.method, share_status=known["share_status"],
        shared_directory_id=known["shared_directory_id"],
        external=request.method == "HANDSHAKE" and external,
    )  # fmt: skip


def _apply_quota(rows: list[PlanRow], directory: DirectoryFacts) -> list[PlanRow]:
    """Refuse share rows beyond the edition quota's headroom (first come, first kept)."""
    quota = quota_for(directory.edition)
    headroom = quota - active_share_count(directory)
    result: list[PlanRow] = []
    for row in rows:
        if row.action == "share":
            if headroom <= 0:
                row = PlanRow(
                    **{
                        **asdict(row),
                        "action": "refuse",
                        "check": "QuotaExceeded",
                        "reason": (
                            f"{directory.edition or 'unknown'} edition allows {quota} shares "
                            f"in {directory.region}; {active_share_count(directory)} in use"
                        ),
                    }
                )
            else:
                headroom -= 1
        result.append(row)
    return result


def build_rows(
    request: ShareRequest,
    accounts: Sequence[str],
    directory: DirectoryFacts,
    org: OrgFacts,
    *,
    quota: bool = True,
) -> list[PlanRow]:
    """Decide one row per account for one directory (pure).

    With ``request.prune`` (share only), active records of accounts not in ``accounts``
    get ``unshare`` rows after the requested ones. ``quota=False`` leaves the quota check
    to the caller (the planner applies guardrails first, so refused rows use no headroom).
    """
    refusals = directory_refusals(request.action, request.method, directory, org)
    listed = list(accounts)
    if request.prune and request.action == "share" and not refusals:
        wanted = set(listed)
        for share in directory.shares:
            if share.active and share.account_id not in wanted and share.account_id not in listed:
                listed.append(share.account_id)
    if refusals:
        first = refusals[0]
        reason = "; ".join(r.reason for r in refusals)
        return [
            _row(directory, account_id, "refuse", reason, check=first.check,
                 method=request.method if request.action == "share" else None)
            for account_id in listed
        ]  # fmt: skip
    wanted_set = set(accounts)
    rows: list[PlanRow] = []
    for account_id in listed:
        if account_id in wanted_set:
            rows.append(_decide(request, account_id, directory, org))
        else:
            unshare = ShareRequest(
                directory_id=request.directory_id, targets=(account_id,), action="unshare"
            )
            row = _decide(unshare, account_id, directory, org)
            rows.append(
                PlanRow(**{**asdict(row), "reason": f"not in desired state (prune); {row.reason}"})
            )
    if quota and request.action == "share":
        rows = _apply_quota(rows, directory)
    return rows


def fingerprint(
    entries: Iterable[tuple[ShareRequest, Sequence[str], DirectoryFacts]],
    org: OrgFacts,
    policy: Mapping[str, Any] | None = None,
) -> str:
    """sha256 hex over the requests, expanded accounts and the facts that decide the rows.

    ``policy`` is the guardrails policy's identity (and the accounts below its allowed
    OUs), when one applies. Timestamps and ShareNotes text never enter it; only facts the
    planner reads.
    """
    every_account: list[str] = []
    body: list[dict[str, Any]] = []
    for request, accounts, directory in entries:
        every_account.extend(accounts)
        every_account.extend(share.account_id for share in directory.shares)
        body.append({"request": request.identity(accounts), "directory": directory.identity()})
    canonical = json.dumps(
        {
            "version": 1,
            "entries": body,
            "organization": org.identity(every_account),
            "guardrails": None if policy is None else dict(policy),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- live planning -----------------------------------------------------------------------


def _policy_accounts(conn: Connection, policy: Guardrails) -> frozenset[str] | None:
    """Accounts below the policy's allowed OUs; None (only listed accounts allowed) if unreadable."""
    from dsshare.organization import expand_targets

    if not policy.allowed_ous:
        return frozenset()
    try:
        return frozenset(expand_targets(conn, sorted(policy.allowed_ous)))
    except AwsError as err:
        logger.warning("guardrails: allowed OUs unreadable (%s); only listed accounts allowed", err.code)
        return None


def _plan_requests(
    conn: Connection,
    requests: Sequence[ShareRequest],
    desired: DesiredState | None,
    guardrails: Guardrails | None,
) -> Plan:
    from dsshare.facts import gather_directory, gather_organization
    from dsshare.organization import expand_targets

    policy = active_guardrails(guardrails)  # before any call: a bad policy file fails closed
    org = gather_organization(conn)
    entries: list[tuple[ShareRequest, list[str], DirectoryFacts]] = []
    blocks: list[list[PlanRow]] = []
    for request in requests:
        accounts = expand_targets(conn, request.targets) if request.targets else []
        directory = gather_directory(
            conn,
            request.directory_id,
            request.region or conn.region,
            request.owner_account_id or conn.caller_account_id,
        )
        entries.append((request, accounts, directory))
        blocks.append(build_rows(request, accounts, directory, org, quota=False))
    policy_identity: dict[str, Any] | None = None
    if policy is not None:
        below = _policy_accounts(conn, policy)
        policy_identity = {
            "policy": policy.identity(),
            "ou_accounts": None if below is None else sorted(below),
        }
        # One policy over the whole plan (max_targets_per_run counts every directory).
        actions = [entry[0].action for entry, block in zip(entries, blocks, strict=True)
                   for _ in block]  # fmt: skip
        enforced = iter(
            policy.enforce([row for block in blocks for row in block], below, actions)
        )
        blocks = [[next(enforced) for _ in block] for block in blocks]
    rows: list[PlanRow] = []
    for (request, _, directory), block in zip(entries, blocks, strict=True):
        rows.extend(_apply_quota(block, directory) if request.action == "share" else block)
    return Plan(
        requests=tuple(requests),
        rows=tuple(rows),
        fingerprint=fingerprint(entries, org, policy_identity),
        desired=desired,
        guardrails=guardrails,
    )


def plan(
    conn: Connection,
    directory_id: str,
    targets: Sequence[str],
    method: str = "HANDSHAKE",
    notes: str = "",
    action: str = "share",
    allow_external: bool = False,
    region: str | None = None,
    *,
    owner_account_id: str | None = None,
    guardrails: Guardrails | None = None,
) -> Plan:
    """Plan one action on one directory for accounts and OUs (expanded recursively).

    Every input is validated before any AWS call. Reads the directory, its share records
    and the organization; changes nothing.

    Parameters
    ----------
    conn
        The connection.
    directory_id
        The owner directory.
    targets
        Account ids, OU ids, root ids.
    method, notes
        ShareMethod and ShareNotes for ``share``.
    action
        share, unshare, accept, reject or leave.
    allow_external
        Allow HANDSHAKE targets outside the organization.
    region, owner_account_id
        Where the directory lives (defaults: the connection's Region and the caller).
    guardrails
        Policy limiting new shares (:mod:`dsshare.guardrails`); None applies the file
        named by ``DSSHARE_GUARDRAILS``, if set. Breaches become ``refuse`` rows.

    Example
    -------
    >>> p = plan(conn, "d-1234567890", ["200000000004"], method="ORGANIZATIONS")  # doctest: +SKIP
    >>> p.summary()                                                             # doctest: +SKIP
    {'share': 1}
    """
    request = ShareRequest(
        directory_id=validate_directory_id(directory_id),
        targets=tuple(validate_targets(targets)),
        action=validate_action(action),
        method=validate_method(method),
        notes=validate_notes(notes),
        region=None if region is None else validate_region(region),
        owner_account_id=(
            None if owner_account_id is None else validate_account_id(owner_account_id, "owner_account_id")
        ),
        allow_external=bool(allow_external),
    )
    return _plan_requests(conn, [request], None, guardrails)


def plan_desired_state(
    conn: Connection,
    desired: DesiredState,
    prune: bool = False,
    *,
    guardrails: Guardrails | None = None,
) -> Plan:
    """Plan shares for every directory of a desired state; ``prune`` unshares the unlisted.

    ``prune`` here, at the top of the desired state or on a directory entry turns pruning
    on for that directory. ``guardrails`` as for :func:`plan`.

    Example
    -------
    >>> state = load_desired_state("parameters/desired_state.example.yaml")  # doctest: +SKIP
    >>> plan_desired_state(conn, state, prune=True).to_frame()             # doctest: +SKIP
    """
    requests = [
        ShareRequest(
            directory_id=entry.directory_id,
            targets=entry.targets,
            action="share",
            method=entry.method,
            notes=entry.notes,
            region=entry.region,
            owner_account_id=entry.owner_account_id,
            allow_external=entry.allow_external,
            prune=bool(prune or desired.prune or entry.prune),
        )
        for entry in desired.directories
    ]
    return _plan_requests(conn, requests, desired, guardrails)


def replan(conn: Connection, previous: Plan) -> Plan:
    """Plan the same request again against live state (used by apply)."""
    return _plan_requests(conn, previous.requests, previous.desired, previous.guardrails)
