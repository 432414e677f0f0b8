"""The seeded worlds: demo (what an inventory shows), scale (benchmarks) and empty.

A second Sandbox in this process shares moto's process-wide state with the session
sandbox, so tests that start one put the session's demo world back afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from dsshare.sandbox import Sandbox, SandboxError
from dsshare.sandbox.records import REGISTRY

SCALE_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


@pytest.fixture
def own_world(sandbox: Sandbox) -> Iterator[None]:
    """Let a test start its own Sandbox; reseed the session's demo world afterwards."""
    yield
    sandbox.reset()


def client(sb: Sandbox, service: str, region: str = "us-east-1"):  # type: ignore[no-untyped-def]
    return boto3.client(
        service,
        endpoint_url=sb.endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard"}),
    )


# -- demo ---------------------------------------------------------------------------


def test_demo_organization_has_at_least_12_members_in_at_least_3_ous(sb: Sandbox, aws) -> None:
    manifest = sb.manifest
    members = [a for a in manifest["accounts"] if a["id"] != manifest["management_account_id"]]
    assert len(members) >= 12
    assert len({a["ou_id"] for a in members}) >= 3
    assert len(manifest["regions"]) == 2

    org = aws("organizations")
    listed = org.get_paginator("list_accounts").paginate().build_full_result()["Accounts"]
    assert {a["Id"] for a in listed} == {a["id"] for a in manifest["accounts"]}
    for account in members:
        [parent] = org.list_parents(ChildId=account["id"])["Parents"]
        assert parent["Id"] == account["ou_id"]
    for ou in manifest["ous"]:
        described = org.describe_organizational_unit(OrganizationalUnitId=ou["id"])[
            "OrganizationalUnit"
        ]
        assert described["Name"] == ou["name"]
        [parent] = org.list_parents(ChildId=ou["id"])["Parents"]
        assert parent["Id"] == ou["parent"]
    assert {e["id"] for e in manifest["external_accounts"]} == {"999900000001"}


def test_demo_directories(sb: Sandbox, aws) -> None:
    mgmt = sb.manifest["management_account_id"]
    services_owner = sb.account_id("shared-services")
    expected = {
        ("corp.example.com", mgmt, "us-east-1", "MicrosoftAD", "Standard"),
        ("global.example.com", mgmt, "us-east-1", "MicrosoftAD", "Enterprise"),
        ("corp-eu.example.com", mgmt, "eu-west-1", "MicrosoftAD", "Standard"),
        ("services.example.com", services_owner, "us-east-1", "MicrosoftAD", "Enterprise"),
        ("legacy.example.com", mgmt, "us-east-1", "SimpleAD", None),
    }
    assert {
        (d["name"], d["account_id"], d["region"], d["type"], d["edition"])
        for d in sb.manifest["directories"]
    } == expected
    # and the API agrees with the manifest
    for entry in sb.manifest["directories"]:
        ds = aws("ds", account_id=entry["account_id"], region=entry["region"])
        [described] = ds.describe_directories(DirectoryIds=[entry["id"]])["DirectoryDescriptions"]
        assert (
            described["Name"],
            described["Type"],
            described.get("Edition"),
            described["Stage"],
        ) == (entry["name"], entry["type"], entry["edition"], entry["stage"])


def test_demo_shares_cover_every_status_an_inventory_shows(sb: Sandbox, aws) -> None:
    shares = sb.manifest["shares"]
    assert {"Shared", "PendingAcceptance", "Rejected", "Deleted"} <= {s["status"] for s in shares}
    assert {s["method"] for s in shares} == {"ORGANIZATIONS", "HANDSHAKE"}
    for share in shares:
        ds = aws("ds", account_id=share["owner_account_id"], region=share["region"])
        [record] = ds.describe_shared_directories(
            OwnerDirectoryId=share["owner_directory_id"],
            SharedDirectoryIds=[share["shared_directory_id"]],
        )["SharedDirectories"]
        assert (record["SharedAccountId"], record["ShareMethod"], record["ShareStatus"]) == (
            share["shared_account_id"],
            share["method"],
            share["status"],
        )
        assert record["CreatedDateTime"] < record["LastUpdatedDateTime"]


