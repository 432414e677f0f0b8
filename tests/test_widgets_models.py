"""Console models as plain logic: no widgets, no AWS; a fake stands in for the services."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dsshare.errors import DsShareError, ParameterError, PlanMismatchError, WaitTimeoutError
from dsshare.inventory import schema
from dsshare.inventory.model import Inventory
from dsshare.planning import Plan, PlanRow, ShareRequest
from dsshare.widgets.models import (
    ConsoleModel,
    ConsoleStateError,
    InventoryModel,
    InvitationsModel,
    NotConnectedError,
    RowsFailedError,
    ShareModel,
    SharesModel,
    filter_targets,
    merge_selection,
    parse_account_ids,
)
from dsshare.widgets.services import DirectoryChoice, Identity, Invitation, TargetChoice

DIRECTORY = "d-1234567890"
A1, A2, A3 = "200000000001", "200000000002", "200000000003"
OU = "ou-ab12-cd34ef56"


def _plan(actions: dict[str, str], regions: Sequence[str] = ("us-east-1",)) -> Plan:
    rows = tuple(
        PlanRow(DIRECTORY, region, "123456789012", account, action, f"reason {action}",
                method="HANDSHAKE")
        for region in regions
        for account, action in actions.items()
    )  # fmt: skip
    request = ShareRequest(DIRECTORY, tuple(actions))
    return Plan(requests=(request,), rows=rows, fingerprint="f" * 64)


class FakeServices:
    """Records calls; answers with canned data."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.plan_actions = {A1: "share", A2: "skip"}
        self.apply_error: Exception | None = None
        self.denied: set[str] = set()
        self.directory_reads = 0
        self.identity_error: Exception | None = None
        self.regions_asked: list[tuple[str, Sequence[str] | str | None]] = []
        self.directory_regions: tuple[str, ...] = ()
        self.invitation_list = [
            Invitation(A1, "d-aaaaaaaaaa", "PendingAcceptance", "HANDSHAKE", "123456789012", DIRECTORY, "corp"),
            Invitation(A2, "d-bbbbbbbbbb", "Shared", "HANDSHAKE", "123456789012", DIRECTORY, "corp"),
        ]

    def identity(self) -> Identity:
        if self.identity_error is not None:
            raise self.identity_error
        return Identity("123456789012", "arn:aws:iam::123456789012:root", "us-east-1",
                        organization_id="o-1", management_account_id="123456789012",
                        feature_set="ALL", trusted_access=True)  # fmt: skip

    def directories(self) -> list[DirectoryChoice]:
        self.directory_reads += 1  # every read sees one more share (headroom falls)
        return [DirectoryChoice(DIRECTORY, "corp.example.com", "Standard", "Active", "us-east-1",
                                "123456789012", 1 + self.directory_reads,
                                regions=self.directory_regions)]  # fmt: skip

    def targets(self) -> list[TargetChoice]:
        return [TargetChoice("ou", OU, "Prod", "Workloads/Prod"), TargetChoice("account", A1, "prod-app1"),
                TargetChoice("account", A2, "dev-app1"), TargetChoice("account", A3, "sandbox-alice"),
                TargetChoice("account", "123456789012", "master")]  # fmt: skip

    def plan(self, directory_id: str, targets: Sequence[str], method: str, notes: str,
             allow_external: bool, regions: Sequence[str] | str | None = None) -> Plan:  # fmt: skip
        self.calls.append(("plan", (directory_id, list(targets), method, notes, allow_external)))
        self.regions_asked.append(("plan", regions))
        if regions is None or isinstance(regions, str):
            return _plan(self.plan_actions)
        return _plan(self.plan_actions, regions)

    def apply(self, plan: Plan, fingerprint: str) -> pd.DataFrame:
        self.calls.append(("apply", fingerprint))
        if self.apply_error is not None:
            raise self.apply_error
        return pd.DataFrame([{"account_id": A1, "action": "share", "outcome": "done",
                              "share_status": "PendingAcceptance"}])  # fmt: skip

    def shares(self, directory_id: str, regions: Sequence[str] | str | None = None) -> pd.DataFrame:
        self.calls.append(("shares", directory_id))
        self.regions_asked.append(("shares", regions))
        if isinstance(regions, list) and len(regions) > 1:
            return pd.DataFrame([
                {"SharedAccountId": A1, "account_name": "prod-app1", "ShareStatus": "Shared", "region": region}
                for region in regions
            ])  # fmt: skip
        return pd.DataFrame([
            {"SharedAccountId": A1, "account_name": "prod-app1", "ShareStatus": "Shared"},
            {"SharedAccountId": A2, "account_name": "", "ShareStatus": "Deleted"},
        ])  # fmt: skip

    def unshare(self, directory_id: str, accounts: Sequence[str],
                regions: Sequence[str] | str | None = None) -> pd.DataFrame:  # fmt: skip
        self.calls.append(("unshare", (directory_id, list(accounts))))
        self.regions_asked.append(("unshare", regions))
        return pd.DataFrame([{"account_id": a, "outcome": "done"} for a in accounts])

    def invitations(self, accounts: Sequence[str]) -> list[Invitation]:
        self.calls.append(("invitations", list(accounts)))
        return list(self.invitation_list)

    def plan_response(self, invitation: Invitation, accept: bool) -> Plan:
        self.calls.append(("plan_response", (invitation.shared_directory_id, accept)))
        action = "refuse" if invitation.account_id in self.denied else ("accept" if accept else "reject")
        check = "GuardrailDeniedAccount" if action == "refuse" else None
        row = PlanRow(DIRECTORY, "us-east-1", "123456789012", invitation.account_id, action,
                      "denied by the guardrails policy" if check else "pending", check=check,
                      shared_directory_id=invitation.shared_directory_id, side="consumer")  # fmt: skip
        return Plan(requests=(), rows=(row,), fingerprint="e" * 64)

    def respond(self, invitation: Invitation, accept: bool) -> Invitation:
        from dataclasses import replace

        self.calls.append(("respond", (invitation.shared_directory_id, accept)))
        return replace(invitation, status="Shared" if accept else "Rejected")

    def collect_inventory(self, regions: Sequence[str]) -> Inventory:
        self.calls.append(("collect", list(regions)))
        return _inventory()

    def export_inventory(self, inventory: Inventory, folder: str | Path, replace: bool = False) -> Path:
        self.calls.append(("export", (str(folder), replace)))
        return Path(folder) / "report.html"


