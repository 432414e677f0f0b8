"""The steps runbook cells call, exercised in-process against the sandbox (no kernel)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsshare.errors import ParameterError, PlanMismatchError
from dsshare.execution import apply
from dsshare.facts import Invitation
from dsshare.planning import ResponseRequest, decide_responses, plan_responses
from dsshare.preflight import OrgFacts
from dsshare.runbooks import steps
from dsshare.runbooks.record import new_run_folder, run_folder_name
from dsshare.sandbox import Sandbox

OWNER_SERVICES = "200000000001"


def start(runbook: str, folder: Path, **params: Any) -> steps.RunContext:
    return steps.start(runbook, {"output_dir": str(folder), **params})


def owner_status(aws: Any, directory_id: str, account_id: str, owner: str | None = None) -> str | None:
    ds = aws("ds", account_id=owner)
    records = ds.describe_shared_directories(OwnerDirectoryId=directory_id)["SharedDirectories"]
    mine = [r for r in records if r["SharedAccountId"] == account_id]
    active = [r for r in mine if r["ShareStatus"] not in ("Deleted", "Rejected")]
    chosen = active or mine
    return chosen[-1]["ShareStatus"] if chosen else None


#: The organization as the management account sees it (every owner used below a member).
ORG = OrgFacts("123456789012", True, "123456789012", "ALL", True,
               frozenset({"123456789012", OWNER_SERVICES, "200000000006", "200000000008", "200000000010"}))


def decide(invitations: list[Invitation], action: str, owner_account_ids: tuple[str, ...] = (),
           owner_directory_ids: tuple[str, ...] = ()) -> list[Any]:
    request = ResponseRequest(("ALL",), action, owner_account_ids=tuple(owner_account_ids),
                              owner_directory_ids=tuple(owner_directory_ids))
    return decide_responses(request, invitations, ORG)


def invitation(account: str, status: str, owner: str = OWNER_SERVICES, directory: str = "d-b3e51dc791") -> Invitation:
    return Invitation(account, "us-east-1", f"d-{account[-10:]}", owner, directory, "x.example.com", status, "HANDSHAKE")


# -- pure decisions ------------------------------------------------------------------------


def test_only_pending_invitations_from_the_chosen_owners_are_answered() -> None:
    rows = decide(
        [
            invitation("200000000008", "PendingAcceptance"),
            invitation("200000000006", "Shared"),
            invitation("200000000010", "PendingAcceptance", owner="123456789012", directory="d-ee89e990f1"),
        ],
        "accept",
        owner_account_ids=(OWNER_SERVICES,),
    )
    assert [(r.account_id, r.action, r.reason) for r in rows] == [
        ("200000000006", "skip", "already Shared"),
        ("200000000008", "accept", "PendingAcceptance"),
    ]


def test_a_shared_directory_is_not_rejected_but_pointed_to_leave() -> None:
    (row,) = decide([invitation("200000000006", "Shared")], "reject")
    assert row.action == "skip"
    assert "leave" in row.reason


def test_directory_filter_narrows_to_one_owner_directory() -> None:
    rows = decide(
        [invitation("200000000008", "PendingAcceptance"),
         invitation("200000000010", "PendingAcceptance", directory="d-ee89e990f1")],
        "reject", owner_directory_ids=("d-ee89e990f1",),
    )  # fmt: skip
    assert [(r.account_id, r.action) for r in rows] == [("200000000010", "reject")]


def test_run_folders_are_never_reused(tmp_path: Path) -> None:
    first = new_run_folder("share_directory", tmp_path)
    second = new_run_folder("share_directory", tmp_path, now=None)
    assert first != second
    assert first.name.endswith("-share_directory")
    assert run_folder_name("x").endswith("Z-x")


# -- against the sandbox -------------------------------------------------------------------


def test_invitations_are_read_from_the_consumer_side_and_accepted(
    aws_env: Sandbox, aws: Any, tmp_path: Path
) -> None:
    run = start(
        "respond_to_invitations", tmp_path, accounts=["ALL"], action="accept",
        owner_account_ids=[OWNER_SERVICES], regions=["us-east-1", "eu-west-1"], dry_run=False,
    )  # fmt: skip
    plan = steps.plan_responses(run)
    frame = plan.to_frame()
    dev_app2 = aws_env.account_id("dev-app2")
    assert frame.set_index("account_id")["action"].to_dict() == {
        aws_env.account_id("prod-data"): "skip", dev_app2: "accept"
    }
    assert json.loads((tmp_path / "plan.json").read_text())["fingerprint"] == plan.fingerprint
    results = steps.apply_plan(run, plan)
    done = results[results["action"] == "accept"].iloc[0]
    assert (done["outcome"], done["share_status"]) == ("done", "Shared")
    services = aws_env.directory_id("services.example.com")
    assert owner_status(aws, services, dev_app2, owner=OWNER_SERVICES) == "Shared"
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(a["operation"], a["account_id"]) for a in audit] == [("AcceptSharedDirectory", dev_app2)]


def test_rejecting_waits_until_the_consumer_no_longer_sees_the_share(
    aws_env: Sandbox, aws: Any
) -> None:
    from dsshare.connection import Connection

    conn = Connection()
    alice = aws_env.account_id("sandbox-alice")
    plan = plan_responses(conn, [alice], "reject", regions=["us-east-1"])
    assert [r.action for r in plan.rows] == ["reject"]
    results = apply(conn, plan, expected_fingerprint=plan.fingerprint, timeout=30, progress=False)
    assert results.iloc[0]["outcome"] == "done"
    assert owner_status(aws, aws_env.directory_id("global.example.com"), alice) == "Rejected"


def test_respond_refuses_when_invitations_changed_since_review(aws_env: Sandbox, aws: Any) -> None:
    from dsshare.connection import Connection

    conn = Connection()
    alice = aws_env.account_id("sandbox-alice")
    plan = plan_responses(conn, [alice], "accept", regions=["us-east-1"], allow_external_owners=True)
    sid = plan.rows[0].shared_directory_id
    aws("ds", account_id=alice).reject_shared_directory(SharedDirectoryId=sid)
    with pytest.raises(PlanMismatchError):
        apply(conn, plan, expected_fingerprint=plan.fingerprint, progress=False)


def test_an_unreadable_account_is_a_refused_row_not_an_abort(aws_env: Sandbox) -> None:
    from dsshare.connection import Connection

    bob = aws_env.account_id("sandbox-bob")
    aws_env.add_fault("AssumeRole", code="AccessDenied", account_id=bob)
    plan = plan_responses(Connection(), ["ALL"], "accept", regions=["us-east-1"])
    refused = [r for r in plan.rows if r.action == "refuse"]
    assert [(r.account_id, r.check) for r in refused] == [(bob, "ReadFailed")]
    assert any(r.action == "accept" for r in plan.rows)


def test_unshare_all_plans_every_current_share_and_nothing_else(aws_env: Sandbox, tmp_path: Path) -> None:
    corp = aws_env.directory_id("corp.example.com")
    run = start("unshare_directory", tmp_path, directory_id=corp, targets=["ALL"])
    plan = steps.plan_unshare(run)
    rows = plan.to_frame().set_index("account_id")["action"].to_dict()
    # prod-app1 and prod-app2 are Shared; dev-app1's record is Deleted and is left alone.
    assert rows == {aws_env.account_id("prod-app1"): "unshare", aws_env.account_id("prod-app2"): "unshare"}
    results = steps.apply_plan(run, plan)
    assert set(results["outcome"]) == {"planned"}, "dry run by default"


def test_unshare_all_with_nothing_shared_is_an_empty_plan(aws_env: Sandbox, tmp_path: Path) -> None:
    corp_eu = aws_env.directory_id("corp-eu.example.com")
    run = start("unshare_directory", tmp_path, directory_id=corp_eu, targets=["ALL"], region="eu-west-1")
    plan = steps.plan_unshare(run)
    assert plan.rows == () and len(plan.fingerprint) == 64
    assert steps.summarize(steps.apply_plan(run, plan)) == "outcomes: no targets"


def test_start_refuses_bad_parameters_before_any_aws_call(aws_env: Sandbox, tmp_path: Path) -> None:
    before = len(aws_env.request_log)
    with pytest.raises(ParameterError) as caught:
        start("share_directory", tmp_path, directory_id="d-nothex0000", targets=["200000000004"])
    assert caught.value.parameter == "directory_id"
    assert len(aws_env.request_log) == before


def test_latest_snapshot_is_the_newest_earlier_one(tmp_path: Path) -> None:
    def snapshot(folder: str, collected_at: str, nested: bool = True) -> Path:
        path = tmp_path / folder / ("snapshot" if nested else "")
        path.mkdir(parents=True)
        (path / "manifest.json").write_text(json.dumps({"collected_at": collected_at}))
        return path.resolve()

    snapshot("20261101T000000Z-inventory_report", "2026-11-01T00:00:00+00:00")
    newer = snapshot("inventory-20261102T000000Z", "2026-11-02T00:00:00+00:00", nested=False)
    current = snapshot("20261103T000000Z-inventory_report", "2026-11-03T00:00:00+00:00")
    assert steps.latest_snapshot(tmp_path, exclude=current.parent) == newer
    assert steps.latest_snapshot(tmp_path / "empty") is None


def test_a_consumer_leaves_from_its_own_side_and_the_waiter_sees_it_gone(aws_env: Sandbox, aws: Any) -> None:
    from dsshare.connection import Connection

    prod_data = aws_env.account_id("prod-data")
    plan = plan_responses(Connection(), [prod_data], "leave", owner_account_ids=[OWNER_SERVICES],
                          regions=["us-east-1"])  # fmt: skip
    assert [(r.action, r.side) for r in plan.rows] == [("leave", "consumer")]
    results = apply(Connection(), plan, expected_fingerprint=plan.fingerprint, timeout=30, progress=False)
    assert (results.iloc[0]["outcome"], results.iloc[0]["share_status"]) == ("done", "Deleted")
    services = aws_env.directory_id("services.example.com")
    assert owner_status(aws, services, prod_data, owner=OWNER_SERVICES) == "Deleted"
    listed = aws("ds", account_id=prod_data).describe_directories()["DirectoryDescriptions"]
    assert services not in [d.get("OwnerDirectoryDescription", {}).get("DirectoryId") for d in listed]
