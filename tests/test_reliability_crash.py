"""Crash and resume: a share runbook SIGKILLed in the middle of apply (with its kernel), then
run again with the same parameters, finishes the job with no duplicate share and no torn
audit line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tools.reliability.chaos import (
    account_audit,
    duplicate_shares,
    read_audit_lines,
    read_in_doubt,
    share_state,
)
from tools.reliability.runs import kill_when_audited, run_share, start_share, write_parameters

import dsshare
from dsshare.sandbox import Sandbox

pytestmark = pytest.mark.slow

TARGETS = [f"4100000{i:05d}" for i in range(20)]


@pytest.fixture(scope="module")
def killed_run(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, object]]:
    """A share run killed once it audited 5 calls, and its rerun with the same parameters.

    Module-scoped: the three tests read one crash (each run starts a kernel).
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _crash_and_rerun(sandbox, tmp_path_factory.mktemp("crash"), monkeypatch)


def _crash_and_rerun(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, object]:
    sb.reset()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "DSSHARE_GUARDRAILS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sb.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    directory = sb.directory_id("global.example.com")
    before = share_state(dsshare.Connection(), directory)
    parameters = write_parameters(tmp_path / "share.yaml", {
        "directory_id": directory, "targets": TARGETS, "auto_accept": True,
        "allow_external": True, "dry_run": False, "notes": "crash test",
        "wait_timeout_minutes": 3,
    })  # fmt: skip
    sb.set_latency(100, jitter_ms=50)  # apply takes seconds: calls are in flight at the kill
    first = start_share(parameters, tmp_path / "run1", os.environ)
    seen = kill_when_audited(first, tmp_path / "run1" / "audit.jsonl", lines=5)
    sb.set_latency(0)
    rerun = run_share(parameters, tmp_path / "run2", os.environ)
    return {"sb": sb, "directory": directory, "before": before, "seen": seen, "rerun": rerun,
            "audits": [tmp_path / "run1" / "audit.jsonl", tmp_path / "run2" / "audit.jsonl"]}


def test_rerun_after_a_sigkill_mid_apply_finishes_without_duplicates(
    killed_run: dict[str, object],
) -> None:
    rerun = killed_run["rerun"]
    assert rerun.exit_code == 0, rerun.stderr  # type: ignore[attr-defined]
    assert 5 <= killed_run["seen"] < 40  # type: ignore[operator]
    rows = rerun.results  # type: ignore[attr-defined]
    assert sorted(r["account_id"] for r in rows) == TARGETS
    # Each target: shared (and accepted) now, or found shared by the killed run and accepted.
    assert {r["outcome"] for r in rows} == {"done"}
    assert {r["share_status"] for r in rows} == {"Shared"}
    assert {r["action"] for r in rows} <= {"share", "accept"}
    after = share_state(dsshare.Connection(), killed_run["directory"])  # type: ignore[arg-type]
    assert duplicate_shares(after) == {}
    for account in TARGETS:
        assert after.records[account] == (("Shared", "HANDSHAKE"),)
    before = killed_run["before"]
    untouched = {a: r for a, r in after.records.items() if a not in TARGETS}
    assert untouched == dict(before.records)  # type: ignore[attr-defined]


def test_no_audit_line_is_torn_by_the_kill(killed_run: dict[str, object]) -> None:
    lines, torn = read_audit_lines(killed_run["audits"])  # type: ignore[arg-type]
    assert torn == 0
    assert len(lines) >= killed_run["seen"]  # type: ignore[operator]
    sb: Sandbox = killed_run["sb"]  # type: ignore[assignment]
    accounting = account_audit(sb.request_log, lines)
    assert accounting.extra == 0


def test_calls_in_flight_at_the_kill_are_not_lost_from_the_audit(
    killed_run: dict[str, object],
) -> None:
    """Every call that reached AWS has an outcome line, or (killed mid-call) an intent line
    left in doubt; only calls of the killed run can be in doubt."""
    audits: list[Path] = killed_run["audits"]  # type: ignore[assignment]
    lines, _ = read_audit_lines(audits)
    doubtful, torn = read_in_doubt(audits)
    sb: Sandbox = killed_run["sb"]  # type: ignore[assignment]
    accounting = account_audit(sb.request_log, lines, doubtful)
    assert torn == 0
    assert accounting.lost == 0, (accounting.reached, accounting.audited, accounting.in_doubt)
    assert read_in_doubt(audits[1:])[0] == []
