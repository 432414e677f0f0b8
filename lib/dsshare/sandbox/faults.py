"""Latency, injected errors and the request log, as WSGI middleware.

Every request to the sandbox passes through :class:`Faults`: it is identified
(service, operation, account, Region), optionally delayed, optionally answered
with an injected error written in that service's own wire protocol (JSON for
Directory Service and Organizations, query XML for STS) so botocore parses and
retries it exactly as it would AWS's, and logged.
"""

from __future__ import annotations

import io
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import get_account_id_from, iam_backends
from moto.utilities.utils import PARTITION_NAMES

from .protocol import (
    BODY_KEY,
    ERROR_CODE,
    REQUEST_KEY,
    SERVER_CODES,
    error_response,
    protocol_of,
)

__all__ = ["SERVER_CODES", "FaultMiddleware", "FaultRule", "Faults", "error_response", "protocol_of"]

JSON_TARGET_PREFIXES = {
    "DirectoryService_20150416": "ds",
    "AWSOrganizationsV20161128": "organizations",
}
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
_ACTION = re.compile(r"(?:^|&)Action=([A-Za-z]+)")
#: The key an STS AssumeRole answer carries (query XML, or JSON for query-json clients).
_ISSUED_KEY = re.compile(rb'AccessKeyId(?:>|"\s*:\s*")([A-Z0-9]{16,128})[<"]')

#: Access key ids moto (like AWS) issues are upper-case letters and digits, 20 of them
#: (AKIA... for IAM users, ASIA... for STS). A key of any other shape, such as the
#: sandbox's "testing", can never appear in IAM, so "not found" is final for it.
_ISSUABLE_KEY = re.compile(r"^[A-Z0-9]{16,128}$")


class AccountOfKey:
    """Which account an access key belongs to, as ``moto.iam.models.get_account_id_from``
    answers, remembered per key.

    moto's function scans the IAM backend of every account and partition on each call:
    ~0.5 ms per request with a few hundred accounts, made twice per request (here and by
    moto itself), which was ~8 % of the sandbox's CPU. A remembered answer is checked
    with one dictionary lookup before use (a reset or a deleted key falls back to the
    scan); an unknown key is remembered only when IAM could never issue it.
    """

    def __init__(self) -> None:
        # key -> (account, partition) where IAM holds it, or None: in no account.
        self._known: dict[str, tuple[str, str] | None] = {}

    @staticmethod
    def _holds(account_id: str, partition: str, access_key: str) -> bool:
        # dict.get: moto's mappings create backends on a missing key; a lookup must not.
        account = dict.get(iam_backends, account_id)
        backend = dict.get(account, partition) if account is not None else None
        return backend is not None and access_key in backend.access_keys

    def learn(self, access_key: str, account_id: str) -> None:
        """Remember ``access_key`` as ``account_id``'s if that account's IAM holds it.

        STS AssumeRole issues a key in the role's account: learning it there spares its
        first call the scan of every account (~0.5 ms with a few hundred, once per key).
        Only what IAM confirms is remembered, so a wrong hint changes no answer.
        """
        for partition in PARTITION_NAMES:
            if self._holds(account_id, partition, access_key):
                self._known[access_key] = (account_id, partition)
                return

    def __call__(self, access_key: str) -> str:
        if access_key in self._known:
            where = self._known[access_key]
            if where is None:
                return DEFAULT_ACCOUNT_ID
            if self._holds(where[0], where[1], access_key):
                return where[0]
        account_id = get_account_id_from(access_key)
        for partition in PARTITION_NAMES:
            if self._holds(account_id, partition, access_key):
                self._known[access_key] = (account_id, partition)
                return account_id
        # Found nowhere: moto answers its default account.
        if _ISSUABLE_KEY.match(access_key):
            self._known.pop(access_key, None)
        else:
            self._known[access_key] = None
        return account_id


account_of_key = AccountOfKey()

