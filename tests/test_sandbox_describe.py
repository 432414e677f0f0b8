"""DescribeDirectories (owner and consumer views) and DescribeSharedDirectories, with their errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox

SHARE_FIELDS = {"ShareStatus", "ShareMethod", "ShareNotes", "OwnerDirectoryDescription"}


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def share(sb: Sandbox, name: str, account: str) -> dict:
    account_id = sb.account_id(account)
    return next(
        s
        for s in sb.manifest["shares"]
        if s["shared_account_id"] == account_id and s["owner_directory_id"] == sb.directory_id(name)
    )


# -- owner side -------------------------------------------------------------------


def test_the_owner_sees_its_directories_without_share_fields(sb: Sandbox, aws) -> None:
    directories = aws("ds").describe_directories()["DirectoryDescriptions"]

    by_name = {d["Name"]: d for d in directories}
    assert set(by_name) == {"corp.example.com", "global.example.com", "legacy.example.com"}
    assert {(d["Type"], d.get("Edition")) for d in directories} == {
        ("MicrosoftAD", "Standard"),
        ("MicrosoftAD", "Enterprise"),
        ("SimpleAD", None),
    }
    for directory in directories:
        assert SHARE_FIELDS.isdisjoint(directory), directory
        assert directory["Stage"] == "Active"
    assert by_name["corp.example.com"]["DirectoryId"] == sb.directory_id("corp.example.com")


def test_the_owner_sees_its_other_region_directory_only_in_that_region(sb: Sandbox, aws) -> None:
    eu = aws("ds", region="eu-west-1").describe_directories()["DirectoryDescriptions"]
    assert [d["Name"] for d in eu] == ["corp-eu.example.com"]


def test_describe_shared_directories_lists_every_record_of_the_directory(sb: Sandbox, aws) -> None:
    services = sb.directory_id("services.example.com")
    records = aws("ds", account_id=sb.account_id("shared-services")).describe_shared_directories(
        OwnerDirectoryId=services
    )["SharedDirectories"]

    assert {(r["SharedAccountId"], r["ShareStatus"]) for r in records} == {
        (sb.account_id("prod-data"), "Shared"),
        (sb.account_id("dev-app2"), "PendingAcceptance"),
        (sb.account_id("dev-data"), "Rejected"),
        (sb.account_id("partner"), "PendingAcceptance"),
    }
    assert {r["ShareMethod"] for r in records} == {"HANDSHAKE"}
    assert {r["OwnerDirectoryId"] for r in records} == {services}
    assert all(r["ShareNotes"].startswith("Domain join") for r in records)


def test_describe_shared_directories_filters_by_shared_directory_ids(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    wanted = [share(sb, "corp.example.com", "prod-app2")["shared_directory_id"]]
    records = aws("ds").describe_shared_directories(
        OwnerDirectoryId=corp, SharedDirectoryIds=wanted
    )["SharedDirectories"]
    assert [r["SharedDirectoryId"] for r in records] == wanted


def test_describe_shared_directories_with_no_shares_is_empty(sb: Sandbox, aws) -> None:
    corp_eu = sb.directory_id("corp-eu.example.com")
    answer = aws("ds", region="eu-west-1").describe_shared_directories(OwnerDirectoryId=corp_eu)
    assert answer["SharedDirectories"] == []
    assert "NextToken" not in answer


def test_describe_shared_directories_on_simple_ad_is_unsupported_operation(
    sb: Sandbox, aws
) -> None:
    legacy = sb.directory_id("legacy.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds").describe_shared_directories(OwnerDirectoryId=legacy)
    code, message = error(excinfo)
    assert code == "UnsupportedOperationException"
    assert legacy in message and "SimpleAD" in message


def test_describe_shared_directories_of_an_unknown_directory_is_entity_does_not_exist(
    sb: Sandbox, aws
) -> None:
    with pytest.raises(ClientError) as excinfo:
        aws("ds").describe_shared_directories(OwnerDirectoryId="d-0000000000")
    assert error(excinfo) == (
        "EntityDoesNotExistException",
        "Directory d-0000000000 does not exist.",
    )


def test_the_consumer_cannot_describe_the_owners_shares(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    consumer = aws("ds", account_id=sb.account_id("prod-app1"))
    with pytest.raises(ClientError) as excinfo:
        consumer.describe_shared_directories(OwnerDirectoryId=corp)
    assert error(excinfo)[0] == "EntityDoesNotExistException"


def test_describe_shared_directories_on_a_shared_microsoft_ad_is_unsupported_operation(
    sb: Sandbox, aws
) -> None:
    consumer = aws("ds", account_id=sb.account_id("prod-app1"))
    shared_id = share(sb, "corp.example.com", "prod-app1")["shared_directory_id"]
    with pytest.raises(ClientError) as excinfo:
        consumer.describe_shared_directories(OwnerDirectoryId=shared_id)
    code, message = error(excinfo)
    assert code == "UnsupportedOperationException"
    assert shared_id in message and "SharedMicrosoftAD" in message


@pytest.mark.parametrize(
    "kwargs, member",
    [
        ({"OwnerDirectoryId": "d-XYZ"}, "OwnerDirectoryId"),
        ({"OwnerDirectoryId": "{corp}", "SharedDirectoryIds": ["sd-1"]}, "SharedDirectoryIds[0]"),
    ],
)
def test_describe_shared_directories_with_malformed_ids_is_invalid_parameter(
    sb: Sandbox, aws, kwargs: dict, member: str
) -> None:
    corp = sb.directory_id("corp.example.com")
    kwargs = {k: (v.format(corp=corp) if isinstance(v, str) else v) for k, v in kwargs.items()}
    with pytest.raises(ClientError) as excinfo:
        aws("ds").describe_shared_directories(**kwargs)
    code, message = error(excinfo)
    assert code == "InvalidParameterException"
    assert f"'{member}'" in message and "regular expression pattern" in message


# -- consumer side ----------------------------------------------------------------


def test_the_consumer_sees_a_shared_microsoft_ad_with_the_owners_description(
    sb: Sandbox, aws
) -> None:
    record = share(sb, "services.example.com", "prod-data")
    owner_ds = aws("ds", account_id=sb.account_id("shared-services"))
    [owner] = owner_ds.describe_directories(DirectoryIds=[record["owner_directory_id"]])[
        "DirectoryDescriptions"
    ]

    [view] = aws("ds", account_id=sb.account_id("prod-data")).describe_directories()[
        "DirectoryDescriptions"
    ]

    assert view["DirectoryId"] == record["shared_directory_id"] != owner["DirectoryId"]
    assert view["Type"] == "SharedMicrosoftAD"
    assert (view["ShareStatus"], view["ShareMethod"]) == ("Shared", "HANDSHAKE")
    assert view["ShareNotes"].startswith("Domain join for workloads")
    assert view["Stage"] == "Active"
    assert (view["Name"], view["ShortName"], view["Edition"]) == (
        "services.example.com",
        owner["ShortName"],
        "Enterprise",
    )
    description = view["OwnerDirectoryDescription"]
    assert description["DirectoryId"] == owner["DirectoryId"]
    assert description["AccountId"] == sb.account_id("shared-services")
    assert description["DnsIpAddrs"] == owner["DnsIpAddrs"]
    assert description["VpcSettings"]["VpcId"] == owner["VpcSettings"]["VpcId"]
    assert description["VpcSettings"]["SubnetIds"] == owner["VpcSettings"]["SubnetIds"]
    # RADIUS is not configured on the owner: no RadiusSettings member at all, as in the AWS
    # CLI's documented SharedMicrosoftAD example (tests/fixtures/aws_examples.json).
    assert "RadiusSettings" not in description and "RadiusStatus" not in description


def test_each_consumer_gets_its_own_shared_directory_id(sb: Sandbox, aws) -> None:
    seen = {}
    for account in ("prod-app1", "prod-app2"):
        [view] = aws("ds", account_id=sb.account_id(account)).describe_directories()[
            "DirectoryDescriptions"
        ]
        seen[account] = view
    assert seen["prod-app1"]["DirectoryId"] != seen["prod-app2"]["DirectoryId"]
    assert {v["OwnerDirectoryDescription"]["DirectoryId"] for v in seen.values()} == {
        sb.directory_id("corp.example.com")
    }
    assert {v["ShareMethod"] for v in seen.values()} == {"ORGANIZATIONS"}


def test_a_pending_invitation_shows_as_requested(sb: Sandbox, aws) -> None:
    [view] = aws("ds", account_id=sb.account_id("sandbox-alice")).describe_directories()[
        "DirectoryDescriptions"
    ]
    assert (view["ShareStatus"], view["Stage"], view["ShareNotes"]) == (
        "PendingAcceptance",
        "Requested",
        "Try the global forest.",
    )


@pytest.mark.parametrize(
    "account", ["dev-app1", "dev-data", "sandbox-bob"]
)  # Deleted, Rejected, none
def test_finished_or_absent_shares_show_nothing_to_the_consumer(
    sb: Sandbox, aws, account: str
) -> None:
    assert (
        aws("ds", account_id=sb.account_id(account)).describe_directories()["DirectoryDescriptions"]
        == []
    )


def test_the_consumer_sees_the_share_only_in_its_region(sb: Sandbox, aws) -> None:
    consumer = aws("ds", account_id=sb.account_id("prod-app1"), region="eu-west-1")
    assert consumer.describe_directories()["DirectoryDescriptions"] == []


def test_a_consumer_that_owns_a_directory_sees_both_kinds(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    network = sb.account_id("network")
    own = sb.add_directory(network, "us-east-1", "net.example.com", edition="Standard")
    corp = sb.directory_id("corp.example.com")
    shared_id = aws("ds").share_directory(
        DirectoryId=corp,
        ShareTarget={"Id": network, "Type": "ACCOUNT"},
        ShareMethod="ORGANIZATIONS",
    )["SharedDirectoryId"]

    directories = aws("ds", account_id=network).describe_directories()["DirectoryDescriptions"]
    assert {(d["DirectoryId"], d["Type"]) for d in directories} == {
        (own, "MicrosoftAD"),
        (shared_id, "SharedMicrosoftAD"),
    }


def test_describe_directories_by_id_finds_the_consumers_view(sb: Sandbox, aws) -> None:
    shared_id = share(sb, "corp.example.com", "prod-app1")["shared_directory_id"]
    consumer = aws("ds", account_id=sb.account_id("prod-app1"))
    [view] = consumer.describe_directories(DirectoryIds=[shared_id])["DirectoryDescriptions"]
    assert view["DirectoryId"] == shared_id and view["Type"] == "SharedMicrosoftAD"


# -- DescribeDirectories errors -------------------------------------------------------


def test_an_empty_directory_ids_list_is_invalid_parameter(sb: Sandbox, aws) -> None:
    with pytest.raises(ClientError) as excinfo:
        aws("ds").describe_directories(DirectoryIds=[])
    assert error(excinfo) == (
        "InvalidParameterException",
        "DirectoryIds must not be an empty list.",
    )


def test_an_unknown_directory_id_is_entity_does_not_exist(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds").describe_directories(DirectoryIds=[corp, "d-0000000000"])
    assert error(excinfo) == (
        "EntityDoesNotExistException",
        "Directory d-0000000000 does not exist.",
    )


def test_another_accounts_shared_directory_id_is_entity_does_not_exist(sb: Sandbox, aws) -> None:
    shared_id = share(sb, "corp.example.com", "prod-app1")["shared_directory_id"]
    with pytest.raises(ClientError) as excinfo:
        aws("ds", account_id=sb.account_id("prod-app2")).describe_directories(
            DirectoryIds=[shared_id]
        )
    assert error(excinfo)[0] == "EntityDoesNotExistException"


def test_a_malformed_directory_id_is_invalid_parameter(sb: Sandbox, aws) -> None:
    with pytest.raises(ClientError) as excinfo:
        aws("ds").describe_directories(DirectoryIds=["corp.example.com"])
    code, message = error(excinfo)
    assert code == "InvalidParameterException"
    assert "'DirectoryIds[0]'" in message and "'corp.example.com'" in message
