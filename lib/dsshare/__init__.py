"""dsshare: share AWS Managed Microsoft AD directories across accounts.

The public API is re-exported here; see the README and ``docs/library.md`` for a tour.

Example
-------
>>> import dsshare
>>> conn = dsshare.Connection(region="us-east-1")                      # doctest: +SKIP
>>> p = dsshare.plan(conn, "d-1234567890", ["ou-ab12-cd34ef56"])         # doctest: +SKIP
>>> dsshare.apply(conn, p, expected_fingerprint=p.fingerprint)          # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

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
from dsshare.planning import Plan, plan, plan_desired_state, plan_responses
from dsshare.sharing import accept, leave, reject, respond, share, unshare
from dsshare.waiting import wait_for_share_status

__all__ = [
    "PLAN_COLUMNS",
    "RESULT_COLUMNS",
    "Action",
    "AuditLog",
    "AwsError",
    "AwsTransportError",
    "Connection",
    "DesiredState",
    "DsShareError",
    "Outcome",
    "ParameterError",
    "Plan",
    "PlanMismatchError",
    "PlanRow",
    "PreflightError",
    "ShareMethod",
    "ShareStatus",
    "Side",
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
