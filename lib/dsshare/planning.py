"""Planning: compare what is asked for with live state; one row per target, with a reason.

Owner-side requests (:func:`plan`, :func:`plan_desired_state`) and consumer-side ones
(:func:`plan_responses`: accept or reject the invitations consumer accounts see) make the
same :class:`~dsshare.model.PlanRow` rows in the same :class:`Plan`, which
:func:`dsshare.execution.apply` runs. Row actions are ``share``, ``unshare``, ``accept``,
``reject``, ``leave`` (calls apply will make), ``skip`` (already in the wanted state) and
``refuse`` (a preflight or guardrails check failed; see :mod:`dsshare.preflight` and
:mod:`dsshare.guardrails` for the check codes). Deleted and Rejected records never count
as shared, so an account once unshared is shared again.

A plan carries a fingerprint: sha256 over the request and the live facts it was computed
from. :func:`dsshare.execution.apply` re-plans and refuses when the fingerprint differs
from the one the operator reviewed.

The row logic (:func:`build_rows`, :func:`decide_responses`, :func:`fingerprint`) is pure;
:func:`plan`, :func:`plan_desired_state` and :func:`plan_responses` gather the facts
(:mod:`dsshare.facts`) and call it.

Example
-------
>>> p = plan(conn, "d-1234567890", ["ou-ab12-cd34ef56"], method="ORGANIZATIONS")  # doctest: +SKIP
>>> p.to_frame()[["account_id", "action", "reason"]]                            # doctest: +SKIP
>>> apply(conn, p, expected_fingerprint=p.fingerprint)                          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from dsshare.connection import Connection
from dsshare.desired import DesiredState
from dsshare.errors import AwsError, ParameterError, PreflightError
from dsshare.facts import (
    Invitation,
    ReadFailure,
    gather_directory,
    gather_invitations,
    gather_organization,
    resolve_accounts,
)
from dsshare.guardrails import Guardrails, active_guardrails
from dsshare.model import (
    ALL,
    INACTIVE_STATUSES,
    MUTATING_ACTIONS,
    PLAN_COLUMNS,
    SETTLING_STATUSES,
    Action,
    PlanRow,
    ShareMethod,
    ShareStatus,
    Side,
)
from dsshare.organization import expand_targets
from dsshare.preflight import (
    DirectoryFacts,
    OrgFacts,
    active_share_count,
    directory_refusals,
    owner_is_external,
    owner_refusal,
    quota_for,
    target_refusal,
)
from dsshare.validation import (
    validate_account_id,
    validate_action,
    validate_directory_id,
    validate_method,
    validate_notes,
    validate_positive,
    validate_region,
    validate_regions,
    validate_targets,
)

__all__ = [
    "MUTATING_ACTIONS",
    "PLAN_COLUMNS",
    "Plan",
    "PlanRow",
    "ResponseRequest",
    "ShareRequest",
    "build_rows",
    "decide_responses",
    "fingerprint",
    "plan",
    "plan_desired_state",
    "plan_responses",
    "replan",
]

logger = logging.getLogger(__name__)

#: Consumer actions :func:`plan_responses` plans.
RESPONSE_ACTIONS: tuple[Action, ...] = (Action.ACCEPT, Action.REJECT, Action.LEAVE)


@dataclass(frozen=True)
class ShareRequest:
    """What the operator asked for, for one directory (targets as given, before expansion)."""

    directory_id: str
    targets: tuple[str, ...]
    action: str = Action.SHARE
    method: str = ShareMethod.HANDSHAKE
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
class ResponseRequest:
    """What the operator asked of consumer accounts: accept or reject their invitations.

    ``accounts`` holds account and OU ids, or ``["ALL"]``; empty owner filters mean any
    owner. ``allow_external_owners`` allows accepting from owners outside the organization.
    """

    accounts: tuple[str, ...]
    action: str
    regions: tuple[str, ...] = ()
    owner_account_ids: tuple[str, ...] = ()
    owner_directory_ids: tuple[str, ...] = ()
    allow_external_owners: bool = False

    def identity(self, accounts: Sequence[str]) -> dict[str, Any]:
        """Canonical request data for the fingerprint."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        data["resolved_accounts"] = list(accounts)
        return data


