"""Chaos: under 20% throttling, 5% server faults and latency jitter on Directory Service,
Organizations and STS, a bulk share with auto-accept and a 100-account inventory finish
with the same final state as a fault-free run, no duplicate share, and one audit line per
mutating call that reached the service."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import boto3
import pandas as pd
import pytest
from tools.reliability.chaos import (
    account_audit,
    duplicate_shares,
    inject_chaos,
    share_state,
    state_mismatches,
    torn_lines,
)

import dsshare
from dsshare.inventory.collect import collect_inventory
from dsshare.sandbox import Sandbox

pytestmark = pytest.mark.slow

#: 50 HANDSHAKE targets outside the organization: any 12-digit id can accept through a role.
TARGETS = [f"4000000{i:05d}" for i in range(50)]


def bulk_share(sb: Sandbox, audit_path: Path, *, chaos: bool) -> pd.DataFrame:
    sb.reset()
    if chaos:
        inject_chaos(sb)
    conn = dsshare.Connection()
    with dsshare.AuditLog(audit_path) as audit:
        return dsshare.share(
            conn, sb.directory_id("global.example.com"), TARGETS, auto_accept=True,
            allow_external=True, audit=audit, progress=False, timeout=300,
        )  # fmt: skip


def test_bulk_share_with_auto_accept_under_chaos_ends_as_a_fault_free_run(
    aws_env: Sandbox, tmp_path: Path
) -> None:
    sb = aws_env
    directory = sb.directory_id("global.example.com")
    calm = bulk_share(sb, tmp_path / "calm.jsonl", chaos=False)
    expected = share_state(dsshare.Connection(), directory)
    assert set(calm["outcome"]) == {"done"} and set(calm["share_status"]) == {"Shared"}

    stormy = bulk_share(sb, tmp_path / "chaos.jsonl", chaos=True)
    log = sb.request_log
    injected = Counter((e["service"], e["injected"]) for e in log if e["injected"])
    sb.clear_faults()
    sb.set_latency(0)
    actual = share_state(dsshare.Connection(), directory)

    # The storm happened, and hit mutating calls too.
    assert sum(injected.values()) >= 40, injected
    assert {service for service, _ in injected} >= {"ds", "sts"}
    # Every target finished, as in the fault-free run.
    assert stormy["outcome"].tolist() == ["done"] * 50, stormy[stormy.outcome != "done"]
    assert set(stormy["share_status"]) == {"Shared"}
    assert state_mismatches(expected, actual) == []
    assert duplicate_shares(actual) == {}
    # One audit line per mutating call that reached the service; fault answers apart.
    audit_lines = dsshare.AuditLog(tmp_path / "chaos.jsonl").read()
    accounting = account_audit(log, audit_lines)
    assert accounting.injected > 0
    assert accounting.lost == 0 and accounting.extra == 0, (accounting.reached, accounting.audited)
    assert sum(accounting.reached.values()) == 100  # 50 shares + 50 accepts, no retry doubled
    assert torn_lines(tmp_path / "chaos.jsonl") == 0


def inventory_frames(inv: object) -> dict[str, pd.DataFrame]:
    """The inventory's frames with collection-time columns left out, in key order."""
    volatile = {"LaunchTime", "CreatedDateTime", "LastUpdatedDateTime", "JoinedTimestamp"}
    frames = {}
    for name in ("directories", "shares", "accounts", "organizational_units", "errors"):
        frame: pd.DataFrame = getattr(inv, name)
        keep = [c for c in frame.columns if c not in volatile]
        frames[name] = frame[keep].sort_values(keep[:3]).reset_index(drop=True).astype(str)
    return frames


def test_inventory_of_100_accounts_under_chaos_reads_what_a_fault_free_run_reads(
    aws_env: Sandbox,
) -> None:
    sb = aws_env
    org = boto3.client("organizations", endpoint_url=sb.endpoint_url)
    for i in range(100 - len(sb.manifest["accounts"])):
        org.create_account(Email=f"chaos-{i}@example.com", AccountName=f"chaos-{i:03d}")
    conn = dsshare.Connection(regions=["us-east-1", "eu-west-1"])
    calm = collect_inventory(conn, all_accounts=True)
    assert calm.complete and len(calm.accounts) == 100

    inject_chaos(sb)
    stormy = collect_inventory(dsshare.Connection(regions=["us-east-1", "eu-west-1"]),
                               all_accounts=True)  # fmt: skip
    injected = sb.faults.injected
    sb.clear_faults()

    assert injected >= 40
    assert stormy.complete, stormy.errors
    expected, actual = inventory_frames(calm), inventory_frames(stormy)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(actual[name], frame, obj=name)