@dataclass
class FaultRule:
    """Answer matching requests with ``code`` instead of the real response.

    ``operation`` and ``service`` may be ``"*"``; ``account_id`` limits the rule
    to requests acting in one account (for STS AssumeRole, the account of the
    role being assumed). ``count`` bounds how many requests it hits;
    ``probability`` makes it random (reproducible through the sandbox's seed).

    ``rate`` (calls per second) makes it AWS's kind of limit instead: a token bucket per
    account x Region x service x operation, holding up to ``burst`` tokens (default: one
    second's worth) and refilled at ``rate``; a request that finds its bucket empty is
    answered with ``code``. A client that slows down sees fewer of them.
    """

    operation: str = "*"
    code: str = "ThrottlingException"
    service: str = "*"
    account_id: str | None = None
    count: int | None = None
    probability: float | None = None
    message: str | None = None
    rate: float | None = None
    burst: float | None = None
    hits: int = 0

    def matches(self, request: RequestInfo) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        if self.service not in ("*", request.service):
            return False
        if self.operation not in ("*", request.operation):
            return False
        if self.account_id is not None and self.account_id not in (
            request.account_id,
            request.target_account_id,
        ):
            return False
        return True


@dataclass
class RequestInfo:
    service: str
    operation: str
    account_id: str
    region: str
    target_account_id: str | None = None


@dataclass
class LogEntry:
    time: float
    service: str
    operation: str
    account_id: str
    region: str
    status: int
    injected: str | None


class Faults:
    """Fault rules, latency settings and the request log of one sandbox."""

    def __init__(self, seed: int = 0, log_size: int = 200_000) -> None:
        self.lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self.latency_ms = 0.0
        self.jitter_ms = 0.0
        self.rng = random.Random(seed)
        self.log: deque[LogEntry] = deque(maxlen=log_size)
        self.injected = 0
        # Rate rules' token buckets: (rule, account, Region, service, operation) ->
        # [tokens, when last refilled].
        self.buckets: dict[tuple[int, str, str, str, str], list[float]] = {}

    def clear(self, seed: int = 0) -> None:
        with self.lock:
            self.rules.clear()
            self.buckets.clear()
            self.latency_ms = self.jitter_ms = 0.0
            self.rng.seed(seed)
            self.log.clear()
            self.injected = 0

    def add(self, rule: FaultRule) -> FaultRule:
        if not isinstance(rule.code, str) or not ERROR_CODE.match(rule.code):
            raise ValueError(
                f"code must be an AWS error code (letters, digits, '.', '_'), got {rule.code!r}"
            )
        if rule.message is not None and not isinstance(rule.message, str):
            raise ValueError(f"message must be text, got {rule.message!r}")
        for name in ("operation", "service"):
            if not isinstance(getattr(rule, name), str):
                raise ValueError(f"{name} must be text, got {getattr(rule, name)!r}")
        if rule.account_id is not None and not isinstance(rule.account_id, str):
            raise ValueError(f"account_id must be text (12 digits), got {rule.account_id!r}")
        if rule.count is not None and (isinstance(rule.count, bool) or not isinstance(rule.count, int)):
            raise ValueError(f"count must be a whole number, got {rule.count!r}")
        if rule.probability is not None and (
            isinstance(rule.probability, bool) or not isinstance(rule.probability, (int, float))
        ):
            raise ValueError(f"probability must be a number between 0 and 1, got {rule.probability!r}")
        if rule.probability is not None and not 0.0 <= rule.probability <= 1.0:
            raise ValueError(f"probability must be between 0 and 1, got {rule.probability}")
        if rule.count is not None and rule.count < 0:
            raise ValueError(f"count must be >= 0, got {rule.count}")
        for name in ("rate", "burst"):
            value = getattr(rule, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0
            ):
                raise ValueError(f"{name} must be a number of calls > 0, got {value!r}")
        if rule.burst is not None and rule.rate is None:
            raise ValueError("burst needs a rate (calls per second)")
        if rule.rate is not None and rule.probability is not None:
            raise ValueError("give a rate or a probability, not both")
        with self.lock:
            self.rules.append(rule)
        return rule

    def delay(self) -> float:
        with self.lock:
            jitter = self.rng.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
        return max(0.0, self.latency_ms + jitter) / 1000.0

    def pick(self, request: RequestInfo) -> FaultRule | None:
        with self.lock:
            for rule in self.rules:
                if not rule.matches(request):
                    continue
                if rule.probability is not None and self.rng.random() >= rule.probability:
                    continue
                if rule.rate is not None and self._within_rate(rule, request):
                    continue
                rule.hits += 1
                self.injected += 1
                return rule
        return None

    def _within_rate(self, rule: FaultRule, request: RequestInfo) -> bool:
        """Take a token from the request's bucket under ``rule`` (lock held); False: empty."""
        assert rule.rate is not None
        capacity = rule.burst if rule.burst is not None else max(1.0, rule.rate)
        key = (id(rule), request.account_id, request.region, request.service, request.operation)
        now = time.monotonic()
        bucket = self.buckets.setdefault(key, [capacity, now])
        bucket[0] = min(capacity, bucket[0] + (now - bucket[1]) * rule.rate)
        bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return True
        return False

    def record(self, request: RequestInfo, status: int, injected: str | None) -> None:
        self.log.append(
            LogEntry(
                time.time(),
                request.service,
                request.operation,
                request.account_id,
                request.region,
                status,
                injected,
            )
        )

    def entries(self) -> list[dict[str, Any]]:
        return [asdict(e) for e in list(self.log)]


