"""Adoption into Terraform, round trip against the sandbox with the real hashicorp/aws provider.

The files ``dsshare inventory --export-terraform`` writes are applied unchanged (an override
file only points the providers at the sandbox): the apply imports every share and accepter
and creates nothing, and the plan after it has no changes. Skipped with the reason where
terraform or the provider is missing; failing under CI (``CI`` set).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsshare.cli import main
from dsshare.inventory.adoption import sandbox_override
from dsshare.sandbox import Sandbox
from terraform_support import Terraform, terraform_or_skip

REGIONS = ["us-east-1", "eu-west-1"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_adopted_terraform_imports_everything_and_then_plans_no_change(
    aws_env: Sandbox, aws, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary, _version = terraform_or_skip()
    sb = aws_env
    sb.set_transition_delay(0)
    # Beyond the seed (two ORGANIZATIONS shares, one accepted HANDSHAKE share owned by a
    # member account, with ShareNotes): a share in the second Region.
    aws("ds", region="eu-west-1").share_directory(
        DirectoryId=sb.directory_id("corp-eu.example.com"),
        ShareTarget={"Id": sb.account_id("network"), "Type": "ACCOUNT"}, ShareMethod="ORGANIZATIONS",
    )  # fmt: skip
    folder = tmp_path / "adopted"
    code = main(["inventory", "--all", "--regions", *REGIONS, "--out", str(tmp_path / "inv"),
                 "--no-progress", "--export-terraform", str(folder)])  # fmt: skip
    assert code == 0
    assert "(4 active share(s) adopted, 5 record(s) listed as comments)" in capsys.readouterr().out
    files = {p.name: p.read_text() for p in folder.glob("*.tf")}
    (folder / "sandbox_override.tf").write_text(sandbox_override(files, sb.endpoint_url))

    tf = Terraform(binary, folder)
    tf.run("init", "-input=false")
    before = {r["SharedDirectoryId"]: r["ShareStatus"] for r in _owner_records(sb, aws)}
    applied = tf.run("apply", "-auto-approve", "-input=false").stdout
    assert "Apply complete! Resources: 5 imported, 0 added, 0 changed, 0 destroyed." in applied
    assert {r["SharedDirectoryId"]: r["ShareStatus"] for r in _owner_records(sb, aws)} == before

    # No change left, and nothing that plans a replacement of a share (notes are ignored).
    planned = tf.run("plan", "-detailed-exitcode", "-input=false").stdout
    assert "No changes." in planned

    state = tf.state()["values"]["root_module"]["resources"]
    addresses = sorted(r["address"] for r in state)
    services = sb.directory_id("services.example.com")
    prod_data = sb.account_id("prod-data")
    assert f"aws_directory_service_shared_directory_accepter.{services}_{prod_data}_us-east-1" in addresses
    assert len([a for a in addresses if re.match(r"aws_directory_service_shared_directory\.", a)]) == 4
    assert not any("Domain join" in text for text in files.values())  # ShareNotes not written


def _owner_records(sb: Sandbox, aws) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    found: list[dict[str, str]] = []
    for directory in sb.manifest["directories"]:
        if directory["type"] != "MicrosoftAD":
            continue
        ds = aws("ds", account_id=directory["account_id"], region=directory["region"])
        found += ds.describe_shared_directories(OwnerDirectoryId=directory["id"])["SharedDirectories"]
    return found
