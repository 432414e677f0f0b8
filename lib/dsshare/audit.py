"""Append-only audit trail of mutating AWS calls, one JSON line per call.

Each line holds the UTC time, caller ARN, account, Region, operation, parameters, outcome,
error code and request id. ShareNotes is sensitive: it is replaced by its length and sha256,
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
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = ["AUDIT_FIELDS", "AuditLog", "redact_parameters"]

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
        self._lock = threading.Lock()
        self._handle: IO[str] | None = None

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
    ) -> dict[str, Any]:
        """Append one line for one mutating call and return what was written."""
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "caller_arn": caller_arn,
            "account_id": account_id,
            "region": region,
            "operation": operation,
            "parameters": redact_parameters(parameters),
            "outcome": outcome,
            "error_code": error_code,
            "request_id": request_id,
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
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
