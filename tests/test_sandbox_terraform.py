"""Terraform's hashicorp/aws provider, unchanged, against the sandbox.

A HANDSHAKE share and its accepter (in the consumer's account, through AssumeRole) in one
apply, an ORGANIZATIONS share, a plan with no changes, imports of existing shares and of
the accepter, the directory data source read from the consumer account, and a destroy
that leaves the records Deleted. The provider's calls and the statuses its waiters expect
are listed in docs/aws-sharing.md ("Terraform").

Terraform and the provider come from the machine (the provider from a filesystem mirror,
no network): where either is missing the test skips with the reason, except under CI
(``CI`` set), where it fails.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import terraform_support
from dsshare.sandbox import Sandbox
from terraform_support import Terraform, provider_block, terraform_or_skip

#: Seconds each transitional status lasts during apply: long enough that the accepter's
#: AcceptSharedDirectory lands while the owner's record is still Sharing.
APPLY_TRANSITION_DELAY = 1.0


REQUIRED_PROVIDERS = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "%(version)s" }
  }
}
"""


SHARES = """
resource "aws_directory_service_shared_directory" "handshake" {
  directory_id = "%(corp)s"
  method       = "HANDSHAKE"
  notes        = "Terraform handshake"
  target {
    id = "%(consumer)s"
  }
}

resource "aws_directory_service_shared_directory_accepter" "accept" {
  provider            = aws.consumer
  shared_directory_id = aws_directory_service_shared_directory.handshake.shared_directory_id
}

resource "aws_directory_service_shared_directory" "organizations" {
  directory_id = "%(corp)s"
  method       = "ORGANIZATIONS"
  target {
    id = "%(org_member)s"
  }
}

data "aws_directory_service_directory" "consumer_view" {
  provider     = aws.consumer
  directory_id = aws_directory_service_shared_directory_accepter.accept.shared_directory_id
}

output "handshake_id" {
  value = aws_directory_service_shared_directory.handshake.shared_directory_id
}
output "organizations_id" {
  value = aws_directory_service_shared_directory.organizations.shared_directory_id
}
output "accepter_owner_directory_id" {
  value = aws_directory_service_shared_directory_accepter.accept.owner_directory_id
}
output "accepter_owner_account_id" {
  value = aws_directory_service_shared_directory_accepter.accept.owner_account_id
}
output "accepter_method" {
  value = aws_directory_service_shared_directory_accepter.accept.method
}
output "consumer_view" {
  value = {
    name = data.aws_directory_service_directory.consumer_view.name
    type = data.aws_directory_service_directory.consumer_view.type
    tags = data.aws_directory_service_directory.consumer_view.tags
  }
}
"""

#: A share the demo seed already has (corp -> prod-app1, ORGANIZATIONS), brought under
#: Terraform by import.
EXISTING = """
resource "aws_directory_service_shared_directory" "existing" {
  directory_id = "%(corp)s"
  method       = "ORGANIZATIONS"
  target {
    id = "%(existing_target)s"
  }
}
"""


@pytest.mark.timeout(1200)  # ~10 terraform runs of 10-30 s each on a shared machine
def test_terraform_shares_accepts_imports_and_destroys_against_the_sandbox(
    sb: Sandbox, aws, tmp_path: Path
) -> None:
    binary, version = terraform_or_skip()
    corp = sb.directory_id("corp.example.com")
    consumer = sb.account_id("sandbox-bob")
    org_member = sb.account_id("sandbox-carol")
    existing_target = sb.account_id("prod-app1")
    existing_id = next(
        s["shared_directory_id"]
        for s in sb.manifest["shares"]
        if s["owner_directory_id"] == corp and s["shared_account_id"] == existing_target
    )
    values = {
        "version": version,
        "endpoint": sb.endpoint_url,
        "consumer": consumer,
        "role_name": sb.manifest["role_name"],
        "corp": corp,
        "org_member": org_member,
        "existing_target": existing_target,
    }
    (tmp_path / "providers.tf").write_text(
        REQUIRED_PROVIDERS % values
        + provider_block(sb.endpoint_url)
        + provider_block(
            sb.endpoint_url,
            alias="consumer",
            role_arn=f"arn:aws:iam::{consumer}:role/{sb.manifest['role_name']}",
        )
    )
    (tmp_path / "shares.tf").write_text(SHARES % values)
    tf = Terraform(binary, tmp_path)
    tf.run("init", "-input=false")

    # One apply: the accepter accepts right after ShareDirectory answered.
    sb.set_transition_delay(APPLY_TRANSITION_DELAY)
    tf.run("apply", "-auto-approve", "-input=false")
    out = tf.outputs()
    owner = aws("ds")
    records = {
        r["SharedDirectoryId"]: r
        for r in owner.describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
    }
    assert records[out["handshake_id"]]["ShareStatus"] == "Shared"
    assert records[out["handshake_id"]]["SharedAccountId"] == consumer
    assert records[out["organizations_id"]]["ShareMethod"] == "ORGANIZATIONS"
    assert records[out["organizations_id"]]["SharedAccountId"] == org_member
    assert (out["accepter_owner_directory_id"], out["accepter_owner_account_id"]) == (
        corp,
        sb.manifest["management_account_id"],
    )
    assert out["accepter_method"] == "HANDSHAKE"
    assert out["consumer_view"] == {
        "name": "corp.example.com",
        "type": "SharedMicrosoftAD",
        "tags": {},
    }

    # Nothing left to change.
    tf.run("plan", "-detailed-exitcode", "-input=false")

    # Forget the accepter and import it back; import a share the seed already had.
    tf.run("state", "rm", "aws_directory_service_shared_directory_accepter.accept")
    (tmp_path / "existing.tf").write_text(EXISTING % values)
    tf.run(
        "import",
        "-input=false",
        "aws_directory_service_shared_directory_accepter.accept",
        out["handshake_id"],
    )
    tf.run(
        "import",
        "-input=false",
        "aws_directory_service_shared_directory.existing",
        f"{corp}/{existing_id}",
    )
    tf.run("plan", "-detailed-exitcode", "-input=false")

    # The provider's unshare waiter polls every 30 s once it has seen Deleting: transitions
    # are instant here so the destroy takes seconds (the statuses are the same).
    sb.set_transition_delay(0)
    tf.run("destroy", "-auto-approve", "-input=false")
    after = {
        r["SharedDirectoryId"]: r["ShareStatus"]
        for r in owner.describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]
    }
    assert {
        after[out["handshake_id"]],
        after[out["organizations_id"]],
        after[existing_id],
    } == {"Deleted"}
    consumer_ds = aws("ds", account_id=consumer)
    assert consumer_ds.describe_directories()["DirectoryDescriptions"] == []


def test_without_terraform_the_test_skips_with_the_reason_but_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="terraform is not installed"):
        terraform_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the Terraform test"):
        terraform_or_skip()
    # With terraform but without the provider in the mirror: the reason names the mirror.
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/local/bin/terraform")
    monkeypatch.setattr(terraform_support, "PROVIDER_DIR", tmp_path / "empty-mirror")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not in the filesystem mirror"):
        terraform_or_skip()