def test_the_manifest_has_every_documented_field(sb: Sandbox, tmp_path: Path) -> None:
    written = json.loads(sb.write_manifest(tmp_path / "m.json").read_text())
    for key in (
        "endpoint_url",
        "regions",
        "management_account_id",
        "organization_id",
        "accounts",
        "ous",
        "directories",
        "shares",
        "role_name",
    ):
        assert key in written, key
    assert written["endpoint_url"] == sb.endpoint_url
    assert set(written["accounts"][0]) >= {"id", "name", "ou_id"}
    assert set(written["ous"][0]) >= {"id", "name", "parent"}
    assert set(written["directories"][0]) >= {
        "id",
        "account_id",
        "region",
        "name",
        "edition",
        "type",
        "stage",
    }
    assert written["role_name"] == "OrganizationAccountAccessRole"


def test_every_member_role_can_be_assumed(sb: Sandbox, aws) -> None:
    sts = aws("sts")
    for account in sb.manifest["accounts"][1:]:
        arn = f"arn:aws:iam::{account['id']}:role/{sb.manifest['role_name']}"
        creds = sts.assume_role(RoleArn=arn, RoleSessionName="seed-check")["Credentials"]
        identity = boto3.client(
            "sts",
            endpoint_url=sb.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        ).get_caller_identity()
        assert identity["Account"] == account["id"]


# -- empty ------------------------------------------------------------------------


def test_empty_is_an_organization_with_only_its_management_account(own_world: None) -> None:
    with Sandbox(seed="empty", transition_delay=0) as sb:
        assert [a["id"] for a in sb.manifest["accounts"]] == [sb.manifest["management_account_id"]]
        assert (sb.manifest["ous"], sb.manifest["directories"], sb.manifest["shares"]) == (
            [],
            [],
            [],
        )
        assert client(sb, "ds").describe_directories()["DirectoryDescriptions"] == []
        org = client(sb, "organizations").describe_organization()["Organization"]
        assert (org["Id"], org["FeatureSet"]) == (sb.manifest["organization_id"], "ALL")
        # and it is usable: add a directory and share it
        directory = sb.add_directory(
            sb.manifest["management_account_id"], "us-east-1", "e.example.com"
        )
        assert client(sb, "ds").share_directory(
            DirectoryId=directory,
            ShareTarget={"Id": "200000000001", "Type": "ACCOUNT"},
            ShareMethod="HANDSHAKE",
        )["SharedDirectoryId"]


# -- scale ------------------------------------------------------------------------


def scale_world() -> dict:
    with Sandbox(
        seed="scale",
        accounts=1000,
        regions=SCALE_REGIONS,
        directories=20,
        shares=2000,
        transition_delay=0,
    ) as sb:
        manifest = dict(sb.manifest)
        # sample the API: every record of one directory per Region is there, as seeded
        for region in SCALE_REGIONS:
            entry = next(d for d in manifest["directories"] if d["region"] == region)
            role = f"arn:aws:iam::{entry['account_id']}:role/{manifest['role_name']}"
            creds = client(sb, "sts").assume_role(RoleArn=role, RoleSessionName="scale")[
                "Credentials"
            ]
            ds = boto3.client(
                "ds",
                endpoint_url=sb.endpoint_url,
                region_name=region,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )
            records = (
                ds.get_paginator("describe_shared_directories")
                .paginate(OwnerDirectoryId=entry["id"])
                .build_full_result()["SharedDirectories"]
            )
            seeded = {
                s["shared_directory_id"]: s["status"]
                for s in manifest["shares"]
                if s["owner_directory_id"] == entry["id"]
            }
            assert {r["SharedDirectoryId"]: r["ShareStatus"] for r in records} == seeded
        return manifest


@pytest.mark.slow
def test_scale_seeds_1000_accounts_3_regions_20_directories_2000_shares(own_world: None) -> None:
    manifest = scale_world()

    assert len(manifest["accounts"]) == 1001  # the management account and 1,000 members
    assert len({a["id"] for a in manifest["accounts"]}) == 1001
    assert len(manifest["ous"]) == 10
    assert len(manifest["directories"]) == 20
    assert Counter(d["region"] for d in manifest["directories"]) == {
        "us-east-1": 7,
        "eu-west-1": 7,
        "ap-southeast-2": 6,
    }
    assert {d["edition"] for d in manifest["directories"]} == {"Enterprise"}
    assert len(manifest["shares"]) == 2000
    assert len({s["shared_directory_id"] for s in manifest["shares"]}) == 2000
    statuses = Counter(s["status"] for s in manifest["shares"])
    assert set(statuses) == {"Shared", "PendingAcceptance", "Deleted", "Rejected"}
    # no directory is shared twice with one account, nor with its owner
    pairs = [(s["owner_directory_id"], s["shared_account_id"]) for s in manifest["shares"]]
    assert len(set(pairs)) == 2000
    assert all(s["shared_account_id"] != s["owner_account_id"] for s in manifest["shares"])

    again = scale_world()
    for key in ("organization_id", "accounts", "ous", "directories", "shares"):
        assert again[key] == manifest[key], key


