"""Specification of the planner applying a guardrails policy (dsshare.guardrails)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsshare import sharing
from dsshare.connection import Connection
from dsshare.errors import PlanMismatchError
from dsshare.execution import apply
from dsshare.guardrails import GuardrailsError, parse_guardrails
from dsshare.planning import plan
from dsshare.sandbox import Sandbox


@pytest.fixture
def conn(aws_env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Connection:
    monkeypatch.delenv("DSSHARE_GUARDRAILS", raising=False)
    return Connection()


def ds_mutations(sb: Sandbox) -> list[str]:
    return [e["operation"] for e in sb.request_log if e["service"] == "ds"
            and e["operation"] in {"ShareDirectory", "UnshareDirectory"}]


def seed_share(sb: Sandbox, directory_id: str, account_id: str) -> None:
    """Seed an external HANDSHAKE share straight through the API, as the owner."""
    import boto3

    boto3.client("ds", endpoint_url=sb.endpoint_url, region_name="us-east-1").share_directory(
        DirectoryId=directory_id, ShareTarget={"Id": account_id, "Type": "ACCOUNT"},
        ShareMethod="HANDSHAKE",
    )


def test_policy_breaches_are_refused_rows_and_never_called(conn: Connection, aws_env: Sandbox) -> None:
    glob = aws_env.directory_id("global.example.com")
    denied, allowed = aws_env.account_id("network"), aws_env.account_id("log-archive")
    policy = parse_guardrails({"denied_accounts": [denied]})
    frame = sharing.share(conn, glob, [denied, allowed], guardrails=policy, progress=False)
    rows = frame.set_index("account_id")
    assert (rows.loc[denied, "outcome"], rows.loc[denied, "error_code"]) == ("failed", "GuardrailDeniedAccount")
    assert rows.loc[allowed, "outcome"] == "done"
    assert ds_mutations(aws_env) == ["ShareDirectory"]


def test_allowed_ous_are_expanded_for_the_policy(conn: Connection, aws_env: Sandbox) -> None:
    glob = aws_env.directory_id("global.example.com")
    policy = parse_guardrails({"allowed_targets": [aws_env.ou_id("Prod")]})
    p = plan(conn, glob, [aws_env.account_id("prod-data"), aws_env.account_id("dev-data")], guardrails=policy)
    actions = {row.account_id: (row.action, row.check) for row in p.rows}
    assert actions == {
        aws_env.account_id("prod-data"): ("share", None),
        aws_env.account_id("dev-data"): ("refuse", "GuardrailTargetNotAllowed"),
    }


def test_rows_refused_by_policy_use_no_quota_headroom(conn: Connection, aws_env: Sandbox) -> None:
    directory = aws_env.add_directory(conn.caller_account_id, "us-east-1", "tiny.example.com", "Standard")
    for n in range(24):  # fill 24 of the 25 slots
        seed_share(aws_env, directory, f"5{n:011d}")
    denied, ok = aws_env.account_id("network"), aws_env.account_id("log-archive")
    p = plan(conn, directory, [denied, ok], guardrails=parse_guardrails({"denied_accounts": [denied]}),
             allow_external=True)
    assert [(row.action, row.check) for row in p.rows] == [("refuse", "GuardrailDeniedAccount"), ("share", None)]


def test_policy_from_the_environment_and_its_change_refuses_a_reviewed_apply(
    conn: Connection, aws_env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    glob = aws_env.directory_id("global.example.com")
    target = aws_env.account_id("network")
    path = tmp_path / "guardrails.yaml"
    path.write_text("max_targets_per_run: 5\n")
    monkeypatch.setenv("DSSHARE_GUARDRAILS", str(path))
    reviewed = plan(conn, glob, [target])
    assert reviewed.rows[0].action == "share"
    path.write_text(f'denied_accounts: ["{target}"]\n')
    with pytest.raises(PlanMismatchError):
        apply(conn, reviewed, expected_fingerprint=reviewed.fingerprint, progress=False)
    assert ds_mutations(aws_env) == []


def test_an_unreadable_policy_fails_closed_before_any_call(
    conn: Connection, aws_env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSSHARE_GUARDRAILS", str(tmp_path / "missing.yaml"))
    conn.caller_account_id  # noqa: B018 - warm the identity cache
    before = len(aws_env.request_log)
    with pytest.raises(GuardrailsError):
        plan(conn, aws_env.directory_id("global.example.com"), [aws_env.account_id("network")])
    assert len(aws_env.request_log) == before


def test_policies_never_refuse_an_unshare(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    app1 = aws_env.account_id("prod-app1")
    policy = parse_guardrails({"denied_accounts": [app1], "shareable_directories": []})
    p = plan(conn, corp, [app1], action="unshare", guardrails=policy)
    assert p.rows[0].action == "unshare"
