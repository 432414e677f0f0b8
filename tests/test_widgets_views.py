"""Console views driven like a person would, by setting ``.value`` and ``.click()``, on the sandbox.

The assertions read what the operator sees (the HTML the widgets show) and what the sandbox
now holds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tools.serve import free_port

from dsshare.connection import Connection
from dsshare.sandbox import Sandbox
from dsshare.widgets import console
from dsshare.widgets.services import LibraryServices
from dsshare.widgets.views import ConsoleView


@pytest.fixture
def view(aws_env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ConsoleView:
    monkeypatch.chdir(tmp_path)  # the console's audit folder (runs/<stamp>-console) lands here
    return console()


def console_audit(folder: Path) -> list[tuple[str, str]]:
    """(operation, outcome) of every audit line the console wrote under ``folder``."""
    lines = [json.loads(line) for path in sorted(folder.glob("runs/*-console/audit.jsonl"))
             for line in path.read_text().splitlines()]  # fmt: skip
    return [(line["operation"], line["outcome"]) for line in lines]


def statuses(aws: Any, directory_id: str) -> dict[str, str]:
    records = aws("ds").describe_shared_directories(OwnerDirectoryId=directory_id)["SharedDirectories"]
    return {r["SharedAccountId"]: r["ShareStatus"] for r in records}


def test_the_console_connects_and_shows_who_we_are_and_the_directories(view: ConsoleView, sb: Sandbox) -> None:
    identity = view.connection._identity.value
    assert "123456789012 (this account)" in identity
    assert sb.manifest["organization_id"] in identity and "enabled" in identity
    assert view.tabs.selected_index == 1  # straight to the Share tab
    labels = [label for label, _ in view.share._directory.options]
    assert any(label.startswith("corp.example.com") and "23 of 25 free" in label for label in labels)
    assert any(label.startswith("global.example.com") and "499 of 500 free" in label for label in labels)
    assert not any("legacy" in label for label in labels)  # SimpleAD cannot be shared
    # The Inventory tab offers the connection's partition only: its own Region first, then
    # the Regions enabled for the account (EC2 DescribeRegions), then the rest.
    offered = list(view.inventory._regions.options)
    enabled = [r for r in offered[1:] if r in view.model.connection.identity.enabled_regions]
    assert offered[0] == "us-east-1" and enabled and offered[1 : 1 + len(enabled)] == enabled
    assert not any(r.startswith(("cn-", "us-gov-", "us-iso")) for r in offered)


def test_share_preview_confirm_apply_by_mouse(view: ConsoleView, sb: Sandbox, aws: Any) -> None:
    share = view.share
    corp = sb.directory_id("corp.example.com")
    share._directory.value = corp
    share._filter.value = "dev"
    visible = [value for _, value in share._targets.options]
    assert sb.account_id("dev-app1") in visible and sb.account_id("prod-app1") not in visible
    share._targets.value = (sb.account_id("dev-app1"), sb.ou_id("Dev"))
    share._filter.value = ""
    assert set(share._targets.value) == {sb.account_id("dev-app1"), sb.ou_id("Dev")}
    share._method.value = "ORGANIZATIONS"
    assert share._apply.disabled
    share._preview.click()
    assert "Fingerprint" in share._plan.value and "previously Deleted; sharing again" in share._plan.value
    assert not share._apply.disabled
    share._apply.click()
    assert share._confirm_box.layout.display is None
    assert "ORGANIZATIONS" in share._question.value
    share._confirm.click()
    assert "Applied" in share.feedback.message
    assert "<h4>Result</h4>" in share._result.value and "done" in share._result.value
    live = statuses(aws, corp)
    for name in ("dev-app1", "dev-app2", "dev-data"):
        assert live[sb.account_id(name)] == "Shared"


def test_typed_ids_are_checked_inline_and_preview_says_what_to_fix(view: ConsoleView, sb: Sandbox) -> None:
    share = view.share
    share._typed.value = f"{sb.account_id('prod-app2')} 12345"
    assert "12345: not a 12-digit account id" in share._typed_check.value
    share._preview.click()
    message = share.feedback.message
    assert "Failed" in message and "Next step" in message and "account id box" in message
    assert share._plan.value == ""


def test_a_plan_gone_stale_is_refused_with_the_next_step(view: ConsoleView, sb: Sandbox, aws: Any) -> None:
    share = view.share
    global_id = sb.directory_id("global.example.com")
    bob = sb.account_id("sandbox-bob")
    share._directory.value = global_id
    share._targets.value = (bob,)
    share._preview.click()
    aws("ds").share_directory(DirectoryId=global_id, ShareTarget={"Id": bob, "Type": "ACCOUNT"},
                              ShareMethod="HANDSHAKE")  # fmt: skip
    share._apply.click()
    share._confirm.click()
    message = share.feedback.message
    assert "nothing was applied" in message and "Next step" in message and "Press Preview" in message
    assert "Re-run plan" not in message  # the console's buttons, not the command line's words
    assert share._plan.value == "" and share._result.value == "" and share._apply.disabled


def test_shares_tab_unshares_after_confirmation(view: ConsoleView, sb: Sandbox, aws: Any) -> None:
    corp = sb.directory_id("corp.example.com")
    app1 = sb.account_id("prod-app1")
    view.share._directory.value = corp
    view.tabs.selected_index = 2  # opening the tab reads the records
    shares = view.shares
    assert app1 in shares._table.value and "Deleted" in shares._table.value
    assert sb.account_id("dev-app1") not in [v for _, v in shares._select.options]  # Deleted
    shares._unshare.click()
    assert "No share is selected" in shares.feedback.message
    shares._select.value = (app1,)
    shares._unshare.click()
    assert shares._confirm_box.layout.display is None
    assert f"prod-app1 ({app1})" in shares._question.value and "corp.example.com" in shares._question.value
    assert statuses(aws, corp)[app1] == "Shared"  # nothing happens before Confirm
    shares._confirm.click()
    assert "1 account, 1 done" in shares.feedback.message
    assert statuses(aws, corp)[app1] == "Deleted"
    assert "Unshare result" in shares._result.value
    assert console_audit(Path.cwd()) == [("UnshareDirectory", "done")]


def test_share_and_shares_tabs_act_in_two_regions_of_a_replicated_directory(
    aws_env: Sandbox, sb: Sandbox, aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    global_id = sb.directory_id("global.example.com")
    sb.add_region(global_id, "eu-west-1")
    monkeypatch.chdir(tmp_path)
    view = console()  # connects now: the directory list reads the replica's RegionsInfo
    share = view.share
    share._directory.value = global_id
    assert [value for _, value in share._regions.options] == ["all", "us-east-1", "eu-west-1"]
    assert share._regions.value == ("us-east-1",)  # the connection's Region until picked
    network = sb.account_id("network")
    share._targets.value = (network,)
    share._regions.value = ("us-east-1", "eu-west-1")
    share._preview.click()
    assert "eu-west-1" in share._plan.value and "us-east-1" in share._plan.value
    share._apply.click()
    assert "in us-east-1 and eu-west-1" in share._question.value
    share._confirm.click()
    assert "Applied" in share.feedback.message and "2 rows, 2 done" in share.feedback.message
    assert "The Invitations tab reads us-east-1 only: for eu-west-1, connect to that Region" in share.feedback.message
    assert share._result.value.count(network) == 2
    for region in ("us-east-1", "eu-west-1"):
        records = aws("ds", region=region).describe_shared_directories(OwnerDirectoryId=global_id)
        assert {r["SharedAccountId"]: r["ShareStatus"] for r in records["SharedDirectories"]}[network] in (
            "PendingAcceptance", "Shared")
    view.tabs.selected_index = 2
    shares = view.shares
    assert [value for _, value in shares._regions.options] == ["all", "us-east-1", "eu-west-1"]
    assert "eu-west-1" not in shares._table.value  # the connection's Region only, at first
    shares._regions.value = ("all",)  # reads the records again, in every Region
    assert shares._table.value.count(network) == 2 and "eu-west-1" in shares._table.value
    label = next(label for label, value in shares._select.options if value == network)
    assert "us-east-1" in label and "eu-west-1" in label
    assert [op for op, _ in console_audit(tmp_path)].count("ShareDirectory") == 2


def test_invitations_are_found_across_accounts_and_rejected(view: ConsoleView, sb: Sandbox, aws: Any) -> None:
    inv = view.invitations
    inv._all.click()
    inv._find.click()
    labels = [label for label, _ in inv._list.options]
    assert len(labels) == 2  # pending: global -> sandbox-alice, services -> dev-app2 (in the org)
    alice = next(value for label, value in inv._list.options if sb.account_id("sandbox-alice") in label)
    inv._list.value = (alice,)
    inv._reject.click()
    assert "Reject 1 invitation: sandbox-alice" in inv._question.value
    assert inv._confirm_box.layout.display is None
    assert statuses(aws, sb.directory_id("global.example.com"))[sb.account_id("sandbox-alice")] == "PendingAcceptance"
    inv._confirm.click()
    assert "Rejected 1 of 1 invitation" in inv.feedback.message
    assert "Rejected" in inv._table.value
    assert statuses(aws, sb.directory_id("global.example.com"))[sb.account_id("sandbox-alice")] == "Rejected"
    assert console_audit(Path.cwd()) == [("RejectSharedDirectory", "done")]


def test_inventory_collects_filters_and_exports(view: ConsoleView, sb: Sandbox, tmp_path: Path) -> None:
    tab = view.inventory
    tab._regions.value = ("us-east-1",)
    tab._collect.click()
    assert "Inventory collected" in tab.feedback.message
    assert "pending invitations" in tab._tiles.value and "<svg" in tab._charts.value
    tab._filters["status"].value = "PendingAcceptance"
    assert "Shared<" not in tab._table.value.replace("SharedAccountId<", "").replace("SharedDirectoryId<", "")
    assert sb.account_id("sandbox-alice") in tab._table.value
    tab._folder.value = str(tmp_path / "inventory")
    tab._export.click()
    report = tmp_path / "inventory" / "report.html"
    assert report.exists() and str(report) in tab._exported.value


def test_an_unreachable_endpoint_says_what_to_do(aws_env: Sandbox) -> None:
    def no_retries(profile: str | None, region: str | None, endpoint: str | None) -> LibraryServices:
        return LibraryServices(Connection(profile, region, endpoint_url=endpoint, max_attempts=1))

    view = console(endpoint_url=f"http://127.0.0.1:{free_port()}", factory=no_retries)
    message = view.connection.feedback.message
    assert "Failed" in message and "Next step" in message
    assert view.tabs.selected_index == 0
    assert "Not connected" in view.header.value
    assert view.tabs.children[1].view.layout.display == "none"  # the Share tab says to connect
    assert view.share._directory.options == ()
    view.share._preview.click()
    assert "not connected" in view.share.feedback.message and "Connection tab" in view.share.feedback.message


def test_a_row_that_fails_is_shown_with_aws_code_and_next_step(view: ConsoleView, sb: Sandbox) -> None:
    share = view.share
    share._directory.value = sb.directory_id("global.example.com")
    share._targets.value = (sb.account_id("network"),)
    share._preview.click()
    sb.add_fault("ShareDirectory", code="AccessDeniedException", count=1)
    share._apply.click()
    share._confirm.click()
    message = share.feedback.message
    assert "1 of 1 row(s) failed" in message and "Next step" in message
    assert "AccessDeniedException" in share._result.value and "failed" in share._result.value


def test_export_asks_before_replacing_an_earlier_snapshot_and_never_writes_among_other_files(
    view: ConsoleView, tmp_path: Path
) -> None:
    tab = view.inventory
    tab._regions.value = ("us-east-1",)
    tab._collect.click()
    tab._folder.value = str(tmp_path / "inventory")
    tab._export.click()
    first = (tmp_path / "inventory" / "manifest.json").read_text()
    assert tab._replace.layout.display == "none"
    tab._collect.click()
    tab._export.click()
    assert "holds an earlier dsshare snapshot" in tab.feedback.message
    assert tab._replace.layout.display is None and "Replace it?" in tab._replace_question.value
    assert (tmp_path / "inventory" / "manifest.json").read_text() == first
    tab._replace.click()
    assert "Report written" in tab.feedback.message and tab._replace.layout.display == "none"
    assert (tmp_path / "inventory" / "manifest.json").read_text() != first
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("precious")
    tab._folder.value = str(other)
    tab._export.click()
    assert "holds other files" in tab.feedback.message and tab._replace.layout.display == "none"
    assert [p.name for p in other.iterdir()] == ["keep.txt"]


def test_a_failed_reconnect_drops_the_connection_and_a_good_one_returns_to_share(
    view: ConsoleView, sb: Sandbox
) -> None:
    assert f"Endpoint {sb.endpoint_url}" in view.header.value and "Region us-east-1" in view.header.value
    share = view.share
    share._directory.value = sb.directory_id("corp.example.com")
    share._targets.value = (sb.account_id("prod-app2"),)
    share._preview.click()
    assert "Fingerprint" in share._plan.value
    good = view.connection._endpoint.value
    view.connection._endpoint.value = f"http://127.0.0.1:{free_port()}"
    view.connection._connect.click()
    assert "Failed" in view.connection.feedback.message and view.tabs.selected_index == 0
    assert "Not connected" in view.header.value and share._plan.value == ""
    assert share._directory.options == () and view.tabs.children[1].view.layout.display == "none"
    view.connection._endpoint.value = good
    view.connection._connect.click()
    assert view.tabs.selected_index == 1 and view.tabs.children[1].view.layout.display is None
    assert "Account " in view.header.value and share._plan.value == ""
    assert "master" not in " ".join(label for label, _ in share._targets.options).lower()
