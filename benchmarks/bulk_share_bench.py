"""Bulk share at quota: one Enterprise directory shared by HANDSHAKE with auto-accept.

Run ``python -m benchmarks.bulk_share_bench`` (part of ``make bench``). It starts the
sandbox in its own process (``dsshare sandbox --seed scale --directories 0 --shares 0``,
``--accounts`` members, default 500: the Enterprise edition's sharing quota) with
injected latency on every call, adds one Enterprise directory to the management account
through the control API, then measures, each in a fresh process against a freshly
reseeded world:

1. ``library``: ``dsshare.plan`` then ``dsshare.apply(expected_fingerprint=...,
   auto_accept=True)`` (the apply is the figure; the plan is reported beside it);
2. ``dsshare run``: ``dsshare run share_directory`` as an operator runs it, a dry run then
   the apply with the reviewed fingerprint (``expected_plan``); the apply process is
   timed from outside, start to exit;
3. a kernel start (``jupyter_client``, the python3 kernel papermill starts), which is
   what ``dsshare run`` may add to the library's time;
4. ``sequential``: the loop an operator writes with boto3 (share, poll until
   PendingAcceptance, assume the consumer's role, accept, poll until Shared, one target
   after the other), over ``--sequential-sample`` targets and scaled to all of them (each
   target costs the same; ``--sequential-sample 0`` runs every target);
5. the lower bound: max(critical path, calls x latency / concurrency), the critical path
   being the apply's re-plan (its longest chain of dependent reads) then one target's
   ShareDirectory, the sandbox's Sharing -> PendingAcceptance transition delay,
   AcceptSharedDirectory and the DescribeSharedDirectories that sees Shared.

Results go to ``benchmarks/results/bulk-share-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    PhaseFailed,
    SandboxProcess,
    log,
    machine,
    peak_rss_mb,
    run_measured,
    table,
    write_results,
)

REGION = "us-east-1"
NOTES = "Bulk share benchmark: join the forest through the shared directory."
DIRECTORY_NAME = "bulk.bench.example.com"
TARGETS = {
    "library <= 1.5x the bound": "library_vs_bound",
    "dsshare run <= library + one kernel start": "run_vs_library",
    ">= 20x the sequential loop": "library_vs_sequential",
}


# -- phases (run inside a child process) ----------------------------------------------


def phase_library(args: argparse.Namespace) -> dict[str, Any]:
    import dsshare

    targets = json.loads(Path(args.targets_file).read_text())
    conn = dsshare.Connection(
        region=REGION, retry_mode=args.retry_mode, pacing=args.pacing == "on"
    )
    started = time.perf_counter()
    the_plan = dsshare.plan(conn, args.directory, targets, method="HANDSHAKE", notes=NOTES)
    planned = time.perf_counter()
    options: dict[str, Any] = {}
    if args.max_workers:
        options["max_workers"] = args.max_workers
    frame = dsshare.apply(
        conn,
        the_plan,
        expected_fingerprint=the_plan.fingerprint,
        auto_accept=True,
        progress=False,
        **options,
    )
    applied = time.perf_counter()
    return {
        "plan_seconds": planned - started,
        "seconds": applied - planned,
        "peak_rss_mb": peak_rss_mb(),
        "targets": len(frame),
        "outcomes": {str(k): int(v) for k, v in frame["outcome"].value_counts().items()},
        "share_statuses": {str(k): int(v) for k, v in frame["share_status"].value_counts().items()},
        "failed_targets": int((frame["outcome"] != "done").sum()),
    }


def _wait_status(ds: Any, directory_id: str, sid: str, wanted: str, interval: float) -> int:
    """Poll the owner's record until ``wanted``; return the number of polls."""
    polls = 0
    while True:
        polls += 1
        record = ds.describe_shared_directories(
            OwnerDirectoryId=directory_id, SharedDirectoryIds=[sid]
        )["SharedDirectories"][0]
        if record["ShareStatus"] == wanted:
            return polls
        if record["ShareStatus"] in ("ShareFailed", "Rejected", "Deleted"):
            raise RuntimeError(f"{sid} ended {record['ShareStatus']}")
        time.sleep(interval)


