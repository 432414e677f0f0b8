"""What the collector gathers, before any frame is built: plain data, no pandas.

:mod:`dsshare.inventory.collect` fills a :class:`RawInventory` while its calls are in
flight and :mod:`dsshare.inventory.build` turns it into frames at the end, so collecting
can start before pandas is loaded (``dsshare inventory`` loads it beside the first calls).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RawInventory"]


@dataclass
class RawInventory:
    """What the collector gathered, before joining; every field is plain data."""

    directories: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """(account_id, region, DirectoryDescription)"""
    share_records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(region, SharedDirectory)"""
    accounts: list[dict[str, Any]] = field(default_factory=list)
    """Organizations Account dicts, each with an extra ``ParentId`` when known."""
    organizational_units: list[dict[str, Any]] = field(default_factory=list)
    """Roots and OUs: {Id, Name, ParentId}"""
    errors: list[dict[str, Any]] = field(default_factory=list)
    read_units: set[tuple[str, str]] = field(default_factory=set)
    """(account_id, region) whose DescribeDirectories succeeded."""
    read_owner_directories: set[tuple[str, str]] = field(default_factory=set)
    """(region, DirectoryId) whose DescribeSharedDirectories succeeded."""
    scope_accounts: list[str] = field(default_factory=list)
    organization_known: bool = False
