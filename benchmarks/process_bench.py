"""The whole ``dsshare inventory`` process, timed from outside: start to exit.

Run ``python -m benchmarks.process_bench`` (part of ``make bench``). Against the same
``scale`` sandbox as ``benchmarks.inventory_bench`` (300 member accounts, 3 Regions, 20
directories, 2,000 share records, 50 ms per call, in its own process) it runs
``dsshare inventory --all --regions ... --out DIR --no-progress --timings`` in a fresh
process ``--repeat`` times (median reported), the report and snapshot written, and
reads the command's own ``--timings`` line for the breakdown (start-up, imports,
connect, collect, each output). One more run adds ``--xlsx --parquet`` to show what the
optional formats cost when asked for.

The target is the collection's lower bound x 1.5 + 0.5 s, the bound being
max(critical path x latency, calls x latency / concurrency) as in inventory_bench; the
critical path is GetCallerIdentity, the ListAccounts pages, AssumeRole,
DescribeDirectories and a directory's DescribeSharedDirectories pages.
Results go to ``benchmarks/results/process-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    PhaseFailed,
    log,
    new_report,
    org_sandbox,
    run_measured,
    table,
    write_results,
)

DEFAULT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def parse_timings(stdout: str) -> dict[str, float]:
    """The ``timings:`` line of ``dsshare inventory --timings``, as step -> seconds."""
    for line in stdout.splitlines():
        if line.strip().startswith("timings: "):
            parts = line.strip()[len("timings: ") :].split(", ")
            return {p.rsplit(" ", 1)[0]: float(p.rsplit(" ", 1)[1].rstrip("s")) for p in parts}
    return {}


def lower_bound(
    calls: dict[str, int], directories: int, latency_ms: float, concurrency: int
) -> dict[str, float]:
    """max(critical path x latency, calls x latency / concurrency), in seconds."""
    total = sum(calls.values())
    shared_pages = math.ceil(calls.get("DescribeSharedDirectories", 0) / max(directories, 1))
    chain = 1 + calls.get("ListAccounts", 0) + 1 + 1 + max(shared_pages, 1)
    latency = latency_ms / 1000
    return {
        "seconds": max(chain * latency, total * latency / concurrency),
        "critical_path_calls": chain,
        "throughput_seconds": total * latency / concurrency,
        "calls": total,
        "concurrency": concurrency,
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """This scenario's command-line arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.process_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--regions", nargs="+", default=DEFAULT_REGIONS)
    parser.add_argument("--directories", type=int, default=20)
    parser.add_argument("--shares", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    report = run(args)
    return 1 if report["errors"] else 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    report = new_report("process", {k: v for k, v in vars(args).items() if k != "out"}, [])
    log(
        f"whole inventory process: {args.accounts} accounts x {len(args.regions)} Regions, "
        f"{args.latency_ms:g} ms per call"
    )
    with (
        org_sandbox(
            args.accounts, args.regions, args.directories, args.shares, args.latency_ms
        ) as sb,
        tempfile.TemporaryDirectory(prefix="dsshare-process-") as tmp,
    ):

        def once(name: str, extra: list[str]) -> dict[str, Any] | None:
            out = Path(tmp) / name
            command = [
                sys.executable, "-m", "dsshare.cli", "inventory", "--all",
                "--regions", *args.regions, "--out", str(out), "--no-progress", "--timings",
                "--concurrency", str(args.concurrency), *extra,
            ]  # fmt: skip
            try:
                result = run_measured(command, sb, args.regions[0], json_result=False)
            except PhaseFailed as err:
                report["errors"].append(f"{name}: {err}")
                log(f"  {name} FAILED: {err}")
                return None
            result["timings"] = parse_timings(result.pop("stdout"))
            result["written"] = sorted(
                p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
            )
            if not {"report.html", "manifest.json"} <= set(result["written"]):
                report["errors"].append(f"{name}: report or snapshot missing")
            log(f"  {name}: {result['wall_seconds']:.2f}s, {result['calls']} calls")
            return result

        for n in range(max(args.repeat, 1)):
            result = once(f"run{n}", [])
            if result is not None:
                report["runs"].append(result)
        report["with_xlsx_parquet"] = once("formats", ["--xlsx", "--parquet"])
    runs = sorted(report["runs"], key=lambda r: r["wall_seconds"])
    if runs:
        median = runs[len(runs) // 2]
        report["median"] = median
        bound = lower_bound(
            median["calls_by_operation"], args.directories, args.latency_ms, args.concurrency
        )
        report["lower_bound"] = bound
        report["target_seconds"] = 1.5 * bound["seconds"] + 0.5
        report["targets_met"] = {
            "process <= 1.5x bound + 0.5 s": median["wall_seconds"] <= report["target_seconds"]
        }
    report["total_seconds"] = time.perf_counter() - started
    print_report(report)
    print(f"results: {write_results('process', report, args.out)}")
    return report


def print_report(report: dict[str, Any]) -> None:
    if "median" not in report:
        for error in report["errors"]:
            print(f"ERROR {error}")
        return
    median, bound = report["median"], report["lower_bound"]
    walls = [r["wall_seconds"] for r in report["runs"]]
    rows: list[tuple[str, ...]] = [("measure", "seconds", "calls", "CPU s client / sandbox")]
    rows.append((
        f"dsshare inventory, whole process (median of {len(walls)}: "
        f"{min(walls):.2f}-{max(walls):.2f})",
        f"{median['wall_seconds']:.2f}", str(median["calls"]),
        f"{median['process_cpu_seconds']:.1f} / {median.get('sandbox_cpu_seconds', 0):.1f}",
    ))  # fmt: skip
    formats = report.get("with_xlsx_parquet")
    if formats:
        rows.append((
            "  the same with --xlsx --parquet", f"{formats['wall_seconds']:.2f}",
            str(formats["calls"]),
            f"{formats['process_cpu_seconds']:.1f} / {formats.get('sandbox_cpu_seconds', 0):.1f}",
        ))  # fmt: skip
    rows.append(
        (
            f"lower bound of the collection (c={bound['concurrency']})",
            f"{bound['seconds']:.2f}",
            str(bound["calls"]),
            "-",
        )
    )
    rows.append(("target: 1.5 x bound + 0.5 s", f"{report['target_seconds']:.2f}", "-", "-"))
    print(table(rows))
    steps = dict(median["timings"])
    accounted = sum(steps.values())
    steps["exit (after the summary)"] = median["wall_seconds"] - accounted
    print("breakdown (median run): " + ", ".join(f"{k} {v:.2f}s" for k, v in steps.items()))
    if formats:
        extra = {k: v for k, v in formats["timings"].items() if k in ("snapshot", "xlsx")}
        print("with --xlsx --parquet: " + ", ".join(f"{k} {v:.2f}s" for k, v in extra.items()))
    for name, ok in report["targets_met"].items():
        print(
            f"target {name}: {'met' if ok else 'NOT met'} "
            f"({median['wall_seconds'] / bound['seconds']:.2f}x the bound)"
        )
    for error in report["errors"]:
        print(f"ERROR {error}")


if __name__ == "__main__":
    sys.exit(main())
