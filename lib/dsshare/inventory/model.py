"""The inventory object: collected frames plus the facts of the collection.

Pure: it imports neither boto3 nor anything that calls AWS, so findings, drift,
snapshots and reports work on an inventory read back from disk exactly as on a
fresh one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from . import schema


@dataclass
class Scope:
    """What was asked for: explicit accounts, OUs, or the whole organization, and Regions."""

    accounts: list[str] = field(default_factory=list)
    ous: list[str] = field(default_factory=list)
    all_accounts: bool = False
    regions: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for humans, e.g. ``all accounts × 2 Regions (us-east-1, eu-west-1)``.

        What was asked for; :func:`dsshare.inventory.present.scope_line` says what was read.
        """
        if self.all_accounts:
            who = "all accounts"
        else:
            parts = []
            if self.accounts:
                parts.append(f"{len(self.accounts)} account{'s' if len(self.accounts) != 1 else ''}")
            if self.ous:
                parts.append(f"OU{'s' if len(self.ous) != 1 else ''} {', '.join(self.ous)}")
            who = " + ".join(parts) or "no accounts"
        count = f"{len(self.regions)} Region{'s' if len(self.regions) != 1 else ''}"
        if not self.regions:
            return f"{who} × no Regions"
        if len(self.regions) > 4:
            return f"{who} × {count}"
        return f"{who} × {count} ({', '.join(self.regions)})"


@dataclass
class InventoryMeta:
    """When, by whom and over what an inventory was collected."""

    collected_at: dt.datetime
    caller_arn: str = ""
    caller_account_id: str = ""
    scope: Scope = field(default_factory=Scope)
    organization_id: str | None = None
    management_account_id: str | None = None
    feature_set: str | None = None
    trusted_access: bool | None = None
    duration_seconds: float = 0.0
    api_calls: int = 0
    schema_version: int = schema.SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (timestamps as ISO 8601 text)."""
        out = asdict(self)
        out["collected_at"] = self.collected_at.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InventoryMeta:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values["collected_at"] = dt.datetime.fromisoformat(values["collected_at"])
        values["scope"] = Scope(**values.get("scope", {}))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass
class Inventory:
    """Org-wide directory sharing state as pandas frames.

    Attributes
    ----------
    directories, shares, accounts, organizational_units, errors
        Frames with the columns declared in :mod:`dsshare.inventory.schema`.
    meta
        When, by whom and over what scope the frames were collected.

    Examples
    --------
    >>> inv = Inventory.empty()
    >>> inv.shares.empty, inv.complete
    (True, True)
    """

    directories: pd.DataFrame
    shares: pd.DataFrame
    accounts: pd.DataFrame
    organizational_units: pd.DataFrame
    errors: pd.DataFrame
    meta: InventoryMeta

    @classmethod
    def empty(cls, meta: InventoryMeta | None = None) -> Inventory:
        """An inventory with no rows (schemas intact)."""
        return cls(
            directories=schema.empty_frame(schema.DIRECTORIES),
            shares=schema.empty_frame(schema.SHARES),
            accounts=schema.empty_frame(schema.ACCOUNTS),
            organizational_units=schema.empty_frame(schema.ORGANIZATIONAL_UNITS),
            errors=schema.empty_frame(schema.ERRORS),
            meta=meta or InventoryMeta(collected_at=dt.datetime.now(dt.UTC)),
        )

    def frames(self) -> dict[str, pd.DataFrame]:
        """The collected frames by schema name, in declared order."""
        return {s.name: getattr(self, s.name) for s in schema.COLLECTED}

    @property
    def complete(self) -> bool:
        """True when every account and Region in scope was read."""
        return self.errors.empty

    @property
    def organization_error(self) -> dict[str, Any] | None:
        """The first error reading the organization itself (its reads fail together), if any."""
        found = self.errors[self.errors["stage"] == "organization"]
        return None if found.empty else schema.records(found)[0]

    @property
    def failed_accounts(self) -> list[str]:
        """Accounts with at least one unit of work that could not be read."""
        ids = self.errors["account_id"].dropna()
        return sorted(set(ids[ids != ""]))
