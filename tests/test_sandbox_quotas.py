"""Per-edition share quotas: Standard 25, Enterprise 500, Hybrid 125 accounts per directory and Region.

HANDSHAKE targets can be any 12-digit account, so the quotas are filled with made-up ids.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox


def accounts(count: int, prefix: str = "4") -> list[str]:
    return [f"{prefix}{n:011d}" for n in range(1, count + 1)]


def target(account_id: str) -> dict[str, str]:
    return {"Id": account_id, "Type": "ACCOUNT"}


def pooled(sb: Sandbox, region: str = "us-east-1"):  # type: ignore[no-untyped-def]
    """A management-account client that several threads can use at once."""
    return boto3.client(
        "ds",
        endpoint_url=sb.endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=16, retries={"mode": "standard", "max_attempts": 4}),
    )


def fill(sb: Sandbox, directory_id: str, targets: list[str]) -> list[str]:
    ds = pooled(sb)

    def share(account: str) -> str:
        return str(
            ds.share_directory(
                DirectoryId=directory_id, ShareTarget=target(account), ShareMethod="HANDSHAKE"
            )["SharedDirectoryId"]
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(share, targets))


def live(ds, directory_id: str) -> int:
    paginator = ds.get_paginator("describe_shared_directories")
    records = paginator.paginate(OwnerDirectoryId=directory_id).build_full_result()[
        "SharedDirectories"
    ]
    return sum(1 for r in records if r["ShareStatus"] not in ("Deleted", "Rejected"))


def assert_limit_exceeded(ds, directory_id: str, account: str, edition: str, quota: int) -> None:
    with pytest.raises(ClientError) as excinfo:
        ds.share_directory(
            DirectoryId=directory_id, ShareTarget=target(account), ShareMethod="HANDSHAKE"
        )
    err = excinfo.value.response["Error"]
    assert err["Code"] == "ShareLimitExceededException"
    assert directory_id in err["Message"] and edition in err["Message"]
    assert f"quota is {quota} per Region" in err["Message"]


def test_standard_edition_is_shared_with_at_most_25_accounts(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")  # Standard: 2 live shares and 1 Deleted seeded
    assert live(ds, corp) == 2

    fill(sb, corp, accounts(23))

    assert live(ds, corp) == 25
    assert_limit_exceeded(ds, corp, "499999999999", "Standard", 25)
    # the ORGANIZATIONS method counts against the same quota
    with pytest.raises(ClientError) as excinfo:
        ds.share_directory(
            DirectoryId=corp,
            ShareTarget=target(sb.account_id("sandbox-bob")),
            ShareMethod="ORGANIZATIONS",
        )
    assert excinfo.value.response["Error"]["Code"] == "ShareLimitExceededException"


def test_unsharing_one_makes_room_for_another(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    fill(sb, corp, accounts(23))
    assert_limit_exceeded(ds, corp, "499999999999", "Standard", 25)

    ds.unshare_directory(DirectoryId=corp, UnshareTarget=target(sb.account_id("prod-app1")))

    assert ds.share_directory(
        DirectoryId=corp, ShareTarget=target("499999999999"), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]
    assert_limit_exceeded(ds, corp, "499999999998", "Standard", 25)


def test_a_rejected_invitation_makes_room_for_another(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    bob = sb.account_id("sandbox-bob")
    bobs = ds.share_directory(DirectoryId=corp, ShareTarget=target(bob), ShareMethod="HANDSHAKE")[
        "SharedDirectoryId"
    ]
    fill(sb, corp, accounts(22))
    assert_limit_exceeded(ds, corp, "499999999999", "Standard", 25)

    aws("ds", account_id=bob).reject_shared_directory(SharedDirectoryId=bobs)

    assert ds.share_directory(
        DirectoryId=corp, ShareTarget=target("499999999999"), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]


def test_a_share_still_deleting_counts_until_it_is_deleted(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    fill(sb, corp, accounts(23))
    sb.set_transition_delay(60)
    ds.unshare_directory(DirectoryId=corp, UnshareTarget=target(sb.account_id("prod-app1")))

    assert_limit_exceeded(ds, corp, "499999999999", "Standard", 25)


def test_a_failed_share_counts_against_the_quota(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    ids = fill(sb, corp, accounts(23))
    sb.force_share_status(ids[0], "ShareFailed")
    assert_limit_exceeded(ds, corp, "499999999999", "Standard", 25)


def test_the_quota_is_per_directory(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    fill(sb, corp, accounts(23))
    mgmt = sb.manifest["management_account_id"]
    other = sb.add_directory(mgmt, "us-east-1", "other.example.com", edition="Standard")
    assert fill(sb, other, accounts(25))
    assert_limit_exceeded(ds, other, "499999999999", "Standard", 25)


@pytest.mark.slow
def test_enterprise_edition_is_shared_with_at_most_500_accounts(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    global_ = sb.directory_id("global.example.com")  # Enterprise, 1 pending seeded
    assert live(ds, global_) == 1

    ids = fill(sb, global_, accounts(499))

    assert len(set(ids)) == 499
    assert live(ds, global_) == 500
    assert_limit_exceeded(ds, global_, "499999999999", "Enterprise", 500)


def test_hybrid_edition_is_shared_with_at_most_125_accounts(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    hybrid = sb.add_directory(
        sb.manifest["management_account_id"], "us-east-1", "hybrid.example.com", edition="Hybrid"
    )
    [described] = ds.describe_directories(DirectoryIds=[hybrid])["DirectoryDescriptions"]
    assert (described["Type"], described["Edition"]) == ("MicrosoftAD", "Hybrid")

    fill(sb, hybrid, accounts(125))

    assert live(ds, hybrid) == 125
    assert_limit_exceeded(ds, hybrid, "499999999999", "Hybrid", 125)