def _inventory() -> Inventory:
    inv = Inventory.empty()
    rows = [
        {"region": "us-east-1", "OwnerAccountId": "123456789012", "OwnerDirectoryId": DIRECTORY,
         "SharedAccountId": A1, "ShareStatus": "Shared"},
        {"region": "us-east-1", "OwnerAccountId": "123456789012", "OwnerDirectoryId": DIRECTORY,
         "SharedAccountId": A2, "ShareStatus": "PendingAcceptance"},
        {"region": "eu-west-1", "OwnerAccountId": A3, "OwnerDirectoryId": "d-9999999999",
         "SharedAccountId": A1, "ShareStatus": "Deleted"},
    ]  # fmt: skip
    inv.shares = schema.conform(rows, schema.SHARES)
    return inv


@pytest.fixture
def fake() -> FakeServices:
    return FakeServices()


@pytest.fixture
def share(fake: FakeServices) -> ShareModel:
    model = ShareModel(services=fake)
    model.load()
    return model


# -- pure helpers ------------------------------------------------------------------------------


def test_typed_account_ids_are_split_deduplicated_and_invalid_ones_named() -> None:
    valid, errors = parse_account_ids(f" {A1},{A1}; {A2}\n12345 abc ")
    assert valid == [A1, A2]
    assert errors == ["12345: not a 12-digit account id", "abc: not a 12-digit account id"]
    assert parse_account_ids("   ") == ([], [])


