"""Scale: the inventory of ever larger organizations, 1 Region, time and peak memory.

Run ``python -m benchmarks.scale_bench`` (``make bench-scale``; ``make bench`` runs it
with ``BENCH_SCALE``). For each size in ``--sizes`` (default 1,000, 2,000, 5,000 and
10,000 member accounts) it starts ``dsshare sandbox --seed scale`` at that size in its
own process, with injected latency, and collects the whole organization with
``dsshare.inventory.collect_inventory`` in a fresh process (the kit phase of
``benchmarks.inventory_bench``), recording the time, the client's peak RSS, the CPU of
both processes, the calls and the errors. Then it fits how time and memory grow with the
number of accounts (the ratio of each step's per-account cost to the first).
Results go to ``benchmarks/results/scale-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    PhaseFailed,
    SandboxProcess,
    log,
    new_report,
    org_sandbox,
    run_measured,
    table,
    write_results,
)

REGION = "us-east-1"
MEMORY_TARGET_MB = 600


def measure_size(accounts: int, args: argparse.Namespace) -> dict[str, Any]:
    with org_sandbox(accounts, [REGION], args.directories, args.shares, args.latency_ms) as sb:
        seeded = sb.start_seconds
        command = [
            sys.executable, "-m", "benchmarks.inventory_bench", "--phase", "kit",
            "--regions", REGION, "--concurrency", str(args.concurrency),
        ]  # fmt: skip
        result = run_measured(command, sb, REGION, memory_limit_gb=args.memory_limit_gb)
        result["sandbox_start_seconds"] = seeded
        result["sandbox_peak_rss_mb"] = _peak_rss_of(sb)
    result["members"] = accounts
    return result


def _peak_rss_of(sb: SandboxProcess) -> float | None:
    if sb.proc is None:
        return None
    try:
        for line in Path(f"/proc/{sb.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def growth(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-account cost at each size relative to the smallest: ~1.0 everywhere is linear."""
    ok = [r for r in results if "failed" not in r]
    if len(ok) < 2:
        return {}
    first = ok[0]
    return {
        "seconds_per_account_vs_smallest": {
            str(r["members"]): round(
                (r["seconds"] / r["members"]) / (first["seconds"] / first["members"]), 2
            )
            for r in ok
        },
        "rss_mb_added_per_1000_accounts": round(
            (ok[-1]["peak_rss_mb"] - first["peak_rss_mb"])
            / ((ok[-1]["members"] - first["members"]) / 1000),
            1,
        ),
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """This scenario's command-line arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scale_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000],
        help="member accounts per run (default 1000 2000 5000 10000)",
    )  # fmt: skip
    parser.add_argument("--directories", type=int, default=20)
    parser.add_argument("--shares", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--memory-limit-gb", type=float, default=8.0)
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    report = run(args)
    return 1 if report["errors"] else 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    report = new_report("scale", {k: v for k, v in vars(args).items() if k != "out"}, [])
    for size in args.sizes:
        log(f"scale: {size} member accounts x 1 Region, {args.latency_ms:g} ms per call ...")
        try:
            result = measure_size(size, args)
        except (PhaseFailed, RuntimeError) as err:  # RuntimeError: the sandbox did not start
            report["errors"].append(f"{size} accounts: {err}")
            report["runs"].append({"members": size, "failed": str(err)})
            log(f"  FAILED: {err}")
            continue
        if result["errors"]:
            report["errors"].append(f"{size} accounts: {result['errors']} inventory errors")
        report["runs"].append(result)
        log(
            f"  {result['seconds']:.1f}s, {result['calls']} calls, {result['errors']} errors, "
            f"peak RSS {result['peak_rss_mb']:.0f} MB (sandbox seeded in "
            f"{result['sandbox_start_seconds']:.0f}s)"
        )
    report["growth"] = growth(report["runs"])
    largest = [r for r in report["runs"] if "failed" not in r]
    if largest:
        report["targets_met"] = {
            f"peak RSS <= {MEMORY_TARGET_MB} MB at {largest[-1]['members']}": (
                largest[-1]["peak_rss_mb"] <= MEMORY_TARGET_MB
            ),
            "zero errors": not report["errors"],
        }
    report["total_seconds"] = time.perf_counter() - started
    print_report(report)
    print(f"results: {write_results('scale', report, args.out)}")
    return report


def print_report(report: dict[str, Any]) -> None:
    rows: list[tuple[str, ...]] = [
        ("accounts", "seconds", "s per 1,000", "calls", "errors", "peak RSS MB",
         "CPU s client / sandbox", "sandbox RSS MB")
    ]  # fmt: skip
    for r in report["runs"]:
        if "failed" in r:
            rows.append((f"{r['members']:,}", "FAILED", "-", "-", "-", "-", "-", "-"))
            continue
        sandbox_rss = r.get("sandbox_peak_rss_mb")
        rows.append((
            f"{r['accounts']:,}", f"{r['seconds']:.1f}",
            f"{r['seconds'] / r['members'] * 1000:.2f}", str(r["calls"]), str(r["errors"]),
            f"{r['peak_rss_mb']:.0f}",
            f"{r['process_cpu_seconds']:.1f} / {r.get('sandbox_cpu_seconds', 0):.1f}",
            "-" if sandbox_rss is None else f"{sandbox_rss:.0f}",
        ))  # fmt: skip
    print(table(rows))
    g = report.get("growth")
    if g:
        per = ", ".join(f"{k}: {v}x" for k, v in g["seconds_per_account_vs_smallest"].items())
        print(f"time per account vs the smallest run: {per} (1.0 everywhere = linear)")
        print(f"peak RSS grows {g['rss_mb_added_per_1000_accounts']} MB per 1,000 accounts")
    for name, ok in report.get("targets_met", {}).items():
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    for error in report["errors"]:
        print(f"ERROR {error}")


if __name__ == "__main__":
    sys.exit(main())
