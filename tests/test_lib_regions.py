"""Multi-Region plans: one plan, one fingerprint and one apply over a replicated directory.

The sandbox's Enterprise directory global.example.com lives in us-east-1; ``sb.add_region``
replicates it (AddRegion) to eu-west-1, under the same DirectoryId. Sharing stays per
Region: each Region has its own share records, acceptances and quota.
"""

from __future__ import annotations

from typing import Any

import pytest

from dsshare import sharing
from dsshare.connection import Connection
from dsshare.desired import parse_desired_state
from dsshare.errors import ParameterError, PlanMismatchError, WaitTimeoutError
from dsshare.execution import RESULT_COLUMNS, apply
from dsshare.model import ALL_REGIONS
from dsshare.planning import ShareRequest, build_rows, plan, plan_desired_state
from dsshare.preflight import DirectoryFacts, OrgFacts, ShareFact
from dsshare.sandbox import Sandbox

MUTATING = {"ShareDirectory", "UnshareDirectory", "AcceptSharedDirectory", "RejectSharedDirectory",
            "DeleteDirectory"}  # fmt: skip
HOME, REPLICA = "us-east-1", "eu-west-1"
MGMT = "200000000001"


@pytest.fixture
def conn(aws_env: Sandbox) -> Connection:
    return Connection()


@pytest.fixture
def replicated(aws_env: Sandbox) -> str:
    """global.example.com, replicated to eu-west-1."""
    directory_id = aws_env.directory_id("global.example.com")
    aws_env.add_region(directory_id, REPLICA)
    aws_env.clear_request_log()
    return directory_id


def mutations(sb: Sandbox) -> list[tuple[str, str, str]]:
    return [(e["operation"], e["region"], e["account_id"]) for e in sb.request_log
            if e["service"] == "ds" and e["operation"] in MUTATING]  # fmt: skip


def owner_view(aws: Any, directory_id: str, region: str) -> dict[str, str]:
    """Account -> status of its live record (active beats Deleted/Rejected), in one Region."""
    records = aws("ds", region=region).describe_shared_directories(OwnerDirectoryId=directory_id)
    view: dict[str, str] = {}
    for record in records["SharedDirectories"]:
        account, status = record["SharedAccountId"], record["ShareStatus"]
        if account not in view or status not in ("Deleted", "Rejected"):
            view[account] = status
    return view


def rows(frame: Any) -> set[tuple[str, str, str]]:
    return {(r["region"], r["account_id"], r["action"]) for r in frame.to_dict("records")}


def test_a_two_region_share_with_auto_accept_is_one_plan_and_one_apply(
    conn: Connection, aws_env: Sandbox, aws: Any, replicated: str
) -> None:
    sb = aws_env
    dev1, dev2 = sb.account_id("dev-app1"), sb.account_id("dev-app2")
    reviewed = plan(conn, replicated, [dev1, dev2], regions=[HOME, REPLICA])
    assert rows(reviewed.to_frame()) == {
        (region, account, "share") for region in (HOME, REPLICA) for account in (dev1, dev2)
    }
    assert reviewed.regions == [HOME, REPLICA]
    assert mutations(sb) == [], "planning changes nothing"

    frame = apply(conn, reviewed, expected_fingerprint=reviewed.fingerprint, auto_accept=True,
                  progress=False)  # fmt: skip
    assert list(frame.columns) == list(RESULT_COLUMNS)
    assert sorted(zip(frame["region"], frame["account_id"], frame["outcome"], frame["share_status"],
                      strict=True)) == sorted(
        (region, account, "done", "Shared") for region in (HOME, REPLICA) for account in (dev1, dev2)
    )  # fmt: skip
    for region in (HOME, REPLICA):
        view = owner_view(aws, replicated, region)
        assert (view[dev1], view[dev2]) == ("Shared", "Shared"), region
        # Each consumer accepted in each Region: its own SharedMicrosoftAD there.
        shared = aws("ds", account_id=dev1, region=region).describe_directories()
        assert [d["ShareStatus"] for d in shared["DirectoryDescriptions"]
                if d["Type"] == "SharedMicrosoftAD"] == ["Shared"], region  # fmt: skip
    calls = sorted(mutations(sb))
    assert calls == sorted(
        [("ShareDirectory", region, sb.manifest["management_account_id"])
         for region in (HOME, REPLICA) for _ in (dev1, dev2)]
        + [("AcceptSharedDirectory", region, account)
           for region in (HOME, REPLICA) for account in (dev1, dev2)]
    )  # fmt: skip
    # The same request again plans nothing but skips, in both Regions.
    again = plan(conn, replicated, [dev1, dev2], regions=[HOME, REPLICA])
    assert again.summary() == {"skip": 4}