def test_target_filter_matches_every_word_case_insensitively() -> None:
    choices = FakeServices().targets()
    assert [c.id for c in filter_targets(choices, "PROD")] == [OU, A1]
    assert [c.id for c in filter_targets(choices, "app1 prod")] == [A1]
    assert filter_targets(choices, "") == choices


def test_a_filter_keeps_hidden_selections() -> None:
    assert merge_selection([A1, A2], visible=[A2, A3], chosen=[A3]) == [A1, A3]


# -- share -------------------------------------------------------------------------------------


def test_actions_before_connecting_say_to_connect_first() -> None:
    with pytest.raises(NotConnectedError) as caught:
        ShareModel().preview()
    assert "Connect" in caught.value.next_step


def test_load_picks_the_first_directory_and_offers_ous_and_accounts(share: ShareModel) -> None:
    assert share.directory_id == DIRECTORY
    assert share.directory is not None and share.directory.headroom == 23
    assert "23 of 25 free" in share.directory.label
    assert [t.kind for t in share.visible] == ["ou", "account", "account", "account"]


def test_preview_plans_picked_and_typed_targets(share: ShareModel, fake: FakeServices) -> None:
    share.choose_visible([OU, A1])
    share.typed = A3
    share.method, share.notes = "ORGANIZATIONS", "hello"
    share.preview()
    assert fake.calls[-1] == ("plan", (DIRECTORY, [OU, A1, A3], "ORGANIZATIONS", "hello", False))
    assert share.stage == "previewed" and share.change_count() == 1
    assert "3 target(s)" in share.target_summary()


@pytest.mark.parametrize(
    ("arrange", "needle"),
    [
        (lambda m: None, "No targets"),
        (lambda m: setattr(m, "typed", f"{A1} 99"), "not valid"),
        (lambda m: setattr(m, "directory_id", ""), "No directory"),
    ],
)
def test_preview_refuses_incomplete_input_with_a_next_step(share: ShareModel, arrange: Any, needle: str) -> None:
    arrange(share)
    with pytest.raises(ConsoleStateError) as caught:
        share.preview()
    assert needle in str(caught.value) and caught.value.next_step


def test_changing_any_input_after_preview_drops_the_plan(share: ShareModel) -> None:
    share.selected = [A1]
    share.preview()
    share.notes = "changed"
    assert share.stage == "edit" and share.plan is None
    with pytest.raises(ConsoleStateError):
        share.request_apply()


def test_a_plan_with_nothing_to_change_cannot_be_applied(share: ShareModel, fake: FakeServices) -> None:
    fake.plan_actions = {A1: "skip", A2: "refuse"}
    share.selected = [A1, A2]
    share.preview()
    with pytest.raises(ConsoleStateError) as caught:
        share.request_apply()
    assert "nothing to change" in str(caught.value)


def test_apply_needs_confirmation_and_sends_the_reviewed_fingerprint(share: ShareModel, fake: FakeServices) -> None:
    share.selected = [A1]
    share.preview()
    with pytest.raises(ConsoleStateError):
        share.confirm_apply()
    share.request_apply()
    assert share.stage == "confirming"
    assert share.confirmation_text() == (
        f"Share corp.example.com ({DIRECTORY}) in us-east-1 by HANDSHAKE with 1 account: prod-app1 ({A1})? "
        "1 other row (skip or refuse) changes nothing."
    )
    share.cancel_apply()
    assert share.stage == "previewed"
    share.request_apply()
    share.confirm_apply()
    assert fake.calls[-1] == ("apply", "f" * 64)
    assert share.stage == "applied" and share.pending_accounts() == [A1]


