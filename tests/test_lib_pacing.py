"""Pacing: concurrency counts calls in flight, and an account AWS throttles hard is slowed.

The limit's arithmetic is checked directly on :class:`dsshare.pacing.Pacer`; what an
operator gets from it (every target finished, the slowdown named in the log, other
accounts untouched) is checked against the sandbox over HTTP with AWS's kind of limit, a
token bucket per account x operation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

import pytest

import dsshare
from dsshare.errors import ParameterError
from dsshare.pacing import MIN_EVIDENCE, QUICK_RETRY, QUICK_RETRY_CAP, WINDOW, Pacer, pool_threads
from dsshare.sandbox import Sandbox, SandboxError

OWNER = ("", "ds", "us-east-1")
MEMBER = ("200000000004", "ds", "us-east-1")
#: HANDSHAKE targets outside the organization: any 12-digit id can accept through a role.
TARGETS = [f"4000000{i:05d}" for i in range(40)]


def answer(pacer: Pacer, scope: tuple[str, str, str], throttled: bool) -> None:
    pacer.acquire(scope)
    pacer.release(scope, throttled)


def test_a_scattering_of_throttles_is_retried_not_punished() -> None:
    pacer = Pacer(8)
    for i in range(200):
        answer(pacer, OWNER, throttled=i % 5 == 0)  # 20 %, steadily
    assert pacer.limit_of(OWNER) == 8
    assert pacer.summary() == {"throttled": 40, "cuts": 0, "scopes_cut": []}


def test_mostly_throttled_halves_that_scope_alone_and_it_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pacer = Pacer(8)
    answer(pacer, MEMBER, throttled=False)
    with caplog.at_level(logging.INFO, logger="dsshare.pacing"):
        for i in range(WINDOW):
            answer(pacer, OWNER, throttled=i % 4 != 0)  # 75 % throttled
    assert pacer.limit_of(OWNER) <= 4
    assert pacer.limit_of(MEMBER) == 8
    assert "now at most 4 calls in flight there" in caplog.text
    assert "the caller's account ds in us-east-1" in caplog.text
    for _ in range(200):
        answer(pacer, OWNER, throttled=False)
    assert pacer.limit_of(OWNER) == 8


def test_scattered_throttles_are_retried_soon_and_a_hard_scope_backs_off() -> None:
    pacer = Pacer(8)
    for i in range(100):
        answer(pacer, OWNER, throttled=i % 5 == 0)
    assert max(pacer.retry_delay(OWNER, 1) for _ in range(500)) <= QUICK_RETRY
    assert max(pacer.retry_delay(OWNER, 8) for _ in range(500)) <= QUICK_RETRY_CAP
    for _ in range(MIN_EVIDENCE):
        answer(pacer, MEMBER, throttled=True)
    # botocore's standard backoff: rand(0, 1) s on the first retry, doubling after.
    first = [pacer.retry_delay(MEMBER, 1) for _ in range(500)]
    assert max(first) <= 1.0 and max(first) > 5 * QUICK_RETRY
    assert max(pacer.retry_delay(MEMBER, 3) for _ in range(500)) > 1.0


def test_calls_in_flight_never_exceed_the_limit_while_threads_outnumber_it() -> None:
    pacer = Pacer(3)
    assert pacer.threads == pool_threads(3) == 12
    in_flight, peak, lock = 0, 0, threading.Lock()

    def call() -> None:
        nonlocal in_flight, peak
        pacer.acquire(OWNER)
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01)
        with lock:
            in_flight -= 1
        pacer.release(OWNER, throttled=False)

    workers = [threading.Thread(target=call) for _ in range(pacer.threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert peak == 3


def test_pacing_is_a_yes_or_no() -> None:
    with pytest.raises(ParameterError, match="pacing"):
        dsshare.Connection(region="us-east-1", pacing="yes")  # type: ignore[arg-type]
    assert Pacer(8, enabled=False).threads == 8


def test_a_rate_limited_owner_is_slowed_and_every_target_still_ends_shared(
    aws_env: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sb = aws_env
    directory = sb.directory_id("global.example.com")
    # AWS's kind of throttle: ShareDirectory limited to 10 calls a second per account.
    sb.add_fault("ShareDirectory", service="ds", rate=10, burst=2)
    with caplog.at_level(logging.INFO, logger="dsshare.pacing"):
        frame = dsshare.share(
            dsshare.Connection(), directory, TARGETS, auto_accept=True,
            allow_external=True, progress=False, timeout=300, max_workers=8,
        )  # fmt: skip
    assert frame["outcome"].tolist() == ["done"] * len(TARGETS), frame[frame.outcome != "done"]
    assert set(frame["share_status"]) == {"Shared"}
    throttled = Counter(e["operation"] for e in sb.request_log if e["injected"])
    assert set(throttled) == {"ShareDirectory"} and throttled["ShareDirectory"] > 0
    # The owner's Directory Service calls were slowed, named in the log; nobody else's.
    slowed = [r.getMessage() for r in caplog.records if "calls in flight there" in r.getMessage()]
    assert slowed and all("the caller's account ds in us-east-1" in m for m in slowed)


def test_the_sandbox_refuses_a_rate_it_cannot_apply(sb: Sandbox) -> None:
    with pytest.raises(SandboxError, match="rate must be a number of calls > 0"):
        sb.add_fault("ShareDirectory", rate=0)
    with pytest.raises(SandboxError, match="not both"):
        sb.add_fault("ShareDirectory", rate=5, probability=0.5)
    with pytest.raises(SandboxError, match="burst needs a rate"):
        sb.add_fault("ShareDirectory", burst=5)
