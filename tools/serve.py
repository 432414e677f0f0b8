"""Serve the console offline: the sandbox plus JupyterLab (``make lab``) or Voila (``make app``).

``python -m tools.serve lab`` starts a demo-seeded sandbox in this process, then
JupyterLab (or Voila) as a subprocess on 127.0.0.1 whose kernels inherit the sandbox's
``AWS_ENDPOINT_URL`` and dummy credentials, prints the URL to open, and stops both on Ctrl-C.
The browser tests and ``make screenshots`` use the same functions.

Offline by configuration (``etc/jupyter`` in the repository, put first on
``JUPYTER_CONFIG_PATH``): no news or update checks, the announcements plugin disabled,
and the notebook's ``python3`` kernelspec preset so no kernel-selection dialog appears.
Voila uses the ``dsshare`` template (``share/jupyter``, put first on ``JUPYTER_PATH``): its
stock lab template loads Font Awesome from a CDN.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from dsshare.errors import DsShareError

__all__ = [
    "CONFIG_DIR",
    "DATA_DIR",
    "NOTEBOOK",
    "REPO_ROOT",
    "Server",
    "free_port",
    "sandbox_env",
    "start_lab",
    "start_voila",
]

#: The repository root (the package is installed in editable mode from ``lib/``).
REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO_ROOT / "etc" / "jupyter"
DATA_DIR = REPO_ROOT / "share" / "jupyter"
USER_SETTINGS = CONFIG_DIR / "lab" / "user-settings"
NOTEBOOK = REPO_ROOT / "notebooks" / "share_console.ipynb"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandbox_env(endpoint_url: str, region: str = "us-east-1") -> dict[str, str]:
    """This process's environment pointed at the sandbox, for the server and its kernels."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=endpoint_url,
        AWS_ACCESS_KEY_ID="sandbox",
        AWS_SECRET_ACCESS_KEY="sandbox",
        AWS_DEFAULT_REGION=region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return env


def _jupyter_env(env: Mapping[str, str]) -> dict[str, str]:
    out = dict(env)
    for name, first in (("JUPYTER_CONFIG_PATH", CONFIG_DIR), ("JUPYTER_PATH", DATA_DIR)):
        rest = [p for p in out.get(name, "").split(os.pathsep) if p and p != str(first)]
        out[name] = os.pathsep.join([str(first), *rest])
    out.setdefault("PYTHONUNBUFFERED", "1")
    return out


@dataclass
class Server:
    """A Jupyter server subprocess and the URL that opens the console in it."""

    process: subprocess.Popen[bytes]
    url: str
    base: str
    log: Path

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until the server answers HTTP, or raise DsShareError with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.base, timeout=2):  # noqa: S310 - loopback URL we built
                    return
            except urllib.error.HTTPError:
                return  # it answers (a redirect or 403 still means it is up)
            except (urllib.error.URLError, OSError):
                time.sleep(0.25)
        raise DsShareError(f"the server did not start; its log:\n{self.log.read_text(errors='replace')[-4000:]}")

    def kernels(self) -> list[int]:
        """Process ids of the kernels this server runs now (its ``ipykernel`` children)."""
        if self.process.poll() is not None:
            return []
        children = psutil.Process(self.process.pid).children(recursive=True)
        out = []
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                if any("ipykernel" in part for part in child.cmdline()):
                    out.append(child.pid)
        return out

    def stop(self) -> None:
        """Terminate the server (and wait for it)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _spawn(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("wb")
    try:
        return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            args, env=_jupyter_env(env), stdout=handle, stderr=subprocess.STDOUT, cwd=str(REPO_ROOT)
        )
    finally:
        handle.close()


def start_lab(env: Mapping[str, str], port: int | None = None, *, root: Path = REPO_ROOT,
              notebook: Path = NOTEBOOK, state_dir: Path | None = None,
              log: Path | None = None) -> Server:
    """Start JupyterLab on 127.0.0.1 rooted at ``root``; the URL opens ``notebook`` in it."""
    port = port or free_port()
    token = secrets.token_hex(16)
    state = state_dir or Path(tempfile.mkdtemp(prefix="dsshare-lab-"))
    # Fresh user settings from the repository: no kernel dialog, no news, no update check.
    shutil.copytree(USER_SETTINGS, state / "settings", dirs_exist_ok=True)
    log = log or state / "lab.log"
    args = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={state / 'settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")  # CI containers run as root
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/lab/tree/{notebook.resolve().relative_to(root.resolve()).as_posix()}?token={token}"
    return Server(_spawn(args, env, log), url, f"{base}/api/status?token={token}", log)


def start_voila(env: Mapping[str, str], port: int | None = None, *, notebook: Path = NOTEBOOK,
                log: Path | None = None) -> Server:
    """Start Voila on 127.0.0.1 serving ``notebook`` (the console) as an app.

    Guarded like JupyterLab: a random token (the URL carries it once; the page then holds
    a cookie), and ``etc/jupyter/voila.json`` answers only a loopback Host (127.0.0.1,
    ::1 or localhost; the kernel websocket also refuses a foreign Origin) and culls
    kernels. The readiness check asks for the login page, which starts no kernel.
    """
    port = port or free_port()
    token = secrets.token_hex(16)
    log = log or Path(tempfile.mkdtemp(prefix="dsshare-voila-")) / "voila.log"
    args = [
        sys.executable, "-m", "voila", str(notebook), "--no-browser",
        "--Voila.ip=127.0.0.1", f"--port={port}", "--template=dsshare", f"--Voila.token={token}",
        "--Voila.identity_provider_class=dsshare.widgets.voila_auth.ConsoleIdentityProvider",
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}/"
    return Server(_spawn(args, env, log), f"{base}?token={token}", f"{base}login", log)


@contextlib.contextmanager
def _sandbox(port: int) -> Iterator[str]:
    from dsshare.sandbox import Sandbox

    with Sandbox(seed="demo", port=port) as sandbox:
        yield sandbox.endpoint_url


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.serve lab|app``: sandbox + JupyterLab or Voila."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.serve",
        description="Serve the sharing console against a demo-seeded sandbox, on 127.0.0.1 only.",
    )
    parser.add_argument("kind", choices=("lab", "app"), help="lab: JupyterLab; app: Voila")
    parser.add_argument("--port", type=int, default=8888, help="port for JupyterLab/Voila (default 8888)")
    parser.add_argument("--sandbox-port", type=int, default=0, help="sandbox port (default: a free one)")
    args = parser.parse_args(argv)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Stop cleanly (server, kernels, sandbox) on SIGTERM as on Ctrl-C.
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    with _sandbox(args.sandbox_port) as endpoint:
        env = sandbox_env(endpoint)
        server = start_lab(env, args.port) if args.kind == "lab" else start_voila(env, args.port)
        try:
            server.wait_ready()
            print(f"sandbox: {endpoint}")
            print(f"open the console at: {server.url}", flush=True)
            print("Stop with Ctrl-C.", flush=True)
            server.process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