def test_failed_rows_are_reported_with_a_next_step_and_the_results_kept(
    share: ShareModel, fake: FakeServices
) -> None:
    failing = pd.DataFrame([{"account_id": A1, "outcome": "failed"}, {"account_id": A2, "outcome": "done"}])
    fake.apply = lambda plan, fingerprint: failing  # type: ignore[method-assign]
    share.selected = [A1, A2]
    share.preview()
    share.request_apply()
    with pytest.raises(RowsFailedError) as caught:
        share.confirm_apply()
    assert str(caught.value).startswith("1 of 2 row(s) failed.") and "rerun" in caught.value.next_step
    assert share.result is failing and share.stage == "applied"


def test_a_stale_plan_is_dropped_when_apply_refuses(share: ShareModel, fake: FakeServices) -> None:
    fake.apply_error = PlanMismatchError("f" * 64, "0" * 64)
    share.selected = [A1]
    share.preview()
    share.request_apply()
    with pytest.raises(ConsoleStateError) as caught:
        share.confirm_apply()
    assert isinstance(caught.value.__cause__, PlanMismatchError)
    # The console's own words: its buttons, not the command line's "fingerprint".
    assert "nothing was applied" in str(caught.value)
    assert "Press Preview" in caught.value.next_step and "fingerprint" not in caught.value.next_step
    assert share.stage == "edit" and share.plan is None and share.result is None


def test_a_wait_timeout_still_shows_the_results_so_far(share: ShareModel, fake: FakeServices) -> None:
    partial = pd.DataFrame([{"account_id": A1, "share_status": "Sharing"}])
    fake.apply_error = WaitTimeoutError({A1: "Sharing"}, 5.0, results=partial)
    share.selected = [A1]
    share.preview()
    share.request_apply()
    with pytest.raises(WaitTimeoutError):
        share.confirm_apply()
    assert share.result is partial and share.stage == "applied"


# -- shares ------------------------------------------------------------------------------------


def test_unshare_offers_active_records_and_needs_confirmation(fake: FakeServices) -> None:
    model = SharesModel(services=fake, directory_id=DIRECTORY)
    model.refresh()
    assert [acct for _, acct in model.unsharable()] == [A1]
    with pytest.raises(ConsoleStateError):
        model.request_unshare()
    model.selected = [A1]
    with pytest.raises(ConsoleStateError):
        model.confirm_unshare()
    model.request_unshare()
    model.confirm_unshare()
    assert ("unshare", (DIRECTORY, [A1])) in fake.calls
    assert fake.calls[-1] == ("shares", DIRECTORY)  # refreshed afterwards
    assert not model.confirming and model.selected == []


def test_two_regions_are_planned_together_and_the_confirmation_names_both(
    share: ShareModel, fake: FakeServices
) -> None:
    fake.directory_regions = ("us-east-1", "eu-west-1")
    share.refresh_directories()
    assert share.regions_available == ["all", "us-east-1", "eu-west-1"]
    assert share.regions == ["us-east-1"]  # the connection's Region until the operator picks
    share.selected = [A1]
    share.regions = ["us-east-1", "eu-west-1"]
    share.preview()
    assert fake.regions_asked[-1] == ("plan", ["us-east-1", "eu-west-1"])
    share.request_apply()
    assert share.confirmation_text() == (
        f"Share corp.example.com ({DIRECTORY}) in us-east-1 and eu-west-1 by HANDSHAKE with "
        f"1 account: prod-app1 ({A1}) (2 shares, one per Region)? 2 other rows (skip or refuse) change nothing."
    )
    share.regions = ["all"]
    assert share.plan is None and share.stage == "edit"  # changing Regions drops the plan
    share.preview()
    assert fake.regions_asked[-1] == ("plan", "all")


def test_a_region_the_directory_is_not_in_is_not_kept(share: ShareModel, fake: FakeServices) -> None:
    fake.directory_regions = ("us-east-1", "eu-west-1")
    share.refresh_directories()
    share.regions = ["eu-west-1"]
    fake.directory_regions = ()
    share.refresh_directories()
    assert share.regions_available == ["all", "us-east-1"] and share.regions == ["us-east-1"]


