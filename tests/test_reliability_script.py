"""``make reliability`` (``python -m tools.reliability``) prints its table from one run and
fails when a must-be-zero figure is not zero. Run here in a child process: the script starts
its own sandbox, and moto's state is per process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tools.reliability.__main__ import Figures, table

pytestmark = pytest.mark.slow


def test_the_hostile_scenario_prints_the_table_and_writes_the_figures(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.reliability", "--only", "hostile",
         "--json", str(tmp_path / "figures.json")],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "hostile inputs tried" in done.stdout and "secret leaks found" in done.stdout
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["hostile_inputs_tried"] > 400
    assert figures["hostile_crashes"] == 0 and figures["hostile_aws_calls_when_refused"] == 0


def test_a_non_zero_must_be_zero_figure_is_a_failure() -> None:
    assert Figures().failures() == []
    assert Figures(duplicate_shares=1, secret_leaks_found=2).failures() == [
        "duplicate_shares", "secret_leaks_found"]
    text = table(Figures(faults_injected=7))
    for name in ("faults injected", "operations attempted", "final-state mismatches",
                 "duplicate shares", "audit lines lost or torn", "hostile inputs tried",
                 "crashes", "secret leaks found"):  # fmt: skip
        assert name in text
