"""Clients that act as another account through one shared botocore client.

An org-wide job talks to hundreds of accounts in each Region. A botocore client per
account x Region costs ~3.5 ms of CPU to build (copying the session's event handlers,
generating the client class, resolving configuration) and its own HTTP connection pool,
so building them was half the CPU of a 300-account inventory, and every account opened
new connections (on AWS, a new TLS handshake each).

Instead, :class:`~dsshare.connection.Connection` keeps one client per service x Region for
all assumed roles, and hands out a :class:`RoleClient` per account: a thin view whose
every operation runs with its account bound in a context variable. botocore asks the
client's credentials for their keys when it signs each request (also on each retry), and
:class:`ActingAccountCredentials` answers with the bound account's role keys. Requests are
ordinary SigV4 requests signed by that account's role session, so this works against AWS
unchanged; the endpoint of a service in a Region is the same for every account.

A call on the shared client with no account bound fails loudly instead of being signed
with someone else's keys.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    Credentials,
    ReadOnlyCredentials,
)

__all__ = [
    "ActingAccountCredentials",
    "RoleClient",
    "UnboundRoleCallError",
    "acting_account",
    "role_resolver",
]

#: The account whose role signs the current call; set only while a RoleClient call runs.
_ACTING_ACCOUNT: ContextVar[str | None] = ContextVar("dsshare_acting_account", default=None)


def acting_account() -> str | None:
    """The account the current call acts as, or None for the connection's own."""
    return _ACTING_ACCOUNT.get()


class UnboundRoleCallError(RuntimeError):
    """The shared role client was called directly, with no account to act as (a bug)."""


class ActingAccountCredentials(Credentials):
    """Credentials of whichever account the current call acts as.

    ``keys_for(account_id)`` returns that account's role keys (assuming the role, or
    refreshing it, when needed); it is called at signing time, in the calling thread.
    """

    method = "dsshare-assume-role"

    def __init__(self, keys_for: Callable[[str], dict[str, str]]) -> None:
        # Deliberately not Credentials.__init__: there are no keys of our own to hold, and
        # no access_key/secret_key/token attributes for anything to read by mistake.
        self._keys_for = keys_for

    def __repr__(self) -> str:
        return "ActingAccountCredentials()"

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        account_id = _ACTING_ACCOUNT.get()
        if account_id is None:
            raise UnboundRoleCallError(
                "a role client was called with no account bound; get clients for other "
                "accounts from Connection.client(service, account_id=...)"
            )
        keys = self._keys_for(account_id)
        return ReadOnlyCredentials(
            keys["aws_access_key_id"],
            keys["aws_secret_access_key"],
            keys["aws_session_token"],
            account_id,
        )


class _ActingAccountProvider(CredentialProvider):
    METHOD = ActingAccountCredentials.method

    def __init__(self, credentials: ActingAccountCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> ActingAccountCredentials:
        return self._credentials


def role_resolver(keys_for: Callable[[str], dict[str, str]]) -> CredentialResolver:
    """A botocore credential resolver whose only source is :class:`ActingAccountCredentials`."""
    return CredentialResolver([_ActingAccountProvider(ActingAccountCredentials(keys_for))])


class RoleClient:
    """A boto3 client acting as one account: a view of the shared client of its Region.

    Operations, and the paginators and waiters it hands out, run with the account bound,
    so each request is signed with that account's role credentials. Everything else
    (``meta``, ``exceptions``, ``can_paginate``) is the shared client's.
    """

    __slots__ = ("_client", "_account_id")

    def __init__(self, client: Any, account_id: str) -> None:
        self._client = client
        self._account_id = account_id

    @property
    def account_id(self) -> str:
        """The account this client acts as."""
        return self._account_id

    def __repr__(self) -> str:
        meta = self._client.meta
        return (
            f"<RoleClient {meta.service_model.service_name} in {meta.region_name} "
            f"as account {self._account_id}>"
        )

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name in self._client.meta.method_to_api_mapping:
            return self._acting(attribute)
        if name in ("get_paginator", "get_waiter"):
            # botocore builds paginators and waiters from getattr(client, operation):
            # with this view as the client, the operations they call are bound too.
            unbound = getattr(type(self._client), name)
            return lambda *args, **kwargs: unbound(self, *args, **kwargs)
        return attribute

    def _acting(self, method: Callable[..., Any]) -> Callable[..., Any]:
        account_id = self._account_id

        def call(*args: Any, **kwargs: Any) -> Any:
            token = _ACTING_ACCOUNT.set(account_id)
            try:
                return method(*args, **kwargs)
            finally:
                _ACTING_ACCOUNT.reset(token)

        call.__name__ = method.__name__
        return call
