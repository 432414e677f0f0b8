"""Adoption: what is shared now, written as desired state (and the rules both outputs share).

The round trip is the specification: collect the sandbox, export the desired state, plan
it against the same state, and nothing is to be shared or unshared. Records that are not
Shared are comments that say why; ids stay text; bad arguments stop before any AWS call.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

import dsshare
from dsshare.cli import main
from dsshare.connection import Connection
from dsshare.desired import load_desired_state, parse_desired_state
from dsshare.errors import ParameterError
from dsshare.inputs import parse_yaml
from dsshare.inventory.adoption import (
    adopt_inventory,
    desired_state_from_inventory,
    terraform_files,
    write_desired_state,
    write_terraform,
)
from dsshare.inventory.collect import collect_inventory
from dsshare.inventory.model import Inventory, InventoryMeta, Scope
from dsshare.inventory.schema import ERRORS, SHARES, conform
from dsshare.sandbox import Sandbox

REGIONS = ["us-east-1", "eu-west-1"]
OWNER = "123456789012"


def _record(**given: Any) -> dict[str, Any]:
    record = {
        "region": "us-east-1", "OwnerAccountId": OWNER, "OwnerDirectoryId": "d-1234567890",
        "SharedAccountId": "200000000004", "SharedDirectoryId": "d-aaaaaaaaaa",
        "ShareMethod": "ORGANIZATIONS", "ShareStatus": "Shared",
        "owner_directory_name": "corp.example.com", "shared_account_name": "prod-app1",
        "owner_record_seen": True, "consumer_seen": True, "in_organization": True,
    }  # fmt: skip
    record.update(given)
    return record


def _inventory(*rows: dict[str, Any]) -> Inventory:
    inventory = Inventory.empty(InventoryMeta(
        collected_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC), caller_arn=f"arn:aws:iam::{OWNER}:user/ops",
        caller_account_id=OWNER, scope=Scope(all_accounts=True, regions=REGIONS),
    ))  # fmt: skip
    inventory.shares = conform(list(rows), SHARES)
    return inventory


def _targets(text: str) -> dict[tuple[str | None, str | None, str], tuple[str, ...]]:
    state = parse_desired_state(parse_yaml(text))
    return {(d.owner_account_id, d.region, d.directory_id): d.targets for d in state.directories}


# -- pure: what is adopted, what is a comment ------------------------------------------------


def test_only_shared_records_become_targets_and_the_rest_are_comments_saying_why() -> None:
    inventory = _inventory(
        _record(),
        _record(SharedAccountId="200000000005", SharedDirectoryId="d-bbbbbbbbbb", ShareStatus="PendingAcceptance",
                ShareMethod="HANDSHAKE", shared_account_name="prod-app2"),
        _record(SharedAccountId="200000000006", SharedDirectoryId="d-cccccccccc", ShareStatus="Deleted"),
        _record(SharedAccountId="200000000007", SharedDirectoryId="d-dddddddddd", ShareStatus="Rejected"),
        _record(SharedAccountId="200000000008", SharedDirectoryId="d-eeeeeeeeee", ShareStatus="ShareFailed"),
        _record(SharedAccountId="200000000009", SharedDirectoryId="d-ffffffffff", ShareStatus="Sharing"),
    )  # fmt: skip
    text = desired_state_from_inventory(inventory)
    assert _targets(text) == {(OWNER, "us-east-1", "d-1234567890"): ("200000000004",)}
    comments = [line for line in text.splitlines() if line.lstrip().startswith('#   "2000')]
    assert len(comments) == 5
    why = {re.search(r'"(\d{12})"', c)[1]: c for c in comments}  # type: ignore[index]
    assert "not accepted yet" in why["200000000005"]
    assert "no longer shared" in why["200000000006"]
    assert "rejected" in why["200000000007"]
    assert "failed" in why["200000000008"]
    assert "still being made" in why["200000000009"]
    assert "prune: false" in text
    assert "1 active share(s) adopted; 5 record(s) listed as comments" in text


def test_ids_stay_text_and_are_quoted() -> None:
    inventory = _inventory(_record(SharedAccountId="000000000017", OwnerAccountId="012345670123"))
    text = desired_state_from_inventory(inventory)
    assert '- "000000000017"' in text
    assert 'owner_account_id: "012345670123"' in text
    assert _targets(text) == {("012345670123", "us-east-1", "d-1234567890"): ("000000000017",)}


def test_one_entry_per_directory_and_region_and_a_directory_with_only_comments_has_no_targets() -> None:
    inventory = _inventory(
        _record(),
        _record(region="eu-west-1", SharedDirectoryId="d-9999999999"),
        _record(OwnerDirectoryId="d-0000000001", ShareStatus="PendingAcceptance", ShareMethod="HANDSHAKE"),
    )  # fmt: skip
    assert _targets(desired_state_from_inventory(inventory)) == {
        (OWNER, "eu-west-1", "d-1234567890"): ("200000000004",),
        (OWNER, "us-east-1", "d-0000000001"): (),
        (OWNER, "us-east-1", "d-1234567890"): ("200000000004",),
    }


def test_mixed_methods_keep_every_target_and_mark_the_other_method() -> None:
    inventory = _inventory(
        _record(),
        _record(SharedAccountId="200000000005", SharedDirectoryId="d-bbbbbbbbbb"),
        _record(SharedAccountId="999900000001", SharedDirectoryId="d-cccccccccc", ShareMethod="HANDSHAKE",
                in_organization=False, shared_account_name=None),
    )  # fmt: skip
    text = desired_state_from_inventory(inventory)
    state = parse_desired_state(parse_yaml(text))
    (entry,) = state.directories
    assert entry.method == "ORGANIZATIONS"
    assert entry.targets == ("200000000004", "200000000005", "999900000001")
    assert entry.allow_external is True
    assert re.search(r'"999900000001".*shared by HANDSHAKE \(new shares here use ORGANIZATIONS\)', text)


def test_a_record_seen_only_by_the_consumer_is_not_adopted() -> None:
    inventory = _inventory(_record(owner_record_seen=False))
    adoption = adopt_inventory(inventory)
    assert adoption.shares == ()
    assert "seen only in the consumer account" in adoption.left_out[0].reason
    text = desired_state_from_inventory(inventory)
    assert _targets(text) == {}
    assert "seen only from the consumer's side" in text


def test_a_second_shared_record_for_the_same_account_is_a_comment_not_a_duplicate() -> None:
    inventory = _inventory(_record(), _record(SharedDirectoryId="d-bbbbbbbbbb"))
    adoption = adopt_inventory(inventory)
    assert [s.shared_directory_id for s in adoption.shares] == ["d-aaaaaaaaaa"]
    assert "a second Shared record" in adoption.left_out[0].reason
    shares_tf = terraform_files(adoption)["shared_directories.tf"]
    assert shares_tf.count('resource "aws_directory_service_shared_directory" ') == 1


def test_names_from_aws_cannot_break_out_of_a_comment() -> None:
    inventory = _inventory(_record(shared_account_name="evil\nprune: true", owner_directory_name="x\r\ny"))
    text = desired_state_from_inventory(inventory)
    assert "\nprune: true" not in text
    assert parse_desired_state(parse_yaml(text)).prune is False


def test_an_incomplete_inventory_says_so_at_the_top() -> None:
    inventory = _inventory(_record())
    inventory.errors = conform(
        [{"account_id": "200000000011", "region": "us-east-1", "stage": "assume_role", "code": "AccessDenied"}],
        ERRORS,
    )
    text = desired_state_from_inventory(inventory)
    assert "# INCOMPLETE: 1 account(s) could not be read (200000000011)" in text


def test_writers_refuse_to_overwrite_unless_forced(tmp_path: Path) -> None:
    inventory = _inventory(_record())
    target = tmp_path / "adopted.yaml"
    write_desired_state(inventory, target)
    with pytest.raises(ParameterError, match="exists"):
        write_desired_state(inventory, target)
    write_desired_state(inventory, target, force=True)
    folder = tmp_path / "tf"
    write_terraform(inventory, folder)
    with pytest.raises(ParameterError, match="earlier adoption"):
        write_terraform(inventory, folder)
    write_terraform(inventory, folder, force=True)
    (folder / "main.tf").write_text('resource "null_resource" "x" {}\n')
    with pytest.raises(ParameterError, match="main.tf"):
        write_terraform(inventory, folder, force=True)


# -- pure: Terraform -------------------------------------------------------------------------


def test_terraform_has_a_resource_and_an_import_per_share_and_an_accepter_per_accepted_handshake() -> None:
    inventory = _inventory(
        _record(),
        _record(OwnerAccountId="200000000001", OwnerDirectoryId="d-0a1b2c3d4e", SharedAccountId="200000000006",
                SharedDirectoryId="d-7cc47f2504", ShareMethod="HANDSHAKE", region="eu-west-1"),
        _record(OwnerAccountId="200000000001", OwnerDirectoryId="d-0a1b2c3d4e", SharedAccountId="999900000001",
                SharedDirectoryId="d-f52377bead", ShareMethod="HANDSHAKE", in_organization=False),
        _record(SharedAccountId="200000000010", SharedDirectoryId="d-7c828a5e67", ShareStatus="PendingAcceptance"),
    )  # fmt: skip
    files = terraform_files(adopt_inventory(inventory), role_name="OpsRole")
    shares = files["shared_directories.tf"]
    providers = files["providers.tf"]
    assert shares.count('resource "aws_directory_service_shared_directory" ') == 3
    assert shares.count('resource "aws_directory_service_shared_directory_accepter" ') == 1
    assert shares.count("import {") == 4
    # The provider's import ids: <owner directory id>/<shared directory id>, and the
    # consumer's SharedDirectoryId for the accepter.
    assert 'id = "d-1234567890/d-aaaaaaaaaa"' in shares
    assert 'id = "d-0a1b2c3d4e/d-7cc47f2504"' in shares
    assert re.search(r'accepter\.d-0a1b2c3d4e_200000000006_eu-west-1\n  id = "d-7cc47f2504"', shares)
    assert "No aws_directory_service_shared_directory_accepter for d-f52377bead: consumer outside" in shares
    assert "ignore_changes = [notes]" in shares and "notes =" not in shares.replace("notes = (", "")
    assert '"200000000010" prod-app1: PendingAcceptance' in shares  # a comment, not a resource
    # Every resource name is a valid Terraform identifier, derived from the ids.
    names = re.findall(r'^resource "[a-z_]+" "([^"]+)"', shares, flags=re.MULTILINE)
    assert names and all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", n) for n in names)
    # Aliases: the caller's account without a role, others through the configured role.
    aliases = re.findall(r'alias  = "([^"]+)"', providers)
    assert aliases == [
        "account_123456789012_us-east-1",
        "account_200000000001_eu-west-1",
        "account_200000000001_us-east-1",
        "account_200000000006_eu-west-1",
    ]
    assert providers.count("assume_role {") == 3
    assert 'role_arn     = "arn:aws:iam::200000000006:role/OpsRole"' in providers
    with pytest.raises(ParameterError):
        terraform_files(adopt_inventory(inventory), role_name="bad role")
    unknown = _inventory(_record(ShareMethod="HANDSHAKE", in_organization=None))
    assert "membership is unknown" in terraform_files(adopt_inventory(unknown))["shared_directories.tf"]


# -- against the sandbox ---------------------------------------------------------------------


def _collect() -> Inventory:
    return collect_inventory(Connection(regions=REGIONS), all_accounts=True, regions=REGIONS, progress=False)


def _no_changes(desired_path: Path) -> dsshare.Plan:
    conn = Connection(regions=REGIONS)
    plan = dsshare.plan_desired_state(conn, load_desired_state(desired_path))
    actions = plan.summary()
    assert set(actions) <= {"skip"}, plan.to_frame()[["directory_id", "account_id", "action", "reason"]]
    return plan


def test_exported_desired_state_plans_nothing_against_the_same_state(
    aws_env: Sandbox, aws, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = aws_env
    # Make the world richer than the seed: a HANDSHAKE share accepted next to ORGANIZATIONS
    # ones on the same directory, and a share in a second Region.
    corp = sb.directory_id("corp.example.com")
    corp_eu = sb.directory_id("corp-eu.example.com")
    bob = sb.account_id("sandbox-bob")
    owner_ds = aws("ds")
    shared_id = owner_ds.share_directory(
        DirectoryId=corp, ShareTarget={"Id": bob, "Type": "ACCOUNT"}, ShareMethod="HANDSHAKE",
        ShareNotes="adopt me",
    )["SharedDirectoryId"]  # fmt: skip
    sb.set_transition_delay(0)
    aws("ds", account_id=bob).accept_shared_directory(SharedDirectoryId=shared_id)
    aws("ds", region="eu-west-1").share_directory(
        DirectoryId=corp_eu, ShareTarget={"Id": sb.account_id("network"), "Type": "ACCOUNT"},
        ShareMethod="ORGANIZATIONS",
    )  # fmt: skip

    target = tmp_path / "adopted" / "desired.yaml"
    code = main(["inventory", "--all", "--regions", *REGIONS, "--out", str(tmp_path / "inv"),
                 "--no-progress", "--export-desired", str(target)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert f"desired state: {target} (5 active share(s) adopted, 5 record(s) listed as comments)" in out

    state = load_desired_state(target)
    by_key = {(d.directory_id, d.region): d for d in state.directories}
    assert by_key[(corp, "us-east-1")].targets == (
        sb.account_id("prod-app1"), sb.account_id("prod-app2"), bob,
    )  # fmt: skip
    assert by_key[(corp_eu, "eu-west-1")].targets == (sb.account_id("network"),)
    services = sb.directory_id("services.example.com")
    assert by_key[(services, "us-east-1")].owner_account_id == sb.account_id("shared-services")
    assert by_key[(services, "us-east-1")].targets == (sb.account_id("prod-data"),)
    assert "adopt me" not in target.read_text()  # ShareNotes never adopted

    plan = _no_changes(target)
    assert plan.summary() == {"skip": 5}

    # The same file from the snapshot just written, without AWS.
    before = len(sb.request_log)
    from_snapshot = tmp_path / "from-snapshot.yaml"
    assert main(["inventory", "--from-snapshot", str(tmp_path / "inv"), "--export-desired", str(from_snapshot)]) == 0
    assert len(sb.request_log) == before
    assert from_snapshot.read_text() == target.read_text()


def test_the_seed_round_trips_through_the_library(aws_env: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "desired.yaml"
    write_desired_state(_collect(), path)
    text = path.read_text()
    assert "3 active share(s) adopted; 5 record(s) listed as comments" in text
    assert _no_changes(path).summary() == {"skip": 3}


def test_bad_adoption_arguments_exit_2_before_any_aws_call(
    aws_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "desired.yaml"
    existing.write_text("keep me\n")
    foreign = tmp_path / "tf"
    foreign.mkdir()
    (foreign / "main.tf").write_text("# someone else's\n")
    before = len(aws_env.request_log)
    cases = [
        ["--all", "--regions", "us-east-1", "--out", str(tmp_path / "a"), "--export-desired", str(existing)],
        ["--all", "--regions", "us-east-1", "--out", str(tmp_path / "b"), "--export-desired", str(tmp_path)],
        ["--all", "--regions", "us-east-1", "--out", str(tmp_path / "c"), "--export-terraform", str(foreign)],
        ["--from-snapshot", str(tmp_path), "--accounts", "200000000004", "--export-desired", str(tmp_path / "n")],
        ["--from-snapshot", str(tmp_path)],
        ["--from-snapshot", str(foreign), "--export-desired", str(tmp_path / "n")],
    ]  # fmt: skip
    for args in cases:
        assert main(["inventory", "--no-progress", *args]) == 2, args
        assert "dsshare inventory: " in capsys.readouterr().err
    assert len(aws_env.request_log) == before
    assert existing.read_text() == "keep me\n"
    assert not (tmp_path / "a").exists()


def test_adopted_organizations_shares_plan_nothing_when_trusted_access_was_turned_off_since(
    aws_env: Sandbox, aws, tmp_path: Path
) -> None:
    aws("organizations").disable_aws_service_access(ServicePrincipal="ds.amazonaws.com")
    path = tmp_path / "desired.yaml"
    write_desired_state(_collect(), path)
    assert _no_changes(path).summary() == {"skip": 3}
