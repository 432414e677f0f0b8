"""``dsshare run`` as an adapter: parameter sources, refusals before any kernel, the summary.

No kernel starts in this file: papermill is replaced by a function that fails the test.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import papermill
import pytest

from dsshare.cli import main
from dsshare.runbooks import execute as execute_module
from dsshare.runbooks.cli import format_result
from dsshare.runbooks.execute import CellFailure, RunResult
from dsshare.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
SHARE_SANDBOX = str(REPO / "parameters" / "share_directory.sandbox.yaml")


@pytest.fixture
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything tries to execute a notebook."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)


def test_list_names_every_runbook(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("share_directory", "unshare_directory", "respond_to_invitations",
                 "reconcile_shares", "inventory_report"):  # fmt: skip
        assert name in out


def test_describe_shows_types_defaults_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--describe", "share_directory"]) == 0
    out = capsys.readouterr().out
    assert "dry_run" in out and "bool" in out and "True" in out
    assert "expected_plan" in out and "fingerprint" in out


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["run", "share_directory", "-f", SHARE_SANDBOX, "-p", "dryrun", "false"], "'dryrun'"),
        (["run", "share_directory", "-f", SHARE_SANDBOX, "-p", "dry_run", "maybe"], "dry_run"),
        (["run", "share_directory", "-f", SHARE_SANDBOX, "-p", "directory_id", "d-XYZ"], "directory_id"),
        (["run", "share_directory", "-f", SHARE_SANDBOX, "-p", "targets", "ou-ykem-nyith3cb,42"], "targets[1]"),
        (["run", "share_directory", "-f", SHARE_SANDBOX, "-p", "method", "EMAIL"], "method"),
        (["run", "share_directory", "-f", SHARE_SANDBOX, "-p", "wait_timeout_minutes", "-1"], "wait_timeout_minutes"),
        (["run", "share_directory", "-f", SHARE_SANDBOX, "-p", "expected_plan", "deadbeef"], "expected_plan"),
        (["run", "respond_to_invitations", "-p", "accounts", "ALL", "-p", "action", "ignore"], "action"),
        (["run", "inventory_report", "-p", "regions", "[us-east-1, moon-1]"], "regions[1]"),
        (["run", "no_such_runbook"], "runbook"),
        (["run"], "runbook"),
    ],
)
def test_bad_parameters_exit_2_naming_the_parameter_before_any_kernel(
    aws_env: Sandbox, no_kernel: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    argv: list[str], named: str,
) -> None:  # fmt: skip
    before = len(aws_env.request_log)
    out = tmp_path / "run"
    started = time.monotonic()
    assert main([*argv, "--out", str(out)]) == 2
    assert time.monotonic() - started < 2.0
    err = capsys.readouterr().err
    assert named in err
    assert not out.exists(), "no run folder (and so no notebook) for refused parameters"
    assert len(aws_env.request_log) == before, "no AWS call for refused parameters"


def test_a_bad_parameter_file_exits_2(no_kernel: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = tmp_path / "p.yaml"
    params.write_text("directory_id: d-1234567890\ntargets: [200000000004]\nauto_accept: yes please\n")
    assert main(["run", "share_directory", "-f", str(params)]) == 2
    assert "auto_accept" in capsys.readouterr().err


def test_an_unknown_profile_or_missing_region_exits_2(
    aws_env: Sandbox, no_kernel: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "share_directory", "-p", "directory_id", "d-1234567890", "-p", "targets", "200000000004"]
    assert main([*argv, "-p", "profile", "nobody"]) == 2
    assert "profile" in capsys.readouterr().err
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert main(argv) == 2
    assert "region" in capsys.readouterr().err


def test_an_unset_notes_variable_exits_2(aws_env: Sandbox, no_kernel: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "share_directory", "-f", SHARE_SANDBOX, "-p", "notes", "env:DSSHARE_TEST_UNSET"]) == 2
    assert "notes" in capsys.readouterr().err


def test_a_used_run_folder_is_refused(aws_env: Sandbox, no_kernel: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "earlier.ipynb").write_text("{}")
    assert main(["run", "share_directory", "-f", SHARE_SANDBOX, "--out", str(tmp_path)]) == 2
    assert "--out" in capsys.readouterr().err


def test_files_then_pairs_are_merged_and_handed_to_execute(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    def fake_execute(spec: Any, params: dict[str, Any], out: str | None = None, **_: Any) -> RunResult:
        seen.update(spec=spec.name, params=params, out=out)
        return RunResult(spec.name, tmp_path, tmp_path / "x.ipynb", 0, dry_run=True,
                         fingerprint="f" * 64, outcomes={"planned": 3}, plan_summary={"share": 3})  # fmt: skip

    monkeypatch.setattr(execute_module, "execute", fake_execute)
    override = tmp_path / "override.yaml"
    override.write_text("method: ORGANIZATIONS\nauto_accept: false\n")
    code = main(["run", "share_directory", "-f", SHARE_SANDBOX, "-f", str(override),
                 "-p", "wait_timeout_minutes", "5", "--out", str(tmp_path / "o")])  # fmt: skip
    assert code == 0
    params = seen["params"]
    assert (seen["spec"], seen["out"]) == ("share_directory", str(tmp_path / "o"))
    assert params["method"] == "ORGANIZATIONS" and params["auto_accept"] is False
    assert params["wait_timeout_minutes"] == 5.0
    assert params["directory_id"] == "d-ee89e990f1" and params["dry_run"] is True
    out = capsys.readouterr().out
    assert f"fingerprint: {'f' * 64}" in out
    assert "outcomes: planned 3" in out


def test_summary_shows_the_fingerprint_only_for_a_dry_run(tmp_path: Path) -> None:
    applied = RunResult("share_directory", tmp_path, tmp_path / "n.ipynb", 0, dry_run=False,
                        fingerprint="a" * 64, outcomes={"done": 2})  # fmt: skip
    assert not any(line.startswith("fingerprint:") for line in format_result(applied))
    dry = RunResult("share_directory", tmp_path, tmp_path / "n.ipynb", 0, dry_run=True, fingerprint="a" * 64)
    assert f"fingerprint: {'a' * 64}" in format_result(dry)


def test_a_cell_failure_reads_as_where_and_what() -> None:
    failure = CellFailure("PlanMismatchError", "The live plan differs.", "check", "3. Check the reviewed plan", 4)
    assert str(failure) == (
        'cell "check" (In [4], under "3. Check the reviewed plan") raised PlanMismatchError: '
        "The live plan differs."
    )


def test_the_runner_finds_the_committed_notebooks() -> None:
    assert execute_module.notebook_path("share_directory") == REPO / "notebooks" / "runbooks" / "share_directory.ipynb"


def test_no_runbook_names_the_runbooks_and_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "None" not in err and "no runbook named" in err
    assert "share_directory" in err and "dsshare run --list" in err


def test_interrupted_results_keep_what_finished_and_name_in_doubt_and_unstarted_calls(tmp_path: Path) -> None:
    from dsshare.runbooks.execute import interrupted_results

    share = {"DirectoryId": "d-1234567890", "ShareMethod": "HANDSHAKE"}
    intents = [
        {"call_id": "a", "account_id": "111111111111", "region": "us-east-1", "operation": "ShareDirectory",
         "parameters": {**share, "ShareTarget": {"Id": "200000000001", "Type": "ACCOUNT"}}},
        {"call_id": "b", "account_id": "111111111111", "region": "us-east-1", "operation": "ShareDirectory",
         "parameters": {**share, "ShareTarget": {"Id": "200000000002", "Type": "ACCOUNT"}}},
    ]  # fmt: skip
    (tmp_path / "audit.intents.jsonl").write_text("\n".join(json.dumps(i) for i in intents) + "\n")
    done = {**intents[0], "outcome": "done", "error_code": None}
    (tmp_path / "audit.jsonl").write_text(json.dumps(done) + "\n" + '{"cut short')
    plan_rows = [{"directory_id": "d-1234567890", "region": "us-east-1", "account_id": a, "action": "share",
                  "method": "HANDSHAKE"} for a in ("200000000001", "200000000002", "200000000003")]  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps({"fingerprint": "f", "rows": plan_rows}))
    rows = interrupted_results(tmp_path)
    assert [(r["account_id"], r["outcome"], r["error_code"]) for r in rows] == [
        ("200000000001", "done", None),
        ("200000000002", "in_doubt", None),
        ("200000000003", "skipped", "Interrupted"),
    ]


def test_a_plan_mismatch_lists_the_rows_that_changed() -> None:
    from dsshare.errors import PlanMismatchError
    from dsshare.model import row_changes

    reviewed = [{"directory_id": "d-1", "region": "us-east-1", "account_id": f"20000000000{i}",
                 "action": "share"} for i in range(12)]  # fmt: skip
    live = [dict(r, action="skip", share_status="Shared") for r in reviewed]
    err = PlanMismatchError("a" * 64, "b" * 64, row_changes(reviewed, live))
    text = str(err)
    assert "Rows that changed (12): 200000000000 (d-1, us-east-1): action share -> skip" in text
    assert text.count("action share -> skip") == 10 and "and 2 more" in text