def test_shares_list_and_unshare_in_the_chosen_regions(fake: FakeServices) -> None:
    fake.directory_regions = ("us-east-1", "eu-west-1")
    model = SharesModel(services=fake, directory_id=DIRECTORY, directories=fake.directories())
    assert model.regions == ["us-east-1"]
    model.regions = ["us-east-1", "eu-west-1"]
    model.refresh()
    assert fake.regions_asked[-1] == ("shares", ["us-east-1", "eu-west-1"])
    assert model.unsharable() == [(f"{A1} prod-app1 · us-east-1 Shared, eu-west-1 Shared", A1)]
    model.selected = [A1]
    model.request_unshare()
    assert model.confirmation_text() == (
        f"Stop sharing corp.example.com ({DIRECTORY}) in us-east-1 and eu-west-1 with 1 account: "
        f"prod-app1 ({A1})? They lose access to the directory."
    )
    model.confirm_unshare()
    assert ("unshare", ["us-east-1", "eu-west-1"]) in fake.regions_asked
    model.regions = ["eu-west-1"]
    assert model.frame is None  # other Regions: the records read are forgotten


# -- invitations -------------------------------------------------------------------------------


def test_invitations_need_accounts_then_list_pending_ones(fake: FakeServices) -> None:
    model = InvitationsModel(services=fake, accounts=fake.targets()[1:4])
    with pytest.raises(ConsoleStateError):
        model.find()
    model.choose_all()
    model.find()
    assert fake.calls[-1] == ("invitations", [A1, A2, A3])
    assert [i.account_id for i in model.visible()] == [A1]
    model.pending_only = False
    assert len(model.visible()) == 2


def test_an_accepted_invitation_stays_listed_with_its_new_status(fake: FakeServices) -> None:
    model = InvitationsModel(services=fake, chosen=[A1])
    model.find()
    model.selected = ["d-aaaaaaaaaa"]
    model.accept()
    assert model.answer == "accept" and not [c for c in fake.calls if c[0] == "respond"]
    model.confirm()
    assert [(i.shared_directory_id, i.status) for i in model.visible()] == [("d-aaaaaaaaaa", "Shared")]
    assert model.last.startswith(f"Accepted 1 of 1 invitation: {A1} now Shared.")
    assert model.frame()["ShareStatus"].tolist() == ["Shared"]


def test_only_pending_invitations_can_be_answered(fake: FakeServices) -> None:
    model = InvitationsModel(services=fake, chosen=[A1], pending_only=False)
    model.find()
    model.selected = ["d-bbbbbbbbbb"]
    with pytest.raises(ConsoleStateError) as caught:
        model.reject()
    assert "not PendingAcceptance" in str(caught.value)
    assert not [c for c in fake.calls if c[0] == "respond"]


# -- inventory ---------------------------------------------------------------------------------


def test_inventory_filters_combine(fake: FakeServices) -> None:
    model = InventoryModel(services=fake, regions=["us-east-1", "eu-west-1"])
    model.collect()
    assert fake.calls[-1] == ("collect", ["us-east-1", "eu-west-1"])
    assert len(model.filtered_shares()) == 3
    model.account = A1  # as consumer or owner
    assert len(model.filtered_shares()) == 2
    model.region = "us-east-1"
    assert model.filtered_shares()["ShareStatus"].tolist() == ["Shared"]
    model.account = model.region = ""
    model.status = "PendingAcceptance"
    assert model.status_counts() == {"PendingAcceptance": 1}
    model.status, model.directory = "", "d-9999999999"
    assert model.filtered_shares()["SharedAccountId"].tolist() == [A1]
    assert model.options("ShareStatus") == ["Deleted", "PendingAcceptance", "Shared"]


def test_export_needs_an_inventory(fake: FakeServices, tmp_path: Path) -> None:
    model = InventoryModel(services=fake, folder=str(tmp_path))
    with pytest.raises(ConsoleStateError) as caught:
        model.export()
    assert "Collect" in caught.value.next_step
    model.regions = ["us-east-1"]
    model.collect()
    model.export()
    assert model.exported == str(tmp_path / "report.html")


