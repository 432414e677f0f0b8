"""Organizations in the sandbox: what the sharing API needs to know, and its account lists.

:func:`org_facts` reads what ShareDirectory checks from moto's state.
:class:`ListingResponse` is moto's Organizations response class with ListAccounts and
ListAccountsForParent answered page by page: moto describes and sorts every account of the
organization for each page, then scans the sorted list for the NextToken's account, which
made a full listing of a 10,000-account organization quadratic (~35 s of the sandbox's CPU).
Both answers are still moto's, byte for byte: the same paginator object builds and checks
the tokens over a window of the same sorted list (the guard,
:mod:`dsshare.sandbox.guard`, compares the two on probe organizations before the sandbox
serves; ``tests/test_sandbox_account_listing.py`` compares them over HTTP).
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from botocore.paginate import TokenDecoder
from moto.organizations.models import organizations_backends
from moto.organizations.responses import OrganizationsResponse
from moto.organizations.utils import PAGINATION_MODEL
from moto.utilities.paginator import Paginator

DS_PRINCIPAL = "ds.amazonaws.com"


@dataclass(frozen=True)
class OrgFacts:
    """The organization an account belongs to, as ShareDirectory sees it."""

    organization_id: str | None
    management_account_id: str | None
    feature_set: str | None
    trusted_access: bool
    member_ids: frozenset[str]


def _management_backend(account_id: str):  # type: ignore[no-untyped-def]
    backend = organizations_backends[account_id]["aws"]
    if backend.org is not None:
        return backend
    owner = organizations_backends.master_accounts.get(account_id)
    if owner is None:
        return None
    return organizations_backends[owner[0]][owner[1]]


def org_facts(account_id: str) -> OrgFacts:
    """Facts about the organization ``account_id`` belongs to (empty if none)."""
    backend = _management_backend(account_id)
    if backend is None or backend.org is None:
        return OrgFacts(None, None, None, False, frozenset())
    return OrgFacts(
        organization_id=backend.org.id,
        management_account_id=backend.org.master_account_id,
        feature_set=backend.org.feature_set,
        trusted_access=any(s["ServicePrincipal"] == DS_PRINCIPAL for s in backend.services),
        member_ids=frozenset(a.id for a in backend.accounts),
    )


# -- ListAccounts and ListAccountsForParent, one page at a time ---------------------------


def _paginator(operation: str, max_results: int | None, next_token: str | None,
               checked: dict[str, Any]) -> Paginator:  # fmt: skip
    """The Paginator moto's ``@paginate`` builds for ``operation`` with these parameters."""
    config = PAGINATION_MODEL[operation]
    return Paginator(
        max_results=max_results,
        max_results_default=config.get("limit_default"),
        starting_token=next_token,
        unique_attribute=config.get("unique_attribute"),
        param_values_to_check=checked,
        fail_on_invalid_token=config.get("fail_on_invalid_token", True),
    )


def _page_size(operation: str, max_results: int | None) -> int:
    """The page size moto's Paginator uses (MaxResults, or the default when absent or 0)."""
    return int(max_results or PAGINATION_MODEL[operation]["limit_default"])


def _token_key(next_token: str | None) -> str | None:
    """The unique value moto's Paginator looks for: the token's first ``|``-field.

    Called after the Paginator accepted the token (it decodes it first and refuses what
    does not decode), so this only reads it; a token of another shape finds nothing here,
    and moto's own scan then answers it (see :func:`_window`).
    """
    if next_token is None:
        return None
    try:
        decoded = TokenDecoder().decode(next_token)
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    unique = decoded.get("uniqueAttributes") if isinstance(decoded, dict) else None
    return unique.split("|")[0] if isinstance(unique, str) else None


def _window(ordered: Sequence[Any], start: int | None, next_token: str | None,
            size: int) -> list[Any]:  # fmt: skip
    """The part of ``ordered`` moto's Paginator needs to answer exactly as on all of it.

    Paginator.paginate finds the first item matching the token, takes ``size`` items from
    there, and builds the next token from the item after them. Given ``ordered`` from that
    first match (``start``) on, it finds it at once and answers the same page and token;
    one item more than the page tells it whether there is a next one. A token that matches
    nothing gets the first item alone, which moto's check refuses exactly as it would
    refuse all of them (``InvalidToken``, or the same error for a token of another shape).
    """
    if next_token is None:
        return list(ordered[: size + 1])
    if start is None:
        return list(ordered[:1])
    return list(ordered[start : start + size + 1])


