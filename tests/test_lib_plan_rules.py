"""Specification of planning and preflight as pure functions over plain facts (no AWS)."""

from __future__ import annotations

import pytest

from dsshare.planning import Plan, PlanRow, ShareRequest, build_rows, fingerprint
from dsshare.preflight import DirectoryFacts, OrgFacts, ShareFact

MGMT = "123456789012"
MEMBERS = frozenset({MGMT} | {f"2000000000{n:02d}" for n in range(1, 13)})
EXTERNAL = "999900000001"
ORG = OrgFacts(MGMT, True, MGMT, "ALL", True, MEMBERS)


def acct(n: int) -> str:
    return f"2000000000{n:02d}"


def directory(*shares: ShareFact, edition: str = "Standard", **kw: object) -> DirectoryFacts:
    base: dict[str, object] = dict(
        directory_id="d-1234567890", region="us-east-1", owner_account_id=MGMT,
        exists=True, type="MicrosoftAD", edition=edition, stage="Active", shares=tuple(shares),
    )
    base.update(kw)
    return DirectoryFacts(**base)  # type: ignore[arg-type]


def share(n: int | str, status: str, sid: str = "", method: str = "ORGANIZATIONS") -> ShareFact:
    account = acct(n) if isinstance(n, int) else n
    return ShareFact(account, sid or f"d-{abs(hash((account, status))) % 10**10:010d}", status, method)


def rows_for(accounts: list[str], d: DirectoryFacts, org: OrgFacts = ORG, **req: object) -> dict[str, PlanRow]:
    request = ShareRequest(directory_id="d-1234567890", targets=tuple(accounts), **req)  # type: ignore[arg-type]
    return {row.account_id: row for row in build_rows(request, accounts, d, org)}


