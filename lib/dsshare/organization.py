"""AWS Organizations reads: the organization, its accounts and OUs, and target expansion.

Every listing goes through a botocore paginator, so organizations of any size are read in
full. Targets given as OU or root ids expand recursively to the accounts below them.

Example
-------
>>> expand_targets(conn, ["200000000001", "ou-ab12-cd34ef56"])  # doctest: +SKIP
['200000000001', '200000000004', '200000000005', '200000000006']
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from dsshare.errors import AwsError, from_client_error
from dsshare.validation import is_account_id, is_ou_id, is_root_id, validate_targets

if TYPE_CHECKING:
    from dsshare.connection import Connection

__all__ = [
    "DS_SERVICE_PRINCIPAL",
    "describe_organization",
    "expand_targets",
    "iter_accounts",
    "iter_accounts_for_parent",
    "iter_organizational_units",
    "iter_roots",
    "parents_not_found",
    "trusted_access_enabled",
]

logger = logging.getLogger(__name__)

DS_SERVICE_PRINCIPAL = "ds.amazonaws.com"
_NOT_IN_ORG = "AWSOrganizationsNotInUseException"
_PARENT_NOT_FOUND = "ParentNotFoundException"


def _org(conn: Connection) -> Any:
    # Organizations is a global service homed in us-east-1 (aws partition).
    return conn.client("organizations")


def _paginate(conn: Connection, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    paginator = _org(conn).get_paginator(operation)
    try:
        for page in paginator.paginate(**kwargs):
            yield from page.get(key, [])
    except (ClientError, BotoCoreError) as err:
        raise from_client_error(err, _operation_name(operation)) from err


def _operation_name(snake: str) -> str:
    special = {"list_aws_service_access_for_organization": "ListAWSServiceAccessForOrganization"}
    return special.get(snake, "".join(part.capitalize() for part in snake.split("_")))


def describe_organization(conn: Connection) -> dict[str, Any] | None:
    """Return DescribeOrganization's ``Organization`` dict, or None when not in one.

    Example
    -------
    >>> describe_organization(conn)["FeatureSet"]  # doctest: +SKIP
    'ALL'
    """
    return conn.describe_organization()


def iter_accounts(conn: Connection) -> Iterator[dict[str, Any]]:
    """Yield every account of the organization (ListAccounts records, AWS field names)."""
    yield from _paginate(conn, "list_accounts", "Accounts")


def iter_roots(conn: Connection) -> Iterator[dict[str, Any]]:
    """Yield the organization's roots (ListRoots records)."""
    yield from _paginate(conn, "list_roots", "Roots")


def iter_accounts_for_parent(conn: Connection, parent_id: str) -> Iterator[dict[str, Any]]:
    """Yield accounts directly under a root or OU (not recursive)."""
    yield from _paginate(conn, "list_accounts_for_parent", "Accounts", ParentId=parent_id)


def _child_ous(conn: Connection, parent_id: str) -> Iterator[dict[str, Any]]:
    yield from _paginate(
        conn, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent_id
    )


def iter_organizational_units(conn: Connection) -> Iterator[dict[str, Any]]:
    """Yield every OU, parents before children, as ``{id, name, arn, parent_id}``.

    ``parent_id`` is a root id for top-level OUs.

    Example
    -------
    >>> [ou["name"] for ou in iter_organizational_units(conn)]  # doctest: +SKIP
    ['Infrastructure', 'Workloads', 'Prod', 'Dev', 'Sandbox']
    """
    stack = [root["Id"] for root in iter_roots(conn)]
    stack.reverse()
    while stack:
        parent = stack.pop()
        children = list(_child_ous(conn, parent))
        for ou in children:
            yield {"id": ou["Id"], "name": ou.get("Name", ""), "arn": ou.get("Arn", ""),
                   "parent_id": parent}
        stack.extend(ou["Id"] for ou in reversed(children))


def _accounts_below(conn: Connection, parent_id: str) -> Iterator[str]:
    """Account ids below ``parent_id``, depth first: own accounts, then each child OU."""
    stack = [parent_id]
    while stack:
        parent = stack.pop()
        for account in iter_accounts_for_parent(conn, parent):
            yield account["Id"]
        children = [ou["Id"] for ou in _child_ous(conn, parent)]
        stack.extend(reversed(children))


def expand_targets(conn: Connection, targets: Sequence[str]) -> list[str]:
    """Expand account, OU and root ids into a deduplicated list of account ids.

    Order is stable: targets in the order given; inside an OU, its own accounts first (in
    the order Organizations lists them), then each child OU in turn. Validation runs before
    any call.

    Example
    -------
    >>> expand_targets(conn, ["ou-ab12-cd34ef56", "200000000004"])  # doctest: +SKIP
    ['200000000004', '200000000005', '200000000006']
    """
    checked = validate_targets(targets)
    result: dict[str, None] = {}
    for target in checked:
        if is_account_id(target):
            result.setdefault(target, None)
            continue
        kind = "OU" if is_ou_id(target) else "root"
        found = 0
        for account_id in _accounts_below(conn, target):
            result.setdefault(account_id, None)
            found += 1
        logger.info("%s %s expanded to %d account(s)", kind, target, found)
    return list(result)


def parents_not_found(conn: Connection, ids: Sequence[str]) -> list[str]:
    """The OU and root ids among ``ids`` that the caller's organization does not hold.

    One ``ListAccountsForParent`` call per OU or root id (the read target expansion makes
    anyway): an OU of another organization is ``ParentNotFoundException``, and outside any
    organization every OU and root id is missing. Account ids are ignored. Other errors
    (access denied, throttling after retries) raise :class:`~dsshare.errors.AwsError`.

    Example
    -------
    >>> parents_not_found(conn, ["ou-ab12-cd34ef56", "200000000004"])  # doctest: +SKIP
    ['ou-ab12-cd34ef56']
    """
    missing: list[str] = []
    for parent_id in dict.fromkeys(i for i in ids if is_ou_id(i) or is_root_id(i)):
        try:
            _org(conn).list_accounts_for_parent(ParentId=parent_id, MaxResults=1)
        except (ClientError, BotoCoreError) as err:
            error = from_client_error(err, "ListAccountsForParent")
            if error.code not in (_PARENT_NOT_FOUND, _NOT_IN_ORG):
                raise error from err
            missing.append(parent_id)
    return missing


def trusted_access_enabled(conn: Connection, principal: str = DS_SERVICE_PRINCIPAL) -> bool:
    """Return True when trusted access for ``principal`` is enabled in the organization.

    Only the management account (or a delegated administrator) may ask; other callers get
    an :class:`~dsshare.errors.AccessDeniedError` or similar, never a silent False.
    Outside any organization the answer is False.
    """
    try:
        for service in _paginate(
            conn, "list_aws_service_access_for_organization", "EnabledServicePrincipals"
        ):
            if service.get("ServicePrincipal") == principal:
                return True
    except AwsError as err:
        if err.code == _NOT_IN_ORG:
            return False
        raise
    return False
