"""The adopt_shares runbook, executed headless against the sandbox through ``dsshare run``.

It writes desired_state.yaml and terraform/ into its run folder, says how many shares it
adopted and how many records it listed as comments, changes nothing, and adopts from a
snapshot without any AWS call. Each kernel start costs seconds: two executions in all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import dsshare
from dsshare.cli import main
from dsshare.connection import Connection
from dsshare.desired import load_desired_state
from dsshare.errors import ParameterError
from dsshare.runbooks.catalog import get_runbook
from dsshare.runbooks.parameters import resolve_parameters
from dsshare.sandbox import Sandbox

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PARAMETERS = REPO / "parameters"
MUTATING = {"ShareDirectory", "UnshareDirectory", "AcceptSharedDirectory", "RejectSharedDirectory",
            "DeleteDirectory"}  # fmt: skip


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["run", "adopt_shares", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _results(folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((folder / "results.json").read_text())
    return rows


def test_adopt_shares_writes_both_outputs_counts_them_and_changes_nothing(
    aws_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = aws_env
    folder = tmp_path / "runs" / "20261130T120000Z-adopt_shares"
    code, out, err = _run(capsys, "-f", str(PARAMETERS / "adopt_shares.sandbox.yaml"), "--out", str(folder))
    assert code == 0, out + err
    assert "outcomes: adopted 3, commented 5" in out
    assert not [e for e in sb.request_log if e["operation"] in MUTATING]

    desired = folder / "desired_state.yaml"
    assert (folder / "terraform" / "providers.tf").is_file()
    shares_tf = (folder / "terraform" / "shared_directories.tf").read_text()
    assert shares_tf.count("import {") == 4  # 3 shares and the accepter of the HANDSHAKE one
    rows = _results(folder)
    assert sorted(r["outcome"] for r in rows) == ["adopted"] * 3 + ["commented"] * 5
    pending = [r for r in rows if r["share_status"] == "PendingAcceptance"]
    assert len(pending) == 3 and all("not accepted yet" in r["message"] for r in pending)
    assert all(r["account_id"] is None or isinstance(r["account_id"], str) for r in rows)
    notebook = (folder / "adopt_shares.ipynb").read_text()
    assert "3 share(s) adopted, 5 record(s) listed as comments" in notebook
    for path in folder.rglob("*"):
        if path.is_file():
            assert "Domain join for workloads" not in path.read_text(errors="replace"), path.name

    # The desired state it wrote plans nothing against the same state.
    regions = ["us-east-1", "eu-west-1"]
    plan = dsshare.plan_desired_state(Connection(regions=regions), load_desired_state(desired))
    assert plan.summary() == {"skip": 3}

    # Again from a snapshot, desired state only: no AWS call, and no Region needed.
    snapshot_run = tmp_path / "runs" / "20261130T120100Z-inventory_report" / "snapshot"
    main(["inventory", "--all", "--regions", *regions, "--out", str(snapshot_run), "--no-progress"])
    capsys.readouterr()
    before = len(sb.request_log)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    second = tmp_path / "runs" / "20261130T120200Z-adopt_shares"
    code, out, err = _run(
        capsys, "-p", "snapshot", str(snapshot_run.parent), "-p", "output_format", "desired",
        "--out", str(second),
    )  # fmt: skip
    assert code == 0, out + err
    assert "outcomes: adopted 3, commented 5" in out
    assert len(sb.request_log) == before, "adopting from a snapshot calls no AWS API"
    assert not (second / "terraform").exists()
    assert (second / "desired_state.yaml").read_text().split("version: 1")[1] == desired.read_text().split(
        "version: 1"
    )[1]


def test_adopt_shares_parameters_are_refused_before_any_kernel(
    aws_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = get_runbook("adopt_shares")
    for given, parameter in [
        ({"output_format": "hcl"}, "output_format"),
        ({"snapshot": str(tmp_path)}, "snapshot"),
        ({"snapshot": "latest", "accounts": ["200000000004"]}, "accounts"),
        ({"snapshot": "latest", "regions": ["us-east-1"]}, "regions"),
    ]:
        with pytest.raises(ParameterError) as caught:
            resolve_parameters(spec, [given])
        assert caught.value.parameter == parameter
    before = len(aws_env.request_log)
    code, _out, err = _run(capsys, "-p", "output_format", "yaml", "--out", str(tmp_path / "run"))
    assert code == 2 and "output_format" in err
    assert not (tmp_path / "run").exists()
    assert len(aws_env.request_log) == before
