"""Testing your own sharing automation with the dsshare_sandbox fixture (pytest).

Run with ``pytest docs/examples/test_share_with_pytest.py`` once ``dsshare[sandbox]`` is
installed: the fixtures come from dsshare's pytest plugin, no conftest needed.
"""

from __future__ import annotations

import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


def share_and_accept(owner_ds, consumer_ds, directory_id: str, account_id: str) -> str:
    """The automation under test: share a directory, accept it on the other side."""
    shared_id = owner_ds.share_directory(
        DirectoryId=directory_id,
        ShareTarget={"Id": account_id, "Type": "ACCOUNT"},
        ShareMethod="HANDSHAKE",
    )["SharedDirectoryId"]
    while True:  # Sharing -> PendingAcceptance takes the sandbox's transition delay
        (record,) = owner_ds.describe_shared_directories(
            OwnerDirectoryId=directory_id, SharedDirectoryIds=[shared_id]
        )["SharedDirectories"]
        if record["ShareStatus"] == "PendingAcceptance":
            break
        time.sleep(0.02)
    consumer_ds.accept_shared_directory(SharedDirectoryId=shared_id)
    return shared_id


def test_a_directory_is_shared_and_accepted(dsshare_sandbox) -> None:
    owner = dsshare_sandbox.client("ds", account="shared-services")
    consumer = dsshare_sandbox.client("ds", account="dev-app1")
    directory_id = dsshare_sandbox.sandbox.directory_id("services.example.com")

    shared_id = share_and_accept(
        owner, consumer, directory_id, dsshare_sandbox.account_id("dev-app1")
    )

    (seen,) = consumer.describe_directories(DirectoryIds=[shared_id])["DirectoryDescriptions"]
    assert (seen["Type"], seen["ShareStatus"]) == ("SharedMicrosoftAD", "Shared")


@pytest.mark.dsshare_sandbox(
    faults=[{"operation": "ShareDirectory", "code": "ThrottlingException", "count": 1}]
)
def test_a_throttled_share_is_reported(dsshare_sandbox) -> None:
    owner = dsshare_sandbox.client(
        "ds", account="shared-services", config=Config(retries={"total_max_attempts": 1})
    )
    with pytest.raises(ClientError) as excinfo:
        owner.share_directory(
            DirectoryId=dsshare_sandbox.sandbox.directory_id("services.example.com"),
            ShareTarget={"Id": dsshare_sandbox.account_id("dev-app1"), "Type": "ACCOUNT"},
            ShareMethod="HANDSHAKE",
        )
    assert excinfo.value.response["Error"]["Code"] == "ThrottlingException"


@pytest.mark.dsshare_sandbox(seed="empty")
def test_an_empty_organization_has_no_directories(dsshare_sandbox) -> None:
    ds = dsshare_sandbox.client("ds")
    assert ds.describe_directories()["DirectoryDescriptions"] == []
