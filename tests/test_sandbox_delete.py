"""DeleteDirectory: the consumer leaving a share, and the owner refused while shares are live."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def target(account_id: str) -> dict[str, str]:
    return {"Id": account_id, "Type": "ACCOUNT"}


def statuses(ds, directory_id: str) -> dict[str, str]:
    return {
        r["SharedDirectoryId"]: r["ShareStatus"]
        for r in ds.describe_shared_directories(OwnerDirectoryId=directory_id)["SharedDirectories"]
    }


def test_the_consumer_leaves_a_shared_directory(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    corp = sb.directory_id("corp.example.com")
    prod_app1 = sb.account_id("prod-app1")
    consumer = aws("ds", account_id=prod_app1)
    [view] = consumer.describe_directories()["DirectoryDescriptions"]

    assert (
        consumer.delete_directory(DirectoryId=view["DirectoryId"])["DirectoryId"]
        == view["DirectoryId"]
    )

    assert consumer.describe_directories()["DirectoryDescriptions"] == []
    assert statuses(aws("ds"), corp)[view["DirectoryId"]] == "Deleted"
    # the owner's directory itself is untouched
    assert corp in {
        d["DirectoryId"] for d in aws("ds").describe_directories()["DirectoryDescriptions"]
    }


def test_leaving_a_pending_invitation_is_client_exception(sb: Sandbox, aws) -> None:
    alice = sb.account_id("sandbox-alice")
    consumer = aws("ds", account_id=alice)
    [view] = consumer.describe_directories()["DirectoryDescriptions"]
    with pytest.raises(ClientError) as excinfo:
        consumer.delete_directory(DirectoryId=view["DirectoryId"])
    code, message = error(excinfo)
    assert code == "ClientException"
    assert "PendingAcceptance" in message and "Reject" in message


def test_leaving_twice_is_entity_does_not_exist(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    consumer = aws("ds", account_id=sb.account_id("prod-app2"))
    [view] = consumer.describe_directories()["DirectoryDescriptions"]
    consumer.delete_directory(DirectoryId=view["DirectoryId"])
    with pytest.raises(ClientError) as excinfo:
        consumer.delete_directory(DirectoryId=view["DirectoryId"])
    assert error(excinfo)[0] == "EntityDoesNotExistException"


def test_a_bystander_cannot_delete_someone_elses_shared_directory(sb: Sandbox, aws) -> None:
    shared_id = next(
        s["shared_directory_id"]
        for s in sb.manifest["shares"]
        if s["shared_account_id"] == sb.account_id("prod-app1")
    )
    with pytest.raises(ClientError) as excinfo:
        aws("ds", account_id=sb.account_id("prod-app2")).delete_directory(DirectoryId=shared_id)
    assert error(excinfo)[0] == "EntityDoesNotExistException"
    assert statuses(aws("ds"), sb.directory_id("corp.example.com"))[shared_id] == "Shared"


def test_the_owner_cannot_delete_a_directory_with_live_shares(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    live = sorted(i for i, s in statuses(aws("ds"), corp).items() if s == "Shared")
    assert len(live) == 2
    with pytest.raises(ClientError) as excinfo:
        aws("ds").delete_directory(DirectoryId=corp)
    code, message = error(excinfo)
    assert code == "ClientException"
    assert corp in message and all(i in message for i in live)
    deleted = next(
        s["shared_directory_id"] for s in sb.manifest["shares"] if s["status"] == "Deleted"
    )
    assert deleted not in message


def test_a_pending_invitation_also_blocks_deleting_the_owner(sb: Sandbox, aws) -> None:
    global_ = sb.directory_id("global.example.com")
    with pytest.raises(ClientError) as excinfo:
        aws("ds").delete_directory(DirectoryId=global_)
    assert error(excinfo)[0] == "ClientException"


def test_the_owner_can_delete_once_every_share_is_unshared(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0.2)
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    for account in ("prod-app1", "prod-app2"):
        ds.unshare_directory(DirectoryId=corp, UnshareTarget=target(sb.account_id(account)))
    with pytest.raises(ClientError) as excinfo:  # still Deleting
        ds.delete_directory(DirectoryId=corp)
    assert error(excinfo)[0] == "ClientException"

    deadline = time.monotonic() + 10
    while set(statuses(ds, corp).values()) != {"Deleted"}:
        assert time.monotonic() < deadline, statuses(ds, corp)
        time.sleep(0.05)
    assert ds.delete_directory(DirectoryId=corp)["DirectoryId"] == corp

    assert corp not in {
        d["DirectoryId"] for d in ds.describe_directories()["DirectoryDescriptions"]
    }
    with pytest.raises(ClientError) as excinfo:
        ds.describe_shared_directories(OwnerDirectoryId=corp)
    assert error(excinfo)[0] == "EntityDoesNotExistException"


def test_a_directory_that_was_never_shared_can_be_deleted(sb: Sandbox, aws) -> None:
    eu = aws("ds", region="eu-west-1")
    corp_eu = sb.directory_id("corp-eu.example.com")
    assert eu.delete_directory(DirectoryId=corp_eu)["DirectoryId"] == corp_eu
    assert eu.describe_directories()["DirectoryDescriptions"] == []


def test_deleting_an_unknown_directory_is_entity_does_not_exist(sb: Sandbox, aws) -> None:
    with pytest.raises(ClientError) as excinfo:
        aws("ds").delete_directory(DirectoryId="d-0000000000")
    assert error(excinfo) == (
        "EntityDoesNotExistException",
        "Directory d-0000000000 does not exist.",
    )
