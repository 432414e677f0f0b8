"""Committed notebooks: stripped, on the python3 kernel, and runbooks mirroring their specs."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

import papermill as pm
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from dsshare.runbooks import get_runbook, runbooks

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").rglob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]
RUNBOOK_DIR = REPO / "notebooks" / "runbooks"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def code_cells(path: Path) -> list[dict[str, Any]]:
    return [c for c in load(path)["cells"] if c["cell_type"] == "code"]


def source(cell: dict[str, Any]) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else str(text)


def test_there_are_notebooks_to_check() -> None:
    assert {p.stem for p in RUNBOOK_DIR.glob("*.ipynb")} == {s.name for s in runbooks()}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_committed_notebooks_are_stripped_and_name_the_python3_kernel(path: Path) -> None:
    nb = load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "papermill" not in nb["metadata"], "executed-notebook metadata was committed"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {cell.get('id')} has outputs"
            assert cell.get("execution_count") is None, f"cell {cell.get('id')} was executed"


def test_the_python3_kernel_runs_this_interpreter() -> None:
    spec = KernelSpecManager().get_kernel_spec("python3")
    executable = spec.argv[0]
    # jupyter_client replaces a bare "python" with the interpreter that starts the kernel.
    assert executable in ("python", "python3", sys.executable) or Path(executable).resolve() == Path(
        sys.executable
    ).resolve(), f"python3 kernelspec runs {executable}, not {sys.executable}"


@pytest.mark.parametrize("name", [s.name for s in runbooks()])
def test_parameters_cell_mirrors_the_runbook_spec(name: str) -> None:
    path = RUNBOOK_DIR / f"{name}.ipynb"
    tagged = [c for c in code_cells(path) if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged parameters"
    inferred = pm.inspect_notebook(str(path))
    spec = get_runbook(name)
    assert list(inferred) == spec.names
    for param in spec.params:
        seen = inferred[param.name]
        assert seen["inferred_type_name"] == param.annotation, param.name
        assert ast.literal_eval(seen["default"]) == param.default, param.name
        assert seen["help"], f"{param.name} has no help comment"


@pytest.mark.parametrize("name", [s.name for s in runbooks()])
def test_runbook_cells_only_call_dsshare_and_stay_small(name: str) -> None:
    path = RUNBOOK_DIR / f"{name}.ipynb"
    nb = load(path)
    assert any(c["cell_type"] == "markdown" for c in nb["cells"])
    for cell in code_cells(path):
        text = source(cell)
        assert "input(" not in text, "input() hangs under papermill"
        if "parameters" in cell["metadata"].get("tags", []):
            continue
        lines = [line for line in text.splitlines() if line.strip()]
        assert len(lines) <= 12, f"cell {cell.get('id')} is {len(lines)} lines: move code to lib"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                assert module is not None and module.startswith("dsshare"), module
