"""The runbooks dsshare ships, and the registry ``dsshare run`` looks them up in.

Parameter names are a public interface (scheduler jobs and change tickets hold them):
rename nothing here without a deprecation. Every notebook under ``notebooks/runbooks/``
has a ``parameters`` cell mirroring its spec; ``tests/test_runbooks_notebooks.py`` keeps
the two in step.

Example
-------
>>> [spec.name for spec in runbooks()][:2]
['share_directory', 'unshare_directory']
>>> get_runbook("share_directory").param("dry_run").default
True
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dsshare.errors import ParameterError
from dsshare.model import ShareMethod

from .parameters import (
    ALL,
    Param,
    RunbookSpec,
    check_account_ids,
    check_directory_id,
    check_directory_ids,
    check_endpoint_url,
    check_expected_plan,
    check_minutes,
    check_notes,
    check_region,
    check_regions,
    check_required_text,
    check_scope,
    check_targets,
)

__all__ = ["LATEST", "get_runbook", "register", "runbooks"]

#: ``compare_to: latest`` picks the newest earlier snapshot under the runs folder.
LATEST = "latest"
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_REGISTRY: dict[str, RunbookSpec] = {}


def register(spec: RunbookSpec) -> RunbookSpec:
    """Add ``spec`` to the registry (a later spec of the same name replaces it)."""
    _REGISTRY[spec.name] = spec
    return spec


def get_runbook(name: str) -> RunbookSpec:
    """The runbook called ``name``; ParameterError (parameter ``runbook``) when unknown."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ParameterError("runbook", name, "one of " + ", ".join(_REGISTRY)) from None


def runbooks() -> list[RunbookSpec]:
    """Every registered runbook, in registration order."""
    return list(_REGISTRY.values())


# -- checks specific to one parameter -----------------------------------------------------


def _one_of(*choices: str) -> Any:
    def check(value: str, name: str) -> str:
        if value not in choices:
            raise ParameterError(name, value, "one of " + ", ".join(choices))
        return value

    return check


def _role_name(value: str, name: str) -> str:
    if not _ROLE_NAME.match(value):
        raise ParameterError(name, value, "an IAM role name of 1-64 characters")
    return value


def _targets(value: list[str], name: str) -> list[str]:
    return check_targets(value, name)


def _targets_or_all(value: list[str], name: str) -> list[str]:
    return check_targets(value, name, allow_all=True)


def _required_scope(value: list[str], name: str) -> list[str]:
    if not value:
        raise ParameterError(name, value, f'account or OU ids, or ["{ALL}"]')
    return check_scope(value, name)


def _desired_state(value: str, name: str) -> str:
    """An existing desired-state YAML file that parses; returned as an absolute path."""
    from dsshare.desired import load_desired_state

    path = Path(check_required_text(value, name)).expanduser()
    if not path.is_file():
        raise ParameterError(name, value, "the path of an existing desired-state YAML file")
    try:
        load_desired_state(path)
    except ParameterError as err:
        raise ParameterError(f"{name}: {err.parameter}", err.value, err.allowed) from err
    return str(path.resolve())


def _compare_to(value: str, name: str) -> str:
    """Empty, ``latest``, or a snapshot folder (one holding manifest.json), made absolute."""
    text = value.strip()
    if text in ("", LATEST):
        return text
    path = Path(text).expanduser()
    if path.is_dir() and not (path / "manifest.json").is_file() and (
        path / "snapshot" / "manifest.json"
    ).is_file():
        path = path / "snapshot"  # a whole inventory_report run folder
    if not (path / "manifest.json").is_file():
        raise ParameterError(
            name, value, f"empty, {LATEST!r}, or a snapshot folder (one holding manifest.json)"
        )
    return str(path.resolve())


def _inventory_scope(params: dict[str, Any]) -> None:
    accounts, ous = params["accounts"], params["ous"]
    if ALL in accounts and ous and ous != [ALL]:
        raise ParameterError("ous", ous, f'empty when accounts is ["{ALL}"]')
    if ALL in ous and accounts and accounts != [ALL]:
        raise ParameterError("accounts", accounts, f'empty when ous is ["{ALL}"]')
    bad = [a for a in accounts if a != ALL and not re.match(r"^\d{12}$", a)]
    if bad:
        index = accounts.index(bad[0])
        raise ParameterError(f"accounts[{index}]", bad[0], "a 12-digit account id (OUs go in ous)")
    bad = [o for o in ous if o != ALL and not o.startswith("ou-")]
    if bad:
        index = ous.index(bad[0])
        raise ParameterError(f"ous[{index}]", bad[0], "an OU id, e.g. ou-ab12-cd34ef56")


# -- the parameters every runbook shares ----------------------------------------------------

