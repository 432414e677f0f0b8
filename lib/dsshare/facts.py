"""Gather the live facts a plan is computed from (the only AWS-touching part of planning).

Reads the owner directory and its share records, and what the caller can see of its
organization, into the plain dataclasses of :mod:`dsshare.preflight`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dsshare.errors import EntityDoesNotExistError
from dsshare.organization import describe_organization, iter_accounts, trusted_access_enabled
from dsshare.preflight import DirectoryFacts, OrgFacts, ShareFact
from dsshare.sharing import describe_directory, iter_shared_directories

if TYPE_CHECKING:
    from dsshare.connection import Connection

__all__ = ["gather_directory", "gather_organization"]

logger = logging.getLogger(__name__)


def gather_directory(
    conn: Connection, directory_id: str, region: str, owner_account_id: str
) -> DirectoryFacts:
    """Describe the owner directory and list all its share records (any status)."""
    try:
        description = describe_directory(
            conn, directory_id, region=region, account_id=owner_account_id
        )
    except EntityDoesNotExistError:
        logger.info("directory %s not found in %s/%s", directory_id, owner_account_id, region)
        return DirectoryFacts(directory_id, region, owner_account_id, exists=False)
    kind = description.get("Type")
    shares: tuple[ShareFact, ...] = ()
    if kind == "MicrosoftAD":
        shares = tuple(
            ShareFact.from_record(record)
            for record in iter_shared_directories(
                conn, directory_id, region=region, owner_account_id=owner_account_id
            )
        )
    return DirectoryFacts(
        directory_id=directory_id,
        region=region,
        owner_account_id=owner_account_id,
        exists=True,
        type=kind,
        edition=description.get("Edition"),
        stage=description.get("Stage"),
        name=description.get("Name"),
        shares=shares,
    )


def gather_organization(conn: Connection) -> OrgFacts:
    """What the caller can read about its organization.

    Only the management account can list members and service access; for other callers
    those stay None (unknown) and preflight treats unknown as not satisfied.
    """
    caller = conn.caller_account_id
    organization = describe_organization(conn)
    if organization is None:
        return OrgFacts.none(caller)
    management = organization.get("MasterAccountId")
    trusted: bool | None = None
    members: frozenset[str] | None = None
    if caller == management:
        trusted = trusted_access_enabled(conn)
        members = frozenset(account["Id"] for account in iter_accounts(conn))
    return OrgFacts(
        caller_account_id=caller,
        in_organization=True,
        management_account_id=management,
        feature_set=organization.get("FeatureSet"),
        trusted_access=trusted,
        members=members,
    )
