"""``python -m tools.reliability`` (``make reliability``): one run, one table of figures.

Starts a demo sandbox in this process and runs, against it over HTTP:

1. chaos: a bulk HANDSHAKE share with auto-accept to 50 accounts and an inventory of 100
   accounts, each fault-free and then under 20% throttling, 5% server faults and latency
   jitter on Directory Service, Organizations and STS;
2. crash and resume: ``dsshare run share_directory`` SIGKILLed (with its kernel) mid-apply,
   then rerun with the same parameters;
3. concurrency: two share runs with overlapping targets at once;
4. hostile input: the corpus of :mod:`tools.reliability.hostile` through every entry point;
5. secrets: runs with planted credentials and ShareNotes, every file they left scanned.

Prints the figures and exits 1 if any must-be-zero figure is not zero.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from dsshare.audit import AuditLog
from dsshare.connection import Connection
from dsshare.model import ShareMethod, ShareStatus
from tools.reliability.chaos import (
    account_audit,
    duplicate_shares,
    inject_chaos,
    read_audit_lines,
    read_in_doubt,
    share_state,
    state_mismatches,
)

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Figures:
    """The table's figures, summed over scenarios."""

    faults_injected: int = 0
    operations_attempted: int = 0
    final_state_mismatches: int = 0
    duplicate_shares: int = 0
    audit_lines_lost: int = 0
    audit_lines_torn: int = 0
    audit_calls_in_doubt: int = 0
    hostile_inputs_tried: int = 0
    hostile_crashes: int = 0
    hostile_aws_calls_when_refused: int = 0
    hostile_values_reinterpreted: int = 0
    secret_files_scanned: int = 0
    secret_leaks_found: int = 0
    unfinished_jobs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    MUST_BE_ZERO = ("final_state_mismatches", "duplicate_shares", "audit_lines_lost",
                    "audit_lines_torn", "hostile_crashes", "hostile_aws_calls_when_refused",
                    "hostile_values_reinterpreted", "secret_leaks_found", "unfinished_jobs")  # fmt: skip

    def failures(self) -> list[str]:
        return [name for name in self.MUST_BE_ZERO if getattr(self, name)]


def _environment(sb: Any) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "DSSHARE_GUARDRAILS"):
        os.environ.pop(name, None)
    os.environ.update({
        "AWS_ENDPOINT_URL": sb.endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    })  # fmt: skip


def _count_log(sb: Any, figures: Figures) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = sb.request_log
    figures.operations_attempted += len(log)
    figures.faults_injected += sum(1 for entry in log if entry["injected"])
    return log


def chaos_share(sb: Any, work: Path, figures: Figures) -> None:
    import dsshare

    targets = [f"4000000{i:05d}" for i in range(50)]
    directory = sb.directory_id("global.example.com")
    states = []
    for chaos in (False, True):
        sb.reset()
        if chaos:
            inject_chaos(sb)
        audit_path = work / f"chaos-share-{chaos}.jsonl"
        with AuditLog(audit_path) as audit:
            frame = dsshare.share(Connection(), directory, targets, auto_accept=True,
                                  allow_external=True, audit=audit, progress=False, timeout=300)
        log = _count_log(sb, figures)
        sb.clear_faults()
        sb.set_latency(0)
        state = share_state(Connection(), directory)
        states.append(state)
        figures.unfinished_jobs += int((frame["share_status"] != ShareStatus.SHARED).sum())
        figures.duplicate_shares += sum(n - 1 for n in duplicate_shares(state).values())
        lines, torn = read_audit_lines([audit_path])
        accounting = account_audit(log, lines)
        figures.audit_lines_lost += accounting.lost + accounting.extra
        figures.audit_lines_torn += torn
    figures.final_state_mismatches += len(state_mismatches(states[0], states[1]))


