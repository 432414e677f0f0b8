"""Runbook scenarios in child processes: a run killed mid-apply and resumed, two runs at once.

Each scenario drives ``dsshare run share_directory`` exactly as an operator would (a child
process per run, papermill kernel included) against a sandbox, and returns what an auditor
would check: exit codes, the outcome of every target, the share records left, and the audit
files of every run folder.

A kill is a crash of the whole run: ``dsshare run`` and every process below it (the
papermill kernel runs in its own session and would otherwise go on applying), all by id,
with SIGKILL, so nothing gets to flush or clean up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsshare.errors import DsShareError

__all__ = ["RunOutcome", "descendants", "kill_run", "results_of", "run_share", "start_share"]


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children first), read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    pending = [pid]
    while pending:
        children = parents.get(pending.pop(), [])
        found.extend(children)
        pending.extend(children)
    return found


def kill_run(process: subprocess.Popen[str]) -> list[int]:
    """SIGKILL ``process`` and every process below it; return the ids killed."""
    victims = [process.pid, *descendants(process.pid)]
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue  # already gone
    process.wait(timeout=30)
    return victims


def _command(parameters: Path, out: Path, overrides: Sequence[tuple[str, str]]) -> list[str]:
    command = [sys.executable, "-m", "dsshare.cli", "run", "share_directory",
               "-f", str(parameters), "--out", str(out)]  # fmt: skip
    for key, value in overrides:
        command += ["-p", key, value]
    return command


def write_parameters(path: Path, parameters: Mapping[str, Any]) -> Path:
    """A parameters file for ``-f`` (JSON is YAML)."""
    path.write_text(json.dumps(dict(parameters), indent=1), encoding="utf-8")
    return path


def start_share(
    parameters: Path, out: Path, env: Mapping[str, str],
    overrides: Sequence[tuple[str, str]] = (),
) -> subprocess.Popen[str]:  # fmt: skip
    """Start ``dsshare run share_directory -f parameters --out out`` without waiting."""
    return subprocess.Popen(
        _command(parameters, out, overrides), env=dict(env), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


@dataclass
class RunOutcome:
    """What one ``dsshare run`` left: exit code, output and its results rows."""

    folder: Path
    exit_code: int
    stdout: str
    stderr: str
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def audit(self) -> Path:
        """The run's audit.jsonl."""
        return self.folder / "audit.jsonl"


def results_of(folder: Path) -> list[dict[str, Any]]:
    """results.json of a run folder ([] when the run wrote none)."""
    path = folder / "results.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = data if isinstance(data, list) else data.get("rows", [])
    return [dict(row) for row in rows]


def finish(process: subprocess.Popen[str], folder: Path, timeout: float = 300) -> RunOutcome:
    """Wait for a started run and collect its outcome."""
    stdout, stderr = process.communicate(timeout=timeout)
    return RunOutcome(folder, process.returncode, stdout, stderr, results_of(folder))


def run_share(
    parameters: Path, out: Path, env: Mapping[str, str],
    overrides: Sequence[tuple[str, str]] = (), timeout: float = 300,
) -> RunOutcome:  # fmt: skip
    """Run ``dsshare run share_directory`` to the end."""
    return finish(start_share(parameters, out, env, overrides), out, timeout)


def kill_when_audited(
    process: subprocess.Popen[str], audit: Path, lines: int, timeout: float = 120
) -> int:
    """SIGKILL the run once its audit file holds ``lines`` lines; return the lines seen.

    Raises DsShareError when the run ends (or the timeout passes) first: the crash must
    land in the middle of apply for the scenario to mean anything.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if audit.exists() and audit.read_bytes().count(b"\n") >= lines:
            kill_run(process)
            return audit.read_bytes().count(b"\n")
        if process.poll() is not None:
            raise DsShareError(f"the run ended (exit {process.returncode}) before the kill")
        time.sleep(0.005)
    kill_run(process)
    raise DsShareError(f"no {lines} audit lines within {timeout}s")