# -- console -----------------------------------------------------------------------------------


def test_connect_loads_every_tab_and_invited_accounts_flow_to_invitations(fake: FakeServices) -> None:
    seen: list[tuple[str | None, str | None, str | None]] = []

    def factory(profile: str | None, region: str | None, endpoint: str | None) -> FakeServices:
        seen.append((profile, region, endpoint))
        return fake

    console = ConsoleModel(factory)
    console.connection.region = "us-east-1"
    console.connection.endpoint_url = "http://127.0.0.1:1"
    console.connect()
    assert seen == [(None, "us-east-1", "http://127.0.0.1:1")]
    assert ("Management account", "123456789012 (this account)") in console.connection.describe()
    assert console.shares.directory_id == DIRECTORY
    assert [a.id for a in console.invitations.accounts] == [A1, A2, A3, "123456789012"]
    assert console.inventory.regions == ["us-east-1"]
    console.share.selected = [A1]
    console.share.preview()
    console.share.request_apply()
    console.share.confirm_apply()
    assert console.invitations.chosen == [A1]


def test_models_import_no_widgets() -> None:
    import subprocess

    code = "import sys, dsshare.widgets.models; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_console_error_is_a_dsshare_error_with_a_next_step() -> None:
    for err in (NotConnectedError(), ConsoleStateError("x", next_step="y")):
        assert isinstance(err, DsShareError) and err.next_step


# -- the input reader's rules in the console's fields ---------------------------------------


def test_typed_ids_keep_the_text_typed_and_escape_control_characters() -> None:
    model = ShareModel()
    model.typed = "012345670123 000000000017, 2000\x0000004 1e11"
    assert model.typed_valid == ["012345670123", "000000000017"]
    assert model.typed_errors == ["'2000\\x0000004': not a 12-digit account id",
                                  "1e11: not a 12-digit account id"]  # fmt: skip


@pytest.mark.parametrize("notes", ["a\x00b", "red \x1b[31m", "\u202eevil", "bell\x07"])
def test_notes_with_control_characters_are_refused_before_planning(
    share: ShareModel, fake: FakeServices, notes: str
) -> None:
    share.typed = A1
    share.notes = notes
    with pytest.raises(ParameterError) as caught:
        share.preview()
    assert caught.value.parameter == "notes" and notes not in str(caught.value)
    assert not [c for c in fake.calls if c[0] == "plan"]
    share.notes = "Line one\n\tline two"
    share.preview()
    assert share.stage == "previewed"


def test_export_refuses_a_folder_holding_other_files(fake: FakeServices, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("precious")
    model = InventoryModel(services=fake, folder=str(tmp_path), regions=["us-east-1"])
    model.collect()
    with pytest.raises(ParameterError, match="holds other files"):
        model.export()
    assert not model.replace_pending and not [c for c in fake.calls if c[0] == "export"]
    assert (tmp_path / "keep.txt").read_text() == "precious"


def test_export_into_an_earlier_snapshot_asks_before_replacing_it(
    fake: FakeServices, tmp_path: Path
) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps({"tool": "dsshare 1.0", "schema_version": 1, "frames": {}})
    )
    model = InventoryModel(services=fake, folder=str(tmp_path), regions=["us-east-1"])
    model.collect()
    with pytest.raises(ConsoleStateError, match="earlier dsshare snapshot"):
        model.export()
    assert model.replace_pending and not [c for c in fake.calls if c[0] == "export"]
    model.cancel_replace()
    assert not model.replace_pending
    with pytest.raises(ConsoleStateError):
        model.confirm_replace()
    with pytest.raises(ConsoleStateError):
        model.export()
    model.confirm_replace()
    assert ("export", (str(tmp_path), True)) in fake.calls and not model.replace_pending