def test_preflight_is_pure() -> None:
    import ast

    import dsshare.preflight

    with open(dsshare.preflight.__file__, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported, "the check must see the module's imports"
    assert not {name for name in imported if name.split(".")[0] in {"boto3", "botocore", "ipywidgets"}}


def test_deleted_and_rejected_records_do_not_count_as_shared() -> None:
    d = directory(share(4, "Deleted"), share(5, "Rejected", method="HANDSHAKE"))
    rows = rows_for([acct(4), acct(5)], d, method="ORGANIZATIONS")
    assert rows[acct(4)].action == "share" and "previously Deleted" in rows[acct(4)].reason
    assert rows[acct(5)].action == "share" and "previously Rejected" in rows[acct(5)].reason


@pytest.mark.parametrize("status", ["Shared", "PendingAcceptance", "Sharing"])
def test_active_records_are_skipped_as_already_shared(status: str) -> None:
    history = (share(4, "Deleted"), share(4, "ShareFailed"), share(4, status), share(4, "Rejected"))
    rows = rows_for([acct(4)], directory(*history), method="ORGANIZATIONS")
    assert rows[acct(4)].action == "skip"
    assert status in rows[acct(4)].reason


def test_quota_refuses_only_the_excess_in_request_order() -> None:
    existing = [share(n, "Shared") for n in (1,)] + [share(n, "Deleted") for n in (2, 3)]
    accounts = [f"3000000{n:05d}" for n in range(30)]
    org = OrgFacts(MGMT, True, MGMT, "ALL", True, MEMBERS | set(accounts))
    rows = list(rows_for(accounts, directory(*existing), org, method="ORGANIZATIONS").values())
    assert [r.action for r in rows] == ["share"] * 24 + ["refuse"] * 6
    assert {r.check for r in rows[24:]} == {"QuotaExceeded"}
    assert "25" in rows[-1].reason


@pytest.mark.parametrize("edition,quota", [("Standard", 25), ("Enterprise", 500), ("Hybrid", 125)])
def test_edition_quotas(edition: str, quota: int) -> None:
    accounts = [f"4{n:011d}" for n in range(quota + 1)]
    org = OrgFacts(MGMT, True, MGMT, "ALL", True, frozenset(accounts))
    rows = rows_for(accounts, directory(edition=edition), org, method="ORGANIZATIONS")
    actions = [r.action for r in rows.values()]
    assert actions.count("share") == quota and actions[-1] == "refuse"


@pytest.mark.parametrize(
    "facts,check",
    [
        (dict(exists=False), "DirectoryNotFound"),
        (dict(type="SimpleAD", edition=None), "DirectoryNotMicrosoftAD"),
        (dict(type="SharedMicrosoftAD"), "DirectoryNotMicrosoftAD"),
        (dict(type="ADConnector"), "DirectoryNotMicrosoftAD"),
        (dict(stage="Creating"), "DirectoryNotActive"),
    ],
)
def test_directory_preflight_refuses_every_target(facts: dict[str, object], check: str) -> None:
    rows = rows_for([acct(4), acct(5)], directory(**facts), method="HANDSHAKE")
    assert [(r.action, r.check) for r in rows.values()] == [("refuse", check)] * 2


@pytest.mark.parametrize(
    "org,check",
    [
        (OrgFacts(MGMT, True, "111111111111", "ALL", None, None), "NotManagementAccount"),
        (OrgFacts.none(MGMT), "NotManagementAccount"),
        (OrgFacts(MGMT, True, MGMT, "CONSOLIDATED_BILLING", True, MEMBERS), "FeatureSetNotAll"),
        (OrgFacts(MGMT, True, MGMT, "ALL", False, MEMBERS), "TrustedAccessDisabled"),
    ],
)
def test_organizations_prerequisites(org: OrgFacts, check: str) -> None:
    rows = rows_for([acct(4)], directory(), org, method="ORGANIZATIONS")
    assert rows[acct(4)].action == "refuse" and rows[acct(4)].check == check


def test_organizations_target_must_be_a_member() -> None:
    rows = rows_for([acct(4), EXTERNAL], directory(), method="ORGANIZATIONS")
    assert rows[acct(4)].action == "share"
    assert (rows[EXTERNAL].action, rows[EXTERNAL].check) == ("refuse", "TargetNotMember")


def test_target_equal_to_owner_is_refused() -> None:
    rows = rows_for([MGMT], directory(), method="HANDSHAKE")
    assert rows[MGMT].check == "TargetIsOwner"


def test_handshake_external_refused_unless_allowed() -> None:
    refused = rows_for([EXTERNAL], directory(), method="HANDSHAKE")[EXTERNAL]
    assert (refused.action, refused.check) == ("refuse", "ExternalTarget")
    allowed = rows_for([EXTERNAL], directory(), method="HANDSHAKE", allow_external=True)[EXTERNAL]
    assert (allowed.action, allowed.external) == ("share", True)
    assert "external" in allowed.reason


def test_handshake_from_a_member_owner_works_without_org_prerequisites() -> None:
    d = directory(owner_account_id=acct(1))
    rows = rows_for([acct(4)], d, OrgFacts(MGMT, True, MGMT, "CONSOLIDATED_BILLING", False, MEMBERS), method="HANDSHAKE")
    assert rows[acct(4)].action == "share"


def test_unshare_rows() -> None:
    d = directory(share(4, "Shared"), share(5, "Deleted"), share(6, "Deleting"), share(7, "PendingAcceptance"))
    rows = rows_for([acct(n) for n in (4, 5, 6, 7, 8)], d, action="unshare")
    assert [rows[acct(n)].action for n in (4, 5, 6, 7, 8)] == ["unshare", "skip", "skip", "unshare", "skip"]
    assert rows[acct(4)].shared_directory_id == d.shares[0].shared_directory_id


@pytest.mark.parametrize(
    "action,status,expected",
    [
        ("accept", "PendingAcceptance", "accept"),
        ("accept", "Shared", "skip"),
        ("accept", "Rejected", "skip"),
        ("accept", "Sharing", "refuse"),
        ("reject", "PendingAcceptance", "reject"),
        ("reject", "Rejected", "skip"),
        ("leave", "Shared", "leave"),
        ("leave", "PendingAcceptance", "skip"),
        ("leave", "Deleted", "skip"),
    ],
)
def test_consumer_actions(action: str, status: str, expected: str) -> None:
    rows = rows_for([acct(8)], directory(share(8, status, method="HANDSHAKE")), action=action)
    assert rows[acct(8)].action == expected


def test_prune_unshares_active_accounts_not_listed() -> None:
    d = directory(share(4, "Shared"), share(5, "Shared"), share(7, "Deleted"))
    rows = rows_for([acct(4)], d, method="ORGANIZATIONS", prune=True)
    assert rows[acct(4)].action == "skip"
    assert rows[acct(5)].action == "unshare" and "prune" in rows[acct(5)].reason
    assert acct(7) not in rows


def test_fingerprint_is_stable_and_sensitive_to_state_and_request() -> None:
    req = ShareRequest("d-1234567890", (acct(4),), method="ORGANIZATIONS", notes="hello")
    d = directory(share(5, "Shared", sid="d-5555555555"))
    first = fingerprint([(req, [acct(4)], d)], ORG)
    assert first == fingerprint([(req, [acct(4)], d)], ORG)
    assert len(first) == 64 and int(first, 16) >= 0
    moved = directory(share(5, "Deleting", sid="d-5555555555"))
    assert fingerprint([(req, [acct(4)], moved)], ORG) != first
    other_notes = ShareRequest("d-1234567890", (acct(4),), method="ORGANIZATIONS", notes="bye")
    assert fingerprint([(other_notes, [acct(4)], d)], ORG) != first
    assert fingerprint([(req, [acct(4), acct(6)], d)], ORG) != first


def test_fingerprint_never_contains_notes_and_ignores_unrelated_members() -> None:
    req = ShareRequest("d-1234567890", (acct(4),), notes="secret text")
    d = directory()
    bigger_org = OrgFacts(MGMT, True, MGMT, "ALL", True, MEMBERS | {"777777777777"})
    assert fingerprint([(req, [acct(4)], d)], ORG) == fingerprint([(req, [acct(4)], d)], bigger_org)
    assert "secret" not in repr(req)


def test_plan_frame_has_declared_columns_even_when_empty() -> None:
    from dsshare.planning import PLAN_COLUMNS

    empty = Plan(requests=(), rows=(), fingerprint="0" * 64)
    assert list(empty.to_frame().columns) == list(PLAN_COLUMNS)
    assert empty.summary() == {}
    empty.raise_for_refusals()


def test_raise_for_refusals_lists_refused_rows() -> None:
    from dsshare.errors import PreflightError

    rows = tuple(build_rows(ShareRequest("d-1234567890", (MGMT,)), [MGMT], directory(), ORG))
    with pytest.raises(PreflightError) as info:
        Plan(requests=(), rows=rows, fingerprint="0" * 64).raise_for_refusals()
    assert info.value.refusals[0][:2] == (MGMT, "TargetIsOwner")


# -- properties over arbitrary share histories ----------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

STATUSES = ["Shared", "PendingAcceptance", "Rejected", "Rejecting", "RejectFailed", "Sharing",
            "ShareFailed", "Deleted", "Deleting"]


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[str], DirectoryFacts]:
    pool = [acct(n) for n in range(1, 13)]
    shares = [
        ShareFact(draw(st.sampled_from(pool)), f"d-{i:010d}", draw(st.sampled_from(STATUSES)),
                  draw(st.sampled_from(["HANDSHAKE", "ORGANIZATIONS"])))
        for i in range(draw(st.integers(0, 20)))
    ]
    targets = draw(st.lists(st.sampled_from([*pool, MGMT, EXTERNAL]), min_size=1, max_size=14, unique=True))
    edition = draw(st.sampled_from(["Standard", "Enterprise", "Hybrid"]))
    return targets, directory(*shares, edition=edition)


