"""``dsshare inventory`` as an operator meets it: exit codes, what is checked first, what is said once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from dsshare.cli import main
from dsshare.sandbox import Sandbox

LIB = str(Path(__file__).resolve().parent.parent / "lib")


def dsshare(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command as a terminal would, with the logging a plain run has."""
    environment = dict(env if env is not None else os.environ)
    environment["PYTHONPATH"] = LIB
    return subprocess.run([sys.executable, "-m", "dsshare.cli", *args], env=environment,
                          capture_output=True, text=True, timeout=120)


def test_a_compare_folder_that_is_not_a_snapshot_is_refused_before_any_call(
    aws_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("not a snapshot")
    before = len(aws_env.request_log)
    code = main(["inventory", "--all", "--regions", "us-east-1", "--out", str(tmp_path / "inv"),
                 "--compare", str(other), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "Invalid --compare" in err and "manifest.json" in err
    assert len(aws_env.request_log) == before, "refused before any AWS call"
    assert not (tmp_path / "inv").exists()
    assert main(["inventory", "--regions", "us-east-1", "--out", str(tmp_path / "inv"),
                 "--compare", str(tmp_path / "missing"), "--no-progress"]) == 2


@pytest.mark.parametrize("args", [
    ["inventory", "--concurrency", "0"],
    ["inventory", "--concurrency", "many"],
    ["inventory", "--bogus"],
    ["inventory", "--all", "--accounts", "123456789012"],
])
def test_bad_arguments_exit_2_like_dsshare_run(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    with pytest.raises(SystemExit) as run_info:
        main(["run", "--bogus"])
    assert run_info.value.code == info.value.code
    assert "dsshare" in capsys.readouterr().err


def test_without_credentials_the_real_cause_is_said_once(aws_env: Sandbox, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_CONFIG_FILE=str(tmp_path / "none"))
    done = dsshare("inventory", "--all", "--regions", "us-east-1", "--out", str(tmp_path / "inv"),
                   "--no-progress", env=env)
    assert done.returncode == 1, done.stderr
    assert done.stderr.lower().count("organization") <= 1, done.stderr
    assert done.stderr.count("NoCredentialsError") == 1 and "GetCallerIdentity" in done.stderr


def test_a_member_without_organization_access_reads_it_said_once(aws_env: Sandbox, tmp_path: Path) -> None:
    member = aws_env.account_id("prod-data")
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/{aws_env.manifest['role_name']}", RoleSessionName="cli-test"
    )["Credentials"]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
               AWS_SESSION_TOKEN=creds["SessionToken"])
    done = dsshare("inventory", "--regions", "us-east-1", "--out", str(tmp_path / "m"), "--no-progress", env=env)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "organization" in line.lower()]
    assert len(lines) == 1 and lines[0].startswith("Could not read the organization ("), done.stderr


def test_the_summary_lists_findings_by_severity_with_the_top_ones(
    aws_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inventory", "--all", "--regions", "us-east-1", "--out", str(tmp_path / "inv"),
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Inventory of 13 accounts × 1 Region (us-east-1), the whole organization in " in out
    assert "  findings: 1 (0 high, 1 medium, 0 low)" in out
    assert "    medium share_outside_organization: us-east-1 " in out and "999900000001" in out


def test_dsshare_run_inventory_report_summary_has_findings_and_drift(aws_env: Sandbox, aws, tmp_path: Path) -> None:
    from dsshare.connection import Connection
    from dsshare.inventory.collect import collect_inventory
    from dsshare.inventory.export import export_inventory
    from dsshare.runbooks.cli import format_result
    from dsshare.runbooks.execute import RunResult

    regions = ["us-east-1"]
    earlier = tmp_path / "runs" / "1-inventory_report" / "snapshot"
    export_inventory(collect_inventory(Connection(regions=regions), all_accounts=True), earlier)
    aws("ds").unshare_directory(DirectoryId=aws_env.directory_id("corp.example.com"),
                                UnshareTarget={"Id": aws_env.account_id("prod-app1"), "Type": "ACCOUNT"})
    folder = tmp_path / "runs" / "2-inventory_report"
    result = export_inventory(collect_inventory(Connection(regions=regions), all_accounts=True),
                              folder / "snapshot", compare=earlier)
    result.report.replace(folder / "report.html")  # where the runbook keeps it
    lines = format_result(RunResult(runbook="inventory_report", folder=folder,
                                    notebook=folder / "inventory_report.ipynb", exit_code=0))
    assert "findings: 1 (0 high, 1 medium, 0 low)" in lines
    assert any(line.startswith("  medium share_outside_organization: us-east-1 ") for line in lines), lines
    drift = [line for line in lines if line.startswith("compared with ")]
    assert len(drift) == 1 and drift[0].startswith(f"compared with {earlier} taken ")
    assert drift[0].endswith(": 0 new, 1 gone, 1 changed"), drift
