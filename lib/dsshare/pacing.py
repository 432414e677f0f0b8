"""Calls in flight: how a bulk job stays fast when AWS throttles, and backs off when it must.

A bulk job (apply, the inventory) runs its work on a pool of threads. Its concurrency is
the number of **calls in flight at AWS**, not the number of threads: a thread whose call
was throttled and is sleeping out botocore's retry backoff (rand(0, 1) s on the first
retry, doubling after) puts no load on AWS, so while it sleeps it gives its slot to the
next call. Without that, each throttled call held one of, say, 8 workers idle for half a
second on average, 10-20 calls' worth of latency, and a 20 %-throttled bulk share took
4.5x its unthrottled time.

Throttling is also a signal. Each account x service x Region (the scope of AWS's API rate
limits) gets its own limit on calls in flight, adapted additive-increase /
multiplicative-decrease: halved when at least half of that scope's recent answers were
throttles, grown by one slot per full window of answers otherwise. A scattering of
throttles (a busy service, a neighbour's burst) is retried, not punished; sending far over
an account's rate halves that account's load, and only that account's. botocore's own
adaptive mode keeps one rate per botocore client, which the kit shares across accounts
(:mod:`dsshare.roles`), so one account's throttles would slow every account.

The pool stays an ordinary :class:`~concurrent.futures.ThreadPoolExecutor` with
:func:`pool_threads` threads; each task runs inside :meth:`Pacer.bound`, and the client
hooks that :class:`~dsshare.connection.Connection` installs (:func:`install_pacing`) take a slot
before each attempt is sent and give it back when its answer arrives. A call made outside
any bound pacer is not held.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from botocore.retries.standard import RetryEventAdapter, ThrottlingErrorDetector

from dsshare.roles import acting_account

__all__ = ["Pacer", "WINDOW", "install_pacing", "pool_threads"]

#: Answers per scope remembered for the throttled share (and one additive step).
WINDOW = 20
#: Fewest answers in the window before a scope's limit may be cut.
MIN_EVIDENCE = 8
#: At least this share of the window throttled halves the scope's limit.
CUT_SHARE = 0.5
#: Threads per slot: calls sleeping out a throttle's backoff lend their slot to others.
THREADS_PER_SLOT = 4
MAX_EXTRA_THREADS = 96

logger = logging.getLogger(__name__)
_CURRENT: ContextVar[Pacer | None] = ContextVar("dsshare_pacer", default=None)
_held = threading.local()
_throttling = ThrottlingErrorDetector(RetryEventAdapter())

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


class Pacer:
    """At most ``concurrency`` calls in flight, and an adaptive limit per scope.

    Example
    -------
    >>> pacer = Pacer(8)
    >>> pacer.threads                # the pool's size
    32
    >>> with pacer.bound():          # in each worker task
    ...     pass                     # calls made here are paced

    ``enabled=False`` (``Connection(pacing=False)``) is the plain pool: ``concurrency``
    threads, each holding its slot through retry backoffs too.
    """

    def __init__(self, concurrency: int, enabled: bool = True) -> None:
        self.concurrency = concurrency
        self.enabled = enabled
        self._lock = threading.Lock()
        self._free = threading.Condition(self._lock)
        self._in_flight = 0
        self._scopes: dict[Scope, _ScopeLimit] = {}
        # Scopes held below ``concurrency``. While there are none, a scope never waits
        # longer than the whole pacer, so one freed slot wakes one waiter.
        self._limited = 0

    @property
    def threads(self) -> int:
        """Threads for the pool: more than ``concurrency`` when paced (see the module)."""
        return pool_threads(self.concurrency) if self.enabled else self.concurrency

    @contextmanager
    def bound(self) -> Iterator[Pacer]:
        """Pace the calls this thread makes until the block ends (if enabled)."""
        if not self.enabled:
            yield self
            return
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)

    def limit_of(self, scope: Scope) -> float:
        """The scope's current limit on calls in flight (``concurrency`` until throttled)."""
        with self._lock:
            state = self._scopes.get(scope)
            return self.concurrency if state is None else state.limit

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

    def acquire(self, scope: Scope) -> None:
        """Wait for a slot overall and in ``scope``."""
        with self._free:
            state = self._scopes.get(scope)
            if state is None:
                state = self._scopes[scope] = _ScopeLimit(float(self.concurrency))
            while self._in_flight >= self.concurrency or state.in_flight >= max(
                1, int(state.limit)
            ):
                self._free.wait()
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
                if (
                    len(state.answers) >= MIN_EVIDENCE
                    and sum(state.answers) >= CUT_SHARE * len(state.answers)
                    and state.since_cut >= state.limit
                ):
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
            if self._limited:
                self._free.notify_all()  # the waiter that may go can be any scope's
            else:
                self._free.notify()


def _scope(service: str, region: str) -> Scope:
    return (acting_account() or "", service, region)


def _before_send(service: str, region: str, **_: Any) -> None:
    pacer = _CURRENT.get()
    if pacer is None or getattr(_held, "slot", None) is not None:
        return
    scope = _scope(service, region)
    pacer.acquire(scope)
    _held.slot = (pacer, scope)


def _answered(throttled: bool) -> None:
    slot = getattr(_held, "slot", None)
    if slot is None:
        return
    _held.slot = None
    pacer, scope = slot
    pacer.release(scope, throttled)


def _needs_retry(**kwargs: Any) -> None:
    """After each attempt, before botocore sleeps out a backoff: the slot goes back."""
    if getattr(_held, "slot", None) is not None:
        _answered(_throttling.is_throttling_error(**kwargs))


def _call_ended(**_: Any) -> None:
    """After the whole call (also when it raised before any retry decision)."""
    _answered(False)


def install_pacing(client: Any, service: str, region: str) -> None:
    """Hook ``client`` so calls made inside :meth:`Pacer.bound` are paced."""
    events = client.meta.events
    events.register("before-send", lambda **kw: _before_send(service, region, **kw))
    events.register("needs-retry", _needs_retry)
    events.register("after-call", _call_ended)
    events.register("after-call-error", _call_ended)
