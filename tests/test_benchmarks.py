"""The benchmark scripts run end to end at a few accounts, so they do not rot.

These are not timed tests: nothing here asserts a duration. Each scenario runs as
``make bench`` runs it (its own sandbox process, measured child processes), at tiny
sizes, and the test checks what an operator reads: the exit code, the table and the
JSON results.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks import (
    __main__ as runner,
)
from benchmarks import (
    bulk_share_bench,
    inventory_bench,
    process_bench,
    scale_bench,
    throttle_bench,
)

pytestmark = pytest.mark.slow


def _results(folder: Path, prefix: str) -> dict:
    (path,) = folder.glob(f"{prefix}-*.json")
    return json.loads(path.read_text())


def test_bulk_share_bench_shares_and_accepts_every_target_every_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*runner.TINY["bulk_share"], "--out", str(tmp_path)]
    assert bulk_share_bench.main(argv) == 0
    report = _results(tmp_path, "bulk-share")
    assert report["library"]["outcomes"] == {"done": 5}
    assert report["library"]["share_statuses"] == {"Shared": 5}
    assert report["runbook"]["done_targets"] == 5 and report["runbook"]["failed_targets"] == 0
    assert any("apply_plan" in c["cell"] for c in report["runbook"]["cell_seconds"])
    assert report["sequential"]["scaled_from_targets"] == 2
    assert report["lower_bound"]["calls"] == report["library"]["calls"]
    assert report["machine"]["load_average"]
    printed = capsys.readouterr().out
    for row in ("library: apply", "dsshare run apply", "kernel start", "sequential", "lower bound"):
        assert row in printed


def test_process_bench_times_the_command_and_reads_its_breakdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert process_bench.main([*runner.TINY["process"], "--out", str(tmp_path)]) == 0
    report = _results(tmp_path, "process")
    median = report["median"]
    assert {"report.html", "manifest.json", "shares.csv"} <= set(median["written"])
    assert "inventory.xlsx" not in median["written"]
    assert "inventory.xlsx" in report["with_xlsx_parquet"]["written"]
    assert {"start-up", "collect", "snapshot", "report"} <= set(median["timings"])
    assert "breakdown (median run): start-up" in capsys.readouterr().out


def test_throttle_bench_reads_everything_despite_throttling(tmp_path: Path) -> None:
    argv = [*runner.TINY["throttle"], "--modes", "paced", "standard", "--out", str(tmp_path)]
    assert throttle_bench.main(argv) == 0
    report = _results(tmp_path, "throttle")
    for mode in ("paced", "standard"):
        throttled = report["runs"]["inventory"][f"{mode} 20%"]
        assert throttled["throttled_calls"] > 0 and throttled["errors"] == 0
        assert report["runs"]["bulk_share"][f"{mode} 20%"]["failed_targets"] == 0
    assert set(report["ratios"]) == {
        "inventory paced", "inventory standard", "bulk_share paced", "bulk_share standard"
    }  # fmt: skip


def test_scale_bench_reports_each_size(tmp_path: Path) -> None:
    assert scale_bench.main([*runner.TINY["scale"], "--out", str(tmp_path)]) == 0
    report = _results(tmp_path, "scale")
    assert [r["members"] for r in report["runs"]] == [5, 10]
    assert all(r["errors"] == 0 for r in report["runs"])
    assert set(report["growth"]["seconds_per_account_vs_smallest"]) == {"5", "10"}


def test_inventory_bench_runs_at_five_accounts(tmp_path: Path) -> None:
    assert inventory_bench.main([*runner.TINY["inventory"], "--out", str(tmp_path)]) == 0
    report = _results(tmp_path, "inventory")
    assert report["kit"]["errors"] == 0 and report["kit"]["accounts"] == 6
    assert report["sequential"]["calls"] == report["kit"]["calls"] - 1


def test_the_runner_exits_1_when_a_scenario_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The scale seed refuses 1 account: the sandbox does not start, the scenario errors.
    monkeypatch.setitem(runner.TINY, "scale", ["--sizes", "1"])
    assert runner.main(["--tiny", "--only", "scale", "--out", str(tmp_path)]) == 1
    printed = capsys.readouterr().out
    assert "=== summary ===" in printed and "ERROR 1 accounts" in printed
    summary = _results(tmp_path, "run")
    assert summary["errors"]["scale"]
