"""The org-wide inventory against the sandbox's demo organization.

Arranged through ordinary AWS calls where the sandbox allows it. Two consistency
findings need the owner and consumer views to disagree, which the sandbox's single
share registry never does by itself: those tests use its ``hide_share`` control to
stand in for AWS's eventual consistency or an out-of-band deletion. Replication is
the sandbox's AddRegion.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from dsshare.cli import main
from dsshare.connection import Connection
from dsshare.inventory import schema
from dsshare.inventory.collect import collect_inventory
from dsshare.inventory.drift import drift
from dsshare.inventory.findings import findings
from dsshare.inventory.model import Inventory
from dsshare.inventory.snapshot import read_snapshot, write_snapshot
from dsshare.sandbox import Sandbox

REGIONS = ["us-east-1", "eu-west-1"]


@pytest.fixture
def collect(aws_env: Sandbox) -> Callable[..., Inventory]:
    def run(**scope: Any) -> Inventory:
        scope.setdefault("all_accounts", not (scope.get("accounts") or scope.get("ous")))
        return collect_inventory(Connection(regions=REGIONS), concurrency=8, **scope)

    return run


def share_row(inv: Inventory, shared_account_id: str, directory_id: str) -> pd.Series:
    shares = inv.shares
    rows = shares[(shares["SharedAccountId"] == shared_account_id)
                  & (shares["OwnerDirectoryId"] == directory_id) & shares["is_latest"]]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def kinds(inv: Inventory, **options: Any) -> set[str]:
    return set(findings(inv, **options)["finding"])


def test_whole_organization_gives_every_frame_with_its_schema(sb: Sandbox, collect) -> None:
    inv = collect()
    for name, frame in inv.frames().items():
        assert list(frame.columns) == schema.SCHEMAS[name].names, name
        assert all(frame[c].dtype == schema.SCHEMAS[name].dtype(c) for c in frame.columns), name
    assert inv.complete and inv.errors.empty
    assert set(inv.accounts["Id"]) == {a["id"] for a in sb.manifest["accounts"]} | {
        sb.manifest["management_account_id"]}
    assert inv.accounts["regions_read"].eq(2).all()
    prod = inv.accounts.set_index("Name").loc["prod-app1"]
    assert prod["ou_path"].endswith("Workloads/Prod") and prod["ou_id"] == sb.ou_id("Prod")
    owners = inv.directories[inv.directories["side"] == "owner"]
    assert set(owners["Name"]) == {"corp.example.com", "global.example.com", "corp-eu.example.com",
                                   "services.example.com", "legacy.example.com"}
    assert len(inv.shares) == len(sb.share_records())
    assert inv.meta.trusted_access is True and inv.meta.feature_set == "ALL"


def test_owner_records_are_joined_to_consumer_directories(sb: Sandbox, collect) -> None:
    inv = collect()
    corp, services = sb.directory_id("corp.example.com"), sb.directory_id("services.example.com")
    shared = share_row(inv, sb.account_id("prod-app1"), corp)
    assert shared["consumer_seen"] and shared["consumer_share_status"] == "Shared"
    assert shared["ShareMethod"] == "ORGANIZATIONS" and shared["owner_directory_name"] == "corp.example.com"
    consumer = inv.directories.set_index("DirectoryId").loc[shared["SharedDirectoryId"]]
    assert consumer["Type"] == "SharedMicrosoftAD" and consumer["owner_directory_id"] == corp
    pending = share_row(inv, sb.account_id("dev-app2"), services)
    assert pending["consumer_seen"] and pending["ShareStatus"] == "PendingAcceptance"
    assert pending["OwnerAccountId"] == sb.account_id("shared-services")
    for name in ("dev-data", "dev-app1"):  # Rejected and Deleted: the consumer no longer sees them
        gone = inv.shares[inv.shares["SharedAccountId"] == sb.account_id(name)].iloc[0]
        assert gone["ShareStatus"] in ("Rejected", "Deleted") and not gone["consumer_seen"]
    external = inv.shares[inv.shares["SharedAccountId"] == "999900000001"].iloc[0]
    assert external["in_organization"] == False and not external["consumer_readable"]  # noqa: E712


def test_empty_scopes_keep_the_schemas(sb: Sandbox, collect) -> None:
    inv = collect(accounts=[sb.account_id("sandbox-bob")])
    assert inv.complete and inv.directories.empty and inv.shares.empty
    assert list(inv.shares.columns) == schema.SHARES.names
    assert inv.accounts.set_index("Id").loc[sb.account_id("sandbox-bob"), "in_scope"]
    only_eu = collect_inventory(Connection(), accounts=[sb.account_id("prod-app1")], regions=["eu-west-1"])
    assert only_eu.directories.empty and list(only_eu.directories.columns) == schema.DIRECTORIES.names


def test_ou_scope_reads_the_accounts_below_it(sb: Sandbox, collect) -> None:
    inv = collect(ous=[sb.ou_id("Workloads")])
    in_scope = set(inv.accounts.loc[inv.accounts["in_scope"], "Name"])
    assert in_scope == {"prod-app1", "prod-app2", "prod-data", "dev-app1", "dev-app2", "dev-data"}
    assert set(inv.directories["side"]) == {"consumer"}


def test_an_inaccessible_account_becomes_error_rows_and_collection_goes_on(sb: Sandbox, collect) -> None:
    bob = sb.account_id("sandbox-bob")
    sb.add_fault("AssumeRole", code="AccessDenied", account_id=bob)
    inv = collect()
    assert not inv.complete and inv.failed_accounts == [bob]
    assert sorted(inv.errors["region"]) == sorted(REGIONS)
    assert set(inv.errors["stage"]) == {"assume_role"} and set(inv.errors["code"]) == {"AccessDenied"}
    assert inv.accounts.set_index("Id").loc[bob, "regions_failed"] == 2
    assert len(inv.shares) == len(sb.share_records())


def test_a_failing_describe_becomes_an_error_row(sb: Sandbox, collect) -> None:
    sb.add_fault("DescribeSharedDirectories", code="ClientException", account_id=sb.account_id("shared-services"))
    inv = collect()
    [row] = inv.errors.to_dict("records")
    assert (row["stage"], row["code"], row["directory_id"]) == (
        "shared_directories", "ClientException", sb.directory_id("services.example.com"))
    # The consumers still see their directories; nothing is claimed about the unread owner.
    assert "consumer_without_owner_record" not in kinds(inv)


def test_share_outside_the_organization_is_found(sb: Sandbox, aws, collect) -> None:
    prod = sb.account_id("prod-app1")
    aws("organizations").remove_account_from_organization(AccountId=prod)
    found = findings(collect())
    outside = found[found["finding"] == "share_outside_organization"].set_index("SharedAccountId")
    assert outside.loc[prod, "severity"] == "high"  # ORGANIZATIONS share to a departed member
    assert outside.loc["999900000001", "severity"] == "medium"  # HANDSHAKE to an outsider


def test_organizations_shares_are_found_when_trusted_access_is_off(sb: Sandbox, aws, collect) -> None:
    assert "organizations_share_not_renewable" not in kinds(collect())
    aws("organizations").disable_aws_service_access(ServicePrincipal="ds.amazonaws.com")
    inv = collect()
    assert inv.meta.trusted_access is False
    found = findings(inv)
    stuck = found[found["finding"] == "organizations_share_not_renewable"]
    assert set(stuck["SharedAccountId"]) == {sb.account_id("prod-app1"), sb.account_id("prod-app2")}


def test_failed_share_and_stale_invitation_are_found(sb: Sandbox, collect) -> None:
    record = next(r for r in sb.share_records() if r.shared_account_id == sb.account_id("prod-data"))
    sb.force_share_status(record.shared_directory_id, "ShareFailed")
    inv = collect()
    found = findings(inv, stale_after_days=7)
    assert found.set_index("finding").loc["share_failed", "SharedDirectoryId"] == record.shared_directory_id
    assert set(found.loc[found["finding"] == "pending_stale", "SharedAccountId"]) == {sb.account_id("dev-app2")}


def test_quota_exhaustion_is_found(sb: Sandbox, aws, collect) -> None:
    corp_eu = sb.directory_id("corp-eu.example.com")
    ds = aws("ds", region="eu-west-1")

    def share_with(accounts: range) -> None:
        for i in accounts:
            ds.share_directory(DirectoryId=corp_eu, ShareMethod="HANDSHAKE",
                               ShareTarget={"Id": f"8888000000{i:02d}", "Type": "ACCOUNT"})

    share_with(range(20))  # 20 of the Standard edition's 25
    found = findings(collect())
    assert found.loc[found["finding"] == "quota_nearly_exhausted", "DirectoryId"].tolist() == [corp_eu]
    share_with(range(20, 25))
    found = findings(collect())
    assert found.loc[found["finding"] == "quota_exhausted", "DirectoryId"].tolist() == [corp_eu]
    assert "quota_nearly_exhausted" not in set(found["finding"])


def test_owner_record_shared_but_consumer_missing_is_found(sb: Sandbox, collect) -> None:
    hidden = next(r.shared_directory_id for r in sb.share_records()
                  if r.shared_account_id == sb.account_id("prod-app2"))
    sb.hide_share(hidden, "consumer")
    found = findings(collect())
    assert found.set_index("finding").loc["owner_shared_consumer_missing", "SharedDirectoryId"] == hidden


def test_consumer_directory_without_owner_record_is_found(sb: Sandbox, collect) -> None:
    hidden = next(r.shared_directory_id for r in sb.share_records()
                  if r.shared_account_id == sb.account_id("prod-data"))
    sb.hide_share(hidden, "owner")
    found = findings(collect())
    row = found.set_index("finding").loc["consumer_without_owner_record"]
    assert row["SharedDirectoryId"] == hidden and "missing" in row["detail"]


def test_replicated_directory_shared_in_one_region_is_found(sb: Sandbox, collect) -> None:
    global_id = sb.directory_id("global.example.com")
    sb.add_region(global_id, "eu-west-1")
    found = findings(collect())
    row = found.set_index("finding").loc["replica_region_unshared"]
    assert (row["DirectoryId"], row["SharedAccountId"], row["region"]) == (
        global_id, sb.account_id("sandbox-alice"), "eu-west-1")


def wait_settled(sb: Sandbox) -> None:
    transitional = {"Sharing", "Deleting", "Rejecting"}
    deadline = time.monotonic() + 5
    while any(r.status() in transitional for r in sb.share_records()):
        assert time.monotonic() < deadline, "sandbox transitions did not settle"
        time.sleep(0.02)


def test_drift_after_a_share_an_unshare_and_a_reject(sb: Sandbox, aws, collect, tmp_path: Path) -> None:
    write_snapshot(collect(), tmp_path / "before")
    corp = sb.directory_id("corp.example.com")
    network, prod2, dev2 = (sb.account_id(n) for n in ("network", "prod-app2", "dev-app2"))
    ds = aws("ds")
    new_id = ds.share_directory(DirectoryId=corp, ShareMethod="ORGANIZATIONS",
                                ShareTarget={"Id": network, "Type": "ACCOUNT"})["SharedDirectoryId"]
    ds.unshare_directory(DirectoryId=corp, UnshareTarget={"Id": prod2, "Type": "ACCOUNT"})
    invite = next(r.shared_directory_id for r in sb.share_records() if r.shared_account_id == dev2)
    aws("ds", account_id=dev2).reject_shared_directory(SharedDirectoryId=invite)
    wait_settled(sb)

    changes = drift(read_snapshot(tmp_path / "before"), collect())
    shares = changes[changes["frame"] == "shares"]
    summary = {(r["change"], r["SharedAccountId"], r["field"], r["before"], r["after"])
               for r in schema.records(shares)}
    assert summary == {
        ("added", network, None, None, None),
        ("changed", prod2, "ShareStatus", "Shared", "Deleted"),
        ("changed", dev2, "ShareStatus", "PendingAcceptance", "Rejected"),
    }
    assert shares.set_index("change").loc["added", "SharedDirectoryId"] == new_id
    consumer_side = changes[changes["frame"] == "directories"]
    assert set(consumer_side["change"]) == {"added", "removed"}


def test_cli_writes_report_and_csvs_for_the_whole_org_in_every_region(aws_env: Sandbox, tmp_path: Path, capsys) -> None:
    out = tmp_path / "inv"
    assert main(["inventory", "--all", "--all-regions", "--out", str(out), "--no-progress"]) == 0
    for name in ("directories", "shares", "accounts", "organizational_units", "errors",
                 "findings", "pending", "quota"):
        assert (out / f"{name}.csv").is_file(), name
    assert (out / "manifest.json").is_file()
    soup = BeautifulSoup((out / "report.html").read_text(), "html.parser")
    assert soup.find("svg") is not None
    assert not [t for t in soup.find_all(True) if t.get("src") or t.get("href")]
    assert "http://" not in str(soup) and "https://" not in str(soup)
    printed = capsys.readouterr().out
    assert "8 share records" in printed and "report:" in printed


def test_cli_exits_3_and_names_the_unreadable_account(aws_env: Sandbox, tmp_path: Path, capsys) -> None:
    carol = aws_env.account_id("sandbox-carol")
    aws_env.add_fault("AssumeRole", code="AccessDenied", account_id=carol)
    out = tmp_path / "inv"
    code = main(["inventory", "--all", "--regions", *REGIONS, "--out", str(out), "--no-progress"])
    assert code == 3
    assert carol in capsys.readouterr().err
    errors = pd.read_csv(out / "errors.csv", dtype=str)
    assert set(errors["account_id"]) == {carol} and (out / "report.html").is_file()


def test_cli_compare_reports_drift(aws_env: Sandbox, aws, tmp_path: Path, capsys) -> None:
    args = ["inventory", "--accounts", aws_env.manifest["management_account_id"], "--regions", "us-east-1"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert "inventory" in capsys.readouterr().err  # the progress bar goes to stderr
    args.append("--no-progress")
    aws("ds").share_directory(DirectoryId=aws_env.directory_id("global.example.com"), ShareMethod="HANDSHAKE",
                              ShareTarget={"Id": aws_env.account_id("sandbox-bob"), "Type": "ACCOUNT"})
    assert main([*args, "--out", str(tmp_path / "b"), "--compare", str(tmp_path / "a")]) == 0
    assert f"compared with {tmp_path / 'a'} taken " in (printed := capsys.readouterr().out)
    assert ": 1 new, 0 gone, 0 changed" in printed
    assert pd.read_csv(tmp_path / "b" / "drift.csv")["change"].tolist() == ["added"]


def test_member_caller_without_organization_access_still_reads_its_accounts(
    aws_env: Sandbox, monkeypatch, tmp_path: Path, capsys
) -> None:
    import boto3

    member = aws_env.account_id("prod-data")
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/{aws_env.manifest['role_name']}", RoleSessionName="inventory-test"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    inv = collect_inventory(Connection(regions=["us-east-1"]))
    assert inv.meta.caller_account_id == member
    assert set(inv.directories["side"]) == {"consumer"} and inv.failed_accounts == []
    # A member may not list the organization's tree: that is reported, not an account failure.
    assert set(inv.errors["stage"]) == {"organization"}
    code = main(["inventory", "--regions", "us-east-1", "--out", str(tmp_path / "m"), "--no-progress"])
    assert code == 0
    assert "Could not read the organization" in capsys.readouterr().err


def test_no_credentials_raise_the_callers_error_after_stopping_the_workers(
    aws_env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from dsshare.errors import AwsTransportError

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    before = len(aws_env.request_log)
    with pytest.raises(AwsTransportError) as info:
        collect_inventory(Connection(regions=REGIONS), all_accounts=True)
    assert (info.value.operation, info.value.code) == ("GetCallerIdentity", "NoCredentialsError")
    assert len(aws_env.request_log) == before, "nothing reached AWS unsigned"
    assert not [t for t in threading.enumerate() if t.name.startswith("inventory")]
