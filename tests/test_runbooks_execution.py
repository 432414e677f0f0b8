"""Runbooks executed headless (a real kernel) against the sandbox, checked in AWS state,
results.* and audit.jsonl.

Kernel starts cost seconds on a small machine, so each notebook execution here proves as
much as it can; everything that needs no kernel is specified in the other runbook tests.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dsshare.cli import main
from dsshare.sandbox import Sandbox

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PARAMETERS = REPO / "parameters"
NOTES = "Domain join for the Dev workloads"
MUTATING = {"ShareDirectory", "UnshareDirectory", "AcceptSharedDirectory", "RejectSharedDirectory",
            "DeleteDirectory"}  # fmt: skip


def dsshare_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["run", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fingerprint_in(stdout: str) -> str:
    match = re.search(r"^fingerprint: ([0-9a-f]{64})$", stdout, re.MULTILINE)
    assert match, f"no fingerprint line in:\n{stdout}"
    return match.group(1)


def results(folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((folder / "results.json").read_text())
    return rows


def audit(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "audit.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def mutating_calls(sb: Sandbox) -> list[str]:
    return [e["operation"] for e in sb.request_log if e["operation"] in MUTATING]


def statuses(aws: Any, directory_id: str, owner: str | None = None) -> dict[str, str]:
    """Owner-side view: account -> status of its current record (active beats Deleted)."""
    records = aws("ds", account_id=owner).describe_shared_directories(
        OwnerDirectoryId=directory_id
    )["SharedDirectories"]
    view: dict[str, str] = {}
    for record in records:
        account, status = record["SharedAccountId"], record["ShareStatus"]
        if account not in view or status not in ("Deleted", "Rejected"):
            view[account] = status
    return view


def assert_no_secret_in(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert NOTES not in text, f"ShareNotes text in {path.name}"
            assert "testing" not in re.findall(r"aws_secret_access_key\W+(\w+)", text)


def test_share_dry_run_changes_nothing_apply_shares_and_a_rerun_is_a_no_op(
    aws_env: Sandbox, aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = aws_env
    directory = sb.directory_id("global.example.com")
    dev = [sb.account_id(n) for n in ("dev-app1", "dev-app2", "dev-data")]
    params = str(PARAMETERS / "share_directory.sandbox.yaml")
    before = statuses(aws, directory)

    code, out, _ = dsshare_run(capsys, "share_directory", "-f", params, "--out", str(tmp_path / "dry"))
    assert code == 0
    fingerprint = fingerprint_in(out)
    dry = tmp_path / "dry"
    assert statuses(aws, directory) == before and mutating_calls(sb) == []
    assert [(r["account_id"], r["action"], r["outcome"]) for r in results(dry)] == [
        (a, "share", "planned") for a in dev
    ]
    assert audit(dry) == []
    assert json.loads((dry / "plan.json").read_text())["fingerprint"] == fingerprint
    assert (dry / "share_directory.ipynb").is_file() and (dry / "plan.csv").is_file()
    assert f"fingerprint: {fingerprint}" in (dry / "share_directory.ipynb").read_text()

    code, out, _ = dsshare_run(
        capsys, "share_directory", "-f", params, "-p", "dry_run", "false",
        "-p", "expected_plan", fingerprint, "--out", str(tmp_path / "apply"),
    )  # fmt: skip
    assert code == 0, out
    applied = tmp_path / "apply"
    assert "outcomes: done 3" in out
    after = statuses(aws, directory)
    assert {a: after[a] for a in dev} == dict.fromkeys(dev, "Shared")
    assert [(r["outcome"], r["share_status"]) for r in results(applied)] == [("done", "Shared")] * 3
    lines = audit(applied)
    assert sorted((a["operation"], a["account_id"]) for a in lines) == sorted(
        [("ShareDirectory", sb.manifest["management_account_id"])] * 3
        + [("AcceptSharedDirectory", a) for a in dev]
    )
    assert all(a["outcome"] == "done" for a in lines)
    shared = [a for a in lines if a["operation"] == "ShareDirectory"]
    assert all(set(a["parameters"]["ShareNotes"]) == {"length", "sha256"} for a in shared)
    run = json.loads((applied / "run.json").read_text())
    assert (run["status"], run["exit_code"]) == ("ok", 0)
    assert_no_secret_in(applied)

    calls = len(mutating_calls(sb))
    code, out, _ = dsshare_run(
        capsys, "share_directory", "-f", params, "-p", "dry_run", "false",
        "--out", str(tmp_path / "rerun"),
    )  # fmt: skip
    assert code == 0
    assert "outcomes: skipped 3" in out
    assert len(mutating_calls(sb)) == calls, "a rerun makes no change"
    assert audit(tmp_path / "rerun") == []


def test_an_expected_plan_that_no_longer_matches_is_refused(
    aws_env: Sandbox, aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = aws_env.directory_id("global.example.com")
    before = statuses(aws, directory)
    code, _, err = dsshare_run(
        capsys, "share_directory", "-f", str(PARAMETERS / "share_directory.sandbox.yaml"),
        "-p", "dry_run", "false", "-p", "expected_plan", "0" * 64, "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 1
    assert 'cell "check"' in err and "PlanMismatchError" in err
    assert (tmp_path / "share_directory.ipynb").is_file()
    assert statuses(aws, directory) == before and mutating_calls(aws_env) == []
    assert {(r["outcome"], r["error_code"]) for r in results(tmp_path)} == {("skipped", "PlanMismatch")}
    assert audit(tmp_path) == []
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "error"


def test_a_failing_target_exits_1_with_the_notebook_written(
    aws_env: Sandbox, aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev_app2 = aws_env.account_id("dev-app2")
    aws_env.add_fault("AcceptSharedDirectory", code="AccessDeniedException", account_id=dev_app2)
    code, out, err = dsshare_run(
        capsys, "share_directory", "-f", str(PARAMETERS / "share_directory.sandbox.yaml"),
        "-p", "dry_run", "false", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 1
    assert 'cell "outcome"' in err and "TargetsFailedError" in err and dev_app2 in err
    notebook = (tmp_path / "share_directory.ipynb").read_text()
    assert "TargetsFailedError" in notebook
    rows = {r["account_id"]: r for r in results(tmp_path)}
    assert (rows[dev_app2]["outcome"], rows[dev_app2]["error_code"]) == ("failed", "AccessDeniedException")
    assert [r["outcome"] for a, r in rows.items() if a != dev_app2] == ["done", "done"]
    failed_audit = [a for a in audit(tmp_path) if a["outcome"] == "failed"]
    assert [(a["operation"], a["account_id"]) for a in failed_audit] == [("AcceptSharedDirectory", dev_app2)]
    run = json.loads((tmp_path / "run.json").read_text())
    assert (run["status"], run["exit_code"], run["failed"][0]["account_id"]) == ("failed", 1, dev_app2)
    assert "outcomes: done 2, failed 1" in out


def test_unshare_all_removes_every_current_share(
    aws_env: Sandbox, aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corp = aws_env.directory_id("corp.example.com")
    code, out, _ = dsshare_run(
        capsys, "unshare_directory", "-f", str(PARAMETERS / "unshare_directory.sandbox.yaml"),
        "-p", "targets", "ALL", "-p", "dry_run", "false", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, out
    assert set(statuses(aws, corp).values()) == {"Deleted"}
    assert sorted(a["operation"] for a in audit(tmp_path)) == ["UnshareDirectory"] * 2
    assert {r["share_status"] for r in results(tmp_path)} == {"Deleted"}


def test_respond_to_invitations_accepts_pending_invitations(
    aws_env: Sandbox, aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services, owner = aws_env.directory_id("services.example.com"), aws_env.account_id("shared-services")
    dev_app2 = aws_env.account_id("dev-app2")
    code, out, _ = dsshare_run(
        capsys, "respond_to_invitations",
        "-f", str(PARAMETERS / "respond_to_invitations.sandbox.yaml"),
        "-p", "dry_run", "false", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, out
    assert statuses(aws, services, owner=owner)[dev_app2] == "Shared"
    assert [(a["operation"], a["account_id"]) for a in audit(tmp_path)] == [("AcceptSharedDirectory", dev_app2)]
    assert "outcomes: done 1, skipped 1" in out


def test_reconcile_shares_applies_the_desired_state(
    aws_env: Sandbox, aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = aws_env
    code, out, _ = dsshare_run(
        capsys, "reconcile_shares", "-f", str(PARAMETERS / "reconcile_shares.sandbox.yaml"),
        "-p", "desired_state", str(PARAMETERS / "desired_state.sandbox.yaml"),
        "-p", "dry_run", "false", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, out
    corp = statuses(aws, sb.directory_id("corp.example.com"))
    assert {corp[sb.account_id(n)] for n in ("prod-app1", "prod-app2", "prod-data", "dev-app1")} == {"Shared"}
    global_ = statuses(aws, sb.directory_id("global.example.com"))
    assert {global_[sb.account_id(n)] for n in ("sandbox-alice", "sandbox-bob", "sandbox-carol")} == {
        "PendingAcceptance"
    }
    shared = sorted(
        a["parameters"]["ShareTarget"]["Id"] for a in audit(tmp_path) if a["operation"] == "ShareDirectory"
    )
    assert shared == sorted(sb.account_id(n) for n in ("prod-data", "dev-app1", "sandbox-bob", "sandbox-carol"))


def test_inventory_report_writes_report_snapshot_and_drift_against_the_latest(
    aws_env: Sandbox, aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dsshare.connection import Connection
    from dsshare.inventory.collect import collect_inventory
    from dsshare.inventory.export import export_inventory

    runs = tmp_path / "runs"
    regions = ["us-east-1", "eu-west-1"]
    earlier = collect_inventory(Connection(regions=regions), all_accounts=True, regions=regions)
    export_inventory(earlier, runs / "20260101T000000Z-inventory_report" / "snapshot")
    corp = aws_env.directory_id("corp.example.com")
    aws("ds").unshare_directory(
        DirectoryId=corp, UnshareTarget={"Id": aws_env.account_id("prod-app1"), "Type": "ACCOUNT"}
    )
    folder = runs / "20260102T000000Z-inventory_report"
    code, out, _ = dsshare_run(
        capsys, "inventory_report", "-f", str(PARAMETERS / "inventory_report.sandbox.yaml"),
        "--out", str(folder),
    )  # fmt: skip
    assert code == 0, out
    assert f"report: {folder / 'report.html'}" in out
    assert (folder / "snapshot" / "manifest.json").is_file()
    drift = (folder / "snapshot" / "drift.csv").read_text()
    assert aws_env.account_id("prod-app1") in drift
    rows = results(folder)
    assert len(rows) == len(aws_env.manifest["accounts"])
    assert {r["outcome"] for r in rows} == {"done"}
    assert audit(folder) == [] and mutating_calls(aws_env) == ["UnshareDirectory"]
    assert "Try the global forest" not in (folder / "report.html").read_text()


def test_plain_papermill_runs_a_runbook_too(aws_env: Sandbox, tmp_path: Path) -> None:
    output = tmp_path / "out.ipynb"
    completed = subprocess.run(
        [sys.executable, "-m", "papermill", "notebooks/runbooks/share_directory.ipynb", str(output),
         "-f", "parameters/share_directory.sandbox.yaml", "-p", "output_dir", str(tmp_path / "run")],
        cwd=REPO, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "fingerprint: " in output.read_text()
    assert {r["outcome"] for r in results(tmp_path / "run")} == {"planned"}
    assert (tmp_path / "run" / "parameters.yaml").is_file()
    assert mutating_calls(aws_env) == []


def test_the_demo_ends_with_the_paths_of_the_report_and_the_executed_notebooks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools.demo import main as demo

    assert demo(tmp_path) == 0
    out = capsys.readouterr().out
    tail = out[out.index("Executed notebooks:"):]
    paths = re.findall(r"(/\S+\.(?:ipynb|csv|jsonl|html))$", tail, re.MULTILINE)
    assert len([p for p in paths if p.endswith(".ipynb")]) == 3
    assert paths[-1].endswith("report.html") and tail.rstrip().splitlines()[-1].startswith("HTML report:")
    assert all(Path(p).is_file() for p in paths)
    assert "fingerprint: " in out and "outcomes: done 3" in out


def test_share_directory_across_regions_is_one_dry_run_and_one_apply_with_its_fingerprint(
    aws_env: Sandbox, aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = aws_env
    directory = sb.directory_id("global.example.com")
    sb.add_region(directory, "eu-west-1")
    dev = sorted(sb.account_id(n) for n in ("dev-app1", "dev-app2", "dev-data"))
    params = str(PARAMETERS / "share_directory.sandbox.yaml")
    both = [(region, a) for region in ("eu-west-1", "us-east-1") for a in dev]

    code, out, _ = dsshare_run(
        capsys, "share_directory", "-f", params, "-p", "regions", "all", "--out", str(tmp_path / "dry"),
    )  # fmt: skip
    assert code == 0, out
    fingerprint = fingerprint_in(out)
    assert sorted((r["region"], r["account_id"], r["outcome"]) for r in results(tmp_path / "dry")) == [
        (region, a, "planned") for region, a in both
    ]
    assert mutating_calls(sb) == []

    code, out, _ = dsshare_run(
        capsys, "share_directory", "-f", params, "-p", "regions", "us-east-1,eu-west-1",
        "-p", "dry_run", "false", "-p", "expected_plan", fingerprint, "--out", str(tmp_path / "apply"),
    )  # fmt: skip
    assert code == 0, out
    assert "outcomes: done 6" in out
    applied = tmp_path / "apply"
    assert sorted((r["region"], r["account_id"], r["share_status"]) for r in results(applied)) == [
        (region, a, "Shared") for region, a in both
    ]
    assert sorted((a["operation"], a["region"]) for a in audit(applied)) == sorted(
        [("ShareDirectory", region) for region, _ in both]
        + [("AcceptSharedDirectory", region) for region, _ in both]
    )
    for region in ("us-east-1", "eu-west-1"):
        view = aws("ds", region=region).describe_shared_directories(OwnerDirectoryId=directory)
        shared = {r["SharedAccountId"] for r in view["SharedDirectories"] if r["ShareStatus"] == "Shared"}
        assert set(dev) <= shared, region

    code, out, err = dsshare_run(
        capsys, "share_directory", "-f", params, "-p", "regions", "eu-west-1,ap-south-1",
        "--out", str(tmp_path / "refused"),
    )  # fmt: skip
    assert code == 1, out
    refused = [r for r in results(tmp_path / "refused") if r["region"] == "ap-south-1"]
    assert {(r["action"], r["error_code"]) for r in refused} == {("refuse", "RegionNotReplicated")}
    assert len(refused) == 3


def test_reconcile_and_unshare_across_regions(
    aws_env: Sandbox, aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = aws_env
    directory = sb.directory_id("global.example.com")
    sb.add_region(directory, "eu-west-1")
    desired = tmp_path / "desired.yaml"
    desired.write_text(
        "directories:\n"
        f"  - directory_id: {directory}\n"
        "    regions: [us-east-1, eu-west-1]\n"
        "    targets: ['" + sb.account_id("dev-app1") + "']\n"
    )
    code, out, _ = dsshare_run(
        capsys, "reconcile_shares", "-f", str(PARAMETERS / "reconcile_shares.sandbox.yaml"),
        "-p", "desired_state", str(desired), "-p", "dry_run", "false", "--out", str(tmp_path / "rec"),
    )  # fmt: skip
    assert code == 0, out
    assert sorted((r["region"], r["action"], r["outcome"]) for r in results(tmp_path / "rec")) == [
        ("eu-west-1", "share", "done"), ("us-east-1", "share", "done")
    ]
    code, out, _ = dsshare_run(
        capsys, "unshare_directory", "-f", str(PARAMETERS / "unshare_directory.sandbox.yaml"),
        "-p", "directory_id", directory, "-p", "targets", "ALL", "-p", "regions", "all",
        "-p", "dry_run", "false", "--out", str(tmp_path / "unshare"),
    )  # fmt: skip
    assert code == 0, out
    unshared = sorted((r["region"], r["account_id"]) for r in results(tmp_path / "unshare"))
    alice, dev1 = sb.account_id("sandbox-alice"), sb.account_id("dev-app1")
    assert unshared == sorted([("eu-west-1", dev1), ("us-east-1", alice), ("us-east-1", dev1)])
    for region in ("us-east-1", "eu-west-1"):
        view = aws("ds", region=region).describe_shared_directories(OwnerDirectoryId=directory)
        assert {r["ShareStatus"] for r in view["SharedDirectories"]} <= {"Deleted", "Rejected"}, region


def test_a_dry_run_prints_the_apply_command_and_a_mismatch_names_the_changed_rows(
    aws_env: Sandbox, aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = str(PARAMETERS / "share_directory.sandbox.yaml")
    code, out, _ = dsshare_run(capsys, "share_directory", "-f", params, "--out", str(tmp_path / "dry"))
    assert code == 0
    fingerprint = fingerprint_in(out)
    command = out.split("to apply exactly this plan (refused if live state changes first), run:\n")[1]
    argv = shlex.split(command.splitlines()[0])
    assert argv == ["dsshare", "run", "share_directory", "-f", params, "-p", "dry_run", "false",
                    "-p", "expected_plan", fingerprint]  # fmt: skip
    # Someone shares with dev-app1 meanwhile: the printed command is refused, naming the row.
    directory, dev_app1 = aws_env.directory_id("global.example.com"), aws_env.account_id("dev-app1")
    aws("ds").share_directory(DirectoryId=directory, ShareTarget={"Id": dev_app1, "Type": "ACCOUNT"},
                              ShareMethod="HANDSHAKE")  # fmt: skip
    code, _, err = dsshare_run(capsys, *argv[2:], "--out", str(tmp_path / "apply"))
    assert code == 1 and "PlanMismatchError" in err
    assert f"Rows that changed (1): {dev_app1} ({directory}, us-east-1): action share -> skip" in err


def test_ctrl_c_during_apply_stops_cleanly_and_a_rerun_shares_nothing_twice(
    aws_env: Sandbox, aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = aws_env
    params = str(PARAMETERS / "share_directory.sandbox.yaml")
    folder = tmp_path / "interrupted"
    sb.set_transition_delay(30)  # the shares stay Sharing: the run is waiting when Ctrl-C comes
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "dsshare.cli", "run", "share_directory", "-f", params,
         "-p", "dry_run", "false", "--out", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_lines(folder / "audit.jsonl")) < 3:
        time.sleep(0.2)
    assert len(_lines(folder / "audit.jsonl")) == 3, "the three ShareDirectory calls were not made"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=90)
    assert process.returncode == 130, out + err
    assert "Traceback" not in out + err
    assert "interrupted (Ctrl-C): 3 done" in err and "Run the same command again" in err
    run = json.loads((folder / "run.json").read_text())
    assert (run["status"], run["exit_code"]) == ("interrupted", 130)
    assert [(r["action"], r["outcome"]) for r in results(folder)] == [("share", "done")] * 3
    assert (folder / "results.csv").is_file()
    # The audit is complete: every write-ahead intent has its outcome line.
    intents = {line["call_id"] for line in _lines(folder / "audit.intents.jsonl")}
    assert intents == {line["call_id"] for line in audit(folder)}

    sb.set_transition_delay(0)
    shares_before = mutating_calls(sb).count("ShareDirectory")
    code, out, _ = dsshare_run(capsys, "share_directory", "-f", params, "-p", "dry_run", "false",
                               "--out", str(tmp_path / "rerun"))  # fmt: skip
    assert code == 0, out
    assert mutating_calls(sb).count("ShareDirectory") == shares_before  # none shared twice
    assert [r["outcome"] for r in results(tmp_path / "rerun")] == ["skipped"] * 3


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _kernels_of_this_process() -> list[str]:
    """The kernel processes this process started that are still running (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue  # the process ended while being read
        if parent == os.getpid() and "ipykernel" in command:
            found.append(command)
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc")
def test_the_kernel_a_run_starts_is_gone_when_it_ends_and_an_unknown_kernel_fails_the_run(
    aws_env: Sandbox, tmp_path: Path
) -> None:
    # dsshare run starts the kernel itself (before papermill loads) and stops it after the
    # cells ran, whatever happened.
    from dsshare.runbooks.execute import execute, prepare

    spec, params = prepare("share_directory", [str(PARAMETERS / "share_directory.sandbox.yaml")])
    done = execute(spec, params, tmp_path / "dry")
    assert (done.exit_code, done.failure) == (0, None) and done.outcomes == {"planned": 3}
    assert _kernels_of_this_process() == []
    failed = execute(spec, params, tmp_path / "nokernel", kernel_name="no-such-kernel")
    assert failed.exit_code == 1 and failed.failure is not None
    assert failed.failure.ename == "NoSuchKernel" and "no-such-kernel" in failed.failure.evalue
    assert json.loads((tmp_path / "nokernel" / "run.json").read_text())["exit_code"] == 1
    assert _kernels_of_this_process() == []