@settings(max_examples=150, deadline=None)
@given(histories(), st.sampled_from(["HANDSHAKE", "ORGANIZATIONS"]), st.booleans())
def test_any_history_plans_one_row_per_target_within_quota(
    case: tuple[list[str], DirectoryFacts], method: str, allow_external: bool
) -> None:
    targets, d = case
    request = ShareRequest("d-1234567890", tuple(targets), method=method, allow_external=allow_external)
    rows = build_rows(request, targets, d, ORG)
    assert [r.account_id for r in rows] == targets
    active = sum(1 for s in d.shares if s.status not in ("Deleted", "Rejected"))
    quota = {"Standard": 25, "Enterprise": 500, "Hybrid": 125}[d.edition or ""]
    assert sum(r.action == "share" for r in rows) <= max(0, quota - active)
    for row in rows:
        current = d.current_share(row.account_id)
        statuses = {s.status for s in d.shares if s.account_id == row.account_id}
        if row.action == "share":
            # never a second share while one is live or moving
            assert not statuses & {"Shared", "PendingAcceptance", "Sharing", "Deleting", "Rejecting"}
            assert current is None or current.status in ("Deleted", "Rejected", "ShareFailed")
            assert row.account_id != MGMT
        if statuses & {"Shared", "PendingAcceptance", "Sharing"} and row.account_id != MGMT:
            assert row.action == "skip" and current is not None
            assert current.status in ("Shared", "PendingAcceptance", "Sharing")
        if row.action == "refuse":
            assert row.check
    assert fingerprint([(request, targets, d)], ORG) == fingerprint([(request, list(targets), d)], ORG)
