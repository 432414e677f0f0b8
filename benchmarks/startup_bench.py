"""Startup benchmark: how long ``dsshare`` takes before it does anything.

Run ``python -m benchmarks.startup_bench`` (``make bench-startup``; ``make bench`` runs it
after the inventory benchmark). Each figure is the median of ``--runs`` fresh processes:

1. ``help``: wall time of ``dsshare --help`` (target: at most 0.3 s);
2. ``inventory``: ``dsshare inventory --all`` up to its first AWS call. The command is
   pointed (``AWS_ENDPOINT_URL``) at a tiny local HTTP listener that notes when the first
   request arrives and then stops the process, so the figure is interpreter start, imports,
   argument parsing and session set-up, with no AWS or sandbox time in it. The same runs
   record, with ``python -X importtime``, the time spent importing and which heavy
   packages were loaded (moto must not be).

Results are printed and written as JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
HELP_TARGET_SECONDS = 0.3
HEAVY = ("boto3", "botocore", "pandas", "moto", "flask", "papermill", "ipywidgets")


def dsshare_command() -> list[str]:
    """The installed ``dsshare`` script next to this interpreter, else ``python -m``."""
    script = Path(sys.executable).with_name("dsshare")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "dsshare.cli"]


def time_help(runs: int) -> dict[str, Any]:
    """Wall time of ``dsshare --help``, ``runs`` fresh processes."""
    command = [*dsshare_command(), "--help"]
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    return {
        "command": "dsshare --help",
        "runs": [round(s, 4) for s in seconds],
        "median_seconds": round(median, 4),
        "target_seconds": HELP_TARGET_SECONDS,
        "target_met": median <= HELP_TARGET_SECONDS,
    }


class FirstRequest(BaseHTTPRequestHandler):
    """Notes the arrival of the first request; answers every request with a 500."""

    arrived: threading.Event
    arrived_at: float

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        server: Any = self.server
        if not server.arrived.is_set():
            server.arrived_at = time.perf_counter()
            server.arrived.set()
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


def import_seconds(stderr: str) -> tuple[float, set[str]]:
    """Total of the top-level cumulative times in ``-X importtime`` output, and the
    top-level package names imported."""
    total_us = 0
    names: set[str] = set()
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, module = line[len("import time:"):].split("|")
        if not cumulative.strip().isdigit():
            continue  # the header line
        names.add(module.strip().split(".")[0])
        if not module[1:].startswith(" "):  # a top-level import: one space after the bar
            total_us += int(cumulative)
    return total_us / 1e6, names


def time_inventory(runs: int) -> dict[str, Any]:
    """``dsshare inventory --all`` up to the moment its first AWS request arrives."""
    to_first_call = []
    imports = []
    loaded: set[str] = set()
    for _ in range(runs):
        server = ThreadingHTTPServer(("127.0.0.1", 0), FirstRequest)
        server.arrived = threading.Event()  # type: ignore[attr-defined]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        with tempfile.TemporaryDirectory() as scratch:
            env = {
                **os.environ,
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
            env.pop("AWS_PROFILE", None)
            command = [sys.executable, "-X", "importtime", "-m", "dsshare.cli", "inventory",
                       "--all", "--out", str(Path(scratch) / "inventory")]  # fmt: skip
            # stderr (-X importtime, a line per module) goes to a file: through a pipe that
            # nobody reads before the first call, a child importing more than the pipe holds
            # (64 KiB) would block before making it.
            log = Path(scratch) / "importtime.txt"
            start = time.perf_counter()
            with log.open("w") as stderr_file:
                child = subprocess.Popen(command, env=env, cwd=scratch, stdout=subprocess.DEVNULL,
                                         stderr=stderr_file, text=True)  # fmt: skip
                try:
                    if not server.arrived.wait(60):  # type: ignore[attr-defined]
                        raise RuntimeError("dsshare inventory made no AWS call within 60 s")
                    to_first_call.append(server.arrived_at - start)  # type: ignore[attr-defined]
                finally:
                    child.kill()
                    child.wait()
                    server.shutdown()
                    server.server_close()
            stderr = log.read_text()
        seconds, names = import_seconds(stderr)
        imports.append(seconds)
        loaded |= names
    return {
        "command": "dsshare inventory --all (until the first AWS request)",
        "runs_to_first_call": [round(s, 4) for s in to_first_call],
        "median_seconds_to_first_call": round(statistics.median(to_first_call), 4),
        "runs_import_seconds": [round(s, 4) for s in imports],
        "median_import_seconds": round(statistics.median(imports), 4),
        "heavy_packages_loaded": sorted(loaded & set(HEAVY)),
        "moto_loaded": "moto" in loaded,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per figure (median)")
    args = parser.parse_args(argv)
    report = {
        "benchmark": "startup",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "help": time_help(args.runs),
        "inventory": time_inventory(args.runs),
    }
    help_, inventory = report["help"], report["inventory"]
    verdict = "met" if help_["target_met"] else "NOT met"
    print(f"dsshare --help                       {help_['median_seconds']:.3f} s "
          f"(median of {args.runs}; target <= {HELP_TARGET_SECONDS} s: {verdict})")  # fmt: skip
    print(f"dsshare inventory, to 1st AWS call   {inventory['median_seconds_to_first_call']:.3f} s "
          f"(of which imports {inventory['median_import_seconds']:.3f} s; "
          f"loads {', '.join(inventory['heavy_packages_loaded'])}; "
          f"moto {'LOADED' if inventory['moto_loaded'] else 'not loaded'})")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"startup-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    target.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(f"results: {target}")
    return 0 if help_["target_met"] and not inventory["moto_loaded"] else 1


if __name__ == "__main__":
    sys.exit(main())
