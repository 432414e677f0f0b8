"""Specification of the waiter's pure parts: terminal statuses and backoff."""

from __future__ import annotations

import pytest

from dsshare.waiting import backoff_delays, terminal_statuses


def test_backoff_grows_and_is_capped() -> None:
    delays = backoff_delays(initial=0.25, factor=2, maximum=2, jitter=0)
    assert [delays() for _ in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_backoff_holds_while_polls_see_progress() -> None:
    delays = backoff_delays(initial=0.25, factor=2, maximum=2, jitter=0)
    seen = [delays(), delays(progressed=True), delays(progressed=True), delays(), delays()]
    assert seen == [0.25, 0.5, 0.5, 0.5, 1.0]


def test_backoff_jitter_stays_within_bounds() -> None:
    delays = backoff_delays(initial=1, factor=1, maximum=1, jitter=0.1)
    assert all(0.9 <= delays() <= 1.1 for _ in range(100))


@pytest.mark.parametrize(
    "action,method,auto,success,failure",
    [
        ("share", "ORGANIZATIONS", False, {"Shared"}, {"ShareFailed", "Rejected", "Deleted"}),
        ("share", "HANDSHAKE", False, {"PendingAcceptance", "Shared"}, {"ShareFailed", "Rejected", "Deleted"}),
        ("share", "HANDSHAKE", True, {"Shared"}, {"ShareFailed", "Rejected", "Deleted"}),
        ("accept", None, False, {"Shared"}, {"ShareFailed", "Rejected", "Deleted"}),
        ("reject", None, False, {"Rejected"}, {"RejectFailed", "Shared", "Deleted"}),
        ("unshare", None, False, {"Deleted"}, set()),
        ("leave", None, False, {"Deleted"}, set()),
    ],
)
def test_terminal_statuses_per_action(
    action: str, method: str | None, auto: bool, success: set[str], failure: set[str]
) -> None:
    assert terminal_statuses(action, method, auto_accept=auto) == (frozenset(success), frozenset(failure))


def test_transitional_statuses_never_end_a_wait() -> None:
    for action in ("share", "accept", "reject", "unshare", "leave"):
        success, failure = terminal_statuses(action, "HANDSHAKE")
        assert not {"Sharing", "Deleting", "Rejecting"} & (success | failure)