def test_a_region_the_directory_is_not_in_is_refused_before_any_call_there(
    conn: Connection, aws_env: Sandbox, replicated: str
) -> None:
    sb = aws_env
    dev1 = sb.account_id("dev-app1")
    frame = sharing.share(conn, replicated, [dev1], regions=[REPLICA, "ap-south-1"],
                          auto_accept=True, progress=False)  # fmt: skip
    by_region = {r["region"]: r for r in frame.to_dict("records")}
    assert by_region[REPLICA]["outcome"] == "done"
    refused = by_region["ap-south-1"]
    assert (refused["action"], refused["outcome"], refused["error_code"]) == (
        "refuse", "failed", "RegionNotReplicated"
    )
    assert "us-east-1, eu-west-1" in refused["message"] and "AddRegion" in refused["message"]
    assert not [e for e in sb.request_log if e["region"] == "ap-south-1"], "no call to that Region"
    assert {region for _, region, _ in mutations(sb)} == {REPLICA}


def test_a_directory_that_was_never_replicated_is_refused_in_another_region(
    conn: Connection, aws_env: Sandbox
) -> None:
    corp = aws_env.directory_id("corp.example.com")
    p = plan(conn, corp, [aws_env.account_id("dev-app1")], method="ORGANIZATIONS",
             regions=[REPLICA])  # fmt: skip
    assert [(r.region, r.action, r.check) for r in p.rows] == [(REPLICA, "refuse", "RegionNotReplicated")]
    assert "is in us-east-1, not in eu-west-1" in p.rows[0].reason


def test_regions_all_covers_every_region_of_the_directory_and_a_new_replica_changes_the_plan(
    conn: Connection, aws_env: Sandbox, replicated: str
) -> None:
    dev1 = aws_env.account_id("dev-app1")
    everywhere = plan(conn, replicated, [dev1], regions="all")
    assert everywhere.regions == [HOME, REPLICA]
    assert plan(conn, replicated, [dev1], regions=["ALL"]).fingerprint == everywhere.fingerprint
    # A Region added after the review: "all" now means three Regions, so apply refuses.
    aws_env.add_region(replicated, "ap-southeast-2")
    with pytest.raises(PlanMismatchError):
        apply(conn, everywhere, expected_fingerprint=everywhere.fingerprint, progress=False)
    assert mutations(aws_env) == []
    assert plan(conn, replicated, [dev1], regions="all").regions == [HOME, "ap-southeast-2", REPLICA]


def test_region_is_a_one_item_regions_list(conn: Connection, aws_env: Sandbox, replicated: str) -> None:
    dev1 = aws_env.account_id("dev-app1")
    one = plan(conn, replicated, [dev1], region=REPLICA)
    listed = plan(conn, replicated, [dev1], regions=[REPLICA])
    assert one.to_frame().equals(listed.to_frame())
    # With both, regions decides where to act; region is only where to look first.
    both = plan(conn, replicated, [dev1], region=REPLICA, regions=[HOME])
    assert both.regions == [HOME]
    with pytest.raises(ParameterError, match="regions"):
        plan(conn, replicated, [dev1], regions=["all", HOME])
    with pytest.raises(ParameterError, match=r"regions\[0\]"):
        plan(conn, replicated, [dev1], regions=["moon-1"])
    assert mutations(aws_env) == []


def test_stage_and_existing_records_are_read_per_region(
    conn: Connection, aws_env: Sandbox, replicated: str
) -> None:
    sb = aws_env
    alice = sb.account_id("sandbox-alice")
    # alice's invitation exists in us-east-1 only: the replica has records of its own.
    p = plan(conn, replicated, [alice], regions="all", allow_external=True)
    assert {(r.region, r.action, r.share_status) for r in p.rows} == {
        (HOME, "skip", "PendingAcceptance"), (REPLICA, "share", None)
    }
    # A replica still being created is refused there; the primary is planned as usual.
    sb.set_directory_stage(replicated, "Creating", region=REPLICA)
    dev1 = sb.account_id("dev-app1")
    p = plan(conn, replicated, [dev1], regions="all")
    assert {(r.region, r.action, r.check) for r in p.rows} == {
        (HOME, "share", None), (REPLICA, "refuse", "DirectoryNotActive")
    }


def test_the_quota_is_counted_per_region() -> None:
    # Pure: a full primary refuses new shares there, the replica's headroom is its own.
    shares = tuple(ShareFact(f"3{i:011d}", f"d-{i:010x}", "Shared", "HANDSHAKE") for i in range(500))
    full = DirectoryFacts("d-1234567890", HOME, MGMT, type="MicrosoftAD", edition="Enterprise",
                          stage="Active", shares=shares, regions=(HOME, REPLICA))  # fmt: skip
    empty = DirectoryFacts("d-1234567890", REPLICA, MGMT, type="MicrosoftAD", edition="Enterprise",
                           stage="Active", regions=(HOME, REPLICA))  # fmt: skip
    org = OrgFacts(MGMT, True, MGMT, "ALL", True, frozenset({MGMT, "200000000004"}))
    request = ShareRequest("d-1234567890", ("200000000004",), regions=(ALL_REGIONS,))
    primary = build_rows(request, ["200000000004"], full, org)
    replica = build_rows(request, ["200000000004"], empty, org)
    assert [(r.action, r.check) for r in primary] == [("refuse", "QuotaExceeded")]
    assert "500 shares in us-east-1" in primary[0].reason
    assert [r.action for r in replica] == ["share"]


