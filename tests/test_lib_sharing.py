"""Specification of dsshare.sharing against the sandbox: single calls and bulk verbs."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dsshare import calls, sharing
from dsshare.audit import AuditLog
from dsshare.connection import Connection
from dsshare.errors import (
    DirectoryAlreadySharedError,
    DirectoryNotSharedError,
    EntityDoesNotExistError,
    InvalidTargetError,
    ParameterError,
    UnsupportedOperationError,
)
from dsshare.execution import RESULT_COLUMNS
from dsshare.planning import plan
from dsshare.sandbox import Sandbox
from dsshare.waiting import Watch, terminal_statuses, wait_for_share_status

MUTATING = {"ShareDirectory", "UnshareDirectory", "AcceptSharedDirectory", "RejectSharedDirectory", "DeleteDirectory"}
NOTES = "Join via the identity team. Ticket SECRET-4242."


@pytest.fixture
def conn(aws_env: Sandbox) -> Connection:
    return Connection()


def ds_calls(sb: Sandbox, operations: set[str] | None = None) -> list[dict[str, Any]]:
    wanted = operations or MUTATING
    return [e for e in sb.request_log if e["service"] == "ds" and e["operation"] in wanted]


def records(conn: Connection, directory_id: str, owner: str | None = None) -> dict[str, dict[str, Any]]:
    """Latest record per account, as the owner sees it."""
    latest: dict[str, dict[str, Any]] = {}
    for record in calls.iter_shared_directories(conn, directory_id, owner_account_id=owner):
        current = latest.get(record["SharedAccountId"])
        if current is None or current["ShareStatus"] in ("Deleted", "Rejected"):
            latest[record["SharedAccountId"]] = record
    return latest


def consumer_view(conn: Connection, account_id: str, shared_directory_id: str) -> dict[str, Any] | None:
    for directory in calls.iter_directories(conn, account_id=account_id):
        if directory["DirectoryId"] == shared_directory_id:
            return directory
    return None


# -- single calls --------------------------------------------------------------------------


def test_share_directory_returns_the_consumer_id_and_errors_are_classified(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    network = aws_env.account_id("network")
    sid = calls.share_directory(conn, corp, network, method="ORGANIZATIONS")
    assert sid.startswith("d-") and records(conn, corp)[network]["SharedDirectoryId"] == sid
    with pytest.raises(DirectoryAlreadySharedError) as info:
        calls.share_directory(conn, corp, network, method="ORGANIZATIONS")
    assert info.value.operation == "ShareDirectory" and info.value.request_id
    with pytest.raises(InvalidTargetError):
        calls.share_directory(conn, corp, conn.caller_account_id)
    with pytest.raises(UnsupportedOperationError):
        calls.share_directory(conn, aws_env.directory_id("legacy.example.com"), network)
    with pytest.raises(EntityDoesNotExistError):
        calls.share_directory(conn, "d-0000000000", network)
    with pytest.raises(DirectoryNotSharedError):
        calls.unshare_directory(conn, corp, aws_env.account_id("log-archive"))


@pytest.mark.parametrize(
    "call,parameter",
    [
        (lambda c: calls.share_directory(c, "d-12345", "200000000004"), "directory_id"),
        (lambda c: calls.share_directory(c, "d-1234567890", "prod-app1"), "account_id"),
        (lambda c: calls.share_directory(c, "d-1234567890", "200000000004", method="ORG"), "method"),
        (lambda c: calls.share_directory(c, "d-1234567890", "200000000004", notes="n" * 1025), "notes"),
        (lambda c: calls.share_directory(c, "d-1234567890", "200000000004", region="moon-1"), "region"),
        (lambda c: calls.unshare_directory(c, "D-1234567890", "200000000004"), "directory_id"),
        (lambda c: calls.accept_shared_directory(c, "d-xyz"), "shared_directory_id"),
        (lambda c: calls.reject_shared_directory(c, "d-1234567890", account_id="42"), "account_id"),
        (lambda c: calls.leave_shared_directory(c, "d-1"), "directory_id"),
        (lambda c: list(calls.iter_shared_directories(c, "nope")), "directory_id"),
        (lambda c: sharing.share(c, "d-1234567890", ["200000000004", "prod"]), "targets[1]"),
        (lambda c: sharing.share(c, "d-1234567890", "200000000004"), "targets"),
        (lambda c: sharing.share(c, "d-1234567890", ["200000000004"], method="handshake"), "method"),
        (lambda c: sharing.unshare(c, "d-123456789z", ["200000000004"]), "directory_id"),
        (lambda c: sharing.accept(c, "d-1234567890", ["ou-bad"]), "targets[0]"),
        (lambda c: sharing.reject(c, "d-1234567890", [], ), "targets"),
        (lambda c: sharing.leave(c, "d-1234567890", ["200000000004"], owner_account_id="x"), "owner_account_id"),
        (lambda c: sharing.share(c, "d-1234567890", ["200000000004"], timeout=0), "timeout"),
        (lambda c: sharing.unshare(c, "d-1234567890", ["200000000004"], max_workers=0), "max_workers"),
        (lambda c: plan(c, "d-1234567890", ["200000000004"], action="delete"), "action"),
        (lambda c: plan(c, "d-1234567890", ["200000000004"], region="mars"), "region"),
        (lambda c: plan(c, "d-1234567890", ["r-1"]), "targets[0]"),
    ],
)
def test_bad_input_is_refused_before_any_aws_call(conn: Connection, aws_env: Sandbox, call: Any, parameter: str) -> None:
    conn.caller_account_id  # noqa: B018 - warm the identity cache so only the call under test counts
    before = len(aws_env.request_log)
    with pytest.raises(ParameterError) as info:
        call(conn)
    assert info.value.parameter == parameter
    assert len(aws_env.request_log) == before, "nothing may reach AWS"


def test_delete_directory_never_deletes_an_owner_directory(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    with pytest.raises(ParameterError) as info:
        calls.delete_directory(conn, corp)
    assert "SharedMicrosoftAD" in info.value.allowed
    assert ds_calls(aws_env, {"DeleteDirectory"}) == []
    assert calls.describe_directory(conn, corp)["Stage"] == "Active"


def test_consumers_see_a_shared_microsoft_ad(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    app1 = aws_env.account_id("prod-app1")
    sid = records(conn, corp)[app1]["SharedDirectoryId"]
    view = consumer_view(conn, app1, sid)
    assert view is not None and view["Type"] == "SharedMicrosoftAD"
    assert view["OwnerDirectoryDescription"]["DirectoryId"] == corp


def test_waiter_reports_share_failed_as_terminal_failure(conn: Connection, aws_env: Sandbox) -> None:
    aws_env.set_transition_delay(5)
    corp = aws_env.directory_id("corp.example.com")
    network = aws_env.account_id("network")
    sid = calls.share_directory(conn, corp, network, method="ORGANIZATIONS")
    aws_env.force_share_status(sid, "ShareFailed")
    final = wait_for_share_status(
        conn, corp, {sid: Watch(network, *terminal_statuses("share", "ORGANIZATIONS"))}, timeout=5
    )
    assert final == {sid: "ShareFailed"}


# -- bulk verbs -----------------------------------------------------------------------------


def test_bulk_share_to_an_ou_reports_one_row_per_account(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    frame = sharing.share(conn, corp, [aws_env.ou_id("Workloads")], method="ORGANIZATIONS", progress=False)
    assert list(frame.columns) == list(RESULT_COLUMNS)
    by_account = frame.set_index("account_id")
    assert len(frame) == 6
    for name in ("prod-app1", "prod-app2"):
        assert by_account.loc[aws_env.account_id(name), "outcome"] == "skipped"
    for name in ("prod-data", "dev-app1", "dev-app2", "dev-data"):
        row = by_account.loc[aws_env.account_id(name)]
        assert (row["action"], row["outcome"], row["share_status"]) == ("share", "done", "Shared")
    # dev-app1 had a Deleted record: it is shared again under a new SharedDirectoryId.
    dev1 = aws_env.account_id("dev-app1")
    old = next(r["SharedDirectoryId"] for r in calls.iter_shared_directories(conn, corp)
               if r["SharedAccountId"] == dev1 and r["ShareStatus"] == "Deleted")
    assert by_account.loc[dev1, "shared_directory_id"] != old


def test_handshake_with_auto_accept_ends_shared_on_both_sides(
    conn: Connection, aws_env: Sandbox, tmp_path: Path
) -> None:
    glob = aws_env.directory_id("global.example.com")
    targets = [aws_env.account_id("sandbox-bob"), aws_env.account_id("sandbox-carol")]
    audit = AuditLog(tmp_path / "audit.jsonl")
    frame = sharing.share(conn, glob, targets, notes=NOTES, auto_accept=True, audit=audit, progress=False)
    assert set(frame["outcome"]) == {"done"} and set(frame["share_status"]) == {"Shared"}
    owner_side = records(conn, glob)
    for account in targets:
        record = owner_side[account]
        assert record["ShareStatus"] == "Shared" and record["ShareMethod"] == "HANDSHAKE"
        view = consumer_view(conn, account, record["SharedDirectoryId"])
        assert view is not None and view["ShareStatus"] == "Shared"
    lines = audit.read()
    assert sorted(line["operation"] for line in lines) == ["AcceptSharedDirectory"] * 2 + ["ShareDirectory"] * 2
    accepts = [line for line in lines if line["operation"] == "AcceptSharedDirectory"]
    assert sorted(line["account_id"] for line in accepts) == sorted(targets), "accepted as each consumer"


def test_audit_lines_match_the_calls_made_and_hold_no_notes(
    conn: Connection, aws_env: Sandbox, tmp_path: Path
) -> None:
    glob = aws_env.directory_id("global.example.com")
    targets = [aws_env.account_id(n) for n in ("network", "log-archive", "prod-data")]
    path = tmp_path / "audit.jsonl"
    aws_env.add_fault("ShareDirectory", code="AccessDeniedException", count=1)
    with AuditLog(path) as audit:
        frame = sharing.share(conn, glob, targets, notes=NOTES, audit=audit, progress=False, max_workers=1)
    text = path.read_text()
    assert NOTES not in text and "SECRET-4242" not in text
    lines = AuditLog(path).read()
    made = ds_calls(aws_env)
    assert len(lines) == len(made) == 3
    assert [line["outcome"] for line in lines].count("failed") == 1
    failed = next(line for line in lines if line["outcome"] == "failed")
    assert failed["error_code"] == "AccessDeniedException"
    for line in lines:
        assert line["caller_arn"] == conn.caller_arn and line["region"] == "us-east-1"
        assert line["account_id"] == conn.caller_account_id
        assert line["parameters"]["ShareNotes"]["length"] == len(NOTES)
        assert line["parameters"]["DirectoryId"] == glob
    assert sorted(line["parameters"]["ShareTarget"]["Id"] for line in lines) == sorted(targets)
    # one failure did not abort the batch
    assert sorted(frame["outcome"]) == ["done", "done", "failed"]
    assert frame.loc[frame["outcome"] == "failed", "error_code"].item() == "AccessDeniedException"


def test_dry_run_calls_nothing_and_writes_no_audit(conn: Connection, aws_env: Sandbox, tmp_path: Path) -> None:
    glob = aws_env.directory_id("global.example.com")
    path = tmp_path / "audit.jsonl"
    frame = sharing.share(conn, glob, [aws_env.ou_id("Prod")], dry_run=True, audit=AuditLog(path), progress=False)
    assert set(frame["outcome"]) == {"planned"} and len(frame) == 3
    assert ds_calls(aws_env) == []
    assert not path.exists()


def test_reject_unshare_and_leave(conn: Connection, aws_env: Sandbox) -> None:
    services = aws_env.directory_id("services.example.com")
    owner = aws_env.account_id("shared-services")
    dev2, prod_data = aws_env.account_id("dev-app2"), aws_env.account_id("prod-data")

    rejected = sharing.reject(conn, services, [dev2], owner_account_id=owner, progress=False)
    assert (rejected["action"].item(), rejected["outcome"].item(), rejected["share_status"].item()) == (
        "reject", "done", "Rejected")
    assert records(conn, services, owner)[dev2]["ShareStatus"] == "Rejected"

    sid = records(conn, services, owner)[prod_data]["SharedDirectoryId"]
    left = sharing.leave(conn, services, [prod_data], owner_account_id=owner, progress=False)
    assert (left["action"].item(), left["outcome"].item(), left["share_status"].item()) == ("leave", "done", "Deleted")
    assert consumer_view(conn, prod_data, sid) is None, "the consumer's directory is gone"

    corp = aws_env.directory_id("corp.example.com")
    app1 = aws_env.account_id("prod-app1")
    sid = records(conn, corp)[app1]["SharedDirectoryId"]
    gone = sharing.unshare(conn, corp, [app1, aws_env.account_id("network")], progress=False)
    by_account = gone.set_index("account_id")
    assert by_account.loc[app1, "share_status"] == "Deleted" and by_account.loc[app1, "outcome"] == "done"
    assert by_account.loc[aws_env.account_id("network"), "outcome"] == "skipped"
    assert consumer_view(conn, app1, sid) is None
    assert sorted(e["operation"] for e in ds_calls(aws_env)) == [
        "DeleteDirectory", "RejectSharedDirectory", "UnshareDirectory"]


def test_accept_a_pending_share_as_the_consumer(conn: Connection, aws_env: Sandbox) -> None:
    glob = aws_env.directory_id("global.example.com")
    alice = aws_env.account_id("sandbox-alice")
    frame = sharing.accept(conn, glob, [alice, aws_env.account_id("sandbox-bob")], progress=False)
    by_account = frame.set_index("account_id")
    assert by_account.loc[alice, "share_status"] == "Shared"
    assert by_account.loc[aws_env.account_id("sandbox-bob"), "outcome"] == "skipped"
    assert [e["account_id"] for e in ds_calls(aws_env)] == [alice]


def test_share_failed_during_a_bulk_share_is_reported_not_hidden(conn: Connection, aws_env: Sandbox) -> None:
    aws_env.set_transition_delay(3)
    corp = aws_env.directory_id("corp.example.com")
    network = aws_env.account_id("network")

    def sabotage() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for record in aws_env.share_records():
                if record.to_dict().get("SharedAccountId") == network and record.status() == "Sharing":
                    aws_env.force_share_status(str(record.to_dict()["SharedDirectoryId"]), "ShareFailed")
                    return
            time.sleep(0.02)

    thread = threading.Thread(target=sabotage)
    thread.start()
    frame = sharing.share(conn, corp, [network], method="ORGANIZATIONS", progress=False, timeout=20)
    thread.join()
    row = frame.iloc[0]
    assert (row["outcome"], row["share_status"], row["error_code"]) == ("failed", "ShareFailed", "ShareFailed")


def test_one_throttled_batch_still_completes(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    aws_env.add_fault("ShareDirectory", code="ThrottlingException", count=3)
    frame = sharing.share(conn, corp, [aws_env.ou_id("Infrastructure")], method="ORGANIZATIONS", progress=False)
    assert list(frame["outcome"]) == ["done"] * 3


def test_auto_accept_also_accepts_shares_already_pending(conn: Connection, aws_env: Sandbox) -> None:
    glob = aws_env.directory_id("global.example.com")
    alice = aws_env.account_id("sandbox-alice")
    frame = sharing.share(conn, glob, [aws_env.ou_id("Sandbox")], auto_accept=True, progress=False)
    rows = frame.set_index("account_id")
    assert (rows.loc[alice, "action"], rows.loc[alice, "outcome"], rows.loc[alice, "share_status"]) == (
        "accept", "done", "Shared")
    assert set(rows["share_status"]) == {"Shared"}
    assert [e["operation"] for e in ds_calls(aws_env)].count("ShareDirectory") == 2, "alice was not shared twice"


def test_auto_accept_never_turns_a_leave_into_an_accept(conn: Connection, aws_env: Sandbox) -> None:
    from dsshare.execution import apply
    from dsshare.planning import plan

    glob = aws_env.directory_id("global.example.com")
    p = plan(conn, glob, [aws_env.account_id("sandbox-alice")], action="leave")
    frame = apply(conn, p, auto_accept=True, progress=False)
    assert (frame["action"].item(), frame["outcome"].item()) == ("skip", "skipped")
    assert ds_calls(aws_env) == []


def test_without_waiting_the_status_is_left_unknown(conn: Connection, aws_env: Sandbox) -> None:
    corp = aws_env.directory_id("corp.example.com")
    dev1 = aws_env.account_id("dev-app1")  # its old record is Deleted
    frame = sharing.share(conn, corp, [dev1], method="ORGANIZATIONS", wait=False, progress=False)
    row = frame.iloc[0]
    assert (row["outcome"], row["share_status"]) == ("done", None)
    assert row["shared_directory_id"].startswith("d-")


def test_shared_directories_frame_has_aws_columns_and_no_notes(conn: Connection, aws_env: Sandbox) -> None:
    services = aws_env.directory_id("services.example.com")
    frame = calls.shared_directories(conn, services, owner_account_id=aws_env.account_id("shared-services"))
    assert list(frame.columns) == list(calls.SHARED_DIRECTORY_COLUMNS)
    assert "ShareNotes" not in frame.columns
    statuses = dict(zip(frame["SharedAccountId"], frame["ShareStatus"], strict=True))
    assert statuses[aws_env.account_id("dev-data")] == "Rejected"
    active = dict(zip(frame["SharedAccountId"], frame["active"], strict=True))
    assert not active[aws_env.account_id("dev-data")], "Rejected never counts as shared"
    assert active[aws_env.account_id("prod-data")]
    empty = calls.shared_directories(conn, aws_env.directory_id("corp-eu.example.com", region="eu-west-1"),
                                       region="eu-west-1")
    assert empty.empty and list(empty.columns) == list(calls.SHARED_DIRECTORY_COLUMNS)


def test_the_library_never_logs_share_notes(
    conn: Connection, aws_env: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="dsshare")
    glob = aws_env.directory_id("global.example.com")
    sharing.share(conn, glob, [aws_env.account_id("network")], notes=NOTES, auto_accept=True, progress=False)
    assert caplog.records, "the library does log what it does"
    assert "SECRET-4242" not in caplog.text
