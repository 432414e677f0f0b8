"""Terraform's hashicorp/aws provider, unchanged, against the sandbox.

A HANDSHAKE share and its accepter (in the consumer's account, through AssumeRole) in one
apply, an ORGANIZATIONS share, a plan with no changes, imports of existing shares and of
the accepter, the directory data source read from the consumer account, and a destroy
that leaves the records Deleted. The provider's calls and the statuses its waiters expect
are listed in docs/sandbox-fidelity.md ("Terraform").

Terraform and the provider come from the machine (the provider from a filesystem mirror,
no network): where either is missing the test skips with the reason, except under CI
(``CI`` set), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dsshare.sandbox import Sandbox

PROVIDER_MIRROR = Path(os.environ.get("DSSHARE_TF_PLUGIN_MIRROR", "/opt/tf-plugins"))
PROVIDER_DIR = PROVIDER_MIRROR / "registry.terraform.io" / "hashicorp" / "aws"
#: Seconds each transitional status lasts during apply: long enough that the accepter's
#: AcceptSharedDirectory lands while the owner's record is still Sharing.
APPLY_TRANSITION_DELAY = 1.0


def _terraform() -> tuple[str, str]:
    """The terraform binary and the mirrored provider version, or skip (fail under CI)."""
    binary = shutil.which("terraform")
    versions = sorted(p.name for p in PROVIDER_DIR.iterdir()) if PROVIDER_DIR.is_dir() else []
    reason = None
    if binary is None:
        reason = "terraform is not installed (not on PATH)"
    elif not versions:
        reason = f"the hashicorp/aws provider is not in the filesystem mirror {PROVIDER_DIR}"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the Terraform test")
        pytest.skip(reason)
    assert binary is not None
    return binary, versions[-1]


PROVIDERS = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "%(version)s" }
  }
}

locals {
  sandbox = "%(endpoint)s"
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    ds            = local.sandbox
    sts           = local.sandbox
    iam           = local.sandbox
    organizations = local.sandbox
  }
}

provider "aws" {
  alias                       = "consumer"
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  assume_role {
    role_arn     = "arn:aws:iam::%(consumer)s:role/%(role_name)s"
    session_name = "terraform"
  }
  endpoints {
    ds            = local.sandbox
    sts           = local.sandbox
    iam           = local.sandbox
    organizations = local.sandbox
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


class Terraform:
    """``terraform`` in one working directory, offline, against the sandbox."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        config = workdir / "terraform.tfrc"
        config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path = "{PROVIDER_MIRROR}"\n  }}\n'
            "}\n"
        )
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "TF_")) and key != "CHECKPOINT_DISABLE"
        }
        # TF_LOG and TF_LOG_PATH pass through, to debug the provider's calls.
        self.env.update({k: v for k, v in os.environ.items() if k in ("TF_LOG", "TF_LOG_PATH")})
        self.env.update(
            TF_CLI_CONFIG_FILE=str(config),
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            CHECKPOINT_DISABLE="1",
            TF_DATA_DIR=str(workdir / ".terraform"),
            AWS_CONFIG_FILE="/dev/null",
            AWS_SHARED_CREDENTIALS_FILE="/dev/null",
            AWS_EC2_METADATA_DISABLED="true",
        )

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(  # noqa: S603 - terraform from PATH, our own arguments
            [self.binary, *args, "-no-color"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert done.returncode in ok, (
            f"terraform {' '.join(args)} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout[-6000:]}\n--- stderr\n{done.stderr[-6000:]}"
        )
        return done

    def outputs(self) -> dict[str, Any]:
        """The root module's outputs, from the local state file (no terraform run)."""
        state = json.loads((self.workdir / "terraform.tfstate").read_text())
        return {name: value["value"] for name, value in state["outputs"].items()}


@pytest.mark.timeout(1200)  # ~10 terraform runs of 10-30 s each on a shared machine
def test_terraform_shares_accepts_imports_and_destroys_against_the_sandbox(
    sb: Sandbox, aws, tmp_path: Path
) -> None:
    binary, version = _terraform()
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
    (tmp_path / "providers.tf").write_text(PROVIDERS % values)
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
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="terraform is not installed"):
        _terraform()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the Terraform test"):
        _terraform()
