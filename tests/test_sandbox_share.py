"""ShareDirectory: both methods, what the owner then sees, and every error it can raise."""

from __future__ import annotations

import re

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox

SHARED_ID = re.compile(r"^d-[0-9a-f]{10}$")


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def target(account_id: str) -> dict[str, str]:
    return {"Id": account_id, "Type": "ACCOUNT"}


def test_handshake_share_returns_a_new_shared_directory_id(sb: Sandbox, aws) -> None:
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    bob = sb.account_id("sandbox-bob")

    shared_id = ds.share_directory(
        DirectoryId=corp, ShareTarget=target(bob), ShareMethod="HANDSHAKE", ShareNotes="Join us"
    )["SharedDirectoryId"]

    assert SHARED_ID.match(shared_id)
    assert shared_id != corp
    [record] = ds.describe_shared_directories(
        OwnerDirectoryId=corp, SharedDirectoryIds=[shared_id]
    )["SharedDirectories"]
    assert record["OwnerAccountId"] == sb.manifest["management_account_id"]
    assert record["OwnerDirectoryId"] == corp
    assert record["SharedAccountId"] == bob
    assert record["SharedDirectoryId"] == shared_id
    assert record["ShareMethod"] == "HANDSHAKE"
    assert record["ShareNotes"] == "Join us"
    assert record["ShareStatus"] in ("Sharing", "PendingAcceptance")
    assert record["CreatedDateTime"] <= record["LastUpdatedDateTime"]


def test_organizations_share_from_the_management_account(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    network = sb.account_id("network")

    shared_id = ds.share_directory(
        DirectoryId=corp, ShareTarget=target(network), ShareMethod="ORGANIZATIONS"
    )["SharedDirectoryId"]

    [record] = ds.describe_shared_directories(
        OwnerDirectoryId=corp, SharedDirectoryIds=[shared_id]
    )["SharedDirectories"]
    assert (record["ShareMethod"], record["ShareStatus"]) == ("ORGANIZATIONS", "Shared")


def test_handshake_share_with_an_account_outside_the_organization(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    partner = sb.account_id("partner")

    shared_id = ds.share_directory(
        DirectoryId=corp, ShareTarget=target(partner), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]

    statuses = {
        r["SharedDirectoryId"]: (r["SharedAccountId"], r["ShareStatus"])
        for r in ds.describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
    }
    assert statuses[shared_id] == (partner, "PendingAcceptance")


def test_handshake_share_by_a_member_account_owner(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    services_owner = sb.account_id("shared-services")
    ds = aws("ds", account_id=services_owner)
    services = sb.directory_id("services.example.com")

    shared_id = ds.share_directory(
        DirectoryId=services, ShareTarget=target(sb.account_id("network")), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]

    [record] = ds.describe_shared_directories(
        OwnerDirectoryId=services, SharedDirectoryIds=[shared_id]
    )["SharedDirectories"]
    assert record["OwnerAccountId"] == services_owner
    assert record["ShareStatus"] == "PendingAcceptance"


def test_the_same_directory_can_be_shared_with_many_accounts(sb: Sandbox, aws) -> None:
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    accounts = [sb.account_id(n) for n in ("sandbox-alice", "sandbox-bob", "sandbox-carol")]

    ids = [
        ds.share_directory(DirectoryId=corp, ShareTarget=target(a), ShareMethod="ORGANIZATIONS")[
            "SharedDirectoryId"
        ]
        for a in accounts
    ]

    assert len(set(ids)) == 3
    listed = {
        r["SharedDirectoryId"]: r["SharedAccountId"]
        for r in ds.describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
    }
    assert {listed[i] for i in ids} == set(accounts)


def test_sharing_in_one_region_does_not_share_in_another(sb: Sandbox, aws) -> None:
    corp_eu = sb.directory_id("corp-eu.example.com")
    eu = aws("ds", region="eu-west-1")
    eu.share_directory(
        DirectoryId=corp_eu,
        ShareTarget=target(sb.account_id("network")),
        ShareMethod="ORGANIZATIONS",
    )

    with pytest.raises(ClientError) as excinfo:
        aws("ds", region="us-east-1").describe_shared_directories(OwnerDirectoryId=corp_eu)
    assert error(excinfo)[0] == "EntityDoesNotExistException"
    assert len(eu.describe_shared_directories(OwnerDirectoryId=corp_eu)["SharedDirectories"]) == 1


# -- errors -------------------------------------------------------------------------


def test_unknown_directory_is_entity_does_not_exist(sb: Sandbox, aws) -> None:
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId="d-0000000000", ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
        )
    code, message = error(excinfo)
    assert code == "EntityDoesNotExistException"
    assert "d-0000000000" in message


def test_another_accounts_directory_is_entity_does_not_exist(sb: Sandbox, aws) -> None:
    services = sb.directory_id("services.example.com")  # owned by shared-services
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=services, ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
        )
    assert error(excinfo) == (
        "EntityDoesNotExistException",
        f"Directory {services} does not exist.",
    )


def test_directory_in_another_region_is_entity_does_not_exist(sb: Sandbox, aws) -> None:
    corp_eu = sb.directory_id("corp-eu.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds", region="us-east-1").share_directory(
            DirectoryId=corp_eu, ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
        )
    assert error(excinfo)[0] == "EntityDoesNotExistException"


@pytest.mark.parametrize("method", ["HANDSHAKE", "ORGANIZATIONS"])
def test_sharing_with_the_owner_account_is_invalid_target(sb: Sandbox, aws, method: str) -> None:
    corp = sb.directory_id("corp.example.com")
    owner = sb.manifest["management_account_id"]
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(DirectoryId=corp, ShareTarget=target(owner), ShareMethod=method)
    code, message = error(excinfo)
    assert code == "InvalidTargetException"
    assert owner in message and "owner" in message


@pytest.mark.parametrize(
    "bad",
    ["12345", "abcdefghijkl", "1234567890123", "20000000001x", "arn:aws:iam::200000000011:root"],
)
def test_a_malformed_account_id_is_invalid_target(sb: Sandbox, aws, bad: str) -> None:
    corp = sb.directory_id("corp.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=corp, ShareTarget=target(bad), ShareMethod="HANDSHAKE"
        )
    code, message = error(excinfo)
    assert code == "InvalidTargetException"
    assert bad in message and "12 digits" in message


@pytest.mark.parametrize("bad", ["d-123", "d-ABCDEF1234", "x-1234567890", "d-12345678901"])
def test_a_malformed_directory_id_is_invalid_parameter(sb: Sandbox, aws, bad: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=bad, ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
        )
    code, message = error(excinfo)
    assert code == "InvalidParameterException"
    assert repr(bad) in message and "'DirectoryId'" in message
    assert "^d-[0-9a-f]{10}$" in message


def test_an_unknown_share_method_is_invalid_parameter(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=corp, ShareTarget=target("200000000011"), ShareMethod="EMAIL"
        )
    code, message = error(excinfo)
    assert code == "InvalidParameterException"
    assert "ShareMethod" in message and "[ORGANIZATIONS, HANDSHAKE]" in message


def test_an_unknown_target_type_is_invalid_parameter(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=corp,
            ShareMethod="HANDSHAKE",
            ShareTarget={"Id": "200000000011", "Type": "ORGANIZATION"},
        )
    code, message = error(excinfo)
    assert code == "InvalidParameterException"
    assert "ShareTarget.Type" in message and "ACCOUNT" in message


def test_share_notes_longer_than_1024_characters_are_invalid_and_not_echoed(
    sb: Sandbox, aws
) -> None:
    corp = sb.directory_id("corp.example.com")
    notes = "secret-" + "n" * 1018  # 1025 characters
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=corp,
            ShareTarget=target("200000000011"),
            ShareMethod="HANDSHAKE",
            ShareNotes=notes,
        )
    code, message = error(excinfo)
    assert code == "InvalidParameterException"
    assert "ShareNotes" in message and "1024" in message
    assert "secret" not in message  # the notes are sensitive in the model


