"""Share records and the registry that owner and consumer accounts both see.

A share links an owner directory (in one account) to a consumer account, so its
state cannot live in either account's moto backend alone. The registry holds
every record of the sandbox, indexed both ways, behind one lock.

Status follows a timeline: each transition schedules its steps at
``now + k * transition_delay`` and the current status is read lazily, so no
background thread is needed and a delay of 0 makes transitions immediate
(docs/aws-sharing.md, "Status lifecycle").
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from moto.moto_api._internal import mock_random

#: Records in these statuses no longer count: against the quota, as "already
#: shared", or as visible to the consumer (docs/aws-sharing.md, "Quotas").
FINISHED = frozenset({"Deleted", "Rejected"})
#: A new share to the same account is refused while a record is in one of these.
BLOCKS_RESHARE = frozenset({"Sharing", "PendingAcceptance", "Shared"})
#: The consumer sees no directory for a record in one of these. It does see a record
#: that is still Sharing: Terraform's accepter accepts right after ShareDirectory
#: answers, and its waiter counts Sharing as pending (docs/aws-sharing.md).
HIDDEN_FROM_CONSUMER = frozenset({"Deleted", "Rejected"})

#: Default edition quotas: accounts one directory can be shared with, per Region.
EDITION_QUOTAS = {"Standard": 25, "Enterprise": 500, "Hybrid": 125}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class ShareRecord:
    """One owner directory shared with one consumer account in one Region."""

    shared_directory_id: str
    owner_account_id: str
    owner_directory_id: str
    shared_account_id: str
    region: str
    method: str
    #: None when the owner gave no ShareNotes: AWS then sends no ShareNotes member.
    notes: str | None
    created: dt.datetime
    timeline: list[tuple[dt.datetime, str]] = field(default_factory=list)
    #: Sandbox-only: one side no longer sees the record, as after an out-of-band
    #: deletion or while AWS is eventually consistent (``Sandbox.hide_share``).
    hidden_from_owner: bool = False
    hidden_from_consumer: bool = False

    def status(self, now: dt.datetime | None = None) -> str:
        """The status at ``now``: the last timeline step that has begun."""
        now = now or utcnow()
        current = self.timeline[0][1]
        for at, status in self.timeline:
            if at <= now:
                current = status
        return current

    def last_updated(self, now: dt.datetime | None = None) -> dt.datetime:
        now = now or utcnow()
        stamp = self.timeline[0][0]
        for at, _ in self.timeline:
            if at <= now:
                stamp = at
        return stamp

    def move(self, steps: list[str], delay: float, now: dt.datetime | None = None) -> None:
        """Replace pending steps with ``steps``, the first now, each next after ``delay`` s."""
        now = now or utcnow()
        self.timeline = [(at, status) for at, status in self.timeline if at <= now]
        for index, status in enumerate(steps):
            self.timeline.append((now + dt.timedelta(seconds=delay * index), status))

    def to_dict(self, now: dt.datetime | None = None) -> dict[str, object]:
        """The API's SharedDirectory shape (no ShareNotes member when none were given)."""
        shape: dict[str, object] = {
            "OwnerAccountId": self.owner_account_id,
            "OwnerDirectoryId": self.owner_directory_id,
            "ShareMethod": self.method,
            "SharedAccountId": self.shared_account_id,
            "SharedDirectoryId": self.shared_directory_id,
            "ShareStatus": self.status(now),
            "ShareNotes": self.notes,
            "CreatedDateTime": self.created,
            "LastUpdatedDateTime": self.last_updated(now),
        }
        if self.notes is None:
            del shape["ShareNotes"]
        return shape


class ShareRegistry:
    """Every share record of the sandbox, with the lock that guards them."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.transition_delay = 0.2
        self._records: dict[str, ShareRecord] = {}
        # The same records by the keys requests look them up by: every DescribeDirectories
        # asks for its caller's consumer records, and scanning all of them (2,000 in the
        # scale seed) was ~3 % of the sandbox's CPU. A record's keys never change.
        self._by_owner: dict[tuple[str, str, str], list[ShareRecord]] = {}
        self._by_consumer: dict[tuple[str, str], list[ShareRecord]] = {}

    def clear(self) -> None:
        with self.lock:
            self._records.clear()
            self._by_owner.clear()
            self._by_consumer.clear()

    def new_id(self) -> str:
        with self.lock:
            while True:
                candidate = f"d-{mock_random.get_random_hex(10)}"
                if candidate not in self._records:
                    return candidate

    def add(self, record: ShareRecord) -> None:
        with self.lock:
            replaced = self._records.get(record.shared_directory_id)
            if replaced is not None:
                self._by_owner[_owner_key(replaced)].remove(replaced)
                self._by_consumer[_consumer_key(replaced)].remove(replaced)
            self._records[record.shared_directory_id] = record
            self._by_owner.setdefault(_owner_key(record), []).append(record)
            self._by_consumer.setdefault(_consumer_key(record), []).append(record)

    def get(self, shared_directory_id: str) -> ShareRecord | None:
        return self._records.get(shared_directory_id)

    def all(self) -> Iterator[ShareRecord]:
        with self.lock:
            records = list(self._records.values())
        return iter(records)

    def for_owner(self, owner_account_id: str, region: str, directory_id: str) -> list[ShareRecord]:
        """Records of one owner directory, oldest first (Deleted ones included)."""
        with self.lock:
            return sorted(
                (
                    r
                    for r in self._by_owner.get((owner_account_id, region, directory_id), ())
                    if not r.hidden_from_owner
                ),
                key=_age,
            )

    def for_consumer(self, account_id: str, region: str) -> list[ShareRecord]:
        """Records whose consumer side lives in ``account_id``/``region``."""
        with self.lock:
            return sorted(self._by_consumer.get((account_id, region), ()), key=_age)


def _owner_key(record: ShareRecord) -> tuple[str, str, str]:
    return record.owner_account_id, record.region, record.owner_directory_id


def _consumer_key(record: ShareRecord) -> tuple[str, str]:
    return record.shared_account_id, record.region


def _age(record: ShareRecord) -> tuple[dt.datetime, str]:
    """Oldest first; the id breaks ties between records created in the same instant."""
    return record.created, record.shared_directory_id


#: The process-wide registry: one sandbox server runs per process.
REGISTRY = ShareRegistry()
