"""Guardrails: an optional policy file that limits what the kit may do, and the pure checks.

Sharing a directory lets another account join machines to the domain, so an organization
may want limits that hold whoever runs the kit and from wherever (library, runbook,
console). A policy file (``parameters/guardrails.yaml`` documents every key) sets:

``shareable_directories``
    directory ids that may be shared at all (absent: any);
``allowed_targets``
    account ids and OU ids (an OU allows every account below it, recursively) that may
    receive a share or accept one (absent: any);
``denied_accounts``
    account ids that may never receive a share nor accept one: share and accept are
    refused for them (wins over ``allowed_targets``); unshare, reject and leave, which
    reduce access, stay allowed;
``protected_accounts``
    account ids nothing may touch: every action (share, accept, unshare, reject, leave)
    is refused for them, e.g. a break-glass or audit account whose shares are managed by
    hand;
``allow_external_handshake``
    whether HANDSHAKE shares to accounts outside the organization are allowed (default
    true: the per-call ``allow_external`` flag still applies);
``allow_external_owners``
    whether invitations from owners outside the organization may be accepted (default
    true: the per-call ``allow_external_owners`` flag still applies);
``max_targets_per_run``
    the most accounts one plan may share with (absent: no limit).

The planner (:func:`dsshare.planning.plan`, :func:`dsshare.planning.plan_desired_state`,
:func:`dsshare.planning.plan_responses`, and so every bulk verb, runbook and console
action) applies the active policy: an explicit :class:`Guardrails`, else the file named by
the environment variable ``DSSHARE_GUARDRAILS``. A violation is a ``refuse`` row whose
``check`` names the rule (:data:`CHECKS`), so it is visible in the plan before anything is
called. A ``DSSHARE_GUARDRAILS`` that names a file that cannot be read or is not a valid
policy fails closed: planning raises :class:`GuardrailsError`.

This module is pure (no boto3): the accounts below the allowed OUs are gathered by the
planner and passed in.

Example
-------
>>> policy = parse_guardrails({"denied_accounts": ["200000000005"], "max_targets_per_run": 10})
>>> policy.account_refusal("d-1234567890", "200000000005", external=False).check
'GuardrailDeniedAccount'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsshare import inputs
from dsshare.errors import ParameterError
from dsshare.model import MUTATING_ACTIONS, Action, PlanRow, ShareMethod, ShareStatus
from dsshare.preflight import Refusal
from dsshare.validation import (
    is_account_id,
    is_ou_id,
    validate_account_id,
    validate_directory_id,
)

__all__ = [
    "CHECKS",
    "ENV_VAR",
    "Guardrails",
    "GuardrailsError",
    "active_guardrails",
    "load_guardrails",
    "parse_guardrails",
]

#: Environment variable naming the policy file the planner applies when none is passed.
ENV_VAR = "DSSHARE_GUARDRAILS"
SCHEMA_VERSION = 1

#: Check code of a refused plan row -> the policy key (rule) it enforces.
CHECKS: dict[str, str] = {
    "GuardrailDirectoryNotAllowed": "shareable_directories",
    "GuardrailDeniedAccount": "denied_accounts",
    "GuardrailTargetNotAllowed": "allowed_targets",
    "GuardrailExternalHandshake": "allow_external_handshake",
    "GuardrailMaxTargets": "max_targets_per_run",
    "GuardrailProtectedAccount": "protected_accounts",
    "GuardrailExternalOwner": "allow_external_owners",
}
_KEYS = {"version", *CHECKS.values()}


class GuardrailsError(ParameterError):
    """The guardrails policy file is missing, unreadable or invalid; nothing was planned."""

    def __init__(self, parameter: str, value: object, allowed: str, source: str) -> None:
        super().__init__(parameter, value, allowed)
        self.source = source
        self.message = f"Guardrails policy {source}: {self.message}"
        self.args = (self.message,)
        self.next_step = (
            f"Fix the policy file {source} (or unset {ENV_VAR}); nothing was sent to AWS."
        )


@dataclass(frozen=True)
class Guardrails:
    """A parsed policy. ``None`` for a set means the rule is absent (no limit).

    ``source`` names where the policy came from, for refusal reasons.
    """

    shareable_directories: frozenset[str] | None = None
    allowed_accounts: frozenset[str] | None = None
    allowed_ous: frozenset[str] = frozenset()
    denied_accounts: frozenset[str] = frozenset()
    allow_external_handshake: bool = True
    max_targets_per_run: int | None = None
    protected_accounts: frozenset[str] = frozenset()
    allow_external_owners: bool = True
    source: str = field(default="<policy>", compare=False)

    @property
    def restricts_targets(self) -> bool:
        """True when ``allowed_targets`` is set (accounts and/or OUs)."""
        return self.allowed_accounts is not None

    def identity(self) -> dict[str, Any]:
        """Canonical plain data (for plan fingerprints: a policy change re-plans)."""
        return {
            "shareable_directories": _sorted(self.shareable_directories),
            "allowed_accounts": _sorted(self.allowed_accounts),
            "allowed_ous": sorted(self.allowed_ous),
            "denied_accounts": sorted(self.denied_accounts),
            "allow_external_handshake": self.allow_external_handshake,
            "max_targets_per_run": self.max_targets_per_run,
            "protected_accounts": sorted(self.protected_accounts),
            "allow_external_owners": self.allow_external_owners,
        }

    def digest(self) -> str:
        """sha256 of :meth:`identity`, for logs and run records."""
        canonical = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    # -- pure checks ------------------------------------------------------------------

    def directory_refusal(self, directory_id: str) -> Refusal | None:
        """Refusal when ``shareable_directories`` does not list ``directory_id``."""
        if self.shareable_directories is not None and directory_id not in self.shareable_directories:
            return Refusal(
                "GuardrailDirectoryNotAllowed",
                f"guardrails {self.source}, rule shareable_directories: {directory_id} "
                "is not listed as shareable",
            )
        return None

    def account_refusal(
        self,
        directory_id: str,
        account_id: str,
        *,
        external: bool,
        method: str = ShareMethod.HANDSHAKE,
        ou_accounts: frozenset[str] | None = frozenset(),
    ) -> Refusal | None:
        """The first rule a new share of ``directory_id`` with ``account_id`` breaks, or None.

        ``ou_accounts`` holds the accounts below ``allowed_ous`` (None when they could not
        be read: then only the listed accounts are allowed, and the reason says why).
        """
        refusal = self.protected_refusal(account_id) or self.directory_refusal(directory_id)
        if refusal is not None:
            return refusal
        return self._receiver_refusal(account_id, ou_accounts) or self._external_refusal(
            account_id, external=external, method=method
        )

    def protected_refusal(self, account_id: str, action: str = Action.SHARE) -> Refusal | None:
        """Refusal when ``protected_accounts`` lists ``account_id`` (any action)."""
        if account_id in self.protected_accounts:
            return Refusal(
                "GuardrailProtectedAccount",
                f"guardrails {self.source}, rule protected_accounts: {account_id} is "
                f"protected; no {action} may touch it",
            )
        return None

    def accept_refusal(
        self,
        account_id: str,
        *,
        external_owner: bool,
        ou_accounts: frozenset[str] | None = frozenset(),
    ) -> Refusal | None:
        """The first rule accepting a share in ``account_id`` breaks, or None.

        Accepting grants the account access as sharing does: protected, denied and
        allowed-target rules apply, and ``allow_external_owners`` for an owner outside the
        organization.
        """
        refusal = self.protected_refusal(account_id, Action.ACCEPT) or self._receiver_refusal(
            account_id, ou_accounts
        )
        if refusal is not None:
            return refusal
        if external_owner and not self.allow_external_owners:
            return Refusal(
                "GuardrailExternalOwner",
                f"guardrails {self.source}, rule allow_external_owners: the owner is outside "
                "the organization and accepting its shares is not allowed",
            )
        return None

    def _external_refusal(self, account_id: str, *, external: bool, method: str) -> Refusal | None:
        if external and method == ShareMethod.HANDSHAKE and not self.allow_external_handshake:
            return Refusal(
                "GuardrailExternalHandshake",
                f"guardrails {self.source}, rule allow_external_handshake: {account_id} is "
                "outside the organization and external HANDSHAKE shares are not allowed",
            )
        return None

    def _receiver_refusal(
        self, account_id: str, ou_accounts: frozenset[str] | None
    ) -> Refusal | None:
        """denied_accounts and allowed_targets: may ``account_id`` receive a share?"""
        if account_id in self.denied_accounts:
            return Refusal(
                "GuardrailDeniedAccount",
                f"guardrails {self.source}, rule denied_accounts: {account_id} is denied",
            )
        if self.allowed_accounts is not None:
            allowed = account_id in self.allowed_accounts or (
                ou_accounts is not None and account_id in ou_accounts
            )
            if not allowed:
                why = "is not an allowed account nor below an allowed OU"
                if ou_accounts is None and self.allowed_ous:
                    why = "is not an allowed account, and the allowed OUs could not be read"
                return Refusal(
                    "GuardrailTargetNotAllowed",
                    f"guardrails {self.source}, rule allowed_targets: {account_id} {why}",
                )
        return None

    def row_refusal(
        self, row: PlanRow, ou_accounts: frozenset[str] | None = frozenset()
    ) -> Refusal | None:
        """The first rule ``row`` (a mutating row) breaks, or None.

        share: every share rule; accept: :meth:`accept_refusal` (``row.external`` is the
        owner's); unshare, reject, leave reduce access: only ``protected_accounts``.
        """
        if row.action == Action.SHARE:
            return self.account_refusal(
                row.directory_id, row.account_id, external=row.external,
                method=row.method or ShareMethod.HANDSHAKE, ou_accounts=ou_accounts,
            )  # fmt: skip
        if row.action == Action.ACCEPT:
            return self.accept_refusal(
                row.account_id, external_owner=row.external, ou_accounts=ou_accounts
            )
        if row.action in MUTATING_ACTIONS:
            return self.protected_refusal(row.account_id, row.action)
        return None

    def enforce(
        self,
        rows: Sequence[PlanRow],
        ou_accounts: frozenset[str] | None = frozenset(),
        actions: Sequence[str] | None = None,
    ) -> list[PlanRow]:
        """Return ``rows`` with every mutating row that breaks a rule turned into ``refuse``.

        Rows are checked one by one (:meth:`row_refusal`); then, if more share rows remain
        than ``max_targets_per_run``, every one of them is refused: a run over the limit
        shares with nobody rather than with an arbitrary first few.

        ``actions`` gives the requested action of each row's request. A share request's
        ``skip`` row for a share already PendingAcceptance is checked too: with auto-accept
        it would be accepted, completing a share the policy forbids, so it is refused.
        """
        if actions is not None and len(actions) != len(rows):
            raise ParameterError("actions", len(actions), f"one requested action per row ({len(rows)})")
        checked: list[PlanRow] = []
        for index, row in enumerate(rows):
            pending = (
                actions is not None and actions[index] == Action.SHARE
                and row.action == Action.SKIP
                and row.share_status == ShareStatus.PENDING_ACCEPTANCE
            )  # fmt: skip
            if pending:
                refusal = self.account_refusal(
                    row.directory_id, row.account_id, external=row.external,
                    method=row.method or ShareMethod.HANDSHAKE, ou_accounts=ou_accounts,
                )  # fmt: skip
            else:
                refusal = self.row_refusal(row, ou_accounts)
            if refusal is not None:
                if pending:
                    refusal = Refusal(
                        refusal.check,
                        f"{refusal.reason}; its pending invitation will not be accepted",
                    )
                row = _refused(row, refusal)
            checked.append(row)
        shares = sum(1 for row in checked if row.action == Action.SHARE)
        limit = self.max_targets_per_run
        if limit is None or shares <= limit:
            return checked
        refusal = Refusal(
            "GuardrailMaxTargets",
            f"guardrails {self.source}, rule max_targets_per_run: this plan would share with "
            f"{shares} accounts; at most {limit} are allowed per run (split the targets)",
        )
        return [_refused(row, refusal) if row.action == Action.SHARE else row for row in checked]


def _refused(row: PlanRow, refusal: Refusal) -> PlanRow:
    return dataclasses.replace(row, action=Action.REFUSE, check=refusal.check, reason=refusal.reason)


def _sorted(values: frozenset[str] | None) -> list[str] | None:
    return None if values is None else sorted(values)


# -- parsing ---------------------------------------------------------------------------


def _id_list(
    data: Mapping[str, Any], key: str, source: str, kinds: str
) -> list[str] | None:
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if isinstance(value, str | bytes) or not isinstance(value, list):
        raise GuardrailsError(key, value, f"a list of {kinds}", source)
    items: list[str] = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise GuardrailsError(where, item, f"one of {kinds}", source)
        items.append(_checked(inputs.identifier, item, where, source))
    return items


def parse_guardrails(data: object, source: str = "<policy>") -> Guardrails:
    """Validate a policy mapping (e.g. loaded YAML) into :class:`Guardrails`.

    Every error is a :class:`GuardrailsError` naming the key (``denied_accounts[2]``).
    Values are read like every input (:mod:`dsshare.inputs`): ids are text (a file's
    unquoted ``000000000017`` stays that id; a Python number is refused, never converted),
    booleans are true/false only, numbers decimal.

    Example
    -------
    >>> parse_guardrails({"allowed_targets": ["ou-ab12-cd34ef56"]}).allowed_ous
    frozenset({'ou-ab12-cd34ef56'})
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise GuardrailsError("guardrails", type(data).__name__, "a mapping of rules", source)
    unknown = sorted(str(key) for key in data if key not in _KEYS)
    if unknown:
        raise GuardrailsError("guardrails", unknown, "only the keys " + ", ".join(sorted(_KEYS)), source)
    version = data.get("version", SCHEMA_VERSION)
    if version is None or _checked(inputs.integer, version, "version", source) != SCHEMA_VERSION:
        raise GuardrailsError("version", version, str(SCHEMA_VERSION), source)

    directories = _id_list(data, "shareable_directories", source, "directory ids")
    if directories is not None:
        directories = [
            _checked(validate_directory_id, d, f"shareable_directories[{i}]", source)
            for i, d in enumerate(directories)
        ]
    allowed_accounts: list[str] | None = None
    allowed_ous: list[str] = []
    targets = _id_list(data, "allowed_targets", source, "account ids and OU ids")
    if targets is not None:
        allowed_accounts = []
        for index, target in enumerate(targets):
            if is_account_id(target):
                allowed_accounts.append(target)
            elif is_ou_id(target):
                allowed_ous.append(target)
            else:
                raise GuardrailsError(
                    f"allowed_targets[{index}]", target,
                    "a 12-digit account id or an OU id (ou-xxxx-xxxxxxxx)", source,
                )  # fmt: skip
    denied = _id_list(data, "denied_accounts", source, "account ids") or []
    denied = [
        _checked(validate_account_id, a, f"denied_accounts[{i}]", source)
        for i, a in enumerate(denied)
    ]
    protected = _id_list(data, "protected_accounts", source, "account ids") or []
    protected = [
        _checked(validate_account_id, a, f"protected_accounts[{i}]", source)
        for i, a in enumerate(protected)
    ]
    external = data.get("allow_external_handshake")
    external = True if external is None else _checked(
        inputs.boolean, external, "allow_external_handshake", source)
    external_owners = data.get("allow_external_owners")
    external_owners = True if external_owners is None else _checked(
        inputs.boolean, external_owners, "allow_external_owners", source)
    limit = data.get("max_targets_per_run")
    if limit is not None:
        try:
            limit = inputs.integer(limit, "max_targets_per_run", minimum=1)
        except ParameterError as err:
            raise GuardrailsError(err.parameter, limit, err.allowed, source) from err
    return Guardrails(
        shareable_directories=None if directories is None else frozenset(directories),
        allowed_accounts=None if allowed_accounts is None else frozenset(allowed_accounts),
        allowed_ous=frozenset(allowed_ous),
        denied_accounts=frozenset(denied),
        allow_external_handshake=external,
        max_targets_per_run=limit,
        protected_accounts=frozenset(protected),
        allow_external_owners=external_owners,
        source=source,
    )


def _checked(check: Any, value: object, where: str, source: str) -> Any:
    try:
        return check(value, where)
    except ParameterError as err:
        raise GuardrailsError(err.parameter, value, err.allowed, source) from err


def load_guardrails(path: str | os.PathLike[str]) -> Guardrails:
    """Read and validate a policy file (YAML).

    Example
    -------
    >>> load_guardrails("parameters/guardrails.yaml").max_targets_per_run  # doctest: +SKIP
    50
    """
    source = str(path)
    try:
        data = inputs.read_yaml_file(path, "guardrails")
    except inputs.InputFileError as err:
        where = "" if err.line is None else f"line {err.line}: "
        raise GuardrailsError("guardrails", f"{where}{err.problem}", err.allowed, source) from err
    except ParameterError as err:
        raise GuardrailsError("guardrails", source, err.allowed, source) from err
    return parse_guardrails(data, source)


def active_guardrails(explicit: Guardrails | None = None) -> Guardrails | None:
    """The policy the planner applies: ``explicit``, else the file ``$DSSHARE_GUARDRAILS``.

    Returns None when neither is set. A set variable naming a bad file raises
    :class:`GuardrailsError` (fail closed: a policy that cannot be read allows nothing).
    """
    if explicit is not None:
        return explicit
    path = os.environ.get(ENV_VAR, "").strip()
    if not path:
        return None
    return load_guardrails(path)

