"""Multi-Region replication (AddRegion) and the share-visibility control."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox, SandboxError


def _vpc(aws, region: str) -> dict[str, object]:
    ec2 = aws("ec2", region=region)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=f"{region}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    return {"VpcId": vpc, "SubnetIds": subnets}


def test_add_region_lists_the_same_directory_in_both_regions_with_regions_info(
    sb: Sandbox, aws
) -> None:
    global_id = sb.directory_id("global.example.com")
    aws("ds").add_region(
        DirectoryId=global_id, RegionName="eu-west-1", VPCSettings=_vpc(aws, "eu-west-1")
    )
    for region in ("us-east-1", "eu-west-1"):
        listed = aws("ds", region=region).describe_directories(DirectoryIds=[global_id])
        info = listed["DirectoryDescriptions"][0]["RegionsInfo"]
        assert info == {"PrimaryRegion": "us-east-1", "AdditionalRegions": ["eu-west-1"]}


def test_a_replica_is_shared_per_region(sb: Sandbox, aws) -> None:
    global_id = sb.directory_id("global.example.com")
    sb.add_region(global_id, "eu-west-1")
    bob = sb.account_id("sandbox-bob")
    eu = aws("ds", region="eu-west-1")
    shared = eu.share_directory(
        DirectoryId=global_id, ShareMethod="HANDSHAKE", ShareTarget={"Id": bob, "Type": "ACCOUNT"}
    )["SharedDirectoryId"]
    eu_records = eu.describe_shared_directories(OwnerDirectoryId=global_id)["SharedDirectories"]
    us_records = aws("ds").describe_shared_directories(OwnerDirectoryId=global_id)[
        "SharedDirectories"
    ]
    assert [r["SharedDirectoryId"] for r in eu_records] == [shared]
    assert shared not in {r["SharedDirectoryId"] for r in us_records}


def test_add_region_refuses_standard_edition_and_a_region_already_held(sb: Sandbox, aws) -> None:
    ds = aws("ds")
    with pytest.raises(ClientError) as err:
        ds.add_region(
            DirectoryId=sb.directory_id("corp.example.com"),
            RegionName="eu-west-1",
            VPCSettings=_vpc(aws, "eu-west-1"),
        )
    assert err.value.response["Error"]["Code"] == "UnsupportedOperationException"
    assert "Enterprise" in err.value.response["Error"]["Message"]
    global_id = sb.directory_id("global.example.com")
    sb.add_region(global_id, "eu-west-1")
    with pytest.raises(ClientError) as err:
        ds.add_region(
            DirectoryId=global_id, RegionName="eu-west-1", VPCSettings=_vpc(aws, "eu-west-1")
        )
    assert err.value.response["Error"]["Code"] == "DirectoryAlreadyInRegionException"


def test_hiding_the_consumer_side_keeps_the_owner_record(sb: Sandbox, aws) -> None:
    prod2 = sb.account_id("prod-app2")
    record = next(r for r in sb.share_records() if r.shared_account_id == prod2)
    sb.hide_share(record.shared_directory_id, "consumer")
    owner = aws("ds").describe_shared_directories(OwnerDirectoryId=record.owner_directory_id)
    assert record.shared_directory_id in {
        r["SharedDirectoryId"] for r in owner["SharedDirectories"]
    }
    consumer = aws("ds", account_id=prod2).describe_directories()["DirectoryDescriptions"]
    assert record.shared_directory_id not in {d["DirectoryId"] for d in consumer}


def test_hiding_the_owner_side_keeps_the_consumer_directory(sb: Sandbox, aws) -> None:
    prod_data = sb.account_id("prod-data")
    record = next(r for r in sb.share_records() if r.shared_account_id == prod_data)
    sb.hide_share(record.shared_directory_id, "owner")
    owner = aws("ds", account_id=record.owner_account_id).describe_shared_directories(
        OwnerDirectoryId=record.owner_directory_id
    )
    assert record.shared_directory_id not in {
        r["SharedDirectoryId"] for r in owner["SharedDirectories"]
    }
    consumer = aws("ds", account_id=prod_data).describe_directories()["DirectoryDescriptions"]
    assert record.shared_directory_id in {d["DirectoryId"] for d in consumer}


def test_hide_share_names_what_is_allowed(sb: Sandbox) -> None:
    with pytest.raises(SandboxError, match="'owner' or 'consumer'"):
        sb.hide_share(sb.share_records()[0].shared_directory_id, "both")
    with pytest.raises(SandboxError, match="no share record"):
        sb.hide_share("d-0000000000", "owner")