def phase_sequential(args: argparse.Namespace) -> dict[str, Any]:
    """What an operator writes with boto3: one target after the other, with its waits."""
    import boto3

    targets = json.loads(Path(args.targets_file).read_text())
    if args.sample:
        targets = targets[: args.sample]
    session = boto3.session.Session()
    ds = session.client("ds", region_name=REGION)
    sts = session.client("sts", region_name=REGION)
    started = time.perf_counter()
    polls = 0
    for account_id in targets:
        sid = ds.share_directory(
            DirectoryId=args.directory,
            ShareNotes=NOTES,
            ShareTarget={"Id": account_id, "Type": "ACCOUNT"},
            ShareMethod="HANDSHAKE",
        )["SharedDirectoryId"]
        polls += _wait_status(ds, args.directory, sid, "PendingAcceptance", args.poll_interval)
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
            RoleSessionName="bulk-share",
        )["Credentials"]
        consumer = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        ).client("ds", region_name=REGION)
        consumer.accept_shared_directory(SharedDirectoryId=sid)
        polls += _wait_status(ds, args.directory, sid, "Shared", args.poll_interval)
    return {
        "seconds": time.perf_counter() - started,
        "targets": len(targets),
        "polls": polls,
        "peak_rss_mb": peak_rss_mb(),
        "failed_targets": 0,
    }


def phase_kernel(args: argparse.Namespace) -> dict[str, Any]:
    """Start the python3 kernel papermill uses, wait until it answers, shut it down."""
    from jupyter_client.manager import start_new_kernel

    started = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=120)
    ready = time.perf_counter() - started
    client.stop_channels()
    manager.shutdown_kernel(now=True)
    return {"seconds": ready}


PHASES = {"library": phase_library, "sequential": phase_sequential, "kernel": phase_kernel}


# -- the driver ---------------------------------------------------------------------------


def prepare(sb: SandboxProcess) -> tuple[str, list[str], str]:
    """Reseed the world and add the Enterprise directory; return (directory, members, mgmt)."""
    sb.reset()
    manifest = sb.control("GET", "manifest")
    management = manifest["management_account_id"]
    directory = sb.control(
        "POST",
        "directories",
        {
            "account_id": management,
            "region": REGION,
            "name": DIRECTORY_NAME,
            "edition": "Enterprise",
        },
    )["id"]
    members = [a["id"] for a in manifest["accounts"] if a["id"] != management]
    return directory, members, management


def child(phase: str, directory: str, targets_file: Path, **options: Any) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.bulk_share_bench",
        "--phase",
        phase,
        "--directory",
        directory,
        "--targets-file",
        str(targets_file),
    ]
    for key, value in options.items():
        if value is not None:
            command += [f"--{key.replace('_', '-')}", str(value)]
    return command


def run_runbook(
    sb: SandboxProcess, directory: str, targets: list[str], folder: Path
) -> dict[str, Any]:
    """``dsshare run share_directory``: dry run, then apply with the reviewed fingerprint."""
    params = folder / "share.yaml"
    quoted = ", ".join(f'"{t}"' for t in targets)
    params.write_text(
        f'directory_id: "{directory}"\nregion: {REGION}\ntargets: [{quoted}]\n'
        "method: HANDSHAKE\nauto_accept: true\nnotes: env:DSSHARE_BENCH_NOTES\n"
        "wait_timeout_minutes: 30\n"
    )
    notes = {"DSSHARE_BENCH_NOTES": NOTES}
    base = [sys.executable, "-m", "dsshare.cli", "run", "share_directory", "-f", str(params)]
    dry = run_measured(
        [*base, "--out", str(folder / "dry")], sb, REGION, json_result=False, extra_env=notes
    )
    match = re.search(r"fingerprint: (\S+)", dry["stdout"])
    if match is None:
        raise PhaseFailed(f"the dry run printed no fingerprint:\n{dry['stdout'][-2000:]}")
    applied = run_measured(
        [
            *base,
            "-p",
            "dry_run",
            "false",
            "-p",
            "expected_plan",
            match.group(1),
            "--out",
            str(folder / "apply"),
        ],
        sb,
        REGION,
        json_result=False,
        extra_env=notes,
    )
    results = folder / "apply" / "results.csv"
    done = failed = 0
    if results.exists():
        with results.open() as handle:
            for row in csv.DictReader(handle):
                done += row["outcome"] == "done"
                failed += row["outcome"] != "done"
    applied.pop("stdout")
    run_json = folder / "apply" / "run.json"
    if run_json.exists():
        # The runbook's own clock: papermill's execution (kernel start included), so the rest
        # of the wall time is the command's start-up (imports) and exit.
        applied["execute_seconds"] = json.loads(run_json.read_text()).get("duration_seconds")
    notebook = folder / "apply" / "share_directory.ipynb"
    if notebook.exists():
        # papermill times every cell: where the runbook's time goes, cell by cell.
        cells = json.loads(notebook.read_text())["cells"]
        applied["cell_seconds"] = [
            {"cell": _cell_name(c), "seconds": c["metadata"].get("papermill", {}).get("duration")}
            for c in cells
            if c.get("cell_type") == "code"
        ]
    applied["dry_run_wall_seconds"] = dry["wall_seconds"]
    applied["seconds"] = applied["wall_seconds"]
    applied["done_targets"] = done
    applied["failed_targets"] = failed
    return applied