def chaos_inventory(sb: Any, figures: Figures) -> None:
    import pandas as pd

    from dsshare.inventory.collect import collect_inventory

    sb.reset()
    org = boto3.client("organizations", endpoint_url=sb.endpoint_url)
    for i in range(100 - len(sb.manifest["accounts"])):
        org.create_account(Email=f"chaos-{i}@example.com", AccountName=f"chaos-{i:03d}")
    frames = []
    for chaos in (False, True):
        sb.clear_request_log()
        if chaos:
            inject_chaos(sb)
        inventory = collect_inventory(Connection(regions=["us-east-1", "eu-west-1"]),
                                      all_accounts=True)  # fmt: skip
        _count_log(sb, figures)
        sb.clear_faults()
        sb.set_latency(0)
        figures.unfinished_jobs += 0 if inventory.complete else 1
        volatile = {"LaunchTime", "CreatedDateTime", "LastUpdatedDateTime", "JoinedTimestamp"}
        frames.append({
            name: getattr(inventory, name).drop(columns=[c for c in volatile if c in
                                                         getattr(inventory, name).columns])
            .astype(str).sort_values(list(getattr(inventory, name).columns[:3]))
            .reset_index(drop=True)
            for name in ("directories", "shares", "accounts", "organizational_units")
        })  # fmt: skip
    for name, frame in frames[0].items():
        other: pd.DataFrame = frames[1][name]
        if not frame.equals(other):
            figures.final_state_mismatches += max(1, len(frame.compare(other))
                                                  if frame.shape == other.shape else 1)


def crash_and_resume(sb: Any, work: Path, figures: Figures) -> None:
    from tools.reliability.runs import kill_when_audited, run_share, start_share, write_parameters

    sb.reset()
    directory = sb.directory_id("global.example.com")
    targets = [f"4100000{i:05d}" for i in range(20)]
    before = share_state(Connection(), directory)
    parameters = write_parameters(work / "crash.yaml", {
        "directory_id": directory, "targets": targets, "auto_accept": True,
        "allow_external": True, "dry_run": False, "notes": "crash test",
        "wait_timeout_minutes": 3,
    })  # fmt: skip
    sb.set_latency(100, jitter_ms=50)
    first = start_share(parameters, work / "crash1", os.environ)
    kill_when_audited(first, work / "crash1" / "audit.jsonl", lines=5)
    sb.set_latency(0)
    rerun = run_share(parameters, work / "crash2", os.environ)
    log = _count_log(sb, figures)
    after = share_state(Connection(), directory)
    audits = [work / "crash1" / "audit.jsonl", work / "crash2" / "audit.jsonl"]
    lines, torn = read_audit_lines(audits)
    doubtful, torn_intents = read_in_doubt(audits)
    accounting = account_audit(log, lines, doubtful)
    figures.audit_lines_lost += accounting.lost + accounting.extra
    figures.audit_lines_torn += torn + torn_intents
    figures.audit_calls_in_doubt += len(doubtful)
    figures.duplicate_shares += sum(n - 1 for n in duplicate_shares(after).values())
    figures.unfinished_jobs += 0 if rerun.exit_code == 0 else 1
    expected = dict(before.records)
    expected.update({a: ((ShareStatus.SHARED, ShareMethod.HANDSHAKE),) for a in targets})
    figures.final_state_mismatches += sum(
        1 for a in set(expected) | set(after.records) if expected.get(a) != after.records.get(a)
    )


def concurrent_runs(sb: Any, work: Path, figures: Figures) -> None:
    from tools.reliability.runs import finish, start_share, write_parameters

    sb.reset()
    directory = sb.directory_id("global.example.com")
    targets = [f"4200000{i:05d}" for i in range(20)]
    common = {"directory_id": directory, "auto_accept": True, "allow_external": True,
              "dry_run": False, "wait_timeout_minutes": 3}  # fmt: skip
    a_params = write_parameters(work / "a.yaml", {**common, "targets": targets[:14]})
    b_params = write_parameters(work / "b.yaml", {**common, "targets": targets[6:]})
    sb.set_latency(100, jitter_ms=50)
    started = [start_share(a_params, work / "race-a", os.environ),
               start_share(b_params, work / "race-b", os.environ)]  # fmt: skip
    runs = [finish(started[0], work / "race-a"), finish(started[1], work / "race-b")]
    sb.set_latency(0)
    log = _count_log(sb, figures)
    state = share_state(Connection(), directory)
    figures.duplicate_shares += sum(n - 1 for n in duplicate_shares(state).values())
    figures.final_state_mismatches += sum(
        1 for a in targets if state.records.get(a) != ((ShareStatus.SHARED, ShareMethod.HANDSHAKE),)
    )
    figures.unfinished_jobs += sum(
        1 for run in runs for row in run.results if row["outcome"] not in ("done", "skipped")
    ) + sum(1 for run in runs if run.exit_code != 0)
    lines, torn = read_audit_lines([run.audit for run in runs])
    accounting = account_audit(log, lines)
    figures.audit_lines_lost += accounting.lost + accounting.extra
    figures.audit_lines_torn += torn


