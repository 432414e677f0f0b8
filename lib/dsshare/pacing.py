"""Calls in flight: how a bulk job stays fast when AWS throttles, and backs off when it must.

A bulk job (apply, the inventory) runs its work on a pool of threads. Its concurrency is
the number of **calls in flight at AWS**, not the number of threads: a thread whose call
was throttled and is sleeping out botocore's retry backoff (rand(0, 1) s on the first
retry, doubling after) puts no load on AWS, so while it sleeps it gives its slot to the
next call. Without that, each throttled call held one of, say, 8 workers idle for half a
second on average, 10-20 calls' worth of latency, and a 20 %-throttled bulk share took
4.5x its unthrottled time.

Throttling is also a signal, read per account x service x Region (the scope of AWS's API
rate limits) over its last :data:`WINDOW` answers:

- **Scattered** (under half of them throttled, or too few answers to tell): slowing down
  would not help, so a throttled call is retried soon, after rand(0, 0.1 x 2^(retry-1)) s
  (at most 2 s), while its thread has lent its slot.
- **Hard** (at least half of at least :data:`MIN_EVIDENCE` answers throttled): the scope's
  limit on calls in flight is halved, at most once per round of answers, and its retries
  get botocore's standard backoff. Each answer that is not a throttle grows the limit
  back (additive increase, multiplicative decrease), to the bulk job's concurrency.

Sending far over one account's rate slows that account alone. botocore's adaptive mode
keeps one token bucket per botocore client, which the kit shares across accounts
(:mod:`dsshare.roles`), so one account's throttles would slow every account; and it slows
down on every throttle, scattered or not. Throttles of calls made outside a bulk job, and
every other retryable error, are left to botocore's standard retries.

The pool stays an ordinary :class:`~concurrent.futures.ThreadPoolExecutor` with
:func:`pool_threads` threads; each task runs inside :meth:`Pacer.bound`, and the client
hooks that :class:`~dsshare.connection.Connection` installs (:func:`install_pacing`) take a slot
before each attempt is sent and give it back when its answer arrives. A call made outside
any bound pacer is not held.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from botocore.retries.standard import (
    DEFAULT_MAX_ATTEMPTS,
    RetryEventAdapter,
    StandardRetryConditions,
    ThrottlingErrorDetector,
)

from dsshare.roles import acting_account

__all__ = ["Pacer", "WINDOW", "install_pacing", "pool_threads"]

#: Answers per scope remembered, to tell scattered throttles from a scope throttled hard.
WINDOW = 40
#: Fewest answers in the window before a scope's limit may be cut.
MIN_EVIDENCE = 20
#: At least this share of the window throttled halves the scope's limit.
CUT_SHARE = 0.5
#: A scattered throttle is retried after rand(0, QUICK_RETRY x 2^(retry-1)) s, at most
#: QUICK_RETRY_CAP; a scope throttled hard gets botocore's standard backoff (rand(0, 1) s
#: doubling, at most STANDARD_CAP) while its calls in flight are cut.
QUICK_RETRY = 0.1
QUICK_RETRY_CAP = 2.0
STANDARD_CAP = 20.0
#: Threads per slot: calls sleeping out a throttle's backoff lend their slot to others.
THREADS_PER_SLOT = 4
MAX_EXTRA_THREADS = 96

logger = logging.getLogger(__name__)
_CURRENT: ContextVar[tuple[Pacer, bool] | None] = ContextVar("dsshare_pacer", default=None)
_held = threading.local()
_adapter = RetryEventAdapter()
_throttling = ThrottlingErrorDetector(_adapter)

Scope = tuple[str, str, str]  # (account or "" for the caller's own, service, Region)


def pool_threads(concurrency: int) -> int:
    """Threads for a pool whose calls in flight are capped at ``concurrency``."""
    return concurrency + min(concurrency * (THREADS_PER_SLOT - 1), MAX_EXTRA_THREADS)


class _ScopeLimit:
    """One account x service x Region: its calls in flight and its adaptive limit."""

    __slots__ = ("limit", "in_flight", "answers", "since_cut", "cuts", "throttled")

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.in_flight = 0
        self.answers: deque[bool] = deque(maxlen=WINDOW)
        self.since_cut = 0
        self.cuts = 0
        self.throttled = 0

    def hard(self) -> bool:
        """Enough recent answers, and at least :data:`CUT_SHARE` of them throttles."""
        return len(self.answers) >= MIN_EVIDENCE and sum(self.answers) >= CUT_SHARE * len(
            self.answers
        )


class Pacer:
    """At most ``concurrency`` calls in flight, and an adaptive limit per scope.

    Example
    -------
    >>> pacer = Pacer(8)
    >>> pacer.threads                # the pool's size
    32
    >>> with pacer.bound():          # in each worker task
    ...     pass                     # calls made here are paced

    ``enabled=False`` (``Connection(pacing=False)``) is a plain pool: ``concurrency``
    threads, and a task holds its slot from start to end, retry backoffs included (also
    across the pools of one apply).
    """

    def __init__(self, concurrency: int, enabled: bool = True) -> None:
        self.concurrency = concurrency
        self.enabled = enabled
        self._workers = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._free = threading.Condition(self._lock)
        self._in_flight = 0
        self._scopes: dict[Scope, _ScopeLimit] = {}
        # Scopes held below ``concurrency``. While there are none, a scope never waits
        # longer than the whole pacer, so one freed slot wakes one waiter.
        self._limited = 0
        # Urgent calls waiting: each reserves the next free slot.
        self._urgent = 0

    @property
    def threads(self) -> int:
        """Threads for the pool: more than ``concurrency`` when paced (see the module)."""
        return pool_threads(self.concurrency) if self.enabled else self.concurrency

    @contextmanager
    def bound(self, urgent: bool = False) -> Iterator[Pacer]:
        """Pace the calls this thread makes until the block ends (if enabled).

        ``urgent`` calls take the next free slot before any other waiting call: work that
        discovers more work (listing the organization) is not queued behind what it found.
        """
        if not self.enabled:
            with self._workers:  # a plain pool's worker: the slot is held for the whole task
                yield self
            return
        token = _CURRENT.set((self, urgent))
        try:
            yield self
        finally:
            _CURRENT.reset(token)

    def limit_of(self, scope: Scope) -> float:
        """The scope's current limit on calls in flight (``concurrency`` until throttled)."""
        with self._lock:
            state = self._scopes.get(scope)
            return self.concurrency if state is None else state.limit

    def retry_delay(self, scope: Scope, attempt: int) -> float:
        """Seconds to wait before retrying a throttled ``attempt`` (1 = the first call).

        While ``scope``'s throttles are scattered (under half its recent answers, limit
        not cut), a throttle is retried soon, with jitter: slowing down would not help,
        and the call's thread has lent its slot meanwhile. Once the scope is throttled
        hard, botocore's standard backoff applies, on top of the cut.
        """
        with self._lock:
            state = self._scopes.get(scope)
            hard = state is not None and (state.limit < self.concurrency or state.hard())
        growth = 2.0 ** max(0, attempt - 1)
        ceiling = min(growth, STANDARD_CAP) if hard else min(QUICK_RETRY * growth, QUICK_RETRY_CAP)
        return random.random() * ceiling  # noqa: S311 - jitter, not a secret

    def summary(self) -> dict[str, Any]:
        """Throttled answers and limit cuts so far, for logs and benchmarks."""
        with self._lock:
            states = list(self._scopes.items())
        return {
            "throttled": sum(s.throttled for _, s in states),
            "cuts": sum(s.cuts for _, s in states),
            "scopes_cut": sorted(
                f"{account or 'caller'} {service} {region}: {s.limit:.1f}"
                for (account, service, region), s in states
                if s.cuts
            ),
        }

    def acquire(self, scope: Scope, urgent: bool = False) -> None:
        """Wait for a slot overall and in ``scope`` (``urgent``: before the others)."""
        with self._free:
            state = self._scopes.get(scope)
            if state is None:
                state = self._scopes[scope] = _ScopeLimit(float(self.concurrency))
            self._urgent += urgent
            try:
                while (
                    self._in_flight + (0 if urgent else self._urgent) >= self.concurrency
                    or state.in_flight >= max(1, int(state.limit))
                ):
                    self._free.wait()
            finally:
                self._urgent -= urgent
            self._in_flight += 1
            state.in_flight += 1

    def release(self, scope: Scope, throttled: bool) -> None:
        """Give the slot back and learn from the answer (``throttled`` or not)."""
        with self._free:
            state = self._scopes[scope]
            self._in_flight -= 1
            state.in_flight -= 1
            state.answers.append(throttled)
            state.since_cut += 1
            if throttled:
                state.throttled += 1
                if state.hard() and state.since_cut >= state.limit:
                    # At most one cut per round of answers: those already in flight were
                    # sent at the old limit and say nothing about the new one.
                    self._limited += state.limit >= self.concurrency
                    state.limit = max(1.0, state.limit / 2)
                    state.since_cut = 0
                    state.cuts += 1
                    logger.info(
                        "throttled: %d of the last %d answers to %s %s in %s; now at most "
                        "%d calls in flight there",
                        sum(state.answers), len(state.answers), scope[0] or "the caller's account",
                        scope[1], scope[2], int(state.limit),
                    )  # fmt: skip
            elif state.limit < self.concurrency:
                state.limit = min(float(self.concurrency), state.limit + 1 / state.limit)
                self._limited -= state.limit >= self.concurrency
            if self._limited or self._urgent:
                self._free.notify_all()  # the waiter that may go is not just any waiter
            else:
                self._free.notify()