@dataclass(frozen=True)
class Plan:
    """Rows to review and apply, plus the fingerprint of the state they came from.

    ``requests`` keep what was asked of owner directories and ``responses`` what was asked
    of consumer accounts (apply re-plans from both); ``desired`` is set for a
    desired-state plan; ``guardrails`` is the policy passed explicitly, if any (otherwise
    re-planning applies ``DSSHARE_GUARDRAILS`` again, and a changed policy changes the
    fingerprint).
    """

    requests: tuple[ShareRequest, ...]
    rows: tuple[PlanRow, ...]
    fingerprint: str
    desired: DesiredState | None = field(default=None, repr=False)
    guardrails: Guardrails | None = field(default=None, repr=False)
    responses: tuple[ResponseRequest, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame with :data:`PLAN_COLUMNS` (also when empty)."""
        frame = pd.DataFrame(
            [asdict(row) for row in self.rows], columns=list(PLAN_COLUMNS), dtype=object
        )
        return frame.astype({"external": bool})

    @property
    def refusals(self) -> list[PlanRow]:
        """Rows preflight refused."""
        return [row for row in self.rows if row.action == Action.REFUSE]

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


#: A share request finds these already done (or on the way): skip.
_SHARED_OR_ON_ITS_WAY = frozenset(
    {ShareStatus.SHARED, ShareStatus.PENDING_ACCEPTANCE, ShareStatus.SHARING}
)


def _at(directory: DirectoryFacts, account_id: str) -> dict[str, Any]:
    return {
        "directory_id": directory.directory_id,
        "region": directory.region,
        "owner_account_id": directory.owner_account_id,
        "account_id": account_id,
    }


def _consumer_row(action: str, status: str, **fields: Any) -> PlanRow:
    """The row for a consumer action (accept, reject, leave) on a share now in ``status``.

    The same decision whether the share was read on the owner's side or the consumer's.
    """
    wanted = {Action.ACCEPT: ShareStatus.SHARED, Action.REJECT: ShareStatus.REJECTED,
              Action.LEAVE: ShareStatus.DELETED}[Action(action)]  # fmt: skip
    if status == wanted:
        return PlanRow(action=Action.SKIP, reason=f"already {status}", **fields)
    if action == Action.LEAVE:
        if status == ShareStatus.SHARED:
            return PlanRow(action=Action.LEAVE, reason="Shared; the consumer leaves", **fields)
        hint = "; use reject" if status == ShareStatus.PENDING_ACCEPTANCE else ""
        return PlanRow(action=Action.SKIP, reason=f"{status}, nothing to leave{hint}", **fields)
    if status == ShareStatus.PENDING_ACCEPTANCE:
        return PlanRow(action=action, reason=str(status), **fields)
    if status in SETTLING_STATUSES or status == ShareStatus.REJECT_FAILED:
        return PlanRow(
            action=Action.REFUSE, reason=f"share is {status}; re-plan once it settles",
            check="ShareInTransition", **fields,
        )  # fmt: skip
    hint = ""
    if status == ShareStatus.SHARED:
        hint = " (to stop using a Shared directory, leave it)"
    return PlanRow(
        action=Action.SKIP,
        reason=f"{status}; only {ShareStatus.PENDING_ACCEPTANCE} can be {action}ed{hint}",
        **fields,
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
    if request.action == Action.SHARE and status in _SHARED_OR_ON_ITS_WAY:
        # Already shared: nothing will be called, so membership checks do not apply.
        if account_id != directory.owner_account_id:
            return _decide_share(request, account_id, directory, org, True, status, known)
    refusal = target_refusal(
        request.action, request.method, account_id, directory, org, request.allow_external
    )
    if refusal is not None:
        method = request.method if request.action == Action.SHARE else known["method"]
        return _row(
            directory, account_id, Action.REFUSE, refusal.reason, check=refusal.check,
            **{**known, "method": method},
        )  # fmt: skip
    if request.action == Action.SHARE:
        return _decide_share(request, account_id, directory, org, current is not None, status, known)
    if request.action == Action.UNSHARE:
        if status is None or status in INACTIVE_STATUSES:
            return _row(directory, account_id, Action.SKIP, "not shared", **known)
        if status in (ShareStatus.DELETING, ShareStatus.REJECTING):
            return _row(directory, account_id, Action.SKIP, f"already {status}", **known)
        return _row(directory, account_id, Action.UNSHARE, f"currently {status}", **known)
    # consumer actions: accept, reject, leave
    if status is None:
        return _row(directory, account_id, Action.SKIP, "not shared with this account", **known)
    external = owner_is_external(directory.owner_account_id, org)
    row = _consumer_row(
        request.action, status, **_at(directory, account_id), **known,
        external=external and request.action == Action.ACCEPT,
    )  # fmt: skip
    refusal = owner_refusal(row.action, directory.owner_account_id, org, request.allow_external)
    if refusal is not None:
        row = dataclasses.replace(row, action=Action.REFUSE, check=refusal.check, reason=refusal.reason)
    return row


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
    if status in _SHARED_OR_ON_ITS_WAY:
        reason = f"already {status}"
        if known["method"] and known["method"] != request.method:
            reason += f" with {known['method']} (unshare first to change method)"
        return _row(directory, account_id, Action.SKIP, reason, **known)
    if status in (ShareStatus.DELETING, ShareStatus.REJECTING, ShareStatus.REJECT_FAILED):
        return _row(
            directory, account_id, Action.REFUSE, f"share is {status}; re-plan once it settles",
            check="ShareInTransition", **known,
        )  # fmt: skip
    if status is None:
        reason = "not shared"
    else:
        reason = f"previously {status}; sharing again"
    if request.method == ShareMethod.HANDSHAKE and external:
        reason += " (external account)"
    return _row(
        directory, account_id, Action.SHARE, reason,
        method=request.method, share_status=known["share_status"],
        shared_directory_id=known["shared_directory_id"],
        external=request.method == ShareMethod.HANDSHAKE and external,
    )  # fmt: skip


def _apply_quota(rows: list[PlanRow], directory: DirectoryFacts) -> list[PlanRow]:
    """Refuse share rows beyond the edition quota's headroom (first come, first kept)."""
    quota = quota_for(directory.edition)
    headroom = quota - active_share_count(directory)
    result: list[PlanRow] = []
    for row in rows:
        if row.action == Action.SHARE:
            if headroom <= 0:
                row = PlanRow(
                    **{
                        **asdict(row),
                        "action": Action.REFUSE,
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
    if request.prune and request.action == Action.SHARE and not refusals:
        wanted = set(listed)
        for share in directory.shares:
            if share.active and share.account_id not in wanted and share.account_id not in listed:
                listed.append(share.account_id)
    if refusals:
        first = refusals[0]
        reason = "; ".join(r.reason for r in refusals)
        return [
            _row(directory, account_id, Action.REFUSE, reason, check=first.check,
                 method=request.method if request.action == Action.SHARE else None)
            for account_id in listed
        ]  # fmt: skip
    wanted_set = set(accounts)
    rows: list[PlanRow] = []
    for account_id in listed:
        if account_id in wanted_set:
            rows.append(_decide(request, account_id, directory, org))
        else:
            unshare = ShareRequest(
                directory_id=request.directory_id, targets=(account_id,), action=Action.UNSHARE
            )
            row = _decide(unshare, account_id, directory, org)
            rows.append(
                PlanRow(**{**asdict(row), "reason": f"not in desired state (prune); {row.reason}"})
            )
    if quota and request.action == Action.SHARE:
        rows = _apply_quota(rows, directory)
    return rows


def fingerprint(
    entries: Iterable[tuple[ShareRequest, Sequence[str], DirectoryFacts]],
    org: OrgFacts,
    policy: Mapping[str, Any] | None = None,
    responses: Iterable[ResponseFacts] = (),
) -> str:
    """sha256 hex over the requests, expanded accounts and the facts that decide the rows.

    ``policy`` is the guardrails policy's identity (and the accounts below its allowed
    OUs), when one applies. ``responses`` are the consumer-side requests with what their
    accounts were seen to hold. Timestamps and ShareNotes text never enter it; only facts
    the planner reads.
    """
    every_account: list[str] = []
    body: list[dict[str, Any]] = []
    for request, accounts, directory in entries:
        every_account.extend(accounts)
        every_account.extend(share.account_id for share in directory.shares)
        body.append({"request": request.identity(accounts), "directory": directory.identity()})
    document: dict[str, Any] = {"version": 1, "entries": body}
    consumer = [facts.identity() for facts in responses]
    if consumer:
        document["responses"] = consumer
        for facts in responses:
            every_account.extend(facts.accounts)
            every_account.extend(inv.owner_account_id for inv in facts.invitations)
    document["organization"] = org.identity(every_account)
    document["guardrails"] = None if policy is None else dict(policy)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- consumer side (pure) -------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseFacts:
    """A consumer-side request and what its accounts were seen to hold."""

    request: ResponseRequest
    accounts: tuple[str, ...]
    invitations: tuple[Invitation, ...]
    failures: tuple[ReadFailure, ...] = ()

    def identity(self) -> dict[str, Any]:
        """Canonical plain data for the fingerprint."""
        return {
            "request": self.request.identity(self.accounts),
            "invitations": sorted(
                [i.account_id, i.region, i.shared_directory_id, i.owner_account_id,
                 i.owner_directory_id, i.share_status, i.method]
                for i in self.invitations
            ),  # fmt: skip
            "failures": sorted([f.account_id, f.region, f.code] for f in self.failures),
        }


def decide_responses(
    request: ResponseRequest,
    invitations: Iterable[Invitation],
    org: OrgFacts,
    failures: Iterable[ReadFailure] = (),
) -> list[PlanRow]:
    """One consumer-side row per invitation passing the owner filters (pure).

    Only PendingAcceptance can be accepted or rejected; anything else is skipped with the
    reason (a Shared directory is left with ``leave``, not rejected). Accepting from an
    owner outside the organization, or whose membership the caller cannot read, is
    refused (check ``ExternalOwner``) unless ``request.allow_external_owners``. An
    account that could not be read is a ``refuse`` row (check ``ReadFailed``).

    Example
    -------
    >>> inv = Invitation("200000000008", "us-east-1", "d-4d76802001", "200000000001",
    ...                  "d-b3e51dc791", "services.example.com", "PendingAcceptance", "HANDSHAKE")
    >>> org = OrgFacts("200000000001", True, members=frozenset({"200000000001", "200000000008"}))
    >>> [r.action for r in decide_responses(ResponseRequest(("ALL",), "accept"), [inv], org)]
    ['accept']
    """
    owners, directories = set(request.owner_account_ids), set(request.owner_directory_ids)
    rows: list[PlanRow] = []
    for inv in invitations:
        if owners and inv.owner_account_id not in owners:
            continue
        if directories and inv.owner_directory_id not in directories:
            continue
        external = owner_is_external(inv.owner_account_id, org)
        row = _consumer_row(
            request.action, inv.share_status, directory_id=inv.owner_directory_id,
            region=inv.region, owner_account_id=inv.owner_account_id, account_id=inv.account_id,
            method=inv.method or None, share_status=inv.share_status,
            shared_directory_id=inv.shared_directory_id, external=external, side=Side.CONSUMER,
        )  # fmt: skip
        refusal = owner_refusal(row.action, inv.owner_account_id, org, request.allow_external_owners)
        if refusal is not None:
            row = dataclasses.replace(
                row, action=Action.REFUSE, check=refusal.check, reason=refusal.reason
            )
        rows.append(row)
    for failure in failures:
        rows.append(PlanRow(
            directory_id="", region=failure.region, owner_account_id="",
            account_id=failure.account_id, action=Action.REFUSE,
            reason=f"could not read this account: {failure.code}", check="ReadFailed",
            side=Side.CONSUMER,
        ))  # fmt: skip
    return sorted(rows, key=lambda r: (r.account_id, r.region, r.shared_directory_id or ""))


# -- live planning -----------------------------------------------------------------------


def _policy_accounts(conn: Connection, policy: Guardrails) -> frozenset[str] | None:
    """Accounts below the policy's allowed OUs; None (only listed accounts allowed) if unreadable."""
    if not policy.allowed_ous:
        return frozenset()
    try:
        return frozenset(expand_targets(conn, sorted(policy.allowed_ous)))
    except AwsError as err:
        logger.warning("guardrails: allowed OUs unreadable (%s); only listed accounts allowed", err.code)
        return None


def _plan_all(
    conn: Connection,
    requests: Sequence[ShareRequest],
    responses: Sequence[ResponseRequest],
    desired: DesiredState | None,
    guardrails: Guardrails | None,
    max_workers: int = 8,
) -> Plan:
    """Gather the facts of every request, decide the rows, apply guardrails and quotas."""
    policy = active_guardrails(guardrails)  # before any call: a bad policy file fails closed
    org = gather_organization(conn)
    entries: list[tuple[ShareRequest, list[str], DirectoryFacts]] = []
    blocks: list[list[PlanRow]] = []
    actions: list[str] = []
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
        actions.extend(request.action for _ in blocks[-1])
    consumer: list[ResponseFacts] = []
    for response in responses:
        accounts = resolve_accounts(conn, response.accounts)
        invitations, failures = gather_invitations(
            conn, accounts, response.regions, max_workers=max_workers
        )
        facts = ResponseFacts(response, tuple(accounts), tuple(invitations), tuple(failures))
        consumer.append(facts)
        blocks.append(decide_responses(response, invitations, org, failures))
        actions.extend(response.action for _ in blocks[-1])
    policy_identity: dict[str, Any] | None = None
    if policy is not None:
        below = _policy_accounts(conn, policy)
        policy_identity = {
            "policy": policy.identity(),
            "ou_accounts": None if below is None else sorted(below),
        }
        # One policy over the whole plan (max_targets_per_run counts every directory).
        enforced = iter(policy.enforce([row for block in blocks for row in block], below, actions))
        blocks = [[next(enforced) for _ in block] for block in blocks]
    rows: list[PlanRow] = []
    for index, block in enumerate(blocks):
        if index < len(entries) and entries[index][0].action == Action.SHARE:
            block = _apply_quota(block, entries[index][2])
        rows.extend(block)
    return Plan(
        requests=tuple(requests),
        rows=tuple(rows),
        fingerprint=fingerprint(entries, org, policy_identity, consumer),
        desired=desired,
        guardrails=guardrails,
        responses=tuple(responses),
    )


def plan(
    conn: Connection,
    directory_id: str,
    targets: Sequence[str],
    method: str = ShareMethod.HANDSHAKE,
    notes: str = "",
    action: str = Action.SHARE,
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
        share: allow HANDSHAKE targets outside the organization; accept: allow an owner
        outside the organization.
    region, owner_account_id
        Where the directory lives (defaults: the connection's Region and the caller).
    guardrails
        Policy (:mod:`dsshare.guardrails`); None applies the file named by
        ``DSSHARE_GUARDRAILS``, if set. Breaches become ``refuse`` rows.

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
    return _plan_all(conn, [request], [], None, guardrails)


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
            action=Action.SHARE,
            method=entry.method,
            notes=entry.notes,
            region=entry.region,
            owner_account_id=entry.owner_account_id,
            allow_external=entry.allow_external,
            prune=bool(prune or desired.prune or entry.prune),
        )
        for entry in desired.directories
    ]
    return _plan_all(conn, requests, [], desired, guardrails)


def plan_responses(
    conn: Connection,
    accounts: Sequence[str],
    action: str,
    *,
    owner_account_ids: Sequence[str] = (),
    owner_directory_ids: Sequence[str] = (),
    regions: Sequence[str] | None = None,
    allow_external_owners: bool = False,
    guardrails: Guardrails | None = None,
    max_workers: int = 8,
) -> Plan:
    """Plan accepting, rejecting or leaving the shares consumer accounts see (consumer side).

    Reads each account x Region's own DescribeDirectories through the cross-account role,
    so invitations from any owner are found. An account or Region that cannot be read
    becomes a ``refuse`` row (check ``ReadFailed``); the rest is still planned.

    Parameters
    ----------
    accounts
        Consumer account ids and OU ids, or ``["ALL"]`` (every ACTIVE account of the
        organization).
    action
        accept or reject (PendingAcceptance invitations), or leave (Shared directories).
    owner_account_ids, owner_directory_ids
        Only invitations from these owners / for these owner directories (empty: any).
    regions
        Regions to read (default: the connection's).
    allow_external_owners
        Allow accepting from owners outside the organization (or of unknown membership);
        without it those rows are refused (check ``ExternalOwner``).
    guardrails
        As for :func:`plan`: denied and protected accounts are refused.

    Example
    -------
    >>> p = plan_responses(conn, ["ALL"], "accept", owner_account_ids=["200000000001"])  # doctest: +SKIP
    >>> apply(conn, p, expected_fingerprint=p.fingerprint)                             # doctest: +SKIP
    """
    if action not in RESPONSE_ACTIONS:
        raise ParameterError("action", action, "accept, reject or leave")
    listed = list(accounts)
    request = ResponseRequest(
        accounts=tuple(listed if listed == [ALL] else validate_targets(listed)),
        action=Action(action),
        regions=tuple(validate_regions(list(regions)) if regions else conn.regions),
        owner_account_ids=tuple(
            validate_account_id(a, "owner_account_ids") for a in owner_account_ids
        ),
        owner_directory_ids=tuple(
            validate_directory_id(d, "owner_directory_ids") for d in owner_directory_ids
        ),
        allow_external_owners=bool(allow_external_owners),
    )
    validate_positive(max_workers, "max_workers")
    return _plan_all(conn, [], [request], None, guardrails, max_workers=int(max_workers))


def replan(conn: Connection, previous: Plan) -> Plan:
    """Plan the same requests again against live state (used by apply)."""
    return _plan_all(
        conn, previous.requests, previous.responses, previous.desired, previous.guardrails
    )
