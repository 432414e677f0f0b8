"""AcceptSharedDirectory and RejectSharedDirectory from the consumer's side, and their errors.

The status transitions themselves are in test_sandbox_lifecycle.py.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox

CALLS = ["accept_shared_directory", "reject_shared_directory"]


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def pending(sb: Sandbox, account: str) -> str:
    account_id = sb.account_id(account)
    return next(
        s["shared_directory_id"]
        for s in sb.manifest["shares"]
        if s["shared_account_id"] == account_id and s["status"] == "PendingAcceptance"
    )


def test_accept_returns_the_whole_shared_directory_record(sb: Sandbox, aws) -> None:
    shared_id = pending(sb, "dev-app2")
    record = aws("ds", account_id=sb.account_id("dev-app2")).accept_shared_directory(
        SharedDirectoryId=shared_id
    )["SharedDirectory"]
    assert record["SharedDirectoryId"] == shared_id
    assert record["OwnerAccountId"] == sb.account_id("shared-services")
    assert record["OwnerDirectoryId"] == sb.directory_id("services.example.com")
    assert record["SharedAccountId"] == sb.account_id("dev-app2")
    assert (record["ShareMethod"], record["ShareStatus"]) == ("HANDSHAKE", "Shared")
    assert record["ShareNotes"].startswith("Domain join")
    assert record["CreatedDateTime"] < record["LastUpdatedDateTime"]


def test_reject_returns_the_shared_directory_id(sb: Sandbox, aws) -> None:
    shared_id = pending(sb, "sandbox-alice")
    answer = aws("ds", account_id=sb.account_id("sandbox-alice")).reject_shared_directory(
        SharedDirectoryId=shared_id
    )
    assert answer["SharedDirectoryId"] == shared_id


def test_an_account_outside_the_organization_accepts(sb: Sandbox, aws) -> None:
    partner = sb.account_id("partner")
    shared_id = pending(sb, "partner")
    record = aws("ds", account_id=partner).accept_shared_directory(SharedDirectoryId=shared_id)[
        "SharedDirectory"
    ]
    assert (record["SharedAccountId"], record["ShareStatus"]) == (partner, "Shared")


@pytest.mark.parametrize("call", CALLS)
def test_an_unknown_id_is_entity_does_not_exist(sb: Sandbox, aws, call: str) -> None:
    consumer = aws("ds", account_id=sb.account_id("dev-app2"))
    with pytest.raises(ClientError) as excinfo:
        getattr(consumer, call)(SharedDirectoryId="d-0000000000")
    code, message = error(excinfo)
    assert code == "EntityDoesNotExistException"
    assert "d-0000000000" in message and sb.account_id("dev-app2") in message


@pytest.mark.parametrize("call", CALLS)
def test_another_accounts_invitation_is_entity_does_not_exist(sb: Sandbox, aws, call: str) -> None:
    shared_id = pending(sb, "dev-app2")
    for account in ("dev-data", "shared-services"):  # a bystander, and the owner itself
        with pytest.raises(ClientError) as excinfo:
            getattr(aws("ds", account_id=sb.account_id(account)), call)(SharedDirectoryId=shared_id)
        assert error(excinfo)[0] == "EntityDoesNotExistException"


@pytest.mark.parametrize("call", CALLS)
def test_an_invitation_from_another_region_is_entity_does_not_exist(
    sb: Sandbox, aws, call: str
) -> None:
    shared_id = pending(sb, "dev-app2")
    consumer = aws("ds", account_id=sb.account_id("dev-app2"), region="eu-west-1")
    with pytest.raises(ClientError) as excinfo:
        getattr(consumer, call)(SharedDirectoryId=shared_id)
    assert error(excinfo)[0] == "EntityDoesNotExistException"


@pytest.mark.parametrize("call", CALLS)
def test_an_invitation_can_be_answered_as_soon_as_share_directory_returned(
    sb: Sandbox, aws, call: str
) -> None:
    # Terraform's accepter calls AcceptSharedDirectory right after ShareDirectory, while
    # the owner's record may still read Sharing (docs/aws-sharing.md).
    sb.set_transition_delay(60)
    bob = sb.account_id("sandbox-bob")
    corp = sb.directory_id("corp.example.com")
    shared_id = aws("ds").share_directory(
        DirectoryId=corp, ShareTarget={"Id": bob, "Type": "ACCOUNT"}, ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]
    consumer = aws("ds", account_id=bob)
    [seen] = consumer.describe_directories(DirectoryIds=[shared_id])["DirectoryDescriptions"]
    assert (seen["ShareStatus"], seen["Stage"]) == ("Sharing", "Requested")
    getattr(consumer, call)(SharedDirectoryId=shared_id)
    [record] = aws("ds").describe_shared_directories(
        OwnerDirectoryId=corp, SharedDirectoryIds=[shared_id]
    )["SharedDirectories"]
    assert record["ShareStatus"] == ("Shared" if call == "accept_shared_directory" else "Rejecting")


def test_an_organizations_share_still_sharing_is_no_invitation(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(60)
    bob = sb.account_id("sandbox-bob")
    shared_id = aws("ds").share_directory(
        DirectoryId=sb.directory_id("corp.example.com"),
        ShareTarget={"Id": bob, "Type": "ACCOUNT"},
        ShareMethod="ORGANIZATIONS",
    )["SharedDirectoryId"]
    with pytest.raises(ClientError) as excinfo:
        aws("ds", account_id=bob).accept_shared_directory(SharedDirectoryId=shared_id)
    assert error(excinfo)[0] == "DirectoryAlreadySharedException"


@pytest.mark.parametrize("call", CALLS)
def test_a_rejected_invitation_is_gone(sb: Sandbox, aws, call: str) -> None:
    dev_data = sb.account_id("dev-data")
    rejected = next(
        s["shared_directory_id"]
        for s in sb.manifest["shares"]
        if s["shared_account_id"] == dev_data
    )
    with pytest.raises(ClientError) as excinfo:
        getattr(aws("ds", account_id=dev_data), call)(SharedDirectoryId=rejected)
    assert error(excinfo)[0] == "EntityDoesNotExistException"


@pytest.mark.parametrize("call", CALLS)
def test_a_malformed_id_is_invalid_parameter(sb: Sandbox, aws, call: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        getattr(aws("ds"), call)(SharedDirectoryId="sd-1234")
    code, message = error(excinfo)
    assert code == "InvalidParameterException"
    assert "'sd-1234'" in message and "'SharedDirectoryId'" in message


@pytest.mark.parametrize("call", CALLS)
def test_service_exception_is_surfaced_and_changes_nothing(
    sb: Sandbox, aws, aws_once, call: str
) -> None:
    operation = "".join(part.title() for part in call.split("_"))
    sb.add_fault(operation, code="ServiceException", service="ds", count=1)
    dev_app2 = sb.account_id("dev-app2")
    shared_id = pending(sb, "dev-app2")
    with pytest.raises(ClientError) as excinfo:
        getattr(aws_once("ds", account_id=dev_app2), call)(SharedDirectoryId=shared_id)
    assert error(excinfo)[0] == "ServiceException"
    [view] = aws("ds", account_id=dev_app2).describe_directories()["DirectoryDescriptions"]
    assert view["ShareStatus"] == "PendingAcceptance"