def _position(keys: list[str], key: str | None) -> int | None:
    """Where ``key`` first appears in ``keys`` (None if it does not)."""
    if key is None:
        return None
    try:
        return keys.index(key)
    except ValueError:
        return None


@dataclass(frozen=True)
class _JoinedOrder:
    """An organization's accounts in ListAccounts' order, and where each timestamp starts."""

    accounts: list[Any]  # the backend's account list when this was built (a copy)
    ordered: list[Any]  # sorted as moto sorts ListAccounts: by JoinedTimestamp, stable
    first_index: dict[str, int]  # str(JoinedTimestamp) -> first position in ``ordered``


class _JoinedOrders:
    """:class:`_JoinedOrder` per Organizations backend, rebuilt when its accounts change.

    Checking costs one identity comparison of the account lists (~10 us for 10,000
    accounts); an account joins ListAccounts' order by its JoinedTimestamp, which moto
    never changes, so nothing else about an account can move it.
    """

    def __init__(self) -> None:
        self._orders: weakref.WeakKeyDictionary[Any, _JoinedOrder] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def of(self, backend: Any) -> _JoinedOrder:
        order = self._orders.get(backend)
        if order is not None and order.accounts == backend.accounts:
            return order
        with self._lock:
            accounts = list(backend.accounts)
            stamps = [account.describe()["JoinedTimestamp"] for account in accounts]
            positions = sorted(range(len(accounts)), key=stamps.__getitem__)
            first_index: dict[str, int] = {}
            for index, position in enumerate(positions):
                first_index.setdefault(str(stamps[position]), index)
            order = _JoinedOrder(accounts, [accounts[p] for p in positions], first_index)
            self._orders[backend] = order
        return order


_joined_orders = _JoinedOrders()
_by_creation = attrgetter("create_time")


class ListingResponse(OrganizationsResponse):
    """moto's Organizations answers, with its two account lists paged without a full scan.

    The sandbox's server routes Organizations requests here
    (:data:`dsshare.sandbox.dispatch.RESPONSE_CLASSES`); moto's class is untouched. A
    negative MaxResults, which moto answers oddly (a page counted from the end), is left
    to moto.
    """

    def list_accounts(self) -> str:
        max_results = self._get_int_param("MaxResults")
        next_token = self._get_param("NextToken")
        size = _page_size("list_accounts", max_results)
        if size < 1:
            return super().list_accounts()
        paginator = _paginator("list_accounts", max_results, next_token, {})
        order = _joined_orders.of(self.organizations_backend)
        key = _token_key(next_token)
        start = None if key is None else order.first_index.get(key)
        window = _window(order.ordered, start, next_token, size)
        accounts, token = paginator.paginate([account.describe() for account in window])
        return json.dumps({"Accounts": accounts, "NextToken": token})

    def list_accounts_for_parent(self) -> str:
        max_results = self._get_int_param("MaxResults")
        next_token = self._get_param("NextToken")
        parent_id = self._get_param("ParentId")
        size = _page_size("list_accounts_for_parent", max_results)
        if size < 1:
            return super().list_accounts_for_parent()
        paginator = _paginator(
            "list_accounts_for_parent", max_results, next_token, {"parent_id": parent_id}
        )
        backend = self.organizations_backend
        parent_id = backend.validate_parent_id(parent_id)
        # One pass over the organization per page, as moto makes: MoveAccount changes an
        # account's parent in place, and noticing that would cost more than the pass.
        children = sorted(
            [account for account in backend.accounts if account.parent_id == parent_id],
            key=_by_creation,
        )
        start = _position([str(account.id) for account in children], _token_key(next_token))
        window = _window(children, start, next_token, size)
        accounts, token = paginator.paginate(window)
        return json.dumps({"Accounts": [a.describe() for a in accounts], "NextToken": token})
