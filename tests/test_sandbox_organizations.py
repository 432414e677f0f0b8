"""The prerequisites of each sharing method, set up through the Organizations API where AWS allows it."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox


def target(account_id: str) -> dict[str, str]:
    return {"Id": account_id, "Type": "ACCOUNT"}


def refused(ds, directory_id: str, account: str) -> str:
    """Share with ORGANIZATIONS, expect OrganizationsException, return its message."""
    with pytest.raises(ClientError) as excinfo:
        ds.share_directory(
            DirectoryId=directory_id, ShareTarget=target(account), ShareMethod="ORGANIZATIONS"
        )
    err = excinfo.value.response["Error"]
    assert err["Code"] == "OrganizationsException", err
    return str(err["Message"])


def test_the_seeded_organization_meets_every_prerequisite(sb: Sandbox, aws) -> None:
    org = aws("organizations")
    description = org.describe_organization()["Organization"]
    assert description["FeatureSet"] == "ALL"
    assert description["MasterAccountId"] == sb.manifest["management_account_id"]
    assert description["Id"] == sb.manifest["organization_id"]
    principals = {
        s["ServicePrincipal"]
        for s in org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    }
    assert "ds.amazonaws.com" in principals


def test_organizations_method_from_a_member_account_is_refused(sb: Sandbox, aws) -> None:
    services_owner = sb.account_id("shared-services")
    ds = aws("ds", account_id=services_owner)
    services = sb.directory_id("services.example.com")

    message = refused(ds, services, sb.account_id("network"))

    assert services_owner in message and "management account" in message
    assert sb.manifest["organization_id"] in message
    # the same account can still share by HANDSHAKE
    assert ds.share_directory(
        DirectoryId=services, ShareTarget=target(sb.account_id("network")), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]


def test_organizations_method_without_all_features_is_refused(sb: Sandbox, aws) -> None:
    sb.set_feature_set("CONSOLIDATED_BILLING")
    assert (
        aws("organizations").describe_organization()["Organization"]["FeatureSet"]
        == "CONSOLIDATED_BILLING"
    )
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")

    message = refused(ds, corp, sb.account_id("network"))

    assert "CONSOLIDATED_BILLING" in message and "all features" in message
    assert ds.share_directory(
        DirectoryId=corp, ShareTarget=target(sb.account_id("network")), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]


def test_organizations_method_without_trusted_access_is_refused(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    org = aws("organizations")
    org.disable_aws_service_access(ServicePrincipal="ds.amazonaws.com")
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")

    message = refused(ds, corp, sb.account_id("network"))

    assert "Trusted access" in message and "ds.amazonaws.com" in message
    assert "EnableAWSServiceAccess" in message
    # existing ORGANIZATIONS shares keep working
    [view] = aws("ds", account_id=sb.account_id("prod-app1")).describe_directories()[
        "DirectoryDescriptions"
    ]
    assert view["ShareStatus"] == "Shared"

    org.enable_aws_service_access(ServicePrincipal="ds.amazonaws.com")
    shared_id = ds.share_directory(
        DirectoryId=corp, ShareTarget=target(sb.account_id("network")), ShareMethod="ORGANIZATIONS"
    )["SharedDirectoryId"]
    [record] = ds.describe_shared_directories(
        OwnerDirectoryId=corp, SharedDirectoryIds=[shared_id]
    )["SharedDirectories"]
    assert record["ShareStatus"] == "Shared"


def test_organizations_method_to_an_account_outside_the_organization_is_refused(
    sb: Sandbox, aws
) -> None:
    partner = sb.account_id("partner")
    assert partner == "999900000001"
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")

    message = refused(ds, corp, partner)

    assert partner in message and "not a member" in message and "HANDSHAKE" in message
    assert ds.share_directory(
        DirectoryId=corp, ShareTarget=target(partner), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]


def test_an_account_that_left_the_organization_is_outside_it(sb: Sandbox, aws) -> None:
    carol = sb.account_id("sandbox-carol")
    aws("organizations").remove_account_from_organization(AccountId=carol)
    message = refused(aws("ds"), sb.directory_id("corp.example.com"), carol)
    assert carol in message and "not a member" in message


def test_an_account_created_through_organizations_is_a_member(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    org = aws("organizations")
    status = org.create_account(AccountName="newcomer", Email="newcomer@example.com")[
        "CreateAccountStatus"
    ]
    account_id = org.describe_create_account_status(CreateAccountRequestId=status["Id"])[
        "CreateAccountStatus"
    ]["AccountId"]
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")

    shared_id = ds.share_directory(
        DirectoryId=corp, ShareTarget=target(account_id), ShareMethod="ORGANIZATIONS"
    )["SharedDirectoryId"]

    [record] = ds.describe_shared_directories(
        OwnerDirectoryId=corp, SharedDirectoryIds=[shared_id]
    )["SharedDirectories"]
    assert (record["SharedAccountId"], record["ShareStatus"]) == (account_id, "Shared")


def test_an_owner_outside_any_organization_can_only_use_handshake(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    partner = sb.account_id("partner")
    directory = sb.add_directory(partner, "us-east-1", "partner.example.com", edition="Standard")
    ds = aws("ds", account_id=partner)

    message = refused(ds, directory, sb.account_id("network"))
    assert partner in message and "not in an organization" in message

    shared_id = ds.share_directory(
        DirectoryId=directory, ShareTarget=target(sb.account_id("network")), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]
    consumer = aws("ds", account_id=sb.account_id("network"))
    accepted = consumer.accept_shared_directory(SharedDirectoryId=shared_id)["SharedDirectory"]
    assert (accepted["OwnerAccountId"], accepted["ShareStatus"]) == (partner, "Shared")


def test_handshake_works_whatever_the_organization_looks_like(sb: Sandbox, aws) -> None:
    sb.set_feature_set("CONSOLIDATED_BILLING")
    aws("organizations").disable_aws_service_access(ServicePrincipal="ds.amazonaws.com")
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    for account in (sb.account_id("network"), sb.account_id("partner"), "555555555555"):
        assert ds.share_directory(
            DirectoryId=corp, ShareTarget=target(account), ShareMethod="HANDSHAKE"
        )["SharedDirectoryId"]


def test_the_feature_set_switch_refuses_unknown_values(sb: Sandbox) -> None:
    from dsshare.sandbox import SandboxError

    with pytest.raises(SandboxError, match="ALL or CONSOLIDATED_BILLING"):
        sb.set_feature_set("SOME")
