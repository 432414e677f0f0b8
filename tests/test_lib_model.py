"""The model spells the vocabulary once: statuses, actions, transitions, and nowhere else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dsshare.errors import ParameterError
from dsshare.model import (
    ACTIVE_STATUSES,
    INACTIVE_STATUSES,
    TRANSITIONS,
    Action,
    ShareMethod,
    ShareStatus,
    transition,
)

LIB = Path(__file__).resolve().parents[1] / "lib" / "dsshare"


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the constant nodes that are docstrings (module, class, function)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def test_no_module_outside_the_model_spells_a_share_status() -> None:
    statuses = {status.value for status in ShareStatus}
    offenders: list[str] = []
    for path in sorted(LIB.rglob("*.py")):
        relative = path.relative_to(LIB)
        if relative.parts[0] == "sandbox" or relative == Path("model.py"):
            continue  # the sandbox emulates AWS and speaks its wire format
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in statuses
                and id(node) not in docstrings
            ):
                offenders.append(f"{relative}:{node.lineno} {node.value!r}")
    assert offenders == [], "import the status from dsshare.model instead"


def test_status_values_are_aws_strings_and_compare_with_raw_records() -> None:
    assert len(ShareStatus) == 9
    assert {"ShareStatus": "PendingAcceptance"}["ShareStatus"] == ShareStatus.PENDING_ACCEPTANCE
    assert ACTIVE_STATUSES | INACTIVE_STATUSES == set(ShareStatus)
    assert not ACTIVE_STATUSES & INACTIVE_STATUSES
    assert [str(m) for m in ShareMethod] == ["HANDSHAKE", "ORGANIZATIONS"]


def test_every_mutating_action_has_one_transition_whose_sets_do_not_overlap() -> None:
    for (action, _method, _auto), found in TRANSITIONS.items():
        assert found.action == action
        assert not found.success & found.failure
        assert not found.passes & (found.success | found.failure)
        assert found.success, action
    assert transition("share", "HANDSHAKE").success == {"PendingAcceptance", "Shared"}
    assert transition("share", "HANDSHAKE", auto_accept=True).success == {"Shared"}
    assert transition("reject").absent == ShareStatus.REJECTED
    assert transition("leave").absent == ShareStatus.DELETED
    assert transition("accept").absent in transition("accept").failure


@pytest.mark.parametrize("action", [Action.SKIP, Action.REFUSE, "inventory"])
def test_actions_that_make_no_call_have_no_transition(action: str) -> None:
    with pytest.raises(ParameterError):
        transition(action)
