"""Throttled throughput: the inventory and the bulk share with a share of calls throttled.

Run ``python -m benchmarks.throttle_bench`` (part of ``make bench``). The sandbox runs in
its own process with 50 ms per call and, for the throttled runs, answers ``--throttle``
(default 20%) of all AWS calls with ThrottlingException, at random (seeded). Measured,
each in a fresh process and for each way of meeting throttles in ``--modes``:

- ``paced``: the kit's default, botocore's standard retries with :mod:`dsshare.pacing`
  (concurrency counted as calls in flight, an adaptive limit per account);
- ``standard``: botocore's standard retries alone (``Connection(pacing=False)``): each
  worker holds its slot while it sleeps out a backoff;
- ``adaptive``: botocore's adaptive mode alone (``retry_mode="adaptive"``, no pacing): a
  client-side token bucket per botocore client that slows down after throttles;

1. the org-wide inventory (the ``scale`` seed, 300 accounts x 3 Regions, 20 directories,
   2,000 share records; ``collect_inventory`` at concurrency 32): errors and time;
2. the bulk share (``benchmarks.bulk_share_bench``'s library phase: plan then apply with
   auto-accept, ``--share-accounts`` members, default 500): failed targets and time;

each against the same work unthrottled with the kit's defaults (and, to show pacing
costs nothing unthrottled, with pacing off). Targets: zero errors / failed
targets, and at most 2x the unthrottled time. Results go to
``benchmarks/results/throttle-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import bulk_share_bench
from benchmarks.harness import (
    PhaseFailed,
    SandboxProcess,
    log,
    new_report,
    org_sandbox,
    peak_rss_mb,
    run_measured,
    table,
    write_results,
)

DEFAULT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
#: mode -> (botocore retry mode, dsshare pacing)
MODES: dict[str, tuple[str, bool]] = {
    "paced": ("standard", True),
    "standard": ("standard", False),
    "adaptive": ("adaptive", False),
}
BASELINE = "paced 0%"


def phase_inventory(args: argparse.Namespace) -> dict[str, Any]:
    """In the child: one org-wide inventory with the asked-for retry mode."""
    from dsshare.connection import Connection
    from dsshare.inventory.collect import collect_inventory

    started = time.perf_counter()
    conn = Connection(
        regions=args.regions,
        retry_mode=args.retry_mode,
        max_pool_connections=max(args.concurrency, 10),
        pacing=args.pacing == "on",
    )
    inv = collect_inventory(conn, all_accounts=True, concurrency=args.concurrency)
    return {
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": peak_rss_mb(),
        "accounts": int(inv.accounts["in_scope"].sum()),
        "share_records": len(inv.shares),
        "errors": len(inv.errors),
        "error_codes": sorted(set(inv.errors["code"].astype(str))) if len(inv.errors) else [],
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """This scenario's command-line arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.throttle_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--throttle", type=float, default=0.2, help="share throttled (0.2)")
    parser.add_argument(
        "--rate", type=float, default=40.0,
        help="also run with AWS's kind of limit: this many calls per second per account x "
        "Region x operation (default 40; 0 skips)",
    )  # fmt: skip
    parser.add_argument(
        "--modes", nargs="+", choices=list(MODES), default=list(MODES),
        help="ways of meeting throttles to measure (default: all)",
    )  # fmt: skip
    parser.add_argument("--accounts", type=int, default=300, help="inventory: member accounts")
    parser.add_argument("--regions", nargs="+", default=DEFAULT_REGIONS)
    parser.add_argument("--directories", type=int, default=20)
    parser.add_argument("--shares", type=int, default=2000)
    parser.add_argument("--share-accounts", type=int, default=500, help="bulk share: members")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--skip-share", action="store_true", help="only the inventory")
    parser.add_argument(
        "--give-up-after",
        type=float,
        default=5.0,
        help="stop a throttled run after this many times the unthrottled time (default 5)",
    )
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results)")
    parser.add_argument("--phase", choices=["inventory"], help=argparse.SUPPRESS)
    parser.add_argument("--retry-mode", default="standard", help=argparse.SUPPRESS)
    parser.add_argument("--pacing", choices=["on", "off"], default="on", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.phase:
        print(json.dumps(phase_inventory(args)))
        return 0
    report = run(args)
    return 1 if report["errors"] else 0


def _record(report: dict[str, Any], work: str, label: str, result: dict[str, Any]) -> None:
    report["runs"].setdefault(work, {})[label] = result
    failed = result.get("errors", 0) if work == "inventory" else result.get("failed_targets", 0)
    if failed and label.startswith("paced "):
        # The kit's default failing a target is an error; another mode failing is what
        # it measures (shown in the table).
        report["errors"].append(f"{work} {label}: {failed} failed")
    log(
        f"  {work} {label}: {result['seconds']:.2f}s, {result['calls']} calls "
        f"({result['throttled_calls']} throttled), {failed} failed"
    )


def _cap(report: dict[str, Any], work: str, args: argparse.Namespace) -> float:
    """How long a throttled run may take: ``--give-up-after`` x the unthrottled run."""
    base = report["runs"].get(work, {}).get(BASELINE)
    return 3600.0 if base is None else max(60.0, args.give_up_after * base["wall_seconds"])


def _gave_up(report: dict[str, Any], work: str, label: str, seconds: float) -> None:
    """A mode too slow to finish: a measurement (recorded and printed), not an error."""
    report["runs"].setdefault(work, {})[label] = {"gave_up_after_seconds": seconds}
    log(f"  {work} {label}: stopped after {seconds:.0f}s, unfinished")


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    params = {k: v for k, v in vars(args).items() if k not in ("out", "phase", "retry_mode")}
    report = new_report("throttle", params, {})
    plan = runs_planned(args)
    log(f"throttled throughput: {args.throttle:.0%} of calls throttled; modes {args.modes}")
    with org_sandbox(
        args.accounts, args.regions, args.directories, args.shares, args.latency_ms
    ) as sb:
        for mode, label, rule in plan:
            sb.throttle_with(rule)
            command = [
                sys.executable, "-m", "benchmarks.throttle_bench", "--phase", "inventory",
                "--regions", *args.regions, "--concurrency", str(args.concurrency),
                "--retry-mode", MODES[mode][0], "--pacing", "on" if MODES[mode][1] else "off",
            ]  # fmt: skip
            try:
                result = run_measured(
                    command, sb, args.regions[0], timeout=_cap(report, "inventory", args)
                )
                _record(report, "inventory", label, result)
            except PhaseFailed as err:
                report["errors"].append(f"inventory {label}: {err}")
            except subprocess.TimeoutExpired as err:
                _gave_up(report, "inventory", label, err.timeout)
        sb.throttle(0)
    if not args.skip_share:
        options = [
            "scale", "--accounts", str(args.share_accounts), "--directories", "0",
            "--shares", "0", "--regions", bulk_share_bench.REGION,
        ]  # fmt: skip
        with (
            SandboxProcess(options, args.latency_ms) as sb,
            tempfile.TemporaryDirectory(prefix="dsshare-throttle-") as tmp,
        ):
            targets_file = Path(tmp) / "targets.json"
            for mode, label, rule in plan:
                directory, members, _ = bulk_share_bench.prepare(sb)
                targets_file.write_text(json.dumps(members))
                sb.throttle_with(rule)
                command = bulk_share_bench.child(
                    "library", directory, targets_file,
                    retry_mode=MODES[mode][0], pacing="on" if MODES[mode][1] else "off",
                )  # fmt: skip
                try:
                    result = run_measured(
                        command, sb, bulk_share_bench.REGION,
                        timeout=_cap(report, "bulk_share", args),
                    )  # fmt: skip
                    _record(report, "bulk_share", label, result)
                except PhaseFailed as err:
                    report["errors"].append(f"bulk_share {label}: {err}")
                except subprocess.TimeoutExpired as err:
                    _gave_up(report, "bulk_share", label, err.timeout)
                sb.throttle(0)
    report["ratios"] = ratios(report, args)
    report["total_seconds"] = time.perf_counter() - started
    print_report(report)
    print(f"results: {write_results('throttle', report, args.out)}")
    return report


def runs_planned(args: argparse.Namespace) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(mode, label, throttling rule) of each run: unthrottled, random, then rate-limited."""
    plan: list[tuple[str, str, dict[str, Any] | None]] = [
        ("paced", BASELINE, None), ("standard", "standard 0%", None)
    ]  # fmt: skip
    plan += [(m, f"{m} {args.throttle:.0%}", {"probability": args.throttle}) for m in args.modes]
    if args.rate:
        rule = {"rate": args.rate, "burst": args.rate}
        plan += [(m, f"{m} {args.rate:g}/s", rule) for m in args.modes]
    return plan


def ratios(report: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Each throttled run's time over the unthrottled one, and whether the targets hold."""
    out: dict[str, Any] = {}
    for work, runs in report["runs"].items():
        base = runs.get(BASELINE)
        if base is None:
            continue
        for mode in args.modes:
            label = f"{mode} {args.throttle:.0%}"
            if label in runs and "gave_up_after_seconds" in runs[label]:
                out[f"{work} {mode}"] = {
                    "vs_unthrottled": None,
                    "zero_failed": False,
                    "within_2x": False,
                    "gave_up_after_seconds": runs[label]["gave_up_after_seconds"],
                }
            elif label in runs:
                ratio = runs[label]["seconds"] / base["seconds"]
                failed = runs[label].get("errors" if work == "inventory" else "failed_targets", 0)
                out[f"{work} {mode}"] = {
                    "vs_unthrottled": round(ratio, 2),
                    "zero_failed": failed == 0,
                    "within_2x": ratio <= 2,
                }
    return out


def print_report(report: dict[str, Any]) -> None:
    rows: list[tuple[str, ...]] = [
        ("work", "mode, throttled", "seconds", "calls", "throttled", "failed", "vs paced 0%")
    ]
    for work, runs in report["runs"].items():
        base = runs.get(BASELINE)
        for label, r in runs.items():
            mode, share = label.split(" ")
            if "gave_up_after_seconds" in r:
                stopped = f"> {r['gave_up_after_seconds']:.0f} (stopped)"
                rows.append((work, f"{mode}, {share}", stopped, "-", "-", "-", "-"))
                continue
            failed = r.get("errors" if work == "inventory" else "failed_targets", 0)
            ratio = f"{r['seconds'] / base['seconds']:.2f}x" if base else "-"
            rows.append((work, f"{mode}, {share}", f"{r['seconds']:.2f}", str(r["calls"]),
                         str(r["throttled_calls"]), str(failed), ratio))  # fmt: skip
    print(table(rows))
    for name, r in report["ratios"].items():
        if r.get("gave_up_after_seconds"):
            print(f"target {name}: NOT met (unfinished after {r['gave_up_after_seconds']:.0f}s)")
            continue
        print(
            f"target {name}: zero failed {'met' if r['zero_failed'] else 'NOT met'}; "
            f"<= 2x unthrottled {'met' if r['within_2x'] else 'NOT met'} ({r['vs_unthrottled']}x)"
        )
    for error in report["errors"]:
        print(f"ERROR {error}")


if __name__ == "__main__":
    sys.exit(main())
