"""dsshare: share AWS Managed Microsoft AD directories across accounts.

The public API is re-exported here, lazily (each name imports its submodule on first
use, so ``import dsshare`` stays cheap); see the README and ``docs/library.md`` for a tour.

Example
-------
>>> import dsshare
>>> conn = dsshare.Connection(region="us-east-1")                      # doctest: +SKIP
>>> p = dsshare.plan(conn, "d-1234567890", ["ou-ab12-cd34ef56"])         # doctest: +SKIP
>>> dsshare.apply(conn, p, expected_fingerprint=p.fingerprint)          # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the submodule defining it. Nothing is imported until a name is first
#: read (PEP 562), so ``import dsshare`` and ``python -m dsshare.cli --help`` load neither
#: boto3 nor pandas; each submodule imports only what it needs.
_EXPORTS: dict[str, str] = {
    "RESULT_COLUMNS": "dsshare.apply",
    "apply": "dsshare.apply",
    "AuditLog": "dsshare.audit",
    "Connection": "dsshare.connection",
    "DesiredState": "dsshare.desired",
    "load_desired_state": "dsshare.desired",
    "parse_desired_state": "dsshare.desired",
    "AwsError": "dsshare.errors",
    "AwsTransportError": "dsshare.errors",
    "DsShareError": "dsshare.errors",
    "ParameterError": "dsshare.errors",
    "PlanMismatchError": "dsshare.errors",
    "PreflightError": "dsshare.errors",
    "WaitTimeoutError": "dsshare.errors",
    "from_client_error": "dsshare.errors",
    "describe_organization": "dsshare.organization",
    "expand_targets": "dsshare.organization",
    "iter_accounts": "dsshare.organization",
    "iter_organizational_units": "dsshare.organization",
    "trusted_access_enabled": "dsshare.organization",
    "PLAN_COLUMNS": "dsshare.plan",
    "Plan": "dsshare.plan",
    "PlanRow": "dsshare.plan",
    "plan": "dsshare.plan",
    "plan_desired_state": "dsshare.plan",
    "accept": "dsshare.sharing",
    "accept_shared_directory": "dsshare.sharing",
    "delete_directory": "dsshare.sharing",
    "describe_directory": "dsshare.sharing",
    "iter_directories": "dsshare.sharing",
    "iter_shared_directories": "dsshare.sharing",
    "leave": "dsshare.sharing",
    "leave_shared_directory": "dsshare.sharing",
    "reject": "dsshare.sharing",
    "reject_shared_directory": "dsshare.sharing",
    "share": "dsshare.sharing",
    "share_directory": "dsshare.sharing",
    "shared_directories": "dsshare.sharing",
    "unshare": "dsshare.sharing",
    "unshare_directory": "dsshare.sharing",
    "wait_for_share_status": "dsshare.waiters",
}

if TYPE_CHECKING:
    from dsshare.apply import RESULT_COLUMNS, apply
    from dsshare.audit import AuditLog
    from dsshare.connection import Connection
    from dsshare.desired import DesiredState, load_desired_state, parse_desired_state
    from dsshare.errors import (
        AwsError,
        AwsTransportError,
        DsShareError,
        ParameterError,
        PlanMismatchError,
        PreflightError,
        WaitTimeoutError,
        from_client_error,
    )
    from dsshare.organization import (
        describe_organization,
        expand_targets,
        iter_accounts,
        iter_organizational_units,
        trusted_access_enabled,
    )
    from dsshare.plan import PLAN_COLUMNS, Plan, PlanRow, plan, plan_desired_state
    from dsshare.sharing import (
        accept,
        accept_shared_directory,
        delete_directory,
        describe_directory,
        iter_directories,
        iter_shared_directories,
        leave,
        leave_shared_directory,
        reject,
        reject_shared_directory,
        share,
        share_directory,
        shared_directories,
        unshare,
        unshare_directory,
    )
    from dsshare.waiters import wait_for_share_status


def __getattr__(name: str) -> Any:
    """Import the submodule defining public ``name`` on first use and cache the value."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dsshare' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


class _Package(types.ModuleType):
    """The package module, keeping a public function when its same-named submodule loads.

    ``plan`` and ``apply`` are both submodules and functions; the import system binds a
    submodule to its parent's attribute when it first loads, which would replace the
    function ``dsshare.plan`` by the module. The module stays reachable through
    ``sys.modules``; the package attribute stays the function, as when it was eager.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _EXPORTS:
            if value.__name__ == _EXPORTS[name]:
                value = getattr(value, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "PLAN_COLUMNS",
    "RESULT_COLUMNS",
    "AuditLog",
    "AwsError",
    "AwsTransportError",
    "Connection",
    "DesiredState",
    "DsShareError",
    "ParameterError",
    "Plan",
    "PlanMismatchError",
    "PlanRow",
    "PreflightError",
    "WaitTimeoutError",
    "__version__",
    "accept",
    "accept_shared_directory",
    "apply",
    "delete_directory",
    "describe_directory",
    "describe_organization",
    "expand_targets",
    "from_client_error",
    "iter_accounts",
    "iter_directories",
    "iter_organizational_units",
    "iter_shared_directories",
    "leave",
    "leave_shared_directory",
    "load_desired_state",
    "parse_desired_state",
    "plan",
    "plan_desired_state",
    "reject",
    "reject_shared_directory",
    "share",
    "share_directory",
    "shared_directories",
    "trusted_access_enabled",
    "unshare",
    "unshare_directory",
    "wait_for_share_status",
]
