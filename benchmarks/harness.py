"""What every benchmark scenario shares: the sandbox in its own process, measured child
processes, the machine's load, tables and the results folder.

Benchmarks drive dsshare only through its public surface (``dsshare.share`` /
``plan`` / ``apply``, ``dsshare.inventory.collect_inventory``, the ``dsshare`` command)
and the sandbox only through ``dsshare sandbox`` and its ``/_dsshare/`` control API, so
they keep measuring the same thing while the modules behind those names move.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


class PhaseFailed(RuntimeError):
    """A measured child process exited with an error."""


class SandboxProcess:
    """``dsshare sandbox`` in a child process, driven through its control endpoint.

    ``options`` are ``dsshare sandbox`` arguments after ``--seed``, e.g.
    ``["scale", "--accounts", "500", "--directories", "0", "--shares", "0"]``.
    """

    def __init__(self, options: Sequence[str], latency_ms: float) -> None:
        self.args = [
            sys.executable,
            "-m",
            "dsshare.cli",
            "sandbox",
            "--port",
            "0",
            "--latency-ms",
            str(latency_ms),
            "--manifest",
            os.devnull,
            "--seed",
            *options,
        ]
        self.latency_ms = latency_ms
        self.proc: subprocess.Popen[str] | None = None
        self.endpoint_url = ""
        self.start_seconds = 0.0

    def __enter__(self) -> SandboxProcess:
        started = time.perf_counter()
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if "listening on " in line:
                self.endpoint_url = line.rsplit("listening on ", 1)[1].strip()
                break
        if not self.endpoint_url:
            raise RuntimeError(f"the sandbox did not start (exit {self.proc.wait()})")
        self.start_seconds = time.perf_counter() - started
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=60)

    def control(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.endpoint_url}/_dsshare/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - loopback only
            return json.loads(response.read())

    def reset(self) -> None:
        """Reseed the world; reset also clears latency, so it is set again."""
        self.control("POST", "reset")
        self.control("POST", "latency", {"ms": self.latency_ms})

    def throttle(self, probability: float) -> None:
        """Answer that share of every AWS call with ThrottlingException (0 clears)."""
        self.throttle_with({"probability": probability} if probability > 0 else None)

    def throttle_with(self, rule: dict[str, Any] | None) -> None:
        """Replace the fault rules with one ThrottlingException rule (None: no rule), e.g.
        ``{"probability": 0.2}`` or AWS's kind, ``{"rate": 40, "burst": 40}``."""
        self.control("DELETE", "faults")
        if rule is not None:
            self.control("POST", "faults", {"code": "ThrottlingException", **rule})

    def cpu_seconds(self) -> float | None:
        """CPU time the sandbox process has used so far (Linux /proc; None elsewhere)."""
        if self.proc is None:
            return None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def calls(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.control("GET", "requests")
        return entries


def org_sandbox(
    accounts: int, regions: Sequence[str], directories: int, shares: int, latency_ms: float
) -> SandboxProcess:
    """The ``scale`` seed: ``accounts`` members in ``regions``, with ``directories`` owner
    directories and ``shares`` share records, every call ``latency_ms`` late."""
    options = [
        "scale", "--accounts", str(accounts), "--regions", ",".join(regions),
        "--directories", str(directories), "--shares", str(shares),
    ]  # fmt: skip
    return SandboxProcess(options, latency_ms)


def child_env(endpoint_url: str, region: str) -> dict[str, str]:
    """The environment of a measured child: the sandbox as AWS, no operator settings."""
    drop = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "DSSHARE_GUARDRAILS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        AWS_ENDPOINT_URL=endpoint_url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return env


def limit_memory(gigabytes: float) -> Any:
    """preexec_fn capping a child's address space: a runaway phase fails alone with
    MemoryError instead of pushing a shared machine into the OOM killer."""

    def apply() -> None:
        limit = int(gigabytes * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def children_cpu_seconds() -> float:
    """CPU time of every waited-for child of this process so far (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(
    command: Sequence[str],
    sandbox: SandboxProcess,
    region: str,
    *,
    memory_limit_gb: float = 8.0,
    json_result: bool = True,
    timeout: float = 3600,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``command`` in a fresh process against ``sandbox``; time it from outside.

    Returns the child's JSON result (its last stdout line) when ``json_result``, plus
    ``wall_seconds`` (start to exit), the child's CPU, the sandbox's CPU and the calls the
    sandbox served meanwhile. Raises :class:`PhaseFailed` on a non-zero exit.
    """
    sandbox.control("DELETE", "requests")
    server_before = sandbox.cpu_seconds()
    child_before = children_cpu_seconds()
    started = time.perf_counter()
    out = subprocess.run(
        list(command),
        env={**child_env(sandbox.endpoint_url, region), **(extra_env or {})},
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=timeout,
        preexec_fn=limit_memory(memory_limit_gb),  # noqa: PLW1509 - no threads started here
    )
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise PhaseFailed(
            f"{' '.join(command[:6])} ... failed (exit {out.returncode}):\n"
            f"{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
        )
    result: dict[str, Any] = (
        json.loads(out.stdout.strip().splitlines()[-1]) if json_result else {"stdout": out.stdout}
    )
    result["wall_seconds"] = wall
    result["process_cpu_seconds"] = children_cpu_seconds() - child_before
    server_after = sandbox.cpu_seconds()
    if server_before is not None and server_after is not None:
        result["sandbox_cpu_seconds"] = server_after - server_before
    log = sandbox.calls()
    result["calls"] = len(log)
    result["calls_by_operation"] = count_operations(log)
    result["failed_calls"] = sum(1 for e in log if int(e.get("status", 200)) >= 400)
    result["throttled_calls"] = sum(1 for e in log if e.get("injected") == "ThrottlingException")
    return result


def count_operations(log: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in log:
        counts[entry["operation"]] = counts.get(entry["operation"], 0) + 1
    return dict(sorted(counts.items()))


def peak_rss_mb() -> float:
    """This process's peak resident memory (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if platform.system() == "Darwin" else peak / 1024


def machine() -> dict[str, Any]:
    """What the figures were measured on, with the load when the run started."""
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def new_report(
    scenario: str, params: dict[str, Any], runs: list[Any] | dict[str, Any]
) -> dict[str, Any]:
    """A scenario's report as it starts: what ran, when, where, with which settings."""
    return {
        "scenario": scenario,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "params": params,
        "errors": [],
        "runs": runs,
    }


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_results(name: str, report: dict[str, Any], folder: Path | None = None) -> Path:
    """Write ``report`` as ``<folder>/<name>-<UTC time>.json``; return the path."""
    folder = folder or RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    target.write_text(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    return target


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
