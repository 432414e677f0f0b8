"""Specification of plan, preflight and apply against the sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from dsshare import calls, sharing
from dsshare.audit import AuditLog
from dsshare.connection import Connection
from dsshare.desired import parse_desired_state
from dsshare.errors import ParameterError, PlanMismatchError, PreflightError, WaitTimeoutError
from dsshare.execution import RESULT_COLUMNS, apply
from dsshare.planning import PLAN_COLUMNS, plan, plan_desired_state
from dsshare.sandbox import Sandbox

MUTATING = {"ShareDirectory", "UnshareDirectory", "AcceptSharedDirectory", "RejectSharedDirectory", "DeleteDirectory"}


@pytest.fixture
def conn(aws_env: Sandbox) -> Connection:
    return Connection()


def mutations(sb: Sandbox) -> list[dict[str, Any]]:
    return [e for e in sb.request_log if e["service"] == "ds" and e["operation"] in MUTATING]


def active_records(conn: Connection, directory_id: str) -> dict[str, list[str]]:
    """Account -> its share records that are not Deleted or Rejected."""
    found: dict[str, list[str]] = {}
    for record in calls.iter_shared_directories(conn, directory_id):
        if record["ShareStatus"] not in ("Deleted", "Rejected"):
            found.setdefault(record["SharedAccountId"], []).append(record["ShareStatus"])
    return found


def by_account(frame: Any) -> dict[str, dict[str, Any]]:
    return {row["account_id"]: row for row in frame.to_dict("records")}


def test_plan_shows_every_target_with_a_reason_and_changes_nothing(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    p = plan(conn, corp, [aws_env.ou_id("Workloads"), "999900000001"], method="ORGANIZATIONS")
    frame = p.to_frame()
    assert list(frame.columns) == list(PLAN_COLUMNS)
    rows = by_account(frame)
    assert rows[aws_env.account_id("prod-app1")]["action"] == "skip"
    assert rows[aws_env.account_id("dev-app1")]["action"] == "share"
    assert "previously Deleted" in rows[aws_env.account_id("dev-app1")]["reason"]
    assert rows["999900000001"]["check"] == "TargetNotMember"
    assert rows[aws_env.account_id("dev-app1")]["check"] is None, "empty cells are None, not NaN"
    assert p.summary() == {"skip": 2, "share": 4, "refuse": 1}
    assert mutations(aws_env) == []
    with pytest.raises(PreflightError):
        p.raise_for_refusals()


def test_same_state_and_request_give_the_same_fingerprint(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    targets = [aws_env.ou_id("Prod")]
    first = plan(conn, corp, targets, method="ORGANIZATIONS")
    again = plan(Connection(), corp, targets, method="ORGANIZATIONS")
    assert first.fingerprint == again.fingerprint
    assert plan(conn, corp, targets, method="HANDSHAKE").fingerprint != first.fingerprint


def test_apply_refuses_when_live_state_no_longer_matches_the_reviewed_plan(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    reviewed = plan(conn, corp, [aws_env.ou_id("Prod")], method="ORGANIZATIONS")
    # Someone else shares with prod-data between review and apply.
    calls.share_directory(conn, corp, aws_env.account_id("prod-data"), method="ORGANIZATIONS")
    before = len(mutations(aws_env))
    with pytest.raises(PlanMismatchError) as info:
        apply(conn, reviewed, expected_fingerprint=reviewed.fingerprint, progress=False)
    assert info.value.expected == reviewed.fingerprint and info.value.actual != reviewed.fingerprint
    assert len(mutations(aws_env)) == before, "nothing applied after a mismatch"


def test_apply_with_the_reviewed_fingerprint_then_reapply_is_a_no_op(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    targets = [aws_env.ou_id("Dev"), aws_env.account_id("network")]
    reviewed = plan(conn, corp, targets, method="ORGANIZATIONS")
    first = apply(conn, reviewed, expected_fingerprint=reviewed.fingerprint, progress=False)
    assert sorted(first["outcome"]) == ["done"] * 4
    calls = len(mutations(aws_env))
    assert calls == 4

    rerun = sharing.share(conn, corp, targets, method="ORGANIZATIONS", progress=False)
    assert list(rerun.columns) == list(RESULT_COLUMNS)
    assert set(rerun["outcome"]) == {"skipped"} and set(rerun["share_status"]) == {"Shared"}
    assert len(mutations(aws_env)) == calls, "a re-run makes no call"


def test_bulk_share_of_30_accounts_on_a_standard_directory_refuses_the_6_over_quota(
    conn: Connection, aws_env: Sandbox, tmp_path: Path
) -> None:
    org = conn.client("organizations")
    for n in range(19):
        org.create_account(Email=f"quota{n}@example.com", AccountName=f"quota-{n}")
    members = [a["Id"] for a in org.list_accounts()["Accounts"]]
    directory = aws_env.add_directory(conn.caller_account_id, "us-east-1", "quota.example.com", "Standard")
    first = aws_env.account_id("shared-services")
    calls.share_directory(conn, directory, first, method="ORGANIZATIONS")
    targets = [a for a in members if a not in (conn.caller_account_id, first)]
    assert len(targets) == 30

    p = plan(conn, directory, targets, method="ORGANIZATIONS")
    refused = [row for row in p.rows if row.action == "refuse"]
    assert [row.check for row in refused] == ["QuotaExceeded"] * 6
    assert [row.account_id for row in refused] == targets[-6:]

    audit = AuditLog(tmp_path / "audit.jsonl")
    aws_env.clear_request_log()
    frame = apply(conn, p, audit=audit, progress=False)
    outcomes = frame.groupby("outcome").size().to_dict()
    assert outcomes == {"done": 24, "failed": 6}
    assert set(frame.loc[frame["outcome"] == "failed", "error_code"]) == {"QuotaExceeded"}
    assert len(mutations(aws_env)) == 24, "no call for the refused six"
    called = {line["parameters"]["ShareTarget"]["Id"] for line in audit.read()}
    assert called == set(targets[:24])
    assert len(active_records(conn, directory)) == 25


@pytest.mark.parametrize(
    "case,check",
    [
        ("missing", "DirectoryNotFound"),
        ("simple_ad", "DirectoryNotMicrosoftAD"),
        ("creating", "DirectoryNotActive"),
        ("member_owner", "NotManagementAccount"),
        ("feature_set", "FeatureSetNotAll"),
        ("trusted_access", "TrustedAccessDisabled"),
        ("not_member", "TargetNotMember"),
        ("owner", "TargetIsOwner"),
        ("external", "ExternalTarget"),
    ],
)
def test_every_preflight_failure_is_a_visible_refusal_and_calls_nothing(
    conn: Connection, aws_env: Sandbox, case: str, check: str
) -> None:
    corp = aws_env.directory_id("corp.example.com")
    target = aws_env.account_id("network")
    kwargs: dict[str, Any] = {"method": "ORGANIZATIONS"}
    directory = corp
    if case == "missing":
        directory = "d-0000000000"
    elif case == "simple_ad":
        directory = aws_env.directory_id("legacy.example.com")
    elif case == "creating":
        aws_env.set_directory_stage(corp, "Creating")
    elif case == "member_owner":
        directory = aws_env.directory_id("services.example.com")
        kwargs["owner_account_id"] = aws_env.account_id("shared-services")
    elif case == "feature_set":
        aws_env.set_feature_set("CONSOLIDATED_BILLING")
    elif case == "trusted_access":
        conn.client("organizations").disable_aws_service_access(ServicePrincipal="ds.amazonaws.com")
    elif case == "not_member":
        target = "999900000001"
    elif case == "owner":
        target = conn.caller_account_id
    elif case == "external":
        target, kwargs["method"] = "999900000001", "HANDSHAKE"
        directory = aws_env.directory_id("global.example.com")

    frame = sharing.share(conn, directory, [target], progress=False, **kwargs)
    row = frame.iloc[0]
    assert (row["action"], row["outcome"], row["error_code"]) == ("refuse", "failed", check)
    assert row["message"]
    assert mutations(aws_env) == []


def test_external_handshake_is_allowed_when_asked(conn: Connection, aws_env: Sandbox) -> None:
    glob = aws_env.directory_id("global.example.com")
    p = plan(conn, glob, ["999900000001"], allow_external=True)
    assert (p.rows[0].action, p.rows[0].external) == ("share", True)
    frame = apply(conn, p, progress=False)
    assert (frame["outcome"].item(), frame["share_status"].item()) == ("done", "PendingAcceptance")


def test_sharing_is_regional(conn: Connection, aws_env: Sandbox) -> None:
    eu = aws_env.directory_id("corp-eu.example.com", region="eu-west-1")
    frame = sharing.share(conn, eu, [aws_env.ou_id("Prod")], method="ORGANIZATIONS", region="eu-west-1", progress=False)
    assert set(frame["region"]) == {"eu-west-1"} and set(frame["share_status"]) == {"Shared"}
    assert {e["region"] for e in mutations(aws_env)} == {"eu-west-1"}


def test_wait_timeout_names_the_pending_targets_and_their_last_status(conn: Connection, aws_env: Sandbox) -> None:
    aws_env.set_transition_delay(30)
    glob = aws_env.directory_id("global.example.com")
    targets = [aws_env.account_id("network"), aws_env.account_id("log-archive")]
    with pytest.raises(WaitTimeoutError) as info:
        sharing.share(conn, glob, targets, timeout=0.6, progress=False)
    assert info.value.pending == {targets[0]: "Sharing", targets[1]: "Sharing"}
    assert "Sharing" in str(info.value) and targets[0] in str(info.value)
    partial = info.value.results
    assert partial is not None and set(partial["error_code"]) == {"WaitTimeout"}


def test_apply_rejects_bad_settings_before_any_call(conn: Connection, aws_env: Sandbox) -> None:
    p = plan(conn, aws_env.directory_id("corp.example.com"), [aws_env.account_id("network")], method="ORGANIZATIONS")
    before = len(aws_env.request_log)
    with pytest.raises(ParameterError):
        apply(conn, p, timeout=0, progress=False)
    with pytest.raises(ParameterError):
        apply(conn, p, max_workers=0, progress=False)
    assert len(aws_env.request_log) == before


def test_desired_state_plans_and_prunes(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    app1, app2, network = (aws_env.account_id(n) for n in ("prod-app1", "prod-app2", "network"))
    desired = parse_desired_state({
        "directories": [{"directory_id": corp, "method": "ORGANIZATIONS", "targets": [app1, network]}],
    })
    keep = plan_desired_state(conn, desired)
    assert {r.account_id: r.action for r in keep.rows} == {app1: "skip", network: "share"}

    pruned = plan_desired_state(conn, desired, prune=True)
    assert {r.account_id: r.action for r in pruned.rows} == {app1: "skip", network: "share", app2: "unshare"}
    assert pruned.fingerprint != keep.fingerprint
    frame = apply(conn, pruned, expected_fingerprint=pruned.fingerprint, progress=False)
    statuses = dict(zip(frame["account_id"], frame["share_status"], strict=True))
    assert statuses == {app1: "Shared", network: "Shared", app2: "Deleted"}

    settled = plan_desired_state(conn, desired, prune=True)
    assert {r.action for r in settled.rows} == {"skip"}


def test_an_apply_killed_halfway_completes_on_replan_without_duplicates(
    conn: Connection, aws_env: Sandbox, tmp_path: Path
) -> None:
    glob = aws_env.directory_id("global.example.com")
    workloads = aws_env.ou_id("Workloads")
    script = tmp_path / "apply.py"
    script.write_text(textwrap.dedent(f"""
        import dsshare
        conn = dsshare.Connection()
        p = dsshare.plan(conn, {glob!r}, [{workloads!r}], method="ORGANIZATIONS")
        dsshare.apply(conn, p, progress=False, max_workers=1)
    """))
    aws_env.set_latency(120)
    child = subprocess.Popen([sys.executable, str(script)], env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while len([e for e in mutations(aws_env) if e["status"] == 200]) < 2:
            assert child.poll() is None, "the apply finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    time.sleep(0.5)  # a call already in flight when the process died still lands server-side
    aws_env.set_latency(0)
    shared_before = len([e for e in mutations(aws_env) if e["status"] == 200])
    assert 2 <= shared_before < 6, "killed halfway"

    resumed = plan(conn, glob, [workloads], method="ORGANIZATIONS")
    assert resumed.summary() == {"skip": shared_before, "share": 6 - shared_before}
    frame = apply(conn, resumed, expected_fingerprint=resumed.fingerprint, progress=False)
    assert set(frame["share_status"]) == {"Shared"}
    records = active_records(conn, glob)
    expected = {aws_env.account_id(n) for n in ("prod-app1", "prod-app2", "prod-data", "dev-app1", "dev-app2", "dev-data")}
    assert {a: records[a] for a in expected} == {a: ["Shared"] for a in expected}, "exactly one share each"
    assert len([e for e in mutations(aws_env) if e["operation"] == "ShareDirectory"]) == 6