def _scope(service: str, region: str) -> Scope:
    return (acting_account() or "", service, region)


def _before_send(service: str, region: str, **_: Any) -> None:
    current = _CURRENT.get()
    if current is None or getattr(_held, "slot", None) is not None:
        return
    pacer, urgent = current
    scope = _scope(service, region)
    pacer.acquire(scope, urgent)
    _held.slot = (pacer, scope)


def _answered(throttled: bool) -> None:
    slot = getattr(_held, "slot", None)
    if slot is None:
        return
    _held.slot = None
    pacer, scope = slot
    pacer.release(scope, throttled)


def _retry_handler(max_attempts: int) -> Any:
    """A needs-retry handler run before botocore's: after each paced attempt the slot goes
    back; a retryable throttle gets :meth:`Pacer.retry_delay`, anything else is left to
    botocore (None)."""
    checker = StandardRetryConditions(max_attempts=max_attempts)

    def needs_retry(**kwargs: Any) -> float | None:
        slot = getattr(_held, "slot", None)
        if slot is None:
            return None
        response = kwargs.get("response")
        answered_ok = response is not None and response[0].status_code < 400
        throttled = not answered_ok and bool(_throttling.is_throttling_error(**kwargs))
        _answered(throttled)
        if not throttled or not checker.is_retryable(_adapter.create_retry_context(**kwargs)):
            return None
        pacer, scope = slot
        delay: float = pacer.retry_delay(scope, int(kwargs["attempts"]))
        return delay

    return needs_retry


def _call_ended(**_: Any) -> None:
    """After the whole call (also when it raised before any retry decision)."""
    _answered(False)


def install_pacing(client: Any, service: str, region: str) -> None:
    """Hook ``client`` so calls made inside :meth:`Pacer.bound` are paced."""
    events = client.meta.events
    service_id = client.meta.service_model.service_id.hyphenize()
    max_attempts = client.meta.config.retries.get("total_max_attempts", DEFAULT_MAX_ATTEMPTS)
    events.register("before-send", lambda **kw: _before_send(service, region, **kw))
    # On botocore's own event, first: the first handler's answer is the one botocore uses.
    events.register_first(f"needs-retry.{service_id}", _retry_handler(max_attempts))
    events.register("after-call", _call_ended)
    events.register("after-call-error", _call_ended)