def test_unshare_all_across_regions_removes_every_share_in_each(
    conn: Connection, aws_env: Sandbox, aws: Any, replicated: str
) -> None:
    sb = aws_env
    dev1, dev2 = sb.account_id("dev-app1"), sb.account_id("dev-app2")
    sharing.share(conn, replicated, [dev1], regions=[REPLICA], progress=False)
    sharing.share(conn, replicated, [dev2], regions="all", auto_accept=True, progress=False)
    sb.clear_request_log()
    dry = sharing.unshare(conn, replicated, ["ALL"], regions="all", dry_run=True, progress=False)
    alice = sb.account_id("sandbox-alice")
    assert rows(dry) == {
        (HOME, alice, "unshare"), (HOME, dev2, "unshare"),
        (REPLICA, dev1, "unshare"), (REPLICA, dev2, "unshare"),
    }  # fmt: skip
    assert mutations(sb) == []
    done = sharing.unshare(conn, replicated, ["ALL"], regions="all", progress=False)
    assert set(done["outcome"]) == {"done"} and set(done["share_status"]) == {"Deleted"}
    for region in (HOME, REPLICA):
        assert set(owner_view(aws, replicated, region).values()) <= {"Deleted"}, region


def test_desired_state_regions_reconcile_each_region_with_prune(
    conn: Connection, aws_env: Sandbox, aws: Any, replicated: str
) -> None:
    sb = aws_env
    dev1, carol = sb.account_id("dev-app1"), sb.account_id("sandbox-carol")
    # eu-west-1 holds a share the desired state does not list: prune removes it there.
    sharing.share(conn, replicated, [carol], regions=[REPLICA], allow_external=True, progress=False)
    state = parse_desired_state({"directories": [
        {"directory_id": replicated, "regions": "all", "targets": [dev1], "prune": True},
    ]})  # fmt: skip
    reviewed = plan_desired_state(conn, state)
    alice = sb.account_id("sandbox-alice")
    assert rows(reviewed.to_frame()) == {
        (HOME, dev1, "share"), (HOME, alice, "unshare"),
        (REPLICA, dev1, "share"), (REPLICA, carol, "unshare"),
    }  # fmt: skip
    apply(conn, reviewed, expected_fingerprint=reviewed.fingerprint, progress=False)
    for region in (HOME, REPLICA):
        view = owner_view(aws, replicated, region)
        assert {a for a, s in view.items() if s not in ("Deleted", "Rejected")} == {dev1}, region
    assert plan_desired_state(conn, state).summary() == {"skip": 2}


def test_desired_state_regions_are_checked_before_any_call() -> None:
    base = {"directory_id": "d-1234567890", "targets": ["200000000004"]}
    state = parse_desired_state({"defaults": {"regions": ["us-east-1", "eu-west-1"]},
                                 "directories": [base, {**base, "directory_id": "d-2234567890",
                                                        "region": "eu-west-1"}]})  # fmt: skip
    assert [(d.region, d.regions) for d in state.directories] == [
        (None, ("us-east-1", "eu-west-1")), ("eu-west-1", ())
    ]
    with pytest.raises(ParameterError, match=r"directories\[0\]\.regions"):
        parse_desired_state({"directories": [{**base, "region": "us-east-1", "regions": ["eu-west-1"]}]})
    with pytest.raises(ParameterError, match=r"directories\[0\]\.regions\[1\]"):
        parse_desired_state({"directories": [{**base, "regions": ["us-east-1", "not a region"]}]})
    with pytest.raises(ParameterError, match="once per Region"):
        parse_desired_state({"directories": [{**base, "regions": "all"}, {**base, "region": "eu-west-1"}]})
    with pytest.raises(ParameterError, match="once per Region"):
        parse_desired_state({"directories": [{**base, "regions": ["us-east-1", "eu-west-1"]},
                                             {**base, "region": "eu-west-1"}]})  # fmt: skip


def test_a_wait_timeout_across_regions_names_each_account_in_each_region(
    conn: Connection, aws_env: Sandbox, replicated: str
) -> None:
    aws_env.set_transition_delay(30)
    network = aws_env.account_id("network")
    with pytest.raises(WaitTimeoutError) as info:
        sharing.share(conn, replicated, [network], regions="all", timeout=0.6, progress=False)
    assert info.value.pending == {f"{network} in {HOME}": "Sharing", f"{network} in {REPLICA}": "Sharing"}
    assert "2 target(s)" in str(info.value)
    partial = info.value.results
    assert partial is not None and sorted(partial["region"]) == [REPLICA, HOME]
