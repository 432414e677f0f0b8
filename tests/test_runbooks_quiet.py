"""A quiet terminal: runbook kernels run on IPC sockets and nothing prints a warning.

Kernels write to the terminal's stderr directly (file descriptor 2), so these run the
commands in a subprocess and read what an operator would see.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dsshare.runbooks.execute import kernel_manager_class
from dsshare.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(os.name == "nt", reason="no IPC transport on Windows")
def test_the_kernel_manager_uses_private_ipc_sockets_and_leaves_jupyter_defaults() -> None:
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    manager = kernel_manager_class()
    assert manager is not None
    km = manager()
    assert km.transport == "ipc"
    folder = Path(km.ip).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert AsyncKernelManager().transport == "tcp" and KernelManager().transport == "tcp"


def test_a_runbook_run_prints_no_warning(aws_env: Sandbox, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dsshare.cli", "run", "share_directory",
         "-f", str(REPO / "parameters" / "share_directory.sandbox.yaml"),
         "--out", str(tmp_path / "run")],
        capture_output=True, text=True, cwd=tmp_path, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "fingerprint: " in done.stdout
    assert done.stderr == ""  # no "running over TCP without encryption", nothing else


@pytest.mark.slow
def test_the_demo_prints_no_warning(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "tools.demo"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "HTML report:" in done.stdout
    assert done.stderr == ""
    assert "warning" not in done.stdout.lower()