def test_share_notes_of_exactly_1024_characters_are_accepted(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    notes = "n" * 1024
    ds = aws("ds")
    shared_id = ds.share_directory(
        DirectoryId=corp,
        ShareTarget=target("200000000011"),
        ShareMethod="HANDSHAKE",
        ShareNotes=notes,
    )["SharedDirectoryId"]
    [record] = ds.describe_shared_directories(
        OwnerDirectoryId=corp, SharedDirectoryIds=[shared_id]
    )["SharedDirectories"]
    assert record["ShareNotes"] == notes


def test_an_empty_target_id_is_rejected_by_the_server_too(sb: Sandbox, aws) -> None:
    """botocore checks the minimum length on the client; the server checks it again."""
    corp = sb.directory_id("corp.example.com")
    ds = boto3.client(
        "ds",
        endpoint_url=sb.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False),
    )
    with pytest.raises(ClientError) as excinfo:
        ds.share_directory(DirectoryId=corp, ShareTarget=target(""), ShareMethod="HANDSHAKE")
    code, message = error(excinfo)
    assert code == "InvalidParameterException"
    assert "ShareTarget.Id" in message and "length greater than or equal to 1" in message


@pytest.mark.parametrize("stage", ["Creating", "Requested", "Impaired", "Inoperable", "Failed"])
def test_a_directory_that_is_not_active_is_client_exception(sb: Sandbox, aws, stage: str) -> None:
    corp = sb.directory_id("corp.example.com")
    sb.set_directory_stage(corp, stage)
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=corp, ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
        )
    code, message = error(excinfo)
    assert code == "ClientException"
    assert corp in message and stage in message and "Active" in message


def test_a_directory_added_in_creating_stage_cannot_be_shared_until_active(
    sb: Sandbox, aws
) -> None:
    new = sb.add_directory(
        sb.manifest["management_account_id"],
        "us-east-1",
        "new.example.com",
        edition="Standard",
        stage="Creating",
    )
    ds = aws("ds")
    with pytest.raises(ClientError) as excinfo:
        ds.share_directory(
            DirectoryId=new, ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
        )
    assert error(excinfo)[0] == "ClientException"

    sb.set_directory_stage(new, "Active")
    assert SHARED_ID.match(
        ds.share_directory(
            DirectoryId=new, ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
        )["SharedDirectoryId"]
    )