def identify(environ: dict[str, Any], body: bytes) -> RequestInfo | None:
    """Which AWS call a request is, or None for sandbox/moto control paths."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL.search(auth)
    if not match:
        return None
    access_key, region, scope_service = match.groups()
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if "." in target:
        prefix, operation = target.split(".", 1)
        service = JSON_TARGET_PREFIXES.get(prefix, scope_service)
    else:
        service = scope_service
        action = _ACTION.search(body.decode("utf-8", "replace"))
        operation = action.group(1) if action else ""
    target_account = None
    if service == "sts" and operation == "AssumeRole":
        role = re.search(
            r"RoleArn=arn%3Aaws%3Aiam%3A%3A(\d{12})%3A", body.decode("ascii", "replace")
        )
        target_account = role.group(1) if role else None
    return RequestInfo(service, operation, account_of_key(access_key), region, target_account)


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FaultMiddleware:
    """WSGI middleware applying :class:`Faults` in front of moto's dispatcher."""

    def __init__(self, app: WSGIApp, faults: Faults, control: WSGIApp | None = None) -> None:
        self.app = app
        self.faults = faults
        self.control = control

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self.control is not None and environ.get("PATH_INFO", "").startswith("/_dsshare/"):
            return self.control(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        request = identify(environ, body)
        if request is None:
            return self.app(environ, start_response)
        environ[REQUEST_KEY], environ[BODY_KEY] = request, body
        # moto would otherwise scan every account's IAM again for the same answer; its own
        # header (which a client may already have sent, and which then wins) carries it.
        environ.setdefault("HTTP_X_MOTO_ACCOUNT_ID", request.account_id)
        pause = self.faults.delay()
        if pause:
            time.sleep(pause)
        rule = self.faults.pick(request)
        if rule is not None:
            message = rule.message or f"Injected {rule.code} by the dsshare sandbox"
            status, headers, payload = error_response(request.service, rule.code, message)
            self.faults.record(request, int(status.split()[0]), rule.code)
            start_response(status, headers)
            return [payload]
        seen: dict[str, int] = {}

        def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
            seen["status"] = int(status.split()[0])
            return start_response(status, headers, *args)

        result = self.app(environ, recording_start_response)
        self.faults.record(request, seen.get("status", 0), None)
        if (
            request.operation == "AssumeRole"
            and request.target_account_id
            and seen.get("status") == 200
        ):
            return self._learn_issued_key(result, request.target_account_id)
        return result

    @staticmethod
    def _learn_issued_key(result: Iterable[bytes], account_id: str) -> list[bytes]:
        """Read the key an AssumeRole answer issues, and let :data:`account_of_key` learn it."""
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        issued = _ISSUED_KEY.search(body)
        if issued is not None:
            account_of_key.learn(issued.group(1).decode(), account_id)
        return [body]
