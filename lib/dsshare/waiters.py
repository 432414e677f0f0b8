"""Wait for share records to reach a terminal status (botocore has no waiter for this).

Polls DescribeSharedDirectories on the owner side, backing off between polls, until every
watched record is in a success or failure status for its action, or the timeout passes
(:class:`~dsshare.errors.WaitTimeoutError` names each pending account and its last status).

Terminal statuses
-----------------
share ORGANIZATIONS
    success Shared; failure ShareFailed, Rejected, Deleted.
share HANDSHAKE
    success PendingAcceptance or Shared (Shared only, with auto-accept); failure as above.
accept
    success Shared; failure ShareFailed, Rejected, Deleted.
reject
    success Rejected; failure RejectFailed, Shared, Deleted.
unshare, leave
    success Deleted.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsshare.errors import WaitTimeoutError
from dsshare.sharing import iter_shared_directories
from dsshare.validation import validate_positive

if TYPE_CHECKING:
    from dsshare.connection import Connection

__all__ = ["Watch", "backoff_delays", "terminal_statuses", "wait_for_share_status"]

logger = logging.getLogger(__name__)

NOT_LISTED = "NotListed"


@dataclass(frozen=True)
class Watch:
    """One share record to wait for: its account and the statuses that end the wait."""

    account_id: str
    success: frozenset[str]
    failure: frozenset[str]


def terminal_statuses(
    action: str, method: str | None = None, auto_accept: bool = False
) -> tuple[frozenset[str], frozenset[str]]:
    """Return ``(success, failure)`` statuses that end a wait for ``action``."""
    gone = frozenset({"ShareFailed", "Rejected", "Deleted"})
    if action == "share":
        if method == "HANDSHAKE" and not auto_accept:
            return frozenset({"PendingAcceptance", "Shared"}), gone
        return frozenset({"Shared"}), gone
    if action == "accept":
        return frozenset({"Shared"}), gone
    if action == "reject":
        return frozenset({"Rejected"}), frozenset({"RejectFailed", "Shared", "Deleted"})
    if action in ("unshare", "leave"):
        return frozenset({"Deleted"}), frozenset()
    raise ValueError(f"no terminal statuses for action {action!r}")


def backoff_delays(
    initial: float = 0.25, factor: float = 1.6, maximum: float = 15.0, jitter: float = 0.1
) -> Callable[[], float]:
    """Return a function giving successive poll delays: exponential, capped, jittered."""
    state = {"next": initial}

    def next_delay() -> float:
        delay = state["next"]
        state["next"] = min(maximum, delay * factor)
        return delay * random.uniform(1 - jitter, 1 + jitter)  # noqa: S311 - not crypto

    return next_delay


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
    """Poll until every watched SharedDirectoryId is terminal; return id -> final status.

    Failure statuses end the wait too (the caller reports them); only a timeout raises.

    Parameters
    ----------
    watches
        SharedDirectoryId -> :class:`Watch`.
    timeout
        Seconds before WaitTimeoutError (naming each pending account and last status).
    poll_interval, max_interval
        First delay between polls and its cap; delays grow by 1.6x with 10% jitter.
    """
    timeout = validate_positive(timeout, "timeout")
    poll_interval = validate_positive(poll_interval, "poll_interval")
    deadline = time.monotonic() + timeout
    delays = backoff_delays(poll_interval, maximum=max(poll_interval, max_interval))
    final: dict[str, str] = {}
    last: dict[str, str] = {sid: NOT_LISTED for sid in watches}
    while True:
        for record in iter_shared_directories(
            conn, directory_id, region=region, owner_account_id=owner_account_id
        ):
            sid = record.get("SharedDirectoryId", "")
            if sid in watches and sid not in final:
                status = str(record.get("ShareStatus", ""))
                last[sid] = status
                watch = watches[sid]
                if status in watch.success or status in watch.failure:
                    final[sid] = status
        pending = [sid for sid in watches if sid not in final]
        if not pending:
            return final
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeoutError(
                {watches[sid].account_id: last[sid] for sid in pending}, timeout
            )
        delay = min(delays(), remaining)
        logger.debug("%d share(s) of %s pending; next poll in %.2fs", len(pending), directory_id, delay)
        sleep(delay)
