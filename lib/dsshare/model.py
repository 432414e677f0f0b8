"""The vocabulary of sharing, spelled once: statuses, methods, actions, outcomes, transitions.

Every other module imports these names instead of spelling a status or an action. The enum
values equal AWS's strings (``ShareStatus.PENDING_ACCEPTANCE == "PendingAcceptance"``), so
they compare equal to raw API records and serialise as plain text.

:data:`TRANSITIONS` is the one table of what each mutating action does to a share: the
statuses it is planned on, the statuses the share passes through, and the statuses that end
the wait as a success or a failure (on the owner's side in DescribeSharedDirectories; on
the consumer's side a shared directory that is no longer listed reads as ``absent``).

:class:`PlanRow` is one decision for one account, for the owner's side (share, unshare)
and the consumer's (accept, reject, leave) alike; :data:`PLAN_COLUMNS` and
:data:`RESULT_COLUMNS` are the columns of plan and result frames.

This module is pure: it imports nothing from dsshare but :mod:`dsshare.errors`.

Example
-------
>>> transition(Action.SHARE, ShareMethod.HANDSHAKE).success == {ShareStatus.PENDING_ACCEPTANCE, ShareStatus.SHARED}
True
>>> "Shared" in ACTIVE_STATUSES
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dsshare.errors import ParameterError

__all__ = [
    "ACTIVE_STATUSES",
    "ALL",
    "ALL_REGIONS",
    "INACTIVE_STATUSES",
    "MUTATING_ACTIONS",
    "PLAN_COLUMNS",
    "RESULT_COLUMNS",
    "SETTLING_STATUSES",
    "TRANSITIONS",
    "Action",
    "Outcome",
    "PlanRow",
    "ShareMethod",
    "ShareStatus",
    "Side",
    "Transition",
    "row_changes",
    "transition",
]

#: ``targets``/``accounts`` = ``["ALL"]``: every account (of the organization, or shared with).
ALL = "ALL"
#: ``regions`` = ``"all"`` (or ``["all"]``): every Region the directory is in (its
#: DescribeDirectories RegionsInfo: PrimaryRegion and AdditionalRegions).
ALL_REGIONS = "all"


class ShareStatus(StrEnum):
    """A share record's ShareStatus (AWS's nine values)."""

    SHARED = "Shared"
    PENDING_ACCEPTANCE = "PendingAcceptance"
    REJECTED = "Rejected"
    REJECTING = "Rejecting"
    REJECT_FAILED = "RejectFailed"
    SHARING = "Sharing"
    SHARE_FAILED = "ShareFailed"
    DELETED = "Deleted"
    DELETING = "Deleting"


class ShareMethod(StrEnum):
    """ShareMethod: HANDSHAKE (the consumer accepts) or ORGANIZATIONS (no acceptance)."""

    HANDSHAKE = "HANDSHAKE"
    ORGANIZATIONS = "ORGANIZATIONS"


class Action(StrEnum):
    """What a plan row does. The first five call AWS; ``skip`` and ``refuse`` do not."""

    SHARE = "share"
    UNSHARE = "unshare"
    ACCEPT = "accept"
    REJECT = "reject"
    LEAVE = "leave"
    SKIP = "skip"
    REFUSE = "refuse"


class Outcome(StrEnum):
    """What happened to a row.

    ``in_doubt``: the call's answer was lost after botocore's retries (read timeout,
    connection closed, a server error): it may have landed. A rerun re-plans from live
    state and skips or completes it.
    """

    PLANNED = "planned"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"


class Side(StrEnum):
    """Whose view a row was planned from, and where the waiter reads its status."""

    OWNER = "owner"
    CONSUMER = "consumer"


#: Actions that make an AWS call.
MUTATING_ACTIONS: frozenset[Action] = frozenset(
    {Action.SHARE, Action.UNSHARE, Action.ACCEPT, Action.REJECT, Action.LEAVE}
)
#: Records that no longer count as shared, nor against the quota.
INACTIVE_STATUSES: frozenset[ShareStatus] = frozenset({ShareStatus.DELETED, ShareStatus.REJECTED})
#: Every other status: the account holds (or is on its way to) a share.
ACTIVE_STATUSES: frozenset[ShareStatus] = frozenset(ShareStatus) - INACTIVE_STATUSES
#: Statuses on their way somewhere: a new action on them waits until they settle.
SETTLING_STATUSES: frozenset[ShareStatus] = frozenset(
    {ShareStatus.SHARING, ShareStatus.REJECTING, ShareStatus.DELETING}
)


@dataclass(frozen=True)
class Transition:
    """What one mutating action does to a share.

    acts_on
        statuses the action is planned on (``share`` also acts on no record at all).
    passes
        statuses the share goes through on the way.
    success, failure
        statuses that end the wait.
    absent
        what a shared directory no longer listed on the consumer's side means.
    """

    action: Action
    acts_on: frozenset[ShareStatus]
    passes: frozenset[ShareStatus]
    success: frozenset[ShareStatus]
    failure: frozenset[ShareStatus]
    absent: ShareStatus


_S = ShareStatus
_GONE = frozenset({_S.SHARE_FAILED, _S.REJECTED, _S.DELETED})

#: (action, method or None, auto_accept) -> :class:`Transition`. The one table.
TRANSITIONS: dict[tuple[Action, ShareMethod | None, bool], Transition] = {
    (Action.SHARE, ShareMethod.ORGANIZATIONS, False): Transition(
        Action.SHARE, INACTIVE_STATUSES, frozenset({_S.SHARING}), frozenset({_S.SHARED}), _GONE,
        _S.DELETED,
    ),
    (Action.SHARE, ShareMethod.HANDSHAKE, False): Transition(
        Action.SHARE, INACTIVE_STATUSES, frozenset({_S.SHARING}),
        frozenset({_S.PENDING_ACCEPTANCE, _S.SHARED}), _GONE, _S.DELETED,
    ),
    (Action.SHARE, ShareMethod.HANDSHAKE, True): Transition(
        Action.SHARE, INACTIVE_STATUSES, frozenset({_S.SHARING, _S.PENDING_ACCEPTANCE}),
        frozenset({_S.SHARED}), _GONE, _S.DELETED,
    ),
    (Action.ACCEPT, None, False): Transition(
        Action.ACCEPT, frozenset({_S.PENDING_ACCEPTANCE}), frozenset({_S.SHARING}),
        frozenset({_S.SHARED}), _GONE, _S.DELETED,
    ),
    (Action.REJECT, None, False): Transition(
        Action.REJECT, frozenset({_S.PENDING_ACCEPTANCE}), frozenset({_S.REJECTING}),
        frozenset({_S.REJECTED}), frozenset({_S.REJECT_FAILED, _S.SHARED, _S.DELETED}),
        _S.REJECTED,
    ),
    (Action.UNSHARE, None, False): Transition(
        Action.UNSHARE, ACTIVE_STATUSES - {_S.DELETING, _S.REJECTING},
        frozenset({_S.DELETING}), frozenset({_S.DELETED}), frozenset(), _S.DELETED,
    ),
    (Action.LEAVE, None, False): Transition(
        Action.LEAVE, frozenset({_S.SHARED}), frozenset({_S.DELETING}), frozenset({_S.DELETED}),
        frozenset(), _S.DELETED,
    ),
}
TRANSITIONS[(Action.SHARE, ShareMethod.ORGANIZATIONS, True)] = TRANSITIONS[
    (Action.SHARE, ShareMethod.ORGANIZATIONS, False)
]


def transition(action: str, method: str | None = None, auto_accept: bool = False) -> Transition:
    """The :class:`Transition` of ``action`` (``method`` and ``auto_accept`` matter for share).

    Raises ParameterError for an action that makes no call (skip, refuse) or is unknown.
    """
    try:
        key_action = Action(action)
        key_method = ShareMethod(method or ShareMethod.HANDSHAKE) if key_action == Action.SHARE else None
    except ValueError as err:
        raise ParameterError("action", action, "share, unshare, accept, reject or leave") from err
    found = TRANSITIONS.get((key_action, key_method, bool(auto_accept) and key_method is not None))
    if found is None:
        raise ParameterError("action", action, "share, unshare, accept, reject or leave")
    return found


@dataclass(frozen=True)
class PlanRow:
    """One decision for one account.

    Owner-side rows (``side`` owner) come from the owner directory's share records;
    consumer-side rows from what the consumer account sees (its SharedMicrosoftAD), so
    ``owner_account_id`` may be outside the organization. ``directory_id`` is always the
    owner directory; ``shared_directory_id`` the consumer's copy, when there is one.
    """

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
    side: str = Side.OWNER


#: Columns of a plan frame, in order.
#:
#: directory_id, region, owner_account_id
#:     the owner directory, its Region and account.
#: account_id
#:     the target (consumer) account.
#: action
#:     share | unshare | accept | reject | leave | skip | refuse.
#: reason
#:     why, in words.
#: check
#:     preflight or guardrails check code for ``refuse`` rows, else None.
#: method
#:     ShareMethod (requested for share rows, the record's for others).
#: share_status, shared_directory_id
#:     the target's current record (ShareStatus, SharedDirectoryId), None if never shared.
#: external
#:     True when the other party is outside the organization (or its membership is
#:     unknown): the target of a HANDSHAKE share, or the owner of an invitation.
#: side
#:     owner | consumer: whose view the row was planned from.
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
    "side",
)

#: Columns of every result frame, in order.
#:
#: directory_id, region
#:     the owner directory and its Region.
#: account_id
#:     the target (consumer) account.
#: action
#:     what was (or would be) done: share | unshare | accept | reject | leave | skip | refuse.
#:     A share that was also accepted (auto_accept) stays ``share``.
#: outcome
#:     planned (dry run) | done | skipped | failed | in_doubt (the call's answer was lost:
#:     it may have landed; a rerun resolves it).
#: share_status
#:     the record's ShareStatus after the action (and the wait), else the last known one.
#: shared_directory_id
#:     the consumer-side SharedDirectoryId, when there is one.
#: method
#:     ShareMethod.
#: error_code
#:     AWS error code, a check code (refuse rows), a failure status (ShareFailed,
#:     RejectFailed, ...) or WaitTimeout; None on success.
#: message
#:     what happened, in words (never the ShareNotes text).
RESULT_COLUMNS: tuple[str, ...] = (
    "directory_id",
    "region",
    "account_id",
    "action",
    "outcome",
    "share_status",
    "shared_directory_id",
    "method",
    "error_code",
    "message",
)


#: Plan row fields compared by :func:`row_changes` (what an operator reviewed).
_REVIEWED_FIELDS: tuple[str, ...] = ("action", "share_status", "method", "check", "shared_directory_id")


def row_changes(reviewed: Iterable[Mapping[str, Any]], live: Iterable[Mapping[str, Any]]) -> list[str]:
    """One line per plan row that differs between the reviewed plan and the live one.

    Rows are matched on (directory, Region, account); a row only in one plan is named as
    added or gone. Used in :class:`~dsshare.errors.PlanMismatchError`.

    Example
    -------
    >>> old = [{"directory_id": "d-1", "region": "r", "account_id": "200000000004", "action": "share"}]
    >>> new = [{"directory_id": "d-1", "region": "r", "account_id": "200000000004", "action": "skip",
    ...         "share_status": "Shared"}]
    >>> row_changes(old, new)
    ['200000000004 (d-1, r): action share -> skip, share_status None -> Shared']
    """

    def keyed(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
        return {(str(r.get("directory_id")), str(r.get("region")), str(r.get("account_id"))): r for r in rows}

    before, after = keyed(reviewed), keyed(live)
    lines: list[str] = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[2], k[0], k[1])):
        directory, region, account = key
        where = f"{account} ({directory}, {region})"
        if key not in after:
            lines.append(f"{where}: no longer in the plan (was {before[key].get('action')})")
        elif key not in before:
            lines.append(f"{where}: new in the plan ({after[key].get('action')})")
        else:
            diffs = [
                f"{name} {_shown(before[key].get(name))} -> {_shown(after[key].get(name))}"
                for name in _REVIEWED_FIELDS
                if _shown(before[key].get(name)) != _shown(after[key].get(name))
            ]
            if diffs:
                lines.append(f"{where}: " + ", ".join(diffs))
    return lines


def _shown(value: Any) -> str:
    """A field as text; empty values (None, NaN from a CSV) read as None."""
    if value is None or value != value or value == "":  # NaN is not equal to itself
        return "None"
    return str(value)
