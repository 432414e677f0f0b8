"""Wait for shares to reach a terminal status (botocore has no waiter for this): one waiter.

Each watched share is read where its row was planned from: on the owner's side in
DescribeSharedDirectories, or on the consumer's side in the consumer account's own
DescribeDirectories (where a shared directory no longer listed reads as the transition's
``absent`` status: Rejected after a reject, Deleted after a leave). One poll round reads
each owner directory and each consumer account x Region once, whatever the number of
shares watched in it; rounds back off (1.6x, jittered) until every share is terminal or
the deadline passes. The terminal statuses come from :data:`dsshare.model.TRANSITIONS`.

Example
-------
>>> watch = {"d-9a8b7c6d5e": Watch("200000000004", *terminal_statuses("share", "ORGANIZATIONS"))}
>>> wait_for_share_status(conn, "d-1234567890", watch, timeout=300)  # doctest: +SKIP
{'d-9a8b7c6d5e': 'Shared'}
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dsshare.calls import iter_directories, iter_shared_directories
from dsshare.connection import Connection
from dsshare.errors import WaitTimeoutError
from dsshare.model import Side, transition
from dsshare.validation import validate_positive

__all__ = [
    "NOT_LISTED",
    "Watch",
    "WatchedShare",
    "backoff_delays",
    "read_statuses",
    "terminal_statuses",
    "wait_for_share_status",
    "wait_for_shares",
]

logger = logging.getLogger(__name__)

#: Last status of an owner-side share not (yet) listed.
NOT_LISTED = "NotListed"


@dataclass(frozen=True)
class Watch:
    """The statuses that end the wait for one share, and its account.

    ``absent``: what the share no longer being listed on the consumer's side means (None:
    keep waiting).
    """

    account_id: str
    success: frozenset[str]
    failure: frozenset[str]
    absent: str | None = None


@dataclass(frozen=True)
class WatchedShare:
    """One share to wait for and where to read it (``side``)."""

    side: str
    directory_id: str
    region: str
    owner_account_id: str
    shared_directory_id: str
    watch: Watch

    @property
    def account_id(self) -> str:
        """The consumer account."""
        return self.watch.account_id


def terminal_statuses(
    action: str, method: str | None = None, auto_accept: bool = False
) -> tuple[frozenset[str], frozenset[str]]:
    """Return ``(success, failure)`` statuses that end a wait for ``action`` (the model's)."""
    found = transition(action, method, auto_accept)
    return frozenset(found.success), frozenset(found.failure)


def backoff_delays(
    initial: float = 0.25, factor: float = 1.6, maximum: float = 15.0, jitter: float = 0.1
) -> Callable[..., float]:
    """Return a function giving successive poll delays: exponential, capped, jittered.

    ``next_delay(progressed=True)`` after a poll that saw something change keeps the delay
    where it is: it grows only while nothing changes.
    """
    state = {"next": initial}

    def next_delay(progressed: bool = False) -> float:
        delay = state["next"]
        if not progressed:
            state["next"] = min(maximum, delay * factor)
        return delay * random.uniform(1 - jitter, 1 + jitter)  # noqa: S311 - not crypto

    return next_delay


def read_statuses(conn: Connection, shares: Sequence[WatchedShare]) -> dict[int, str]:
    """One poll round: index -> status now, reading each owner directory / consumer once."""
    owner_groups: dict[tuple[str, str, str], list[int]] = {}
    consumer_groups: dict[tuple[str, str], list[int]] = {}
    for index, share in enumerate(shares):
        if share.side == Side.CONSUMER:
            consumer_groups.setdefault((share.account_id, share.region), []).append(index)
        else:
            key = (share.directory_id, share.region, share.owner_account_id)
            owner_groups.setdefault(key, []).append(index)
    seen: dict[int, str] = {}
    for (directory_id, region, owner), indexes in owner_groups.items():
        by_sid = {
            str(record.get("SharedDirectoryId", "")): str(record.get("ShareStatus", ""))
            for record in iter_shared_directories(
                conn, directory_id, region=region, owner_account_id=owner
            )
        }
        for index in indexes:
            seen[index] = by_sid.get(shares[index].shared_directory_id, NOT_LISTED)
    for (account_id, region), indexes in consumer_groups.items():
        by_id = {
            str(d.get("DirectoryId", "")): str(d.get("ShareStatus", ""))
            for d in iter_directories(conn, region=region, account_id=account_id)
        }
        for index in indexes:
            share = shares[index]
            absent = share.watch.absent or NOT_LISTED
            seen[index] = by_id.get(share.shared_directory_id, absent)
    return seen


def wait_for_shares(
    conn: Connection,
    shares: Sequence[WatchedShare],
    *,
    deadline: float,
    poll_interval: float = 0.25,
    max_interval: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[int, str], dict[int, str]]:
    """Poll until every share is terminal or ``deadline`` (``time.monotonic()``) passes.

    Returns ``(final, pending)``: index -> terminal status, and index -> last status seen
    for the shares still pending at the deadline (the caller reports them). Polls at
    least once, even past the deadline.
    """
    poll_interval = validate_positive(poll_interval, "poll_interval")
    delays = backoff_delays(poll_interval, maximum=max(poll_interval, max_interval))
    final: dict[int, str] = {}
    last: dict[int, str] = dict.fromkeys(range(len(shares)), NOT_LISTED)
    while True:
        waiting = [i for i in range(len(shares)) if i not in final]
        done_before = len(final)
        now = read_statuses(conn, [shares[i] for i in waiting])
        for position, index in enumerate(waiting):
            status = now[position]
            last[index] = status
            watch = shares[index].watch
            if status in watch.success or status in watch.failure:
                final[index] = status
        pending = {i: last[i] for i in range(len(shares)) if i not in final}
        if not pending:
            return final, {}
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return final, pending
        delay = min(delays(progressed=len(final) > done_before), remaining)
        logger.debug("%d share(s) pending; next poll in %.2fs", len(pending), delay)
        sleep(delay)


def wait_for_share_status(
    conn: Connection,
    directory_id: str,
    watches: Mapping[str, Watch],
    *,
    region: str | None = None,
    owner_account_id: str | None = None,
    timeout: float = 600.0,
    poll_interval: float = 0.25,
    max_interval: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str]:
    """Poll the owner's records until every watched SharedDirectoryId is terminal.

    Returns SharedDirectoryId -> final status. Failure statuses end the wait too (the
    caller reports them); only a timeout raises WaitTimeoutError, naming each pending
    account and its last status.

    Parameters
    ----------
    watches
        SharedDirectoryId -> :class:`Watch`.
    timeout
        Seconds before WaitTimeoutError.
    poll_interval, max_interval
        First delay between polls and its cap; delays grow by 1.6x with 10% jitter after each
        poll that saw no share finish.
    """
    timeout = validate_positive(timeout, "timeout")
    sids = list(watches)
    shares = [
        WatchedShare(
            Side.OWNER, directory_id, region or conn.region,
            owner_account_id or conn.caller_account_id, sid, watches[sid],
        )  # fmt: skip
        for sid in sids
    ]
    final, pending = wait_for_shares(
        conn, shares, deadline=time.monotonic() + timeout, poll_interval=poll_interval,
        max_interval=max_interval, sleep=sleep,
    )  # fmt: skip
    if pending:
        raise WaitTimeoutError(
            {shares[i].account_id: status for i, status in pending.items()}, timeout
        )
    return {sids[i]: status for i, status in final.items()}
