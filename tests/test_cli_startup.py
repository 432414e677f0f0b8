"""Startup: ``import dsshare`` and ``dsshare --help`` load no heavy dependency; only the
``sandbox`` subcommand loads moto.

Each check runs a fresh interpreter (``python -X importtime``) so what the test process
already imported does not hide an import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import dsshare
from dsshare.cli import COMMANDS, build_parser, main
from dsshare.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("boto3", "pandas", "moto", "papermill", "ipywidgets", "flask")


def imported_modules(argv: list[str], env: dict[str, str] | None = None,
                     cwd: Path | None = None) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """Top-level names of the modules ``python -X importtime ARGV`` imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=240, check=False,
    )  # fmt: skip
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            module = line.rsplit("|", 1)[1].strip()
            names.add(module.split(".")[0])
    return names, done



def run_python(code: str) -> str:
    """Run ``code`` in a fresh interpreter, which must exit 0; return what it printed."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()

def test_help_imports_no_heavy_dependency() -> None:
    names, done = imported_modules(["-m", "dsshare.cli", "--help"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sandbox" in done.stdout and "inventory" in done.stdout and "run" in done.stdout
    assert "dsshare" in names  # the parse really saw the imports
    assert not names & set(HEAVY), sorted(names & set(HEAVY))


def test_import_dsshare_is_lazy_and_keeps_every_public_name() -> None:
    code = (
        "import sys, dsshare\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert set(dsshare.__all__) <= set(dir(dsshare))\n"
        "for name in dsshare.__all__: getattr(dsshare, name)\n"
        "import dsshare.planning, dsshare.execution\n"
        "assert callable(dsshare.plan) and callable(dsshare.apply)\n"
        "assert 'boto3' in sys.modules and 'moto' not in sys.modules\n"
        "print('ok')\n"
    )
    assert run_python(code) == "ok"


#: Modules that need neither boto3 nor pandas, so importing them must load neither.
LIGHT_MODULES = (
    "dsshare.cli", "dsshare.errors", "dsshare.validation", "dsshare.extras", "dsshare.inputs",
    "dsshare.audit", "dsshare.runbooks", "dsshare.runbooks.catalog", "dsshare.runbooks.files",
    "dsshare.widgets",
)  # fmt: skip


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_a_module_that_needs_no_boto3_or_pandas_loads_neither(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = run_python(code)
    assert out == "[]"


#: Modules that call AWS (boto3) but make no frame, so importing them must not load pandas:
#: the inventory's collection starts while pandas loads beside it, and `dsshare run`'s own
#: process leaves pandas to the kernel.
NO_PANDAS_MODULES = (
    "dsshare.inventory.collect", "dsshare.inventory.cli", "dsshare.runbooks.cli",
    "dsshare.runbooks.execute", "dsshare.runbooks.record",
)  # fmt: skip


@pytest.mark.parametrize("module", NO_PANDAS_MODULES)
def test_a_module_that_makes_no_frame_does_not_load_pandas(module: str) -> None:
    code = f"import sys, {module}\nprint('pandas' in sys.modules)\n"
    out = run_python(code)
    assert out == "False"


def test_the_inventory_package_keeps_its_public_names_after_its_submodules_load() -> None:
    # The package loads its names on first use; importing the submodule `findings` must
    # not replace the function `findings` on the package.
    code = (
        "import dsshare.inventory.export, dsshare.inventory.findings\n"
        "import dsshare.inventory as inv\n"
        "from dsshare.inventory import findings, Inventory, collect_inventory\n"
        "assert findings is inv.findings and callable(findings), findings\n"
        "assert findings(Inventory.empty()).empty\n"
        "assert set(inv.__all__) <= set(dir(inv)) and callable(collect_inventory)\n"
        "print('ok')\n"
    )
    assert run_python(code) == "ok"


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = dsshare.no_such_thing  # type: ignore[attr-defined]


def test_the_command_table_matches_what_each_module_registers() -> None:
    parser = build_parser("*")
    subparsers = next(a for a in parser._actions if a.dest == "command")
    registered = {action.dest: action.help for action in subparsers._choices_actions}
    assert registered == {name: help_line for name, (_, help_line, _) in COMMANDS.items()}


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"dsshare {dsshare.__version__}"


@pytest.mark.slow
def test_only_the_sandbox_subcommand_loads_moto(aws_env: Sandbox, tmp_path: Path) -> None:
    env = dict(os.environ)
    inventory, done = imported_modules(
        ["-m", "dsshare.cli", "inventory", "--all", "--out", str(tmp_path / "inv")],
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "boto3" in inventory and "moto" not in inventory and "flask" not in inventory

    run, done = imported_modules(
        ["-m", "dsshare.cli", "run", "share_directory", "-f",
         str(REPO / "parameters" / "share_directory.sandbox.yaml"), "--out", str(tmp_path / "run")],
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "papermill" in run and "moto" not in run and "flask" not in run
    # The kernel imports pandas; the command's own process does not, so it starts the
    # kernel sooner.
    assert "pandas" not in run

    sandbox, done = imported_modules(["-m", "dsshare.cli", "sandbox", "--help"])
    assert done.returncode == 0 and "moto" in sandbox