def _cell_name(cell: dict[str, Any]) -> str:
    """A cell's name for the breakdown: its first ``steps.`` call, else its first line."""
    lines = "".join(cell.get("source", "")).splitlines() or [""]
    return next((line for line in lines if "steps." in line), lines[0])[:60]


def critical_path(
    library: dict[str, Any], plan_chain_calls: int, latency_ms: float, transition_delay: float
) -> dict[str, Any]:
    """The apply's longest chain of dependent calls, and what it costs."""
    # The apply re-plans (reads that depend on each other), then one target's
    # ShareDirectory -> transition -> AcceptSharedDirectory -> DescribeSharedDirectories.
    calls = plan_chain_calls + 3
    return {"calls": calls, "seconds": calls * latency_ms / 1000 + transition_delay}


def plan_chain(calls_by_operation: dict[str, int]) -> int:
    """The longest chain of dependent calls of one plan, from the plan phase's calls.

    The organization is read page by page (ListAccounts pages depend on each other; the
    OU tree is shallower), while the directory and its records are read beside it.
    """
    list_accounts = calls_by_operation.get("ListAccounts", 0)
    directory_chain = 1 + max(calls_by_operation.get("DescribeSharedDirectories", 0), 1)
    return max(list_accounts, directory_chain) + 1  # + GetCallerIdentity before them


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """This scenario's command-line arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bulk_share_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--accounts", type=int, default=500, help="member accounts (default 500)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--transition-delay", type=float, default=0.2)
    parser.add_argument(
        "--max-workers", type=int, default=None, help="apply's max_workers (default: the library's)"
    )
    parser.add_argument("--retry-mode", default="standard", help="botocore retry mode")
    parser.add_argument(
        "--pacing", choices=["on", "off"], default="on", help="Connection(pacing=...) (on)"
    )
    parser.add_argument("--throttle", type=float, default=0.0, help="share of calls throttled")
    parser.add_argument(
        "--sequential-sample",
        type=int,
        default=50,
        help="targets the sequential loop runs, scaled to all (0: every target; default 50)",
    )
    parser.add_argument("--skip-runbook", action="store_true", help="skip dsshare run")
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results)")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    parser.add_argument("--targets-file", help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--poll-interval", type=float, default=0.25, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.phase:
        print(json.dumps(PHASES[args.phase](args)))
        return 0
    report = run(args)
    return 1 if report["errors"] else 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure every side of the scenario; print the table; write and return the report."""
    started = time.perf_counter()
    report: dict[str, Any] = {
        "scenario": "bulk_share",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "params": {
            k: v
            for k, v in vars(args).items()
            if k
            in (
                "accounts",
                "latency_ms",
                "transition_delay",
                "max_workers",
                "retry_mode",
                "throttle",
                "sequential_sample",
            )
        },
        "errors": [],
    }
    log(
        f"bulk share: {args.accounts} member accounts, HANDSHAKE + auto-accept, "
        f"{args.latency_ms:g} ms per call, throttle {args.throttle:.0%}"
    )
    sandbox_options = [
        "scale", "--accounts", str(args.accounts), "--directories", "0", "--shares", "0",
        "--regions", REGION, "--transition-delay", str(args.transition_delay),
    ]  # fmt: skip
    with (
        SandboxProcess(sandbox_options, args.latency_ms) as sb,
        tempfile.TemporaryDirectory(prefix="dsshare-bulk-") as tmp,
    ):
        folder = Path(tmp)
        targets_file = folder / "targets.json"

        def fresh() -> str:
            directory, members, _ = prepare(sb)
            targets_file.write_text(json.dumps(members))
            sb.throttle(args.throttle)
            return directory

        def measure(name: str, action: Any) -> dict[str, Any] | None:
            try:
                result: dict[str, Any] = action()
            except (PhaseFailed, subprocess.TimeoutExpired) as err:
                report["errors"].append(f"{name}: {err}")
                log(f"  {name} FAILED: {err}")
                return None
            report[name] = result
            if result.get("failed_targets"):
                report["errors"].append(f"{name}: {result['failed_targets']} failed targets")
            log(f"  {name}: {result['seconds']:.2f}s, {result.get('calls', '-')} calls")
            return result

        directory = fresh()
        library = measure(
            "library",
            lambda: run_measured(
                child("library", directory, targets_file, max_workers=args.max_workers,
                      retry_mode=args.retry_mode),
                sb, REGION,
            ),
        )  # fmt: skip
        # The plan's own calls, for the critical path: one more plan, measured alone.
        directory = fresh()
        sb.throttle(0)
        plan_calls = run_measured(
            [sys.executable, "-c", _PLAN_ONLY, directory, str(targets_file)], sb, REGION
        )
        report["plan_calls_by_operation"] = plan_calls["calls_by_operation"]
        if not args.skip_runbook:
            directory = fresh()
            measure("runbook", lambda: run_runbook(sb, directory, json.loads(
                targets_file.read_text()), folder))  # fmt: skip
            measure(
                "kernel_start",
                lambda: run_measured(
                    [sys.executable, "-m", "benchmarks.bulk_share_bench", "--phase", "kernel"],
                    sb, REGION,
                ),
            )  # fmt: skip
        if not args.skip_sequential:
            directory = fresh()
            sequential = measure(
                "sequential",
                lambda: run_measured(
                    child("sequential", directory, targets_file, sample=args.sequential_sample),
                    sb, REGION, timeout=7200,
                ),
            )  # fmt: skip
            if sequential is not None:
                scale = args.accounts / max(sequential["targets"], 1)
                sequential["measured_seconds"] = sequential["seconds"]
                sequential["seconds"] = sequential["seconds"] * scale
                sequential["scaled_from_targets"] = sequential["targets"]
    if library is not None:
        workers = args.max_workers or _library_default_workers()
        chain = critical_path(
            library, plan_chain(report["plan_calls_by_operation"]), args.latency_ms,
            args.transition_delay,
        )  # fmt: skip
        useful = library["calls"] - library["throttled_calls"]
        throughput = useful * args.latency_ms / 1000 / workers
        report["lower_bound"] = {
            "seconds": max(chain["seconds"], throughput),
            "critical_path_calls": chain["calls"],
            "critical_path_seconds": chain["seconds"],
            "throughput_seconds": throughput,
            "calls": useful,
            "concurrency": workers,
        }
        report["ratios"] = ratios(report)
    report["total_seconds"] = time.perf_counter() - started
    print_report(report, args)
    path = write_results("bulk-share", report, args.out)
    print(f"results: {path}")
    return report


