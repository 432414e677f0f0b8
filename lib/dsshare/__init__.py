"""dsshare: share AWS Managed Microsoft AD directories across accounts.

The public API is re-exported here; see the README and ``docs/library.md`` for a tour.
Names resolve on first use (PEP 562), so ``import dsshare`` and ``dsshare --help`` load
neither boto3 nor pandas; each submodule imports only what it needs.

Example
-------
>>> import dsshare
>>> conn = dsshare.Connection(region="us-east-1")                      # doctest: +SKIP
>>> p = dsshare.plan(conn, "d-1234567890", ["ou-ab12-cd34ef56"])         # doctest: +SKIP
>>> dsshare.apply(conn, p, expected_fingerprint=p.fingerprint)          # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the submodule defining it.
_EXPORTS: dict[str, str] = {
    "AuditLog": "dsshare.audit",
    "accept_shared_directory": "dsshare.calls",
    "delete_directory": "dsshare.calls",
    "describe_directory": "dsshare.calls",
    "iter_directories": "dsshare.calls",
    "iter_shared_directories": "dsshare.calls",
    "leave_shared_directory": "dsshare.calls",
    "reject_shared_directory": "dsshare.calls",
    "share_directory": "dsshare.calls",
    "shared_directories": "dsshare.calls",
    "unshare_directory": "dsshare.calls",
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
    "apply": "dsshare.execution",
    "PLAN_COLUMNS": "dsshare.model",
    "RESULT_COLUMNS": "dsshare.model",
    "Action": "dsshare.model",
    "Outcome": "dsshare.model",
    "PlanRow": "dsshare.model",
    "ShareMethod": "dsshare.model",
    "ShareStatus": "dsshare.model",
    "Side": "dsshare.model",
    "describe_organization": "dsshare.organization",
    "expand_targets": "dsshare.organization",
    "iter_accounts": "dsshare.organization",
    "iter_organizational_units": "dsshare.organization",
    "trusted_access_enabled": "dsshare.organization",
    "Plan": "dsshare.planning",
    "plan": "dsshare.planning",
    "plan_desired_state": "dsshare.planning",
    "plan_responses": "dsshare.planning",
    "accept": "dsshare.sharing",
    "leave": "dsshare.sharing",
    "reject": "dsshare.sharing",
    "respond": "dsshare.sharing",
    "share": "dsshare.sharing",
    "unshare": "dsshare.sharing",
    "wait_for_share_status": "dsshare.waiting",
}

if TYPE_CHECKING:
    from dsshare.audit import AuditLog
    from dsshare.calls import (
        accept_shared_directory,
        delete_directory,
        describe_directory,
        iter_directories,
        iter_shared_directories,
        leave_shared_directory,
        reject_shared_directory,
        share_directory,
        shared_directories,
        unshare_directory,
    )
    from dsshare.connection import Connection
    from dsshare.desired import (
        DesiredState,
        load_desired_state,
        parse_desired_state,
    )
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
    from dsshare.execution import apply
    from dsshare.model import (
        PLAN_COLUMNS,
        RESULT_COLUMNS,
        Action,
        Outcome,
        PlanRow,
        ShareMethod,
        ShareStatus,
        Side,
    )
    from dsshare.organization import (
        describe_organization,
        expand_targets,
        iter_accounts,
        iter_organizational_units,
        trusted_access_enabled,
    )
    from dsshare.planning import (
        Plan,
        plan,
        plan_desired_state,
        plan_responses,
    )
    from dsshare.sharing import (
        accept,
        leave,
        reject,
        respond,
        share,
        unshare,
    )
    from dsshare.waiting import wait_for_share_status

__all__ = [
    "__version__",
    "Action",
    "AuditLog",
    "AwsError",
    "AwsTransportError",
    "Connection",
    "DesiredState",
    "DsShareError",
    "Outcome",
    "PLAN_COLUMNS",
    "ParameterError",
    "Plan",
    "PlanMismatchError",
    "PlanRow",
    "PreflightError",
    "RESULT_COLUMNS",
    "ShareMethod",
    "ShareStatus",
    "Side",
    "WaitTimeoutError",
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
    "plan_responses",
    "reject",
    "reject_shared_directory",
    "respond",
    "share",
    "share_directory",
    "shared_directories",
    "trusted_access_enabled",
    "unshare",
    "unshare_directory",
    "wait_for_share_status",
]


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