def hostile(sb: Any, work: Path, figures: Figures) -> None:
    from tools.reliability.hostile import reader_trials, run_corpus

    sb.reset()
    trials = run_corpus(Connection(), sb, sb.directory_id("global.example.com"), "200000000004",
                        work)  # fmt: skip
    figures.hostile_inputs_tried += len(trials)
    figures.hostile_crashes += sum(1 for t in trials if t.verdict.verdict == "crash")
    figures.hostile_aws_calls_when_refused += sum(1 for t in trials if t.called_aws_when_refused)
    read = reader_trials(work)
    figures.hostile_inputs_tried += len(read)
    figures.hostile_crashes += sum(1 for t in read if t.verdict.verdict == "crash")
    figures.hostile_values_reinterpreted += sum(1 for t in read if not t.faithful)


def secrets(sb: Any, work: Path, figures: Figures) -> None:
    import subprocess

    from tools.reliability.leaks import planted_environment, scan_paths

    sb.reset()
    notes = "Canary-ShareNotes-7f3a: PIN 4242"
    env = dict(os.environ, **planted_environment())
    folder = work / "secrets"
    folder.mkdir()
    logs = folder / "console.log"
    params = str(REPO / "parameters" / "share_directory.sandbox.yaml")
    commands = [
        ["run", "share_directory", "-f", params, "-p", "dry_run", "false", "-p", "notes", notes,
         "--out", str(folder / "share")],
        ["inventory", "--all", "--regions", "us-east-1,eu-west-1", "--out",
         str(folder / "inventory"), "--no-progress"],
    ]  # fmt: skip
    for argv in commands:
        done = subprocess.run([sys.executable, "-m", "dsshare.cli", *argv], env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        logs.write_text(logs.read_text() + done.stdout + done.stderr if logs.exists()
                        else done.stdout + done.stderr)  # fmt: skip
        figures.unfinished_jobs += 0 if done.returncode == 0 else 1
    _count_log(sb, figures)
    scanned, leaks = scan_paths([folder], {"ShareNotes text": notes})
    figures.secret_files_scanned += scanned
    figures.secret_leaks_found += len(leaks)


SCENARIOS = ("chaos-share", "chaos-inventory", "crash", "concurrency", "hostile", "secrets")


def table(figures: Figures) -> str:
    rows = [
        ("faults injected", figures.faults_injected),
        ("operations attempted (AWS requests, retries included)", figures.operations_attempted),
        ("final-state mismatches", figures.final_state_mismatches),
        ("duplicate shares", figures.duplicate_shares),
        ("audit lines lost or torn", figures.audit_lines_lost + figures.audit_lines_torn),
        ("  calls left in doubt by the kill (intent, no outcome)", figures.audit_calls_in_doubt),
        ("unfinished jobs", figures.unfinished_jobs),
        ("hostile inputs tried", figures.hostile_inputs_tried),
        ("  crashes (not a DsShareError)", figures.hostile_crashes),
        ("  AWS calls made for refused input", figures.hostile_aws_calls_when_refused),
        ("  values read as other than typed", figures.hostile_values_reinterpreted),
        ("files scanned for secrets", figures.secret_files_scanned),
        ("secret leaks found", figures.secret_leaks_found),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{'figure':<{width}}  value", f"{'-' * width}  -----"]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    lines.append("time: " + ", ".join(f"{k} {v:.0f}s" for k, v in figures.seconds.items()))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reliability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these scenarios")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    from dsshare.sandbox import Sandbox

    chosen = args.only or list(SCENARIOS)
    figures = Figures()
    with Sandbox(seed="demo", transition_delay=0.05) as sb, \
            tempfile.TemporaryDirectory(prefix="dsshare-reliability-") as tmp:  # fmt: skip
        _environment(sb)
        work = Path(tmp)
        steps = {
            "chaos-share": lambda: chaos_share(sb, work, figures),
            "chaos-inventory": lambda: chaos_inventory(sb, figures),
            "crash": lambda: crash_and_resume(sb, work, figures),
            "concurrency": lambda: concurrent_runs(sb, work, figures),
            "hostile": lambda: hostile(sb, work, figures),
            "secrets": lambda: secrets(sb, work, figures),
        }
        for name in chosen:
            started = time.monotonic()
            print(f"running {name}...", file=sys.stderr, flush=True)
            steps[name]()
            figures.seconds[name] = time.monotonic() - started
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(vars(figures), indent=1) + "\n")
    failed = figures.failures()
    if failed:
        print("NOT ZERO: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