_PLAN_ONLY = """
import json, sys
import dsshare
conn = dsshare.Connection(region="us-east-1")
targets = json.loads(open(sys.argv[2]).read())
dsshare.plan(conn, sys.argv[1], targets, method="HANDSHAKE")
print(json.dumps({"seconds": 0}))
"""


def _library_default_workers() -> int:
    import inspect

    import dsshare

    default = inspect.signature(dsshare.apply).parameters["max_workers"].default
    return int(default)


def ratios(report: dict[str, Any]) -> dict[str, Any]:
    library, bound = report["library"], report["lower_bound"]
    out: dict[str, Any] = {"library_vs_bound": library["seconds"] / bound["seconds"]}
    met: dict[str, bool] = {"library <= 1.5x the bound": out["library_vs_bound"] <= 1.5}
    if "sequential" in report:
        out["library_vs_sequential"] = report["sequential"]["seconds"] / library["seconds"]
        met[">= 20x the sequential loop"] = out["library_vs_sequential"] >= 20
    if "runbook" in report and "kernel_start" in report:
        # The runbook's apply run plans, then applies (re-planning): the same work as the
        # library's plan + apply, so that is what it is compared with.
        same_work = library["plan_seconds"] + library["seconds"]
        allowance = same_work + report["kernel_start"]["seconds"]
        out["run_minus_library_seconds"] = report["runbook"]["seconds"] - same_work
        out["run_vs_library_plus_kernel"] = report["runbook"]["seconds"] / allowance
        met["dsshare run <= library + one kernel start"] = out["run_vs_library_plus_kernel"] <= 1
    out["targets_met"] = met
    return out