PROFILE = Param("profile", str, "", "AWS named profile; empty uses the default credential chain")
ENDPOINT_URL = Param(
    "endpoint_url", str, "",
    "AWS endpoint for every call; empty means AWS_ENDPOINT_URL if set, else real AWS",
    check_endpoint_url,
)  # fmt: skip
REGION = Param(
    "region", str, "", "Region of the directory; empty uses the profile's or AWS_DEFAULT_REGION",
    check_region,
)  # fmt: skip
REGIONS = Param(
    "regions", list, [], "Regions to cover; empty means the profile's or AWS_DEFAULT_REGION",
    check_regions,
)  # fmt: skip
ROLE_NAME = Param(
    "role_name", str, "OrganizationAccountAccessRole",
    "role assumed in member accounts (consumer-side calls and reads)", _role_name,
)  # fmt: skip
OUTPUT_DIR = Param(
    "output_dir", str, "",
    "run folder for results; empty makes runs/<UTC timestamp>-<runbook>",
)  # fmt: skip
DRY_RUN = Param("dry_run", bool, True, "true only plans (nothing changes); false applies")
EXPECTED_PLAN = Param(
    "expected_plan", str, "",
    "fingerprint printed by the reviewed dry run; when set, refuse unless the live plan matches",
    check_expected_plan,
)  # fmt: skip
WAIT_TIMEOUT = Param(
    "wait_timeout_minutes", float, 10.0,
    "minutes to wait for every target to reach its final status (at most 1440)", check_minutes,
)  # fmt: skip
DIRECTORY_ID = Param(
    "directory_id", str, "", "owner directory: d- followed by 10 hex digits", check_directory_id
)


def _common(region: Param) -> tuple[Param, ...]:
    return (PROFILE, ENDPOINT_URL, region, ROLE_NAME, OUTPUT_DIR)


SHARE_DIRECTORY = register(RunbookSpec(
    name="share_directory",
    title="Share a directory with accounts and OUs",
    description="Plan (with preflight) and apply ShareDirectory for account and OU targets "
    "(OUs expand recursively); optionally accept in each consumer account.",
    mutating=True,
    params=_common(REGION) + (
        DIRECTORY_ID,
        Param("targets", list, [], "account ids and/or OU ids; OUs expand recursively", _targets),
        Param("method", str, str(ShareMethod.HANDSHAKE), "HANDSHAKE (any account; consumer accepts) or "
              "ORGANIZATIONS (members only; no acceptance)", _one_of(*ShareMethod)),
        Param("notes", str, "", "ShareNotes the consumer reads (HANDSHAKE); or env:VAR or "
              "file:PATH; never written to the run folder", check_notes, sensitive=True),
        Param("auto_accept", bool, False, "HANDSHAKE only: accept in each consumer account "
              "through role_name, then wait for Shared"),
        Param("allow_external", bool, False, "allow HANDSHAKE targets outside the organization"),
        DRY_RUN,
        EXPECTED_PLAN,
        WAIT_TIMEOUT,
    ),
))  # fmt: skip

UNSHARE_DIRECTORY = register(RunbookSpec(
    name="unshare_directory",
    title="Stop sharing a directory",
    description="Plan and apply UnshareDirectory for accounts and OUs, or every account the "
    "directory is currently shared with (targets: [ALL]); waits for Deleted.",
    mutating=True,
    params=_common(REGION) + (
        DIRECTORY_ID,
        Param("targets", list, [], 'account ids and/or OU ids, or ["ALL"] for every current '
              "share", _targets_or_all),
        DRY_RUN,
        EXPECTED_PLAN,
        WAIT_TIMEOUT,
    ),
))  # fmt: skip

RESPOND_TO_INVITATIONS = register(RunbookSpec(
    name="respond_to_invitations",
    title="Accept or reject pending invitations (consumer side)",
    description="Find PendingAcceptance shared directories in the chosen consumer accounts "
    "(through role_name), filtered by owner account or directory, and accept or reject them.",
    mutating=True,
    params=_common(REGIONS) + (
        Param("accounts", list, [], 'consumer account ids and/or OU ids, or ["ALL"] for every '
              "account of the organization", _required_scope),
        Param("action", str, "", "accept or reject", _one_of("accept", "reject")),
        Param("owner_account_ids", list, [], "only invitations from these owner accounts; "
              "empty means any", check_account_ids),
        Param("owner_directory_ids", list, [], "only invitations for these owner directories; "
              "empty means any", check_directory_ids),
        Param("allow_external_owners", bool, False, "allow accepting invitations from owners "
              "outside the organization (or of unknown membership)"),
        DRY_RUN,
        EXPECTED_PLAN,
        WAIT_TIMEOUT,
    ),
))  # fmt: skip

RECONCILE_SHARES = register(RunbookSpec(
    name="reconcile_shares",
    title="Reconcile shares with a desired state",
    description="Plan every directory of a desired-state YAML file against live shares and "
    "apply the difference; prune unshares accounts the file does not list.",
    mutating=True,
    params=_common(REGION) + (
        Param("desired_state", str, "", "path of the desired-state YAML file", _desired_state),
        Param("prune", bool, False, "also unshare accounts the desired state does not list"),
        DRY_RUN,
        EXPECTED_PLAN,
        WAIT_TIMEOUT,
    ),
))  # fmt: skip

INVENTORY_REPORT = register(RunbookSpec(
    name="inventory_report",
    title="Inventory, findings, drift and an HTML report",
    description="Collect directories and share records across accounts and Regions; write a "
    "snapshot, findings, drift against an earlier snapshot, and a self-contained HTML report.",
    mutating=False,
    params=_common(REGIONS) + (
        Param("accounts", list, [], 'account ids to read, or ["ALL"]; with ous also empty, '
              "the whole organization is read", check_scope),
        Param("ous", list, [], "OU ids to read (expanded recursively), with or instead of "
              "accounts", check_scope),
        Param("compare_to", str, "", "earlier snapshot folder for drift, or latest (the newest "
              "earlier run under the runs folder); empty skips drift", _compare_to),
    ),
    cross_check=_inventory_scope,
))  # fmt: skip
