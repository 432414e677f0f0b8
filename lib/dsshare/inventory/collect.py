"""Collect org-wide directory sharing state concurrently into an :class:`Inventory`.

Work is split into small units run on one bounded thread pool, each unit making
one kind of read through the library (so every client comes from the
:class:`~dsshare.connection.Connection` and every list call goes through a
botocore paginator):

* the organization (DescribeOrganization, trusted access, ListAccounts, OUs);
* per account: assume the cross-account role once;
* per account x Region: DescribeDirectories;
* per owned MicrosoftAD directory: DescribeSharedDirectories.

Units start follow-up units as soon as their input is known (accounts are
processed while ListAccounts is still paging), so the wall time approaches the
longest chain of dependent calls instead of their sum. A unit that fails
becomes a row of the ``errors`` frame and collection goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from tqdm.auto import tqdm

from dsshare import calls, organization
from dsshare.connection import Connection
from dsshare.errors import AwsError, DsShareError, ParameterError, from_client_error
from dsshare.safetext import terminal
from dsshare.validation import is_root_id, validate_account_id, validate_ou_id, validate_regions

from .raw import RawInventory

if TYPE_CHECKING:
    from .model import Inventory

__all__ = ["DEFAULT_CONCURRENCY", "collect_inventory", "enabled_regions"]

logger = logging.getLogger(__name__)

#: Worker threads by default: enough to hide 50 ms of latency, few enough for 2 cores.
DEFAULT_CONCURRENCY = 32
#: What a failing unit may raise and still let collection go on.
COLLECTION_ERRORS = (DsShareError, ClientError, BotoCoreError)
#: Organizations' answer when the caller's account belongs to no organization.
NOT_IN_ORGANIZATION = "AWSOrganizationsNotInUseException"


def enabled_regions(conn: Connection) -> list[str]:
    """Regions enabled for the caller where Directory Service is offered.

    EC2 DescribeRegions lists the Regions enabled for the account (opt-in ones
    only when opted in); intersected with the Regions botocore knows for ``ds``.

    Examples
    --------
    >>> enabled_regions(conn)  # doctest: +SKIP
    ['eu-west-1', 'us-east-1', ...]
    """
    import boto3

    try:
        response = conn.client("ec2").describe_regions()
    except (ClientError, BotoCoreError) as err:
        raise from_client_error(err, "DescribeRegions") from err
    session = boto3.session.Session()
    partition = session.get_partition_for_region(conn.region)
    offered = set(session.get_available_regions("ds", partition_name=partition))
    return sorted(
        r["RegionName"] for r in response.get("Regions", []) if r["RegionName"] in offered
    )


def _error_row(
    err: BaseException,
    *,
    stage: str,
    account_id: str | None = None,
    region: str | None = None,
    directory_id: str | None = None,
) -> dict[str, Any]:
    """One errors-frame row; AWS errors keep operation, code and request id."""
    row: dict[str, Any] = {
        "account_id": account_id,
        "region": region,
        "stage": stage,
        "directory_id": directory_id,
        "code": type(err).__name__,
        "message": str(err),
    }
    if isinstance(err, AwsError):
        row.update(
            operation=err.operation, code=err.code, message=err.message, request_id=err.request_id
        )
    elif isinstance(err, ClientError):
        error = err.response.get("Error", {})
        row.update(
            operation=err.operation_name,
            code=error.get("Code"),
            message=error.get("Message"),
            request_id=err.response.get("ResponseMetadata", {}).get("RequestId"),
        )
    elif isinstance(err, DsShareError):
        row["message"] = err.message
    return row


class _Collector:
    """One collection run: the pool, the shared raw results and their lock."""

    def __init__(
        self, conn: Connection, regions: list[str], concurrency: int, progress: bool
    ) -> None:
        self.conn = conn
        self.regions = regions
        self.raw = RawInventory()
        self.lock = threading.Lock()
        # ``concurrency`` calls in flight; the pool has more threads, so a call sleeping out
        # a throttle's backoff lends its slot (dsshare.pacing).
        self.pacer = conn.pacer(concurrency)
        self.pool = ThreadPoolExecutor(max_workers=self.pacer.threads, thread_name_prefix="inventory")
        # Listing the organization discovers the work: its own few threads and urgent
        # calls, so it is never queued behind the accounts it has already found.
        self.discovery = ThreadPoolExecutor(max_workers=4, thread_name_prefix="inventory-org")
        # Units not finished yet, and the first exception a unit let escape (a bug). Counted
        # rather than waited on one by one: waiting on the set of pending futures costs
        # O(pending) per completion, which was seconds of CPU at 1,000+ units.
        self.done = threading.Condition(self.lock)
        self.outstanding = 0
        self.finished = 0
        self.failure: BaseException | None = None
        self.started_accounts: set[str] = set()
        self.bar = tqdm(
            total=0,
            desc="inventory",
            unit="call",
            file=sys.stderr,
            disable=not progress,
            leave=False,
        )
        self.placement: dict[str, str] = {}
        self.organization: dict[str, Any] | None = None
        self.organization_logged = False
        self.trusted_access: bool | None = None

    @property
    def caller(self) -> str:
        """The caller's account (GetCallerIdentity once; units wait for it if in flight)."""
        return self.conn.caller_account_id

    # -- scheduling ---------------------------------------------------------------

    def spawn(self, task: Callable[..., None], *args: Any, discovery: bool = False) -> None:
        """Run ``task(*args)`` on the pool (``discovery``: the organization's, urgent
        calls); safe to call from inside another task."""
        with self.lock:
            # Counted before the parent unit finishes, so the count never drops to zero
            # while work is still being discovered.
            self.outstanding += 1
            self.bar.total += 1
        try:
            pool = self.discovery if discovery else self.pool
            future = pool.submit(self._paced, discovery, task, *args)
        except BaseException:
            with self.lock:
                self.outstanding -= 1
                self.done.notify_all()
            raise
        future.add_done_callback(self._finished)

    def _paced(self, urgent: bool, task: Callable[..., None], *args: Any) -> None:
        with self.pacer.bound(urgent):
            task(*args)

    def _finished(self, future: Future[None]) -> None:
        error = None if future.cancelled() else future.exception()
        with self.lock:
            self.outstanding -= 1
            self.finished += 1
            if error is not None and self.failure is None:
                self.failure = error
            if self.outstanding == 0 or error is not None:
                self.done.notify_all()

    def abandon(self) -> None:
        """Stop after a failure outside the units: cancel what has not started."""
        for pool in (self.discovery, self.pool):
            pool.shutdown(wait=True, cancel_futures=True)
        self.bar.close()

    def drain(self) -> None:
        """Wait until every unit, including those spawned meanwhile, has finished."""
        # A visible progress bar is refreshed a few times a second; otherwise the only
        # wake-ups are "all done" and "a unit failed".
        refresh = None if self.bar.disable else 0.2
        shown = 0
        try:
            with self.lock:
                while self.outstanding and self.failure is None:
                    self.done.wait(timeout=refresh)
                    if refresh is not None:
                        self.bar.update(self.finished - shown)
                        shown = self.finished
                failure = self.failure
            if failure is not None:
                raise failure  # a bug in a unit must not pass silently
        finally:
            for pool in (self.discovery, self.pool):
                pool.shutdown(wait=True, cancel_futures=True)
            self.bar.close()

    def error(self, err: BaseException, **where: Any) -> None:
        row = _error_row(err, **where)
        if row.get("code") == NOT_IN_ORGANIZATION:
            # Not an error: the caller's account belongs to no organization, so there
            # is nothing to list; accounts are then only those asked for.
            logger.info("inventory: the caller is not in an organization")
            return
        organization_wide = where.get("stage") == "organization"
        with self.lock:
            self.raw.errors.append(row)
            repeated = organization_wide and self.organization_logged
            self.organization_logged = self.organization_logged or organization_wide
        # The three organization reads run at once and fail together (no access, no
        # credentials): they are logged once, at info, since callers report them from the
        # error rows (the CLI prints one line; the report shows a banner). AWS text is
        # escaped, so a control character in a message cannot drive the terminal.
        level = logging.DEBUG if repeated else logging.INFO if organization_wide else logging.WARNING
        logger.log(
            level,
            "inventory: could not read %s (%s): %s",
            terminal("/".join(str(v) for v in where.values() if v)),
            terminal(row.get("code")),
            terminal(row.get("message")),
        )

    # -- organization units -------------------------------------------------------

    def read_organization(self) -> None:
        try:
            self.organization = organization.describe_organization(self.conn)
        except COLLECTION_ERRORS as err:
            self.error(err, stage="organization")
            return
        if self.organization is None:
            return
        try:
            self.trusted_access = organization.trusted_access_enabled(self.conn)
        except COLLECTION_ERRORS as err:
            self.error(err, stage="organization")

    def list_accounts(self, collect_all: bool) -> None:
        """ListAccounts, starting each account's work as soon as its page arrives."""
        seen: list[dict[str, Any]] = []
        try:
            for account in organization.iter_accounts(self.conn):
                seen.append(account)
                state = account.get("State") or account.get("Status")
                if collect_all and state in (None, "ACTIVE"):
                    self.start_account(account["Id"])
        except COLLECTION_ERRORS as err:
            self.error(err, stage="organization")
            if collect_all:
                # Without the organization, the caller's own account is still readable.
                self.start_account(self.caller)
            return
        with self.lock:
            self.raw.accounts.extend(seen)
            self.raw.organization_known = True

    def read_tree(self) -> None:
        """Roots and OUs, then which accounts sit under each (for placement)."""
        try:
            roots = list(organization.iter_roots(self.conn))
            ous = list(organization.iter_organizational_units(self.conn))
        except COLLECTION_ERRORS as err:
            self.error(err, stage="organization")
            return
        nodes = [{"Id": r["Id"], "Name": r.get("Name", "Root"), "ParentId": None} for r in roots]
        nodes += [{"Id": o["id"], "Name": o["name"], "ParentId": o["parent_id"]} for o in ous]
        with self.lock:
            self.raw.organizational_units.extend(nodes)
        for node in nodes:
            self.spawn(self.place_accounts, node["Id"], discovery=True)

    def place_accounts(self, parent_id: str) -> None:
        try:
            children = [
                a["Id"] for a in organization.iter_accounts_for_parent(self.conn, parent_id)
            ]
        except COLLECTION_ERRORS as err:
            self.error(err, stage="organization")
            return
        with self.lock:
            for account_id in children:
                self.placement[account_id] = parent_id

    def expand_ou(self, ou_id: str) -> None:
        try:
            accounts = organization.expand_targets(self.conn, [ou_id])
        except COLLECTION_ERRORS as err:
            self.error(err, stage="organization")
            return
        for account_id in accounts:
            self.start_account(account_id)

    # -- account units ------------------------------------------------------------

    def start_account(self, account_id: str) -> None:
        with self.lock:
            if account_id in self.started_accounts:
                return
            self.started_accounts.add(account_id)
            self.raw.scope_accounts.append(account_id)
        self.spawn(self.enter_account, account_id)

    def enter_account(self, account_id: str) -> None:
        """Assume the role once per account (cached by the connection), then fan out.

        The other Regions start as soon as the role is assumed; the first is read here.
        """
        if account_id != self.caller:
            try:
                self.conn.client("ds", region=self.regions[0], account_id=account_id)
            except COLLECTION_ERRORS as err:
                # One row per Region (each is a unit that could not be read), one log line.
                self.error(err, stage="assume_role", account_id=account_id, region=self.regions[0])
                with self.lock:
                    for region in self.regions[1:]:
                        self.raw.errors.append(
                            _error_row(
                                err, stage="assume_role", account_id=account_id, region=region
                            )
                        )
                return
        for region in self.regions[1:]:
            self.spawn(self.read_directories, account_id, region)
        self.read_directories(account_id, self.regions[0])

    def read_directories(self, account_id: str, region: str) -> None:
        try:
            found = list(calls.iter_directories(self.conn, region=region, account_id=account_id))
        except COLLECTION_ERRORS as err:
            self.error(err, stage="directories", account_id=account_id, region=region)
            return
        with self.lock:
            self.raw.directories.extend((account_id, region, d) for d in found)
            self.raw.read_units.add((account_id, region))
        for d in found:
            if d.get("Type") == "MicrosoftAD":
                self.spawn(self.read_shares, account_id, region, d["DirectoryId"])

    def read_shares(self, account_id: str, region: str, directory_id: str) -> None:
        try:
            records = list(
                calls.iter_shared_directories(
                    self.conn, directory_id, region, owner_account_id=account_id
                )
            )
        except COLLECTION_ERRORS as err:
            self.error(
                err,
                stage="shared_directories",
                account_id=account_id,
                region=region,
                directory_id=directory_id,
            )
            return
        with self.lock:
            self.raw.share_records.extend((region, r) for r in records)
            self.raw.read_owner_directories.add((region, directory_id))


