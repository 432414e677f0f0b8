"""``make demo``: the runbooks end to end on the sandbox, no network and no AWS account.

1. starts the sandbox (seed demo) and points boto3 at it with dummy credentials;
2. runs ``share_directory`` as a dry run (``parameters/share_directory.sandbox.yaml``):
   global.example.com to the Dev OU by HANDSHAKE, and prints the plan's fingerprint;
3. applies it with ``dry_run: false``, ``expected_plan: <fingerprint>`` and auto-accept;
4. runs ``inventory_report`` over every account in both demo Regions;
5. prints where the executed notebooks, the results and the HTML report are.

Example
-------
>>> main()  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dsshare.errors import ParameterError
from dsshare.runbooks.cli import format_result
from dsshare.runbooks.execute import RunResult, environment, run_runbook

__all__ = ["PARAMETERS", "main"]

#: The checkout's parameters folder (the demo's parameter files).
PARAMETERS = Path(__file__).resolve().parents[1] / "parameters"


def _show(title: str, result: RunResult) -> None:
    print(f"\n== {title}: exit code {result.exit_code}")
    for line in format_result(result):
        print(f"   {line}")
    if result.failure is not None:
        print(f"   failed: {result.failure}")


def main(runs_root: str | os.PathLike[str] | None = None) -> int:
    """Run the demo; return 0 when every step succeeded.

    ``runs_root`` is where the run folders go (default ``runs/`` under the current folder).
    """
    from dsshare.sandbox import Sandbox

    root = Path(runs_root) if runs_root is not None else Path("runs")
    share = PARAMETERS / "share_directory.sandbox.yaml"
    inventory = PARAMETERS / "inventory_report.sandbox.yaml"
    with Sandbox(seed="demo", transition_delay=0.1) as sb:
        print(f"Sandbox (seed demo) at {sb.endpoint_url}: "
              f"{len(sb.manifest['accounts'])} accounts, {len(sb.manifest['directories'])} "
              f"directories, {len(sb.manifest['shares'])} share records")  # fmt: skip
        env = {
            "AWS_ENDPOINT_URL": sb.endpoint_url,
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_DEFAULT_REGION": sb.regions[0],
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        with environment(env, unset=("AWS_PROFILE", "AWS_SESSION_TOKEN")):
            try:
                dry = run_runbook("share_directory", [share], out=_folder(root, "share_directory-dry-run"))
                _show("1. share_directory, dry run", dry)
                if dry.exit_code or not dry.fingerprint:
                    return 1
                applied = run_runbook(
                    "share_directory", [share], out=_folder(root, "share_directory-apply"),
                    dry_run=False, expected_plan=dry.fingerprint,
                )  # fmt: skip
                _show("2. share_directory, applied with auto-accept to the Dev OU", applied)
                report = run_runbook("inventory_report", [inventory], out=_folder(root, "inventory_report"))
                _show("3. inventory_report", report)
            except ParameterError as err:
                print(f"demo: {err}", file=sys.stderr)
                return 2
    results = [dry, applied, report]
    print("\nExecuted notebooks:")
    for result in results:
        print(f"  {result.notebook}")
    print("Results:")
    for result in results:
        print(f"  {result.folder / 'results.csv'}")
    print(f"Audit of the applied run: {applied.folder / 'audit.jsonl'}")
    if report.report is not None:
        print(f"HTML report: {report.report}")
    return max(result.exit_code for result in results)


def _folder(root: Path, label: str) -> Path:
    from dsshare.runbooks.record import run_folder_name

    return root / run_folder_name(label)


if __name__ == "__main__":
    raise SystemExit(main())