def _cpu(result: dict[str, Any]) -> str:
    server = result.get("sandbox_cpu_seconds")
    return f"{result['process_cpu_seconds']:.1f} / " + ("-" if server is None else f"{server:.1f}")


def print_report(report: dict[str, Any], args: argparse.Namespace) -> None:
    rows: list[tuple[str, ...]] = [
        ("measure", "seconds", "calls", "CPU s client / sandbox", "note")
    ]
    if "library" in report:
        lib = report["library"]
        rows.append(
            (
                "library: apply (after its plan)",
                f"{lib['seconds']:.2f}",
                str(lib["calls"]),
                _cpu(lib),
                f"plan {lib['plan_seconds']:.2f}s; {lib['outcomes']}",
            )
        )
    if "runbook" in report:
        rb = report["runbook"]
        rows.append(
            (
                "dsshare run apply (process)",
                f"{rb['seconds']:.2f}",
                str(rb["calls"]),
                _cpu(rb),
                f"dry run {rb['dry_run_wall_seconds']:.2f}s; papermill + kernel "
                f"{rb.get('execute_seconds') or 0:.2f}s of it; "
                f"{rb['done_targets']} done, {rb['failed_targets']} failed",
            )
        )
    if "kernel_start" in report:
        rows.append(("kernel start", f"{report['kernel_start']['seconds']:.2f}", "-", "-", ""))
    if report.get("runbook", {}).get("cell_seconds"):
        cells = report["runbook"]["cell_seconds"]
        print(
            "dsshare run, seconds per runbook cell: "
            + "; ".join(f"{c['cell']!r} {c['seconds'] or 0:.2f}" for c in cells)
        )
    if "sequential" in report:
        seq = report["sequential"]
        rows.append(
            (
                "sequential boto3 loop",
                f"{seq['seconds']:.1f}",
                str(seq["calls"]),
                _cpu(seq),
                f"{seq['measured_seconds']:.1f}s for {seq['scaled_from_targets']} targets, scaled",
            )
        )
    if "lower_bound" in report:
        b = report["lower_bound"]
        rows.append(
            (
                f"lower bound (c={b['concurrency']})",
                f"{b['seconds']:.2f}",
                str(b["calls"]),
                "-",
                f"max(path {b['critical_path_calls']} calls + transition = "
                f"{b['critical_path_seconds']:.2f}s, calls/c = {b['throughput_seconds']:.2f}s)",
            )
        )
    print(table(rows))
    ratios_ = report.get("ratios", {})
    if ratios_:
        parts = [f"library {ratios_['library_vs_bound']:.2f}x the bound"]
        if "library_vs_sequential" in ratios_:
            parts.append(f"{ratios_['library_vs_sequential']:.1f}x faster than sequential")
        if "run_minus_library_seconds" in ratios_:
            parts.append(
                f"dsshare run = library plan + apply + {ratios_['run_minus_library_seconds']:.2f}s"
            )
        print("ratios: " + "; ".join(parts))
        print(
            "targets: "
            + "; ".join(
                f"{name}: {'met' if ok else 'NOT met'}"
                for name, ok in ratios_["targets_met"].items()
            )
        )
    for error in report["errors"]:
        print(f"ERROR {error}")


if __name__ == "__main__":
    sys.exit(main())