def _check_scope(
    accounts: Sequence[str] | None, ous: Sequence[str] | None, all_accounts: bool
) -> tuple[list[str], list[str]]:
    account_list = [validate_account_id(a, "accounts") for a in (accounts or [])]
    ou_list = [o if is_root_id(o) else validate_ou_id(o, "ous") for o in (ous or [])]
    if all_accounts and (account_list or ou_list):
        raise ParameterError(
            "scope", "accounts/ous with all_accounts", "either all_accounts or accounts/ous"
        )
    return account_list, ou_list


def collect_inventory(
    conn: Connection,
    *,
    accounts: Sequence[str] | None = None,
    ous: Sequence[str] | None = None,
    all_accounts: bool = False,
    regions: Iterable[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = False,
) -> Inventory:
    """Collect directories, share records, accounts and OUs across accounts and Regions.

    Parameters
    ----------
    conn
        The connection every client comes from; member accounts are reached by
        assuming ``conn.role_name`` in them.
    accounts, ous
        Explicit account ids and OU ids (expanded recursively) to read.
    all_accounts
        Read every ACTIVE account of the organization instead (exclusive with the above).
        With neither, only the caller's own account is read.
    regions
        Regions to read; defaults to ``conn.regions``.
    concurrency
        Worker threads (calls in flight at once).
    progress
        Show a tqdm progress bar on stderr.

    Returns
    -------
    Inventory
        Frames with the schemas of :mod:`dsshare.inventory.schema`; accounts or Regions
        that could not be read are rows of ``errors`` (check ``inventory.complete``).

    Examples
    --------
    >>> conn = Connection(regions=["us-east-1", "eu-west-1"])  # doctest: +SKIP
    >>> inv = collect_inventory(conn, all_accounts=True)        # doctest: +SKIP
    >>> inv.shares.groupby("ShareStatus").size()                # doctest: +SKIP
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ParameterError("concurrency", concurrency, "an integer >= 1")
    account_list, ou_list = _check_scope(accounts, ous, all_accounts)
    region_list = validate_regions(list(regions) if regions is not None else conn.regions)
    started = time.monotonic()
    collected_at = dt.datetime.now(dt.UTC)
    run = _Collector(conn, region_list, concurrency, progress)
    run.spawn(run.read_organization, discovery=True)
    run.spawn(run.list_accounts, all_accounts, discovery=True)
    run.spawn(run.read_tree, discovery=True)
    try:
        # Resolved while the organization reads are in flight; without credentials this
        # raises (the units' own failures are only rows).
        caller = run.caller
    except BaseException:
        run.abandon()
        raise
    if not (all_accounts or account_list or ou_list):
        account_list = [caller]
    for account_id in account_list:
        run.start_account(account_id)
    for ou_id in ou_list:
        run.spawn(run.expand_ou, ou_id, discovery=True)
    run.drain()
    # Imported once the calls are done, not at the top: the frames need pandas, which
    # `dsshare inventory` loads in the background while the calls are in flight.
    from . import build
    from .model import Inventory, InventoryMeta, Scope

    raw = run.raw
    for account in raw.accounts:
        account["ParentId"] = run.placement.get(account["Id"])
    org = run.organization
    meta = InventoryMeta(
        collected_at=collected_at,
        caller_arn=conn.caller_arn,
        caller_account_id=caller,
        scope=Scope(
            accounts=account_list if not all_accounts else [],
            ous=ou_list,
            all_accounts=all_accounts,
            regions=region_list,
        ),
        organization_id=org.get("Id") if org else None,
        management_account_id=org.get("MasterAccountId") if org else None,
        feature_set=org.get("FeatureSet") if org else None,
        trusted_access=run.trusted_access,
        duration_seconds=round(time.monotonic() - started, 3),
    )
    directories = build.build_directories(raw)
    ou_frame = build.build_organizational_units(raw)
    account_frame = build.build_accounts(raw, ou_frame, meta.management_account_id)
    shares = build.build_shares(raw, directories, account_frame)
    logger.info(
        "inventory: %d directories, %d share records, %d errors in %.1fs",
        len(directories),
        len(shares),
        len(raw.errors),
        meta.duration_seconds,
    )
    return Inventory(
        directories=directories,
        shares=shares,
        accounts=account_frame,
        organizational_units=ou_frame,
        errors=build.build_errors(raw),
        meta=meta,
    )
