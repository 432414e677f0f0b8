"""How inventory values read for people: headings, ages, percentages, times, scope.

Pure and shared by the HTML report and the command line's summary, so both say the same
thing the same way. The frames keep their raw values (``age_days`` 3.27e-05,
``utilisation`` 0.006); only what is shown is formatted here.

Column headings follow one rule: a column that *is* an AWS field keeps the AWS field name
(``DirectoryId``, ``ShareStatus``, ``CreatedDateTime``); a column dsshare derives gets a
readable heading (``age_days`` -> "Waiting", ``utilisation`` -> "Quota used"). The mapping
is :data:`HEADINGS`; ``docs/inventory.md`` lists it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import pandas as pd

from .model import Inventory

__all__ = [
    "HEADINGS",
    "heading",
    "human_age",
    "percent",
    "plural",
    "scope_line",
    "utc_time",
]

#: Readable headings of derived (snake_case) columns. AWS fields are shown under their own
#: names and are not listed. One heading per column name, whichever frame it is in.
HEADINGS: dict[str, str] = {
    "account_id": "Account",
    "action": "Next step",
    "additional_regions": "Replica Regions",
    "after": "After",
    "age_days": "Waiting",
    "before": "Before",
    "change": "Change",
    "code": "Error code",
    "consumer_readable": "Consumer read",
    "consumer_seen": "Consumer has it",
    "consumer_share_status": "Consumer's status",
    "consumer_stage": "Consumer's stage",
    "counts_against_quota": "Counts against quota",
    "depth": "Depth",
    "detail": "Detail",
    "directory_id": "Directory",
    "field": "Field",
    "finding": "Finding",
    "frame": "Table",
    "headroom": "Headroom",
    "in_organization": "Org member",
    "in_scope": "In scope",
    "is_latest": "Latest record",
    "is_management": "Management account",
    "key": "Key",
    "message": "Message",
    "notes_length": "Notes length",
    "notes_sha256": "Notes SHA-256",
    "operation": "Operation",
    "ou_id": "Parent Id",
    "ou_path": "OU path",
    "owner_account_id": "Owner account",
    "owner_directory_id": "Owner directory Id",
    "owner_directory_name": "Owner directory",
    "owner_edition": "Owner edition",
    "owner_readable": "Owner read",
    "owner_record_seen": "Owner record seen",
    "parent_id": "Parent Id",
    "path": "Path",
    "primary_region": "Primary Region",
    "region": "Region",
    "regions_failed": "Regions failed",
    "regions_read": "Regions read",
    "request_id": "Request id",
    "severity": "Severity",
    "share_quota": "Quota",
    "shareable": "Shareable",
    "shared_account_name": "Account name",
    "shares_counting": "Shares counting",
    "side": "Side",
    "stage": "Reading",
    "utilisation": "Quota used",
    "accounts_direct": "Accounts (direct)",
}


def heading(column: str) -> str:
    """The heading of ``column``: its readable name, or the AWS field name itself."""
    return HEADINGS.get(column, column)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 account``, ``3 accounts`` (``nouns`` for irregular plurals)."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def human_age(days: float | None) -> str:
    """An age in days as people say it: ``just now``, ``12 min``, ``5 h 2 min``, ``3 d 4 h``.

    Examples
    --------
    >>> human_age(3.27e-05), human_age(0.5), human_age(3.17)
    ('just now', '12 h', '3 d 4 h')
    """
    if days is None or (isinstance(days, float) and math.isnan(days)):
        return ""
    minutes = int(round(float(days) * 24 * 60))
    if minutes < 1:
        return "just now"
    d, rest = divmod(minutes, 24 * 60)
    h, m = divmod(rest, 60)
    if d:
        return f"{d} d {h} h" if h else f"{d} d"
    if h:
        return f"{h} h {m} min" if m else f"{h} h"
    return f"{m} min"


def percent(ratio: float | None) -> str:
    """A ratio as a percentage: ``0.6%``, ``48%``, ``100%``; empty when unknown.

    Examples
    --------
    >>> percent(0.006), percent(0.48), percent(1.0)
    ('0.6%', '48%', '100%')
    """
    if ratio is None or (isinstance(ratio, float) and math.isnan(ratio)):
        return ""
    value = float(ratio) * 100
    if value == 0 or value >= 10:
        return f"{value:.0f}%"
    return f"{value:.1f}".removesuffix(".0") + "%"


def utc_time(value: dt.datetime | pd.Timestamp | None, *, seconds: bool = False) -> str:
    """``2026-11-30 12:04 UTC`` (times are always shown in UTC, and say so)."""
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def _regions(regions: Sequence[str]) -> str:
    if not regions:
        return "no Regions"
    if len(regions) > 4:
        return plural(len(regions), "Region")
    return f"{plural(len(regions), 'Region')} ({', '.join(regions)})"


def scope_line(inventory: Inventory) -> str:
    """What was read, e.g. ``300 accounts × 3 Regions (us-east-1, ...), the whole organization``.

    The account count is the accounts in scope (what was asked for, as resolved), not
    the organization's size.
    """
    scope = inventory.meta.scope
    accounts = inventory.accounts
    in_scope = int(accounts["in_scope"].fillna(False).astype(bool).sum()) if len(accounts) else 0
    if scope.all_accounts:
        how = "the whole organization"
    else:
        parts = []
        if scope.ous:
            parts.append(f"below {plural(len(scope.ous), 'OU')} ({', '.join(scope.ous)})")
        if scope.accounts:
            parts.append(f"{plural(len(scope.accounts), 'listed account')}")
        how = " and ".join(parts) or "the caller's account"
    return f"{plural(in_scope, 'account')} × {_regions(scope.regions)}, {how}"