@pytest.mark.parametrize(
    "sizes, complaint",
    [
        ({"accounts": 1}, "at least 2 accounts"),
        ({"directories": 0, "shares": 10}, "at least 1 directory"),
        ({"accounts": 3, "directories": 2, "shares": 5}, "5 shares do not fit"),
    ],
)
def test_impossible_scale_sizes_are_refused_before_anything_is_reset(
    sb: Sandbox, aws, sizes: dict, complaint: str
) -> None:
    with pytest.raises(SandboxError, match=complaint):
        Sandbox(seed="scale", **sizes)
    # the session's world is untouched
    assert len(aws("ds").describe_directories()["DirectoryDescriptions"]) == 3


def test_a_scale_world_without_shares_needs_no_directories(own_world: None) -> None:
    with Sandbox(seed="scale", accounts=5, directories=0, shares=0) as sb:
        assert (
            len(sb.manifest["accounts"]),
            sb.manifest["directories"],
            sb.manifest["shares"],
        ) == (6, [], [])


# -- every seed is consistent in time --------------------------------------------------------


def _ds(sb: Sandbox, account_id: str, region: str):  # type: ignore[no-untyped-def]
    """A Directory Service client acting in ``account_id`` (AssumeRole into the seed's role)."""
    sts = client(sb, "sts", region)
    if account_id != sb.manifest["management_account_id"]:
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{sb.manifest['role_name']}",
            RoleSessionName="seed-check",
        )["Credentials"]
        return boto3.client(
            "ds", endpoint_url=sb.endpoint_url, region_name=region,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    return client(sb, "ds", region)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "seed, options",
    [("demo", {}), ("scale", {"accounts": 40, "directories": 6, "shares": 120}), ("empty", {})],
)
def test_every_seeded_timestamp_comes_after_its_directory_launched(
    own_world: None, seed: str, options: dict[str, int]
) -> None:
    with Sandbox(seed=seed, transition_delay=0, **options) as sb:
        launched: dict[tuple[str, str, str], dt.datetime] = {}
        for entry in sb.manifest["directories"]:
            ds = _ds(sb, entry["account_id"], entry["region"])
            [owner] = ds.describe_directories(DirectoryIds=[entry["id"]])["DirectoryDescriptions"]
            assert owner["StageLastUpdatedDateTime"] >= owner["LaunchTime"]
            launched[(entry["account_id"], entry["region"], entry["id"])] = owner["LaunchTime"]
            for record in ds.describe_shared_directories(OwnerDirectoryId=entry["id"])[
                "SharedDirectories"
            ] if entry["type"] == "MicrosoftAD" else []:
                assert owner["LaunchTime"] < record["CreatedDateTime"], record
                assert record["CreatedDateTime"] <= record["LastUpdatedDateTime"], record
        records = list(REGISTRY.all())
        assert len(records) == len(sb.manifest["shares"])
        for record in records:
            owner_launch = launched[
                (record.owner_account_id, record.region, record.owner_directory_id)
            ]
            assert _aware(owner_launch) < record.created
            assert all(record.created <= at for at, _ in record.timeline)
            # The consumer's SharedMicrosoftAD launched with the share, after its owner.
            views = _ds(sb, record.shared_account_id, record.region)
            for view in views.describe_directories()["DirectoryDescriptions"]:
                assert view["LaunchTime"] <= view["StageLastUpdatedDateTime"]
                assert view["LaunchTime"] > launched[
                    (
                        view["OwnerDirectoryDescription"]["AccountId"],
                        record.region,
                        view["OwnerDirectoryDescription"]["DirectoryId"],
                    )
                ]
            if seed == "scale":
                break  # one consumer's views suffice for the large world
