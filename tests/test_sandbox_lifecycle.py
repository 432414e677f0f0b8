"""Every share status transition, as the owner and the consumer see it.

Transitional statuses (Sharing, Deleting, Rejecting) last ``DELAY`` seconds here:
long enough to be seen on a busy machine, short enough to keep the suite fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox

DELAY = 0.4


def target(account_id: str) -> dict[str, str]:
    return {"Id": account_id, "Type": "ACCOUNT"}


def watch(
    read: Callable[[], str | None], until: str | None, timeout: float = 10.0
) -> list[str | None]:
    """Poll ``read`` until it returns ``until``; return each distinct value seen, in order."""
    seen: list[str | None] = []
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if not seen or seen[-1] != value:
            seen.append(value)
        if value == until:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {until!r} after {timeout} s; saw {seen}")
        time.sleep(0.02)


def owner_status(ds, directory_id: str, shared_id: str) -> str:
    [record] = ds.describe_shared_directories(
        OwnerDirectoryId=directory_id, SharedDirectoryIds=[shared_id]
    )["SharedDirectories"]
    return str(record["ShareStatus"])


def consumer_view(ds, shared_id: str) -> dict | None:
    for entry in ds.describe_directories()["DirectoryDescriptions"]:
        if entry["DirectoryId"] == shared_id:
            return entry
    return None


def consumer_status(ds, shared_id: str) -> str | None:
    view = consumer_view(ds, shared_id)
    return None if view is None else str(view["ShareStatus"])


@pytest.fixture
def slow(sb: Sandbox) -> Sandbox:
    sb.set_transition_delay(DELAY)
    return sb


def test_handshake_share_is_sharing_then_pending_then_shared_once_accepted(
    slow: Sandbox, aws
) -> None:
    owner = aws("ds")
    corp = slow.directory_id("corp.example.com")
    bob = slow.account_id("sandbox-bob")
    consumer = aws("ds", account_id=bob)

    shared_id = owner.share_directory(
        DirectoryId=corp, ShareTarget=target(bob), ShareMethod="HANDSHAKE", ShareNotes="hello"
    )["SharedDirectoryId"]
    # The invitation is there from the moment ShareDirectory answered (Terraform's accepter
    # relies on it; docs/aws-sharing.md), still Sharing.
    early = consumer_view(consumer, shared_id)
    assert early is not None
    assert (early["ShareStatus"], early["Stage"]) == ("Sharing", "Requested")
    assert watch(lambda: owner_status(owner, corp, shared_id), "PendingAcceptance") == [
        "Sharing",
        "PendingAcceptance",
    ]

    view = consumer_view(consumer, shared_id)
    assert view is not None
    assert (view["Type"], view["ShareStatus"], view["Stage"]) == (
        "SharedMicrosoftAD",
        "PendingAcceptance",
        "Requested",
    )

    accepted = consumer.accept_shared_directory(SharedDirectoryId=shared_id)["SharedDirectory"]
    assert accepted["SharedDirectoryId"] == shared_id
    assert accepted["ShareStatus"] == "Shared"
    assert accepted["SharedAccountId"] == bob
    assert owner_status(owner, corp, shared_id) == "Shared"
    view = consumer_view(consumer, shared_id)
    assert view is not None and (view["ShareStatus"], view["Stage"]) == ("Shared", "Active")


def test_reject_is_rejecting_then_rejected_and_the_consumer_view_goes(slow: Sandbox, aws) -> None:
    services = slow.directory_id("services.example.com")
    owner = aws("ds", account_id=slow.account_id("shared-services"))
    dev_app2 = slow.account_id("dev-app2")
    consumer = aws("ds", account_id=dev_app2)
    [pending] = [
        r
        for r in owner.describe_shared_directories(OwnerDirectoryId=services)["SharedDirectories"]
        if r["SharedAccountId"] == dev_app2
    ]
    shared_id = pending["SharedDirectoryId"]

    assert (
        consumer.reject_shared_directory(SharedDirectoryId=shared_id)["SharedDirectoryId"]
        == shared_id
    )

    assert watch(lambda: owner_status(owner, services, shared_id), "Rejected") == [
        "Rejecting",
        "Rejected",
    ]
    assert consumer_view(consumer, shared_id) is None
    listed = owner.describe_shared_directories(OwnerDirectoryId=services)["SharedDirectories"]
    assert shared_id in {r["SharedDirectoryId"] for r in listed}  # Rejected stays listed


def test_organizations_share_is_sharing_then_shared_without_acceptance(slow: Sandbox, aws) -> None:
    owner = aws("ds")
    corp = slow.directory_id("corp.example.com")
    carol = slow.account_id("sandbox-carol")
    consumer = aws("ds", account_id=carol)

    shared_id = owner.share_directory(
        DirectoryId=corp, ShareTarget=target(carol), ShareMethod="ORGANIZATIONS"
    )["SharedDirectoryId"]

    assert watch(lambda: owner_status(owner, corp, shared_id), "Shared") == ["Sharing", "Shared"]
    view = consumer_view(consumer, shared_id)
    assert view is not None
    assert (view["ShareStatus"], view["ShareMethod"], view["Stage"]) == (
        "Shared",
        "ORGANIZATIONS",
        "Active",
    )


def test_unshare_is_deleting_then_deleted_which_stays_listed_for_the_owner(
    slow: Sandbox, aws
) -> None:
    owner = aws("ds")
    corp = slow.directory_id("corp.example.com")
    prod_app1 = slow.account_id("prod-app1")  # Shared in the demo seed
    consumer = aws("ds", account_id=prod_app1)
    [record] = [
        r
        for r in owner.describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
        if r["SharedAccountId"] == prod_app1
    ]
    shared_id = record["SharedDirectoryId"]
    assert consumer_status(consumer, shared_id) == "Shared"

    unshared = owner.unshare_directory(DirectoryId=corp, UnshareTarget=target(prod_app1))
    assert unshared["SharedDirectoryId"] == shared_id

    assert watch(lambda: owner_status(owner, corp, shared_id), "Deleted") == ["Deleting", "Deleted"]
    assert consumer_view(consumer, shared_id) is None  # the consumer's directory disappears
    listed = {
        r["SharedDirectoryId"]: r["ShareStatus"]
        for r in owner.describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
    }
    assert listed[shared_id] == "Deleted"


def test_the_consumer_sees_deleting_before_its_directory_disappears(slow: Sandbox, aws) -> None:
    owner = aws("ds")
    corp = slow.directory_id("corp.example.com")
    prod_app2 = slow.account_id("prod-app2")
    consumer = aws("ds", account_id=prod_app2)
    [record] = [
        r
        for r in owner.describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
        if r["SharedAccountId"] == prod_app2
    ]

    owner.unshare_directory(DirectoryId=corp, UnshareTarget=target(prod_app2))

    assert watch(lambda: consumer_status(consumer, record["SharedDirectoryId"]), None) == [
        "Deleting",
        None,
    ]


def test_unsharing_a_pending_invitation_withdraws_it(slow: Sandbox, aws) -> None:
    global_ = slow.directory_id("global.example.com")
    alice = slow.account_id("sandbox-alice")  # PendingAcceptance in the demo seed
    owner = aws("ds")
    consumer = aws("ds", account_id=alice)
    [record] = owner.describe_shared_directories(OwnerDirectoryId=global_)["SharedDirectories"]
    shared_id = record["SharedDirectoryId"]
    assert record["ShareStatus"] == "PendingAcceptance"

    owner.unshare_directory(DirectoryId=global_, UnshareTarget=target(alice))

    assert watch(lambda: owner_status(owner, global_, shared_id), "Deleted") == [
        "Deleting",
        "Deleted",
    ]
    with pytest.raises(ClientError) as excinfo:
        consumer.accept_shared_directory(SharedDirectoryId=shared_id)
    assert excinfo.value.response["Error"]["Code"] == "EntityDoesNotExistException"


def test_leaving_is_deleting_then_deleted_on_the_owner_side(slow: Sandbox, aws) -> None:
    services = slow.directory_id("services.example.com")
    owner = aws("ds", account_id=slow.account_id("shared-services"))
    prod_data = slow.account_id("prod-data")  # Shared (HANDSHAKE) in the demo seed
    consumer = aws("ds", account_id=prod_data)
    [record] = [
        r
        for r in owner.describe_shared_directories(OwnerDirectoryId=services)["SharedDirectories"]
        if r["SharedAccountId"] == prod_data
    ]
    shared_id = record["SharedDirectoryId"]

    assert consumer.delete_directory(DirectoryId=shared_id)["DirectoryId"] == shared_id

    assert watch(lambda: owner_status(owner, services, shared_id), "Deleted") == [
        "Deleting",
        "Deleted",
    ]
    assert consumer_view(consumer, shared_id) is None
    assert services in {
        d["DirectoryId"] for d in owner.describe_directories()["DirectoryDescriptions"]
    }


def test_resharing_after_deleted_gives_a_new_shared_directory_id(slow: Sandbox, aws) -> None:
    slow.set_transition_delay(0)
    owner = aws("ds")
    corp = slow.directory_id("corp.example.com")
    dev_app1 = slow.account_id("dev-app1")  # Deleted in the demo seed
    [old] = [
        r
        for r in owner.describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
        if r["SharedAccountId"] == dev_app1
    ]
    assert old["ShareStatus"] == "Deleted"

    new_id = owner.share_directory(
        DirectoryId=corp, ShareTarget=target(dev_app1), ShareMethod="ORGANIZATIONS"
    )["SharedDirectoryId"]

    assert new_id != old["SharedDirectoryId"]
    records = {
        r["SharedDirectoryId"]: r["ShareStatus"]
        for r in owner.describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
        if r["SharedAccountId"] == dev_app1
    }
    assert records == {old["SharedDirectoryId"]: "Deleted", new_id: "Shared"}


def test_resharing_after_rejected_gives_a_new_shared_directory_id(slow: Sandbox, aws) -> None:
    slow.set_transition_delay(0)
    services = slow.directory_id("services.example.com")
    owner = aws("ds", account_id=slow.account_id("shared-services"))
    dev_data = slow.account_id("dev-data")  # Rejected in the demo seed
    [old] = [
        r
        for r in owner.describe_shared_directories(OwnerDirectoryId=services)["SharedDirectories"]
        if r["SharedAccountId"] == dev_data
    ]
    assert old["ShareStatus"] == "Rejected"

    new_id = owner.share_directory(
        DirectoryId=services, ShareTarget=target(dev_data), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]

    assert new_id != old["SharedDirectoryId"]
    assert owner_status(owner, services, new_id) == "PendingAcceptance"
    assert owner_status(owner, services, old["SharedDirectoryId"]) == "Rejected"


def test_unshare_then_share_again_round_trip(slow: Sandbox, aws) -> None:
    owner = aws("ds")
    corp = slow.directory_id("corp.example.com")
    bob = slow.account_id("sandbox-bob")
    first = owner.share_directory(
        DirectoryId=corp, ShareTarget=target(bob), ShareMethod="ORGANIZATIONS"
    )["SharedDirectoryId"]
    watch(lambda: owner_status(owner, corp, first), "Shared")
    owner.unshare_directory(DirectoryId=corp, UnshareTarget=target(bob))
    watch(lambda: owner_status(owner, corp, first), "Deleted")

    second = owner.share_directory(
        DirectoryId=corp, ShareTarget=target(bob), ShareMethod="ORGANIZATIONS"
    )["SharedDirectoryId"]

    assert second != first
    assert watch(lambda: owner_status(owner, corp, second), "Shared") == ["Sharing", "Shared"]
    consumer = aws("ds", account_id=bob)
    assert consumer_status(consumer, second) == "Shared"
    assert consumer_view(consumer, first) is None


@pytest.mark.parametrize("status", ["Sharing", "PendingAcceptance", "Shared"])
def test_resharing_while_a_share_is_live_is_directory_already_shared(
    sb: Sandbox, aws, status: str
) -> None:
    sb.set_transition_delay(60 if status == "Sharing" else 0)
    owner = aws("ds")
    corp = sb.directory_id("corp.example.com")
    bob = sb.account_id("sandbox-bob")
    shared_id = owner.share_directory(
        DirectoryId=corp, ShareTarget=target(bob), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]
    if status == "Shared":
        aws("ds", account_id=bob).accept_shared_directory(SharedDirectoryId=shared_id)
    assert owner_status(owner, corp, shared_id) == status

    for method in ("HANDSHAKE", "ORGANIZATIONS"):
        with pytest.raises(ClientError) as excinfo:
            owner.share_directory(DirectoryId=corp, ShareTarget=target(bob), ShareMethod=method)
        err = excinfo.value.response["Error"]
        assert err["Code"] == "DirectoryAlreadySharedException"
        assert bob in err["Message"] and shared_id in err["Message"] and status in err["Message"]


def test_accepting_a_share_that_is_already_shared_is_directory_already_shared(
    sb: Sandbox, aws
) -> None:
    corp = sb.directory_id("corp.example.com")
    prod_app1 = sb.account_id("prod-app1")  # an ORGANIZATIONS share, Shared
    consumer = aws("ds", account_id=prod_app1)
    [view] = [
        d
        for d in consumer.describe_directories()["DirectoryDescriptions"]
        if d["Type"] == "SharedMicrosoftAD"
    ]
    assert view["OwnerDirectoryDescription"]["DirectoryId"] == corp

    for call in (consumer.accept_shared_directory, consumer.reject_shared_directory):
        with pytest.raises(ClientError) as excinfo:
            call(SharedDirectoryId=view["DirectoryId"])
        err = excinfo.value.response["Error"]
        assert err["Code"] == "DirectoryAlreadySharedException"
        assert "Shared, not PendingAcceptance" in err["Message"]


def test_accepting_twice_and_rejecting_after_accepting_are_refused(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    global_ = sb.directory_id("global.example.com")
    alice = sb.account_id("sandbox-alice")
    consumer = aws("ds", account_id=alice)
    [record] = aws("ds").describe_shared_directories(OwnerDirectoryId=global_)["SharedDirectories"]
    consumer.accept_shared_directory(SharedDirectoryId=record["SharedDirectoryId"])

    for call in (consumer.accept_shared_directory, consumer.reject_shared_directory):
        with pytest.raises(ClientError) as excinfo:
            call(SharedDirectoryId=record["SharedDirectoryId"])
        assert excinfo.value.response["Error"]["Code"] == "DirectoryAlreadySharedException"


def test_accepting_while_rejecting_is_directory_already_shared(slow: Sandbox, aws) -> None:
    slow.set_transition_delay(60)
    global_ = slow.directory_id("global.example.com")
    consumer = aws("ds", account_id=slow.account_id("sandbox-alice"))
    [record] = aws("ds").describe_shared_directories(OwnerDirectoryId=global_)["SharedDirectories"]
    consumer.reject_shared_directory(SharedDirectoryId=record["SharedDirectoryId"])

    with pytest.raises(ClientError) as excinfo:
        consumer.accept_shared_directory(SharedDirectoryId=record["SharedDirectoryId"])
    err = excinfo.value.response["Error"]
    assert err["Code"] == "DirectoryAlreadySharedException"
    assert "Rejecting" in err["Message"]


def test_forced_share_failed_shows_on_both_sides_and_can_be_cleaned_up(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    owner = aws("ds")
    corp = sb.directory_id("corp.example.com")
    bob = sb.account_id("sandbox-bob")
    shared_id = owner.share_directory(
        DirectoryId=corp, ShareTarget=target(bob), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]

    sb.force_share_status(shared_id, "ShareFailed")

    assert owner_status(owner, corp, shared_id) == "ShareFailed"
    view = consumer_view(aws("ds", account_id=bob), shared_id)
    assert view is not None and (view["ShareStatus"], view["Stage"]) == ("ShareFailed", "Failed")
    owner.unshare_directory(DirectoryId=corp, UnshareTarget=target(bob))
    assert owner_status(owner, corp, shared_id) == "Deleted"


def test_forced_reject_failed_shows_on_the_owner_side(sb: Sandbox, aws) -> None:
    global_ = sb.directory_id("global.example.com")
    owner = aws("ds")
    [record] = owner.describe_shared_directories(OwnerDirectoryId=global_)["SharedDirectories"]

    sb.force_share_status(record["SharedDirectoryId"], "RejectFailed")

    assert owner_status(owner, global_, record["SharedDirectoryId"]) == "RejectFailed"


def test_forcing_an_unknown_status_or_record_is_refused(sb: Sandbox) -> None:
    from dsshare.sandbox import SandboxError

    with pytest.raises(SandboxError, match="status must be one of"):
        sb.force_share_status(sb.manifest["shares"][0]["shared_directory_id"], "Sharing")
    with pytest.raises(SandboxError, match="no share record d-0000000000"):
        sb.force_share_status("d-0000000000", "ShareFailed")


def test_transition_delay_zero_makes_transitions_immediate(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    owner = aws("ds")
    corp = sb.directory_id("corp.example.com")
    bob, carol = sb.account_id("sandbox-bob"), sb.account_id("sandbox-carol")
    consumer = aws("ds", account_id=bob)

    handshake = owner.share_directory(
        DirectoryId=corp, ShareTarget=target(bob), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]
    assert owner_status(owner, corp, handshake) == "PendingAcceptance"
    organizations = owner.share_directory(
        DirectoryId=corp, ShareTarget=target(carol), ShareMethod="ORGANIZATIONS"
    )["SharedDirectoryId"]
    assert owner_status(owner, corp, organizations) == "Shared"
    consumer.reject_shared_directory(SharedDirectoryId=handshake)
    assert owner_status(owner, corp, handshake) == "Rejected"
    owner.unshare_directory(DirectoryId=corp, UnshareTarget=target(carol))
    assert owner_status(owner, corp, organizations) == "Deleted"


def test_last_updated_moves_with_each_transition(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    owner = aws("ds")
    corp = sb.directory_id("corp.example.com")
    bob = sb.account_id("sandbox-bob")
    shared_id = owner.share_directory(
        DirectoryId=corp, ShareTarget=target(bob), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]

    def record() -> dict:
        return owner.describe_shared_directories(
            OwnerDirectoryId=corp, SharedDirectoryIds=[shared_id]
        )["SharedDirectories"][0]

    before = record()
    time.sleep(0.01)
    aws("ds", account_id=bob).accept_shared_directory(SharedDirectoryId=shared_id)
    after = record()
    assert after["CreatedDateTime"] == before["CreatedDateTime"]
    assert after["LastUpdatedDateTime"] > before["LastUpdatedDateTime"]
