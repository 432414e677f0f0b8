"""Guardrails are enforced by the library: plans, bulk verbs, runbooks and the console all
refuse what the policy forbids, as preflight refusal rows naming the rule, and nothing is
called for a refused target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dsshare
from dsshare.guardrails import ENV_VAR, GuardrailsError, load_guardrails, parse_guardrails
from dsshare.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
POLICY = REPO / "parameters" / "guardrails.yaml"


def share_calls(sb: Sandbox) -> list[dict[str, object]]:
    return [e for e in sb.request_log if e["operation"] == "ShareDirectory"]


@pytest.fixture
def conn(aws_env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> dsshare.Connection:
    monkeypatch.delenv(ENV_VAR, raising=False)
    return dsshare.Connection()


def test_the_example_policy_refuses_each_rule_in_the_plan(
    aws_env: Sandbox, conn: dsshare.Connection
) -> None:
    sb = aws_env
    policy = load_guardrails(POLICY)
    glob = sb.directory_id("global.example.com")
    targets = [sb.ou_id("Dev"), sb.account_id("prod-data"), sb.account_id("sandbox-carol"),
               sb.account_id("network"), "999900000001"]  # fmt: skip
    plan = dsshare.plan(conn, glob, targets, allow_external=True, guardrails=policy)
    rows = plan.to_frame().set_index("account_id")
    assert rows.loc[sb.account_id("prod-data"), "check"] == "GuardrailDeniedAccount"
    assert rows.loc[sb.account_id("sandbox-carol"), "check"] == "GuardrailTargetNotAllowed"
    assert rows.loc["999900000001", "check"] == "GuardrailTargetNotAllowed", rows.loc["999900000001"].to_dict()
    assert "rule denied_accounts" in rows.loc[sb.account_id("prod-data"), "reason"]
    for name in ("dev-app1", "dev-app2", "dev-data", "network"):
        assert rows.loc[sb.account_id(name), "action"] in ("share", "skip"), name
    services = sb.directory_id("services.example.com")
    other = dsshare.plan(conn, services, [sb.account_id("network")],
                         owner_account_id=sb.account_id("shared-services"), guardrails=policy)
    assert other.to_frame()["check"].tolist() == ["GuardrailDirectoryNotAllowed"]
    with pytest.raises(dsshare.PreflightError, match="GuardrailDeniedAccount"):
        plan.raise_for_refusals()


def test_external_handshake_is_refused_even_with_allow_external(
    aws_env: Sandbox, conn: dsshare.Connection
) -> None:
    policy = parse_guardrails({"allow_external_handshake": False})
    plan = dsshare.plan(conn, aws_env.directory_id("global.example.com"), ["999900000001"],
                        allow_external=True, guardrails=policy)  # fmt: skip
    row = plan.rows[0]
    assert (row.action, row.check) == ("refuse", "GuardrailExternalHandshake")
    assert "rule allow_external_handshake" in row.reason


def test_bulk_share_obeys_the_environment_policy_and_calls_nothing_refused(
    aws_env: Sandbox, conn: dsshare.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = aws_env
    monkeypatch.setenv(ENV_VAR, str(POLICY))
    frame = dsshare.share(conn, sb.directory_id("global.example.com"),
                          [sb.account_id("prod-data"), sb.account_id("network")], progress=False)
    by_account = frame.set_index("account_id")
    assert by_account.loc[sb.account_id("prod-data"), "outcome"] == "failed"
    assert by_account.loc[sb.account_id("prod-data"), "error_code"] == "GuardrailDeniedAccount"
    assert by_account.loc[sb.account_id("network"), "outcome"] == "done"
    calls = share_calls(sb)
    assert len(calls) == 1  # network only


def test_a_run_over_the_limit_shares_with_nobody(
    aws_env: Sandbox, conn: dsshare.Connection
) -> None:
    sb = aws_env
    policy = parse_guardrails({"max_targets_per_run": 2})
    frame = dsshare.share(conn, sb.directory_id("global.example.com"), [sb.ou_id("Dev")],
                          guardrails=policy, progress=False)  # fmt: skip
    assert set(frame["error_code"]) == {"GuardrailMaxTargets"} and len(frame) == 3
    assert share_calls(sb) == []


def test_a_bad_policy_file_fails_closed_before_any_aws_call(
    aws_env: Sandbox, conn: dsshare.Connection, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "g.yaml"
    bad.write_text("denied_accounts: [200000000004]\nallow_external_handshake: no\n")
    monkeypatch.setenv(ENV_VAR, str(bad))
    aws_env.clear_request_log()
    with pytest.raises(GuardrailsError, match="true or false"):
        dsshare.plan(conn, aws_env.directory_id("global.example.com"), ["200000000002"])
    assert aws_env.request_log == []


def test_a_policy_change_between_review_and_apply_refuses_the_apply(
    aws_env: Sandbox, conn: dsshare.Connection, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "g.yaml"
    path.write_text("max_targets_per_run: 10\n")
    monkeypatch.setenv(ENV_VAR, str(path))
    plan = dsshare.plan(conn, aws_env.directory_id("global.example.com"), ["200000000002"])
    path.write_text('denied_accounts: ["200000000002"]\n')
    with pytest.raises(dsshare.PlanMismatchError):
        dsshare.apply(conn, plan, expected_fingerprint=plan.fingerprint, progress=False)
    assert share_calls(aws_env) == []


def test_the_console_obeys_the_policy(
    aws_env: Sandbox, conn: dsshare.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsshare.widgets.services import LibraryServices

    monkeypatch.setenv(ENV_VAR, str(POLICY))
    service = LibraryServices(conn)
    plan = service.plan(aws_env.directory_id("global.example.com"),
                        [aws_env.account_id("prod-data")], method="HANDSHAKE", notes="",
                        allow_external=False)  # fmt: skip
    assert [r.check for r in plan.rows] == ["GuardrailDeniedAccount"]


@pytest.mark.slow
def test_the_share_runbook_obeys_the_policy(aws_env: Sandbox, tmp_path: Path) -> None:
    sb = aws_env
    env = dict(os.environ, **{ENV_VAR: str(POLICY)})
    folder = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "dsshare.cli", "run", "share_directory", "-f",
         str(REPO / "parameters" / "share_directory.sandbox.yaml"), "-p", "targets",
         f"{sb.account_id('prod-data')},{sb.account_id('network')}", "-p", "dry_run", "false",
         "--out", str(folder)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    plan = json.loads((folder / "plan.json").read_text())
    rows = {row["account_id"]: row for row in plan["rows"]}
    assert rows[sb.account_id("prod-data")]["check"] == "GuardrailDeniedAccount"
    results = {r["account_id"]: r for r in json.loads((folder / "results.json").read_text())}
    assert results[sb.account_id("prod-data")]["outcome"] == "failed"
    assert results[sb.account_id("network")]["outcome"] == "done"
    assert len(share_calls(sb)) == 1


def test_auto_accept_never_completes_a_pending_share_the_policy_forbids(
    aws_env: Sandbox, conn: dsshare.Connection, aws: object
) -> None:
    sb = aws_env
    glob = sb.directory_id("global.example.com")
    denied = sb.account_id("prod-data")
    aws("ds").share_directory(DirectoryId=glob, ShareMethod="HANDSHAKE",  # type: ignore[attr-defined]
                              ShareTarget={"Id": denied, "Type": "ACCOUNT"})
    time.sleep(0.3)  # Sharing -> PendingAcceptance (transitions last 0.05 s in tests)
    policy = parse_guardrails({"denied_accounts": [denied]})
    sb.clear_request_log()
    frame = dsshare.share(conn, glob, [denied], auto_accept=True, guardrails=policy,
                          progress=False, timeout=30)  # fmt: skip
    row = frame.iloc[0]
    assert (row["outcome"], row["error_code"]) == ("failed", "GuardrailDeniedAccount")
    assert "pending invitation will not be accepted" in row["message"]
    assert [e for e in sb.request_log if e["operation"] == "AcceptSharedDirectory"] == []
    record = next(r for r in dsshare.iter_shared_directories(conn, glob)
                  if r["SharedAccountId"] == denied and r["ShareStatus"] != "Deleted")
    assert record["ShareStatus"] == "PendingAcceptance"
