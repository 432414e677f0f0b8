"""Append-only audit trail of mutating AWS calls, one JSON line per call.

Each line holds the UTC time, caller ARN, account, Region, operation, parameters, outcome,
error code, request id and a call id.

Write-ahead: before each call, :meth:`AuditLog.begin` appends an intent line (time, call id,
account, Region, operation, redacted parameters) to a sidecar file beside the log
(``audit.intents.jsonl`` for ``audit.jsonl``); the outcome line written after the call
carries the same call id. A run killed while a call is in flight leaves an intent with no
outcome: :meth:`AuditLog.in_doubt` lists those calls, which may or may not have reached AWS
(re-plan to see). The audit log itself keeps exactly one line per completed call. ShareNotes is sensitive: it is replaced by its length and sha256,
so an auditor can check which text was sent without the log disclosing it. Lines are flushed
as they are written and writes are serialised, so concurrent bulk workers never interleave.

Example
-------
>>> with AuditLog("runs/audit.jsonl") as audit:          # doctest: +SKIP
...     share(conn, "d-1234567890", ["200000000004"], audit=audit)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = [
    "AUDIT_FIELDS",
    "INTENT_FIELDS",
    "AuditLog",
    "default_audit_log",
    "intents_path",
    "redact_parameters",
]

logger = logging.getLogger(__name__)

#: Keys of every audit line, in the order written.
AUDIT_FIELDS: tuple[str, ...] = (
    "time",
    "caller_arn",
    "account_id",
    "region",
    "operation",
    "parameters",
    "outcome",
    "error_code",
    "request_id",
    "call_id",
)
#: Keys of every intent line (the write-ahead sidecar), in the order written.
INTENT_FIELDS: tuple[str, ...] = (
    "time", "call_id", "caller_arn", "account_id", "region", "operation", "parameters",
)
_SENSITIVE = ("ShareNotes",)


def redact_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``parameters`` with ShareNotes replaced by ``{"length": n, "sha256": hex}``.

    Example
    -------
    >>> redact_parameters({"ShareNotes": "hi"})["ShareNotes"]["length"]
    2
    """
    redacted = dict(parameters)
    for key in _SENSITIVE:
        if key in redacted:
            text = str(redacted[key])
            redacted[key] = {
                "length": len(text),
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            }
    return redacted


def intents_path(path: str | os.PathLike[str]) -> Path:
    """The write-ahead sidecar of an audit file: ``audit.jsonl`` -> ``audit.intents.jsonl``."""
    target = Path(path)
    return target.with_name(f"{target.stem}.intents{target.suffix or '.jsonl'}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class AuditLog:
    """A JSON-lines audit file; safe to share between threads.

    Parameters
    ----------
    path
        File to append to; parent directories are created.

    Example
    -------
    >>> audit = AuditLog("runs/audit.jsonl")  # doctest: +SKIP
    >>> audit.path.name                        # doctest: +SKIP
    'audit.jsonl'
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.intents_path = intents_path(self.path)
        self._lock = threading.Lock()
        self._handle: IO[str] | None = None
        self._intents: IO[str] | None = None

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r})"

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (it reopens on the next write)."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
            if self._intents is not None:
                self._intents.close()
                self._intents = None

    def begin(
        self,
        *,
        caller_arn: str,
        account_id: str,
        region: str,
        operation: str,
        parameters: Mapping[str, Any],
    ) -> str:
        """Append the intent line of a call about to be made; return its call id.

        Pass the id to :meth:`record` once the call returned (or failed).
        """
        call_id = uuid.uuid4().hex
        line = {
            "time": _now(),
            "call_id": call_id,
            "caller_arn": caller_arn,
            "account_id": account_id,
            "region": region,
            "operation": operation,
            "parameters": redact_parameters(parameters),
        }
        text = json.dumps(line, default=str) + "\n"
        with self._lock:
            if self._intents is None:
                self.intents_path.parent.mkdir(parents=True, exist_ok=True)
                self._intents = self.intents_path.open("a", encoding="utf-8")
            self._intents.write(text)
            self._intents.flush()
        return call_id

    def in_doubt(self) -> list[dict[str, Any]]:
        """Intent lines with no outcome line: calls a killed run may or may not have made."""
        with self._lock:
            for handle in (self._handle, self._intents):
                if handle is not None:
                    handle.flush()
        done = {line.get("call_id") for line in _read_lines(self.path)}
        return [line for line in _read_lines(self.intents_path) if line["call_id"] not in done]

    def record(
        self,
        *,
        caller_arn: str,
        account_id: str,
        region: str,
        operation: str,
        parameters: Mapping[str, Any],
        outcome: str,
        error_code: str | None = None,
        request_id: str | None = None,
        call_id: str | None = None,
    ) -> dict[str, Any]:
        """Append one line for one mutating call and return what was written.

        ``call_id`` is what :meth:`begin` returned for the call (None when no intent was
        written).
        """
        line = {
            "time": _now(),
            "caller_arn": caller_arn,
            "account_id": account_id,
            "region": region,
            "operation": operation,
            "parameters": redact_parameters(parameters),
            "outcome": outcome,
            "error_code": error_code,
            "request_id": request_id,
            "call_id": call_id,
        }
        text = json.dumps(line, sort_keys=False, default=str) + "\n"
        with self._lock:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a", encoding="utf-8")
            self._handle.write(text)
            self._handle.flush()
        logger.debug("audited %s in %s: %s", operation, account_id, outcome)
        return line

    def read(self) -> list[dict[str, Any]]:
        """Return every line written so far, parsed (for reports and tests)."""
        with self._lock:
            if self._handle is not None:
                self._handle.flush()
        return _read_lines(self.path)


#: Where audit logs go when the caller names none: ``$DSSHARE_RUNS_DIR``, else ``runs/``.
RUNS_DIR_ENV = "DSSHARE_RUNS_DIR"


def default_audit_log(kind: str = "library") -> AuditLog:
    """The audit log of a mutating call whose caller passed none.

    ``$DSSHARE_RUNS_DIR/<UTC time>-<kind>/audit.jsonl`` (``runs/`` under the working folder
    when the variable is unset). Nothing is written until the first call is audited, so a
    plan with nothing to change leaves no folder behind.

    Example
    -------
    >>> default_audit_log().path.name
    'audit.jsonl'
    """
    root = Path(os.environ.get(RUNS_DIR_ENV) or "runs")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return AuditLog(root / f"{stamp}-{kind}" / "audit.jsonl")