def test_connection_fields_with_control_characters_are_refused_before_connecting(
    fake: FakeServices,
) -> None:
    made: list[tuple[Any, ...]] = []

    def factory(*args: Any) -> FakeServices:
        made.append(args)
        return fake

    console = ConsoleModel(factory)
    console.connection.endpoint_url = "http://127.0.0.1:4566\x00"
    with pytest.raises(ParameterError) as caught:
        console.connect()
    assert caught.value.parameter == "endpoint" and made == []
    console.connection.endpoint_url = " http://127.0.0.1:4566 "
    console.connect()
    assert made == [(None, None, "http://127.0.0.1:4566")]


# -- issue 14: failed connect, stale state, confirmations ------------------------------------------


def _connected(fake: FakeServices) -> ConsoleModel:
    console = ConsoleModel(lambda profile, region, endpoint: fake)
    console.connection.region = "us-east-1"
    console.connection.regions = ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "us-iso-east-1"]
    console.connect()
    return console


def test_a_failed_connect_drops_the_earlier_connection_and_everything_read_through_it(
    fake: FakeServices,
) -> None:
    console = _connected(fake)
    console.share.selected = [A1]
    console.share.preview()
    assert console.connected and console.share.plan is not None
    fake.identity_error = DsShareError("endpoint unreachable")
    with pytest.raises(DsShareError):
        console.connect()
    assert not console.connected and console.services is None
    assert console.header() == "Not connected: open the Connection tab and press Connect."
    for model in (console.share, console.shares, console.invitations, console.inventory):
        assert model.services is None
    assert console.share.plan is None and console.share.directories == [] and console.share.targets == []
    with pytest.raises(NotConnectedError):
        console.share.preview()  # never against the earlier endpoint
    fake.identity_error = None
    console.connect()
    assert console.connected and console.share.plan is None


def test_the_header_names_account_region_and_endpoint(fake: FakeServices) -> None:
    console = _connected(fake)
    assert console.header() == "Account master (123456789012) · Region us-east-1 · Endpoint AWS"


def test_the_owner_is_never_offered_as_a_target(fake: FakeServices) -> None:
    console = _connected(fake)
    assert "123456789012" not in [t.id for t in console.share.visible]
    console.share.filter_text = "master"
    assert console.share.visible == []


def test_results_clear_when_inputs_change_and_headroom_is_read_again_after_apply(fake: FakeServices) -> None:
    console = _connected(fake)
    share = console.share
    before = share.directory.headroom if share.directory else None
    share.selected = [A1]
    share.preview()
    share.request_apply()
    share.confirm_apply()
    assert share.result is not None
    assert share.directory is not None and share.directory.headroom == (before or 0) - 1
    assert console.shares.directories == share.directories  # the Shares tab's label too
    share.method = "ORGANIZATIONS"  # another input: the earlier result no longer applies
    assert share.result is None and share.plan is None and share.stage == "edit"


def test_apply_result_message_counts_and_points_at_the_invitations_tab(share: ShareModel, fake: FakeServices) -> None:
    fake.apply = lambda plan, fingerprint: pd.DataFrame([  # type: ignore[method-assign]
        {"account_id": A1, "outcome": "done", "share_status": "PendingAcceptance"},
        {"account_id": A2, "outcome": "done", "share_status": "PendingAcceptance"},
    ])
    share.selected = [A1, A2]
    share.preview()
    share.request_apply()
    share.confirm_apply()
    message = share.result_message()
    assert message.startswith("Applied the plan on corp.example.com: 2 rows, 2 done.")
    assert "2 accounts must accept" in message and "Find invitations" in message


def test_unshare_with_nothing_selected_says_so_and_the_confirmation_names_accounts(fake: FakeServices) -> None:
    model = SharesModel(services=fake, directory_id=DIRECTORY,
                        directories=fake.directories())  # fmt: skip
    model.refresh()
    with pytest.raises(ConsoleStateError) as caught:
        model.request_unshare()
    assert "nothing was unshared" in str(caught.value) and "Unshare selected" in caught.value.next_step
    model.selected = [A1]
    model.request_unshare()
    assert model.confirmation_text() == (
        f"Stop sharing corp.example.com ({DIRECTORY}) in us-east-1 with 1 account: prod-app1 ({A1})? "
        "They lose access to the directory."
    )
    model.selected = []  # changing the selection withdraws the question
    assert not model.confirming


