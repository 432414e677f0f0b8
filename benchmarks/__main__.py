"""Every benchmark scenario in one run, side by side: ``python -m benchmarks`` (``make bench``).

Runs, one after the other (each starts its own sandbox process):

1. ``inventory``: the collection inside one process vs a sequential boto3 loop vs the
   lower bound (``benchmarks.inventory_bench``);
2. ``process``: the whole ``dsshare inventory`` process timed from outside
   (``benchmarks.process_bench``);
3. ``bulk_share``: 500 accounts by HANDSHAKE with auto-accept through the library and
   ``dsshare run`` vs a sequential loop vs the bound (``benchmarks.bulk_share_bench``);
4. ``throttle``: both with 20% of calls throttled: the kit's pacing vs botocore standard vs adaptive retries
   (``benchmarks.throttle_bench``);
5. ``scale``: 1,000 to 10,000 accounts x 1 Region, time and peak memory
   (``benchmarks.scale_bench``); ``--skip scale`` (``make bench-quick``) leaves it out.

Each scenario prints its own table and writes its JSON under ``benchmarks/results/``; a
summary follows, and this writes ``run-<UTC time>.json`` naming every result. Exit code:
1 if any scenario had an error (a failed process, failed targets, inventory errors),
else 0. Missed performance targets are reported, not errors: these are benchmarks.
``--tiny`` runs every scenario at a few accounts (what the tests do).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import (
    bulk_share_bench,
    inventory_bench,
    process_bench,
    scale_bench,
    throttle_bench,
)
from benchmarks.harness import RESULTS, log, machine, table, write_results

SCENARIOS = ("inventory", "process", "bulk_share", "throttle", "scale")

#: Arguments that make each scenario take seconds, for ``--tiny`` (the tests).
TINY: dict[str, list[str]] = {
    "inventory": ["--accounts", "5", "--regions", "us-east-1", "--directories", "2",
                  "--shares", "4", "--repeat", "1", "--large-accounts", "0"],
    "process": ["--accounts", "5", "--regions", "us-east-1", "--directories", "2",
                "--shares", "4", "--repeat", "1"],
    "bulk_share": ["--accounts", "5", "--sequential-sample", "2"],
    "throttle": ["--accounts", "5", "--regions", "us-east-1", "--directories", "2",
                 "--shares", "4", "--share-accounts", "5"],
    "scale": ["--sizes", "5", "10", "--directories", "2", "--shares", "4"],
}  # fmt: skip


def _inventory(argv: list[str], out: Path) -> dict[str, Any]:
    code = inventory_bench.main([*argv, "--out", str(out)])
    return {"errors": [] if code == 0 else [f"exit {code}"]}


def _module(module: Any) -> Callable[[list[str], Path], dict[str, Any]]:
    def run(argv: list[str], out: Path) -> dict[str, Any]:
        report: dict[str, Any] = module.run(module.parse([*argv, "--out", str(out)]))
        return report

    return run


RUNNERS: dict[str, Callable[[list[str], Path], dict[str, Any]]] = {
    "inventory": _inventory,
    "process": _module(process_bench),
    "bulk_share": _module(bulk_share_bench),
    "throttle": _module(throttle_bench),
    "scale": _module(scale_bench),
}


def summary_rows(reports: dict[str, dict[str, Any]]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [("scenario", "minutes", "errors", "targets")]
    for name, report in reports.items():
        met = report.get("targets_met") or report.get("ratios", {}).get("targets_met") or {}
        if name == "throttle":
            met = {
                f"{k}: zero failed, <= 2x": v["zero_failed"] and v["within_2x"]
                for k, v in report.get("ratios", {}).items()
            }
        targets = "; ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in met.items()) or "-"
        rows.append(
            (name, f"{report.get('_minutes', 0):.1f}", str(len(report.get("errors", []))), targets)
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these")
    parser.add_argument("--skip", nargs="+", choices=SCENARIOS, default=[], help="leave these out")
    parser.add_argument("--tiny", action="store_true", help="a few accounts each (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    chosen = [s for s in (args.only or SCENARIOS) if s not in args.skip]
    started = time.perf_counter()
    reports: dict[str, dict[str, Any]] = {}
    run_report: dict[str, Any] = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                  "machine": machine(), "scenarios": chosen}  # fmt: skip
    for name in chosen:
        log(f"\n=== {name} (load average {machine()['load_average']}) ===")
        began = time.perf_counter()
        scenario_args = TINY[name] if args.tiny else []
        try:
            report = RUNNERS[name](scenario_args, args.out)
        except Exception as err:  # noqa: BLE001 - recorded, reported, and the exit code says so
            report = {"errors": [f"{type(err).__name__}: {err}"]}
            print(f"ERROR {name}: {type(err).__name__}: {err}")
        report["_minutes"] = (time.perf_counter() - began) / 60
        reports[name] = report
    print("\n=== summary ===")
    print(table(summary_rows(reports)))
    total = (time.perf_counter() - started) / 60
    print(f"total {total:.1f} minutes; load average at the end {machine()['load_average']}")
    run_report["minutes"] = {k: round(v["_minutes"], 2) for k, v in reports.items()}
    run_report["errors"] = {k: v.get("errors", []) for k, v in reports.items()}
    path = write_results("run", run_report, args.out)
    print(f"run summary: {path}")
    return 1 if any(run_report["errors"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
