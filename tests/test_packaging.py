"""The wheel: complete, nothing but the package, and working from a fresh venv.

The slow tests build the wheel from the checkout's files, install it into a new virtual
environment in a temporary folder (pip reaches the configured index and uses its cache),
and run what a new user would, with the working folder outside the checkout and no
``PYTHONPATH``: the sandbox, a ``share_directory`` dry run and apply, the invitations
runbook, the inventory and ``import dsshare``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import dsshare
from dsshare.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
DATA_PACKAGES = {"dsshare.runbooks.notebooks": "notebooks/runbooks",
                 "dsshare.runbooks.templates": "parameters"}  # fmt: skip
TEMPLATES = ("share_directory", "unshare_directory", "respond_to_invitations",
             "reconcile_shares", "inventory_report")  # fmt: skip


def test_every_package_under_lib_is_listed_for_the_wheel() -> None:
    found = {
        ".".join(init.parent.relative_to(REPO / "lib").parts)
        for init in (REPO / "lib" / "dsshare").rglob("__init__.py")
    }
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert listed == found | set(DATA_PACKAGES)
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"": "lib", **DATA_PACKAGES}


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip
    assert done.returncode == 0, f"{argv}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the checkout's files (tracked or not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    source = tmp_path_factory.mktemp("source")
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
         str(source)], cwd=out)  # fmt: skip
    (built,) = out.glob("dsshare-*.whl")
    return built


def test_run_template_writes_a_commented_file_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dsshare.cli import main

    target = tmp_path / "mine.yaml"
    assert main(["run", "--template", "respond_to_invitations", "--out", str(target)]) == 0
    text = target.read_text()
    assert text == (REPO / "parameters" / "respond_to_invitations.example.yaml").read_text()
    assert text.startswith("#") and "dry_run: true" in text
    assert "dsshare run respond_to_invitations -f" in capsys.readouterr().out
    target.write_text("mine\n")
    assert main(["run", "--template", "respond_to_invitations", "--out", str(target)]) == 2
    assert target.read_text() == "mine\n"
    assert "never overwrite" in capsys.readouterr().err
    assert main(["run", "--template", "no_such_runbook", "--out", str(tmp_path / "x")]) == 2


@pytest.mark.slow
def test_the_wheel_holds_the_package_its_runbooks_and_templates_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = f"dsshare-{dsshare.__version__}.dist-info/"
    assert all(n.startswith(("dsshare/", dist_info)) for n in names), names
    modules = {f"dsshare/{p.relative_to(REPO / 'lib' / 'dsshare').as_posix()}"
               for p in (REPO / "lib" / "dsshare").rglob("*.py")}  # fmt: skip
    assert modules <= set(names)
    assert {n for n in names if n.endswith(".py")} == modules  # no tools, tests or benchmarks
    for tool in ("reliability", "serve.py", "browser.py", "screenshots.py", "demo.py"):
        assert not [n for n in names if tool in n], tool
    for runbook in TEMPLATES:
        assert f"dsshare/runbooks/notebooks/{runbook}.ipynb" in names
        assert f"dsshare/runbooks/templates/{runbook}.example.yaml" in names
    assert "dsshare/runbooks/templates/guardrails.yaml" in names
    assert "dsshare/py.typed" in names


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("venv")
    assert not home.resolve().is_relative_to(REPO)
    # Without pip of its own: this interpreter's pip installs into it (--python), faster.
    run([sys.executable, "-m", "venv", "--without-pip", str(home / "venv")], cwd=home)
    yield home / "venv"


def pip(venv: Path, *args: str) -> list[str]:
    """This interpreter's pip, acting on ``venv`` (no byte-compiling: faster)."""
    return [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), *args]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a new user's shell: no PYTHONPATH, no checkout, dummy AWS keys."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PYTHON", "JUPYTER", "VIRTUAL_ENV"))}  # fmt: skip
    env.update(
        AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox",
        AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull, JUPYTER_DATA_DIR=str(home / "jupyter"),
        JUPYTER_CONFIG_DIR=str(home / "jupyter-config"), **extra,
    )  # fmt: skip
    return env


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_installed_wheel_works_outside_the_checkout(
    wheel: Path, venv: Path, sb: Sandbox
) -> None:
    work = venv.parent / "work"
    work.mkdir()
    env = clean_env(venv.parent)
    bin_ = venv / "bin"
    dsshare_cmd = str(bin_ / "dsshare")

    # The core install: the library and the CLI, and a clear word about a missing extra.
    run(pip(venv, "install", "--quiet", "--no-compile", str(wheel)), cwd=work, env=env)
    missing = subprocess.run([dsshare_cmd, "sandbox", "--port", "0"], cwd=work, env=env,
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert missing.returncode == 2
    assert "pip install 'dsshare[sandbox]'" in missing.stderr, missing.stderr
    listed = run(pip(venv, "list"), cwd=work, env=env).stdout.lower()
    assert "moto" not in listed and "flask" not in listed and "papermill" not in listed
    # The core alone inventories an organization (here the test session's sandbox).
    core_env = dict(env, AWS_ENDPOINT_URL=sb.endpoint_url)
    run([dsshare_cmd, "inventory", "--all", "--out", str(work / "core-inventory")], cwd=work,
        env=core_env)  # fmt: skip
    assert (work / "core-inventory" / "report.html").is_file()

    run(pip(venv, "install", "--quiet", "--no-compile", f"{wheel}[runbooks,sandbox]"),
        cwd=work, env=env)
    assert run([dsshare_cmd, "--version"], cwd=work, env=env).stdout.strip() == (
        f"dsshare {dsshare.__version__}"
    )
    kernel = run([str(bin_ / "python"), "-c",
                  "from jupyter_client.kernelspec import KernelSpecManager as M;"
                  "print(M().get_kernel_spec('python3').argv[0])"], cwd=work, env=env)  # fmt: skip
    assert kernel.stdout.strip() in (str(bin_ / "python"), "python")  # the venv's own kernel

    imported = run([str(bin_ / "python"), "-c", "import dsshare; print(dsshare.__file__)"],
                   cwd=work, env=env)  # fmt: skip
    assert Path(imported.stdout.strip()).is_relative_to(venv)

    server = subprocess.Popen([dsshare_cmd, "sandbox", "--port", "0", "--seed", "demo",
                               "--manifest", str(work / "manifest.json")],
                              cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first + (server.stderr.read() if server.stderr else "")
        env["AWS_ENDPOINT_URL"] = match.group(1)

        written = run([dsshare_cmd, "run", "--template", "share_directory"], cwd=work, env=env)
        assert (work / "share_directory.yaml").read_text().startswith("# share_directory")
        assert "share_directory.yaml" in written.stdout
        again = subprocess.run([dsshare_cmd, "run", "--template", "share_directory"], cwd=work,
                               env=env, capture_output=True, text=True, check=False)  # fmt: skip
        assert again.returncode == 2 and "never overwrite" in again.stderr

        params = work / "share.yaml"
        shutil.copy(REPO / "parameters" / "share_directory.sandbox.yaml", params)
        dry = run([dsshare_cmd, "run", "share_directory", "-f", str(params)], cwd=work, env=env)
        fingerprint = re.search(r"^fingerprint: (\S+)$", dry.stdout, re.MULTILINE)
        assert fingerprint, dry.stdout
        applied = run([dsshare_cmd, "run", "share_directory", "-f", str(params),
                       "-p", "dry_run", "false", "-p", "expected_plan", fingerprint.group(1)],
                      cwd=work, env=env)  # fmt: skip
        assert "failed" not in applied.stdout.split("outcomes:")[1].splitlines()[0]

        respond = work / "respond.yaml"
        shutil.copy(REPO / "parameters" / "respond_to_invitations.sandbox.yaml", respond)
        responded = run([dsshare_cmd, "run", "respond_to_invitations", "-f", str(respond)],
                        cwd=work, env=env)  # fmt: skip
        assert "fingerprint:" in responded.stdout

        run([dsshare_cmd, "inventory", "--all", "--out", str(work / "inventory")], cwd=work,
            env=env)  # fmt: skip
        assert (work / "inventory" / "report.html").is_file()
        assert len(list((work / "runs").iterdir())) == 3  # the three runbook runs, here
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