def test_a_simple_ad_directory_is_unsupported_operation(sb: Sandbox, aws) -> None:
    legacy = sb.directory_id("legacy.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=legacy, ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
        )
    code, message = error(excinfo)
    assert code == "UnsupportedOperationException"
    assert "SimpleAD" in message and "MicrosoftAD" in message


def test_sharing_twice_with_the_same_account_is_directory_already_shared(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    prod_app1 = sb.account_id("prod-app1")  # already Shared in the demo seed
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=corp, ShareTarget=target(prod_app1), ShareMethod="ORGANIZATIONS"
        )
    code, message = error(excinfo)
    assert code == "DirectoryAlreadySharedException"
    assert corp in message and prod_app1 in message


def test_access_denied_is_surfaced(sb: Sandbox, aws) -> None:
    sb.add_fault(
        "ShareDirectory",
        code="AccessDeniedException",
        service="ds",
        message="User is not authorized to perform: ds:ShareDirectory",
    )
    corp = sb.directory_id("corp.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=corp, ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
        )
    assert error(excinfo) == (
        "AccessDeniedException",
        "User is not authorized to perform: ds:ShareDirectory",
    )
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_service_exception_is_surfaced_when_retries_are_exhausted(sb: Sandbox, aws) -> None:
    sb.add_fault("ShareDirectory", code="ServiceException", service="ds")
    corp = sb.directory_id("corp.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=corp, ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
        )
    code, message = error(excinfo)
    assert code == "ServiceException"
    assert "Injected ServiceException" in message
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert (
        excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 4
    )  # max_attempts 4 retries
    # nothing was shared by the failed calls
    assert "200000000011" not in {
        r["SharedAccountId"]
        for r in aws("ds").describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
    }


def test_a_consumer_cannot_share_its_shared_microsoft_ad_onwards(sb: Sandbox, aws) -> None:
    prod_app1 = sb.account_id("prod-app1")
    consumer = aws("ds", account_id=prod_app1)
    [view] = consumer.describe_directories()["DirectoryDescriptions"]
    assert view["Type"] == "SharedMicrosoftAD"
    with pytest.raises(ClientError) as excinfo:
        consumer.share_directory(
            DirectoryId=view["DirectoryId"],
            ShareTarget=target("200000000011"),
            ShareMethod="HANDSHAKE",
        )
    code, message = error(excinfo)
    assert code == "UnsupportedOperationException"
    assert view["DirectoryId"] in message and "SharedMicrosoftAD" in message


def test_an_ad_connector_is_unsupported_operation(sb: Sandbox, aws) -> None:
    ds = aws("ds")
    [corp] = ds.describe_directories(DirectoryIds=[sb.directory_id("corp.example.com")])[
        "DirectoryDescriptions"
    ]
    connector = ds.connect_directory(
        Name="onprem.example.com",
        Password="Sandbox-Passw0rd!",
        Size="Small",
        ConnectSettings={
            "VpcId": corp["VpcSettings"]["VpcId"],
            "SubnetIds": corp["VpcSettings"]["SubnetIds"],
            "CustomerDnsIps": ["10.0.0.10"],
            "CustomerUserName": "Admin",
        },
    )["DirectoryId"]
    for call, kwargs in (
        (
            ds.share_directory,
            {
                "DirectoryId": connector,
                "ShareMethod": "HANDSHAKE",
                "ShareTarget": target("200000000011"),
            },
        ),
        (ds.describe_shared_directories, {"OwnerDirectoryId": connector}),
    ):
        with pytest.raises(ClientError) as excinfo:
            call(**kwargs)
        code, message = error(excinfo)
        assert code == "UnsupportedOperationException"
        assert "ADConnector" in message


def test_a_directory_created_through_the_api_can_be_shared(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    [corp] = ds.describe_directories(DirectoryIds=[sb.directory_id("corp.example.com")])[
        "DirectoryDescriptions"
    ]
    created = ds.create_microsoft_ad(
        Name="fresh.example.com",
        Password="Sandbox-Passw0rd!",
        Edition="Enterprise",
        VpcSettings={
            "VpcId": corp["VpcSettings"]["VpcId"],
            "SubnetIds": corp["VpcSettings"]["SubnetIds"],
        },
    )["DirectoryId"]
    [described] = ds.describe_directories(DirectoryIds=[created])["DirectoryDescriptions"]
    assert described["Stage"] == "Active"

    shared_id = ds.share_directory(
        DirectoryId=created,
        ShareTarget=target(sb.account_id("network")),
        ShareMethod="ORGANIZATIONS",
    )["SharedDirectoryId"]

    [view] = aws("ds", account_id=sb.account_id("network")).describe_directories()[
        "DirectoryDescriptions"
    ]
    assert (view["DirectoryId"], view["Name"], view["Edition"]) == (
        shared_id,
        "fresh.example.com",
        "Enterprise",
    )
