"""Specification of the audit log: one flushed JSON line per call, notes never written."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from dsshare.audit import AUDIT_FIELDS, AuditLog, redact_parameters


def _record(audit: AuditLog, n: int, notes: str = "") -> None:
    audit.record(
        caller_arn="arn:aws:sts::123456789012:user/ops",
        account_id="123456789012",
        region="us-east-1",
        operation="ShareDirectory",
        parameters={"DirectoryId": "d-1234567890", "ShareTarget": {"Id": f"{n:012d}"},
                    "ShareNotes": notes},
        outcome="done",
        request_id=f"req-{n}",
    )


def test_each_line_is_written_and_flushed_immediately(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "nested" / "audit.jsonl")
    _record(audit, 1)
    # Read through a separate handle without closing the log: the line is already there.
    lines = (tmp_path / "nested" / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert tuple(line) == AUDIT_FIELDS
    assert line["time"].endswith("Z") and line["request_id"] == "req-1"
    audit.close()


def test_share_notes_are_replaced_by_length_and_sha256(tmp_path: Path) -> None:
    notes = "Join the domain: call identity-team, PIN 4321."
    with AuditLog(tmp_path / "a.jsonl") as audit:
        _record(audit, 1, notes)
    text = (tmp_path / "a.jsonl").read_text()
    assert notes not in text and "4321" not in text
    stored = json.loads(text)["parameters"]["ShareNotes"]
    assert stored == {"length": len(notes), "sha256": hashlib.sha256(notes.encode()).hexdigest()}


def test_redaction_leaves_other_parameters_alone() -> None:
    params = {"DirectoryId": "d-1234567890"}
    assert redact_parameters(params) == params


def test_concurrent_writers_never_interleave_lines(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "a.jsonl")
    threads = [threading.Thread(target=lambda i=i: [_record(audit, i * 100 + k, "n" * 500) for k in range(50)])
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = audit.read()
    assert len(lines) == 400
    assert len({line["request_id"] for line in lines}) == 400
    audit.close()


def test_appends_to_an_existing_log(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path) as audit:
        _record(audit, 1)
    with AuditLog(path) as audit:
        _record(audit, 2)
        assert [line["request_id"] for line in audit.read()] == ["req-1", "req-2"]
