"""UnshareDirectory: what it returns and every error it can raise."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox


def target(account_id: str) -> dict[str, str]:
    return {"Id": account_id, "Type": "ACCOUNT"}


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def shares_by_account(ds, directory_id: str) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for r in ds.describe_shared_directories(OwnerDirectoryId=directory_id)["SharedDirectories"]:
        found.setdefault(r["SharedAccountId"], []).append(
            (r["SharedDirectoryId"], r["ShareStatus"])
        )
    return found


def test_unshare_returns_the_shared_directory_id_of_the_live_share(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    prod_app2 = sb.account_id("prod-app2")
    [(shared_id, status)] = shares_by_account(ds, corp)[prod_app2]
    assert status == "Shared"

    assert (
        ds.unshare_directory(DirectoryId=corp, UnshareTarget=target(prod_app2))["SharedDirectoryId"]
        == shared_id
    )
    assert shares_by_account(ds, corp)[prod_app2] == [(shared_id, "Deleted")]


def test_unshare_picks_the_live_record_when_older_ones_are_deleted(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    dev_app1 = sb.account_id("dev-app1")  # a Deleted record in the demo seed
    new_id = ds.share_directory(
        DirectoryId=corp, ShareTarget=target(dev_app1), ShareMethod="ORGANIZATIONS"
    )["SharedDirectoryId"]

    assert (
        ds.unshare_directory(DirectoryId=corp, UnshareTarget=target(dev_app1))["SharedDirectoryId"]
        == new_id
    )
    assert {status for _, status in shares_by_account(ds, corp)[dev_app1]} == {"Deleted"}


def test_a_member_owner_unshares_a_handshake_share(sb: Sandbox, aws) -> None:
    services = sb.directory_id("services.example.com")
    ds = aws("ds", account_id=sb.account_id("shared-services"))
    partner = sb.account_id("partner")
    [(shared_id, _)] = shares_by_account(ds, services)[partner]
    assert (
        ds.unshare_directory(DirectoryId=services, UnshareTarget=target(partner))[
            "SharedDirectoryId"
        ]
        == shared_id
    )


def test_an_account_never_shared_with_is_directory_not_shared(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds").unshare_directory(DirectoryId=corp, UnshareTarget=target("200000000011"))
    assert error(excinfo) == (
        "DirectoryNotSharedException",
        f"Directory {corp} is not shared with account 200000000011.",
    )


@pytest.mark.parametrize("name", ["dev-app1", "dev-data"])  # Deleted, Rejected in the demo seed
def test_a_finished_share_is_directory_not_shared(sb: Sandbox, aws, name: str) -> None:
    account = sb.account_id(name)
    directory = next(
        s["owner_directory_id"] for s in sb.manifest["shares"] if s["shared_account_id"] == account
    )
    owner = next(
        s["owner_account_id"] for s in sb.manifest["shares"] if s["shared_account_id"] == account
    )
    with pytest.raises(ClientError) as excinfo:
        aws("ds", account_id=owner).unshare_directory(
            DirectoryId=directory, UnshareTarget=target(account)
        )
    assert error(excinfo)[0] == "DirectoryNotSharedException"


def test_unsharing_twice_is_directory_not_shared(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(60)  # the first unshare stays Deleting
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    prod_app1 = sb.account_id("prod-app1")
    ds.unshare_directory(DirectoryId=corp, UnshareTarget=target(prod_app1))
    with pytest.raises(ClientError) as excinfo:
        ds.unshare_directory(DirectoryId=corp, UnshareTarget=target(prod_app1))
    assert error(excinfo)[0] == "DirectoryNotSharedException"


def test_unknown_directory_is_entity_does_not_exist(sb: Sandbox, aws) -> None:
    with pytest.raises(ClientError) as excinfo:
        aws("ds").unshare_directory(
            DirectoryId="d-0000000000", UnshareTarget=target("200000000004")
        )
    assert error(excinfo) == (
        "EntityDoesNotExistException",
        "Directory d-0000000000 does not exist.",
    )


def test_the_consumer_cannot_unshare_the_owners_directory(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    prod_app1 = sb.account_id("prod-app1")
    with pytest.raises(ClientError) as excinfo:
        aws("ds", account_id=prod_app1).unshare_directory(
            DirectoryId=corp, UnshareTarget=target(prod_app1)
        )
    assert error(excinfo)[0] == "EntityDoesNotExistException"


def test_a_consumer_naming_its_shared_microsoft_ad_is_client_exception(sb: Sandbox, aws) -> None:
    prod_app1 = sb.account_id("prod-app1")
    consumer = aws("ds", account_id=prod_app1)
    [view] = consumer.describe_directories()["DirectoryDescriptions"]
    with pytest.raises(ClientError) as excinfo:
        consumer.unshare_directory(
            DirectoryId=view["DirectoryId"], UnshareTarget=target("200000000011")
        )
    code, message = error(excinfo)
    assert (
        code == "ClientException"
    )  # UnsupportedOperationException is not in this operation's model
    assert "SharedMicrosoftAD" in message


@pytest.mark.parametrize("bad", ["2000", "not-an-account", "2000000000040"])
def test_a_malformed_account_id_is_invalid_target(sb: Sandbox, aws, bad: str) -> None:
    corp = sb.directory_id("corp.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds").unshare_directory(DirectoryId=corp, UnshareTarget=target(bad))
    code, message = error(excinfo)
    assert code == "InvalidTargetException"
    assert f"UnshareTarget.Id '{bad}'" in message and "12 digits" in message


def test_the_owner_account_is_invalid_target(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    owner = sb.manifest["management_account_id"]
    with pytest.raises(ClientError) as excinfo:
        aws("ds").unshare_directory(DirectoryId=corp, UnshareTarget=target(owner))
    code, message = error(excinfo)
    assert code == "InvalidTargetException"
    assert owner in message and "owner" in message


def test_a_malformed_directory_id_is_entity_does_not_exist(sb: Sandbox, aws) -> None:
    # UnshareDirectory's model lists no InvalidParameterException (docs/aws-sharing.md).
    with pytest.raises(ClientError) as excinfo:
        aws("ds").unshare_directory(DirectoryId="corp", UnshareTarget=target("200000000004"))
    code, message = error(excinfo)
    assert code == "EntityDoesNotExistException"
    assert "'corp'" in message and "DirectoryId" in message


def test_an_unknown_target_type_is_invalid_target(sb: Sandbox) -> None:
    ds = boto3.client(
        "ds",
        endpoint_url=sb.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False),
    )
    corp = sb.directory_id("corp.example.com")
    with pytest.raises(ClientError) as excinfo:
        ds.unshare_directory(DirectoryId=corp, UnshareTarget={"Id": "200000000004", "Type": "OU"})
    code, message = error(excinfo)
    assert code == "InvalidTargetException"
    assert "UnshareTarget.Type" in message and "[ACCOUNT]" in message


def test_service_exception_is_surfaced_without_retries(sb: Sandbox, aws, aws_once) -> None:
    sb.add_fault("UnshareDirectory", code="ServiceException", service="ds")
    corp = sb.directory_id("corp.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws_once("ds").unshare_directory(
            DirectoryId=corp, UnshareTarget=target(sb.account_id("prod-app1"))
        )
    assert error(excinfo)[0] == "ServiceException"
    assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    # the share is untouched
    assert shares_by_account(aws("ds"), corp)[sb.account_id("prod-app1")][0][1] == "Shared"