def test_unshare_result_message_counts(fake: FakeServices) -> None:
    console = _connected(fake)
    shares = console.shares
    shares.refresh()
    reads = fake.directory_reads
    shares.selected = [A1]
    shares.request_unshare()
    shares.confirm_unshare()
    assert shares.result_message().startswith(f"Unshare on corp.example.com ({DIRECTORY}): 1 account, 1 done.")
    assert fake.directory_reads == reads + 1  # headroom read again


def test_accept_is_reviewed_through_the_plan_and_confirmed(fake: FakeServices) -> None:
    console = _connected(fake)
    model = console.invitations
    model.chosen = [A1]
    model.find()
    model.selected = ["d-aaaaaaaaaa"]
    model.accept()
    assert ("plan_response", ("d-aaaaaaaaaa", True)) in fake.calls
    assert not [c for c in fake.calls if c[0] == "respond"]
    assert model.confirmation_text() == (
        f"Accept 1 invitation: prod-app1 ({A1}) ← corp ({DIRECTORY}) from 123456789012, HANDSHAKE?"
    )
    model.cancel()
    with pytest.raises(ConsoleStateError):
        model.confirm()
    assert not [c for c in fake.calls if c[0] == "respond"]
    model.reject()
    model.confirm()
    assert ("respond", ("d-aaaaaaaaaa", False)) in fake.calls
    assert model.last.startswith(f"Rejected 1 of 1 invitation: prod-app1 ({A1}) now Rejected.")


def test_accept_for_a_denied_account_is_refused_before_any_call(fake: FakeServices) -> None:
    fake.denied = {A1}
    model = InvitationsModel(services=fake, chosen=[A1], accounts=fake.targets()[1:4])
    model.find()
    model.selected = ["d-aaaaaaaaaa"]
    with pytest.raises(ConsoleStateError) as caught:
        model.accept()
    assert "GuardrailDeniedAccount" in str(caught.value) and "prod-app1" in str(caught.value)
    assert model.answer == "" and not [c for c in fake.calls if c[0] == "respond"]


def test_inventory_offers_the_connection_partition_only_current_region_first(fake: FakeServices) -> None:
    console = _connected(fake)
    assert console.inventory.regions_available == ["us-east-1", "eu-west-1"]
    assert console.inventory.regions == ["us-east-1"]


def test_inventory_shows_every_severity_utc_and_names_next_to_ids(fake: FakeServices) -> None:
    model = InventoryModel(services=fake, regions=["us-east-1"], names={A1: "prod-app1"})
    model.collect()
    tiles = model.headline()
    assert {"high findings", "medium findings", "low findings"} <= set(tiles)
    assert model.collected_at().endswith(" UTC")
    assert model.label("SharedAccountId", A1) == f"prod-app1 ({A1})"


def test_export_goes_to_a_new_folder_under_runs_and_honours_the_filter(
    fake: FakeServices, tmp_path: Path
) -> None:
    written: list[Inventory] = []
    fake.export_inventory = lambda inv, folder, replace=False: (  # type: ignore[method-assign]
        written.append(inv) or Path(folder) / "report.html")
    model = InventoryModel(services=fake, regions=["us-east-1"], runs_root=str(tmp_path / "runs"))
    model.collect()
    assert model.export_note() == "all 3 share records (no filter)"
    model.status = "Shared"
    assert model.export_note() == "1 of 3 share records (filter: status Shared)"
    model.export()
    assert Path(model.exported).parent.parent == tmp_path / "runs"
    assert Path(model.exported).parent.name.startswith("console-inventory-")
    assert written[0].shares["ShareStatus"].tolist() == ["Shared"]
