"""Reset isolation: each test starts from the same seeded world, with the same ids."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from moto.organizations.models import organizations_backends

from dsshare.sandbox import Sandbox, SandboxError


def target(account_id: str) -> dict[str, str]:
    return {"Id": account_id, "Type": "ACCOUNT"}


def test_a_share_made_before_reset_is_gone_after_it(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    corp = sb.directory_id("corp.example.com")
    bob = sb.account_id("sandbox-bob")
    shared_id = aws("ds").share_directory(
        DirectoryId=corp, ShareTarget=target(bob), ShareMethod="ORGANIZATIONS"
    )["SharedDirectoryId"]
    assert [
        d["DirectoryId"]
        for d in aws("ds", account_id=bob).describe_directories()["DirectoryDescriptions"]
    ] == [shared_id]

    sb.reset()

    records = aws("ds").describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
    assert shared_id not in {r["SharedDirectoryId"] for r in records}
    assert bob not in {r["SharedAccountId"] for r in records}
    assert aws("ds", account_id=bob).describe_directories()["DirectoryDescriptions"] == []
    with pytest.raises(ClientError) as excinfo:
        aws("ds", account_id=bob).accept_shared_directory(SharedDirectoryId=shared_id)
    assert excinfo.value.response["Error"]["Code"] == "EntityDoesNotExistException"


def test_state_changes_are_undone_by_reset(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    sb.set_directory_stage(corp, "Impaired")
    sb.set_feature_set("CONSOLIDATED_BILLING")
    aws("organizations").disable_aws_service_access(ServicePrincipal="ds.amazonaws.com")
    sb.add_directory(sb.manifest["management_account_id"], "us-east-1", "extra.example.com")
    sb.force_share_status(sb.manifest["shares"][0]["shared_directory_id"], "ShareFailed")

    sb.reset()

    org = aws("organizations")
    assert org.describe_organization()["Organization"]["FeatureSet"] == "ALL"
    assert "ds.amazonaws.com" in {
        s["ServicePrincipal"]
        for s in org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    }
    assert len(sb.manifest["directories"]) == 5
    directories = aws("ds").describe_directories()["DirectoryDescriptions"]
    assert {d["Name"]: d["Stage"] for d in directories} == {
        "corp.example.com": "Active",
        "global.example.com": "Active",
        "legacy.example.com": "Active",
    }
    assert {
        r["ShareStatus"]
        for r in aws("ds").describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
    } == {"Shared", "Deleted"}


def test_ids_are_the_same_after_reset(sb: Sandbox, aws) -> None:
    manifest_before = {k: v for k, v in sb.manifest.items() if k != "endpoint_url"}
    corp = sb.directory_id("corp.example.com")
    first = aws("ds").share_directory(
        DirectoryId=corp, ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]
    sb.reset()
    again = aws("ds").share_directory(
        DirectoryId=corp, ShareTarget=target("200000000011"), ShareMethod="HANDSHAKE"
    )["SharedDirectoryId"]

    assert again == first
    assert {k: v for k, v in sb.manifest.items() if k != "endpoint_url"} == manifest_before


def test_no_stale_organization_members_survive_a_reset(sb: Sandbox, aws) -> None:
    org = aws("organizations")
    status = org.create_account(AccountName="temp", Email="temp@example.com")["CreateAccountStatus"]
    newcomer = org.describe_create_account_status(CreateAccountRequestId=status["Id"])[
        "CreateAccountStatus"
    ]["AccountId"]
    assert newcomer in organizations_backends.master_accounts

    sb.reset()

    members = {a["id"] for a in sb.manifest["accounts"]} - {sb.manifest["management_account_id"]}
    assert set(organizations_backends.master_accounts) == members
    assert newcomer not in {a["Id"] for a in aws("organizations").list_accounts()["Accounts"]}
    # an account moto still thought was a member would be let into ORGANIZATIONS shares
    with pytest.raises(ClientError) as excinfo:
        aws("ds").share_directory(
            DirectoryId=sb.directory_id("corp.example.com"),
            ShareTarget=target(newcomer),
            ShareMethod="ORGANIZATIONS",
        )
    assert excinfo.value.response["Error"]["Code"] == "OrganizationsException"


def test_members_still_see_their_organization_after_reset(sb: Sandbox, aws) -> None:
    sb.reset()
    member = aws("organizations", account_id=sb.account_id("network"))
    assert member.describe_organization()["Organization"]["Id"] == sb.manifest["organization_id"]


def test_reset_keeps_the_transition_delay(sb: Sandbox) -> None:
    sb.set_transition_delay(0.7)
    sb.reset()
    assert sb.transition_delay == 0.7


@pytest.mark.parametrize(
    "kwargs, complaint",
    [
        ({"transition_delay": -1}, "transition_delay must be >= 0"),
        ({"latency_ms": -1}, "must be >= 0"),
        ({"seed": "demo", "accounts": 5}, "apply to the 'scale' seed only"),
        ({"seed": "galaxy"}, "unknown seed 'galaxy'; choose one of demo, scale, empty"),
    ],
)
def test_bad_sandbox_settings_are_refused(kwargs: dict, complaint: str) -> None:
    with pytest.raises(SandboxError, match=complaint):
        Sandbox(**kwargs)


def test_a_sandbox_that_is_not_started_has_no_endpoint() -> None:
    with pytest.raises(SandboxError, match="not started"):
        _ = Sandbox().endpoint_url
