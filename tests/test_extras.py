"""Optional dependencies: a missing extra is a DsShareError naming the pip command.

The subprocess checks hide one module behind an import hook, as if its extra were not
installed, and run the entry point an operator would.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dsshare.errors import DsShareError, MissingExtraError
from dsshare.extras import EXTRAS, require

REPO = Path(__file__).resolve().parents[1]


def test_require_returns_the_module_when_installed() -> None:
    assert require("json", "runbooks", "x").__name__ == "json"


def test_a_missing_module_names_the_extra_to_install() -> None:
    with pytest.raises(MissingExtraError) as info:
        require("dsshare_test_not_installed.sub", "xlsx", "The XLSX workbook")
    err = info.value
    assert isinstance(err, DsShareError) and isinstance(err, ImportError)
    assert "pip install 'dsshare[xlsx]'" in str(err)
    assert str(err).startswith("The XLSX workbook needs dsshare_test_not_installed.sub")


def test_an_import_error_inside_an_installed_module_is_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dsshare_broken_fixture.py").write_text("import dsshare_test_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as info:
        require("dsshare_broken_fixture", "runbooks", "x")
    assert not isinstance(info.value, MissingExtraError)


def test_every_extra_named_in_the_code_exists_in_pyproject() -> None:
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert set(EXTRAS) <= set(declared)
    assert set(declared["all"][0].split("[")[1].rstrip("]").split(",")) == set(EXTRAS)
    core = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(dep.split(">")[0].split("<")[0].lower() for dep in core) == [
        "boto3", "botocore", "pandas", "pyyaml", "tqdm",
    ]  # fmt: skip


HIDE = textwrap.dedent(
    """
    import importlib.abc, sys
    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == {hidden!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None
    sys.meta_path.insert(0, Hide())
    """
)


def run_hidden(hidden: str, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    program = HIDE.format(hidden=hidden) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          cwd=cwd, timeout=120, check=False)  # fmt: skip


@pytest.mark.parametrize(
    ("hidden", "argv", "extra"),
    [
        ("moto", ["sandbox", "--port", "0"], "sandbox"),
        ("flask_cors", ["sandbox", "--port", "0"], "sandbox"),
        ("papermill", ["run", "inventory_report", "-p", "regions", "us-east-1"], "runbooks"),
    ],
)
def test_a_command_without_its_extra_exits_2_naming_it(
    hidden: str, argv: list[str], extra: str, tmp_path: Path
) -> None:
    done = run_hidden(hidden, f"import sys\nfrom dsshare.cli import main\nsys.exit(main({argv!r}))\n",
                      tmp_path)  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"pip install 'dsshare[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()  # nothing ran, no run folder


def test_the_console_without_ipywidgets_names_the_console_extra(tmp_path: Path) -> None:
    done = run_hidden("ipywidgets", """
        from dsshare.errors import MissingExtraError
        from dsshare.widgets import console
        try:
            console(connect=False)
        except MissingExtraError as err:
            print(err)
        """, tmp_path)  # fmt: skip
    assert "pip install 'dsshare[console]'" in done.stdout, done.stderr[-2000:]
