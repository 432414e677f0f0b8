"""The one place that builds boto3 sessions and clients.

A :class:`Connection` holds a boto3 session (from the normal credential chain, a named
profile, or a ``boto3.Session`` you already have: SSO, aws-vault, an assumed role), the Regions to work in, an optional endpoint URL (``AWS_ENDPOINT_URL`` by default,
so the sandbox's exports just work) and the retry configuration. Clients are cached and safe
to share across threads. Work in another account goes through STS AssumeRole into
``arn:aws:iam::<account>:role/<role_name>``; the temporary credentials are cached per account
until shortly before they expire. Clients for other accounts are views of one client per
service x Region that sign each call with the account's role keys (:mod:`dsshare.roles`).
Credentials never appear in ``repr`` or in logs.

Example
-------
>>> conn = Connection(region="us-east-1")            # doctest: +SKIP
>>> conn.caller_account_id                           # doctest: +SKIP
'123456789012'
>>> ds = conn.client("ds", account_id="200000000004")  # assumes the member role  # doctest: +SKIP
>>> Connection(session=boto3.Session(profile_name="sso-admin"))  # doctest: +SKIP

The connection is transport only: facts about the organization are read by the code that
gathers them (:mod:`dsshare.organization`), not cached here.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, Credentials
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound
from botocore.utils import parse_timestamp

from dsshare.errors import ParameterError, from_client_error
from dsshare.pacing import Pacer, install_pacing
from dsshare.roles import RoleClient, role_resolver
from dsshare.validation import validate_account_id, validate_region, validate_regions

__all__ = ["Connection", "RETRY_MODES"]

#: The Organizations error code for an account that belongs to no organization.
_NOT_IN_ORG = "AWSOrganizationsNotInUseException"
logger = logging.getLogger(__name__)

RETRY_MODES: tuple[str, ...] = ("standard", "adaptive", "legacy")
#: Refresh assumed-role credentials this long before they expire.
REFRESH_MARGIN = timedelta(minutes=5)
DEFAULT_MAX_POOL_CONNECTIONS = 32


def utc_timestamp(value: Any) -> datetime:
    """botocore's timestamp parser, answering in UTC.

    botocore's default converts every timestamp to the machine's local zone through
    dateutil's tzlocal, which was a tenth of an org-wide inventory's client CPU; an
    operations record wants UTC anyway. Epoch numbers (the JSON protocols) are converted
    directly; other forms go through botocore's parser.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    parsed: datetime = parse_timestamp(value)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class _RoleCredentials:
    keys: dict[str, str] = field(repr=False)
    expires: datetime

    def fresh(self, now: datetime) -> bool:
        return now + REFRESH_MARGIN < self.expires


class _GivenCredentials(CredentialProvider):
    """The credentials of a boto3 session handed in (refreshing ones keep refreshing)."""

    METHOD = "dsshare-given-session"

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


def _config_profile(core: botocore.session.Session) -> str | None:
    """The named profile a botocore session reads its config from, if it names one."""
    name = core.profile
    return name if name is not None and name in core.available_profiles else None


class Connection:
    """AWS access for dsshare: sessions, Regions, retries and cross-account roles.

    Parameters
    ----------
    profile
        Named profile from the shared config; None uses boto3's default credential chain.
    session
        A ``boto3.Session`` to take credentials (and the default Region) from, e.g. SSO,
        aws-vault or an already-assumed role; refreshing credentials keep refreshing. The
        session is not changed. Give either ``profile`` or ``session``, not both.
    region
        Default Region for clients. Defaults to the first of ``regions``, then to the
        profile's or environment's Region.
    regions
        Regions an org-wide job should cover; defaults to ``[region]``.
    endpoint_url
        Send every call to this endpoint (the sandbox); defaults to ``AWS_ENDPOINT_URL``.
    role_name
        Role assumed in other accounts.
    retry_mode, max_attempts
        botocore retry settings (``standard`` or ``adaptive`` back off on throttling and 5xx).
    max_pool_connections
        HTTP connections per client; keep it at least the bulk ``max_workers``.
    pacing
        Bulk jobs count their concurrency as calls in flight, so a call sleeping out a
        throttle's backoff lends its slot, and halve an account's calls in flight when
        AWS throttles most of them (:mod:`dsshare.pacing`). False: each worker holds its
        slot through backoffs, as a plain thread pool does.

    Example
    -------
    >>> conn = Connection(profile="ops", regions=["us-east-1", "eu-west-1"])  # doctest: +SKIP
    >>> conn.region                                                         # doctest: +SKIP
    'us-east-1'
    """

    def __init__(
        self,
        profile: str | None = None,
        region: str | None = None,
        regions: Sequence[str] | None = None,
        endpoint_url: str | None = None,
        role_name: str = "OrganizationAccountAccessRole",
        retry_mode: str = "standard",
        max_attempts: int = 8,
        max_pool_connections: int = DEFAULT_MAX_POOL_CONNECTIONS,
        *,
        session: boto3.session.Session | None = None,
        pacing: bool = True,
    ) -> None:
        if session is not None and not isinstance(session, boto3.session.Session):
            raise ParameterError("session", type(session).__name__, "a boto3.Session")
        if session is not None and profile is not None:
            raise ParameterError(
                "profile", profile, "None when a session is given (the session has its own)"
            )
        if retry_mode not in RETRY_MODES:
            raise ParameterError("retry_mode", retry_mode, "one of " + ", ".join(RETRY_MODES))
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ParameterError("max_attempts", max_attempts, "an integer >= 1")
        if (
            isinstance(max_pool_connections, bool)
            or not isinstance(max_pool_connections, int)
            or max_pool_connections < 1
        ):
            raise ParameterError("max_pool_connections", max_pool_connections, "an integer >= 1")
        if not isinstance(pacing, bool):
            raise ParameterError("pacing", pacing, "True or False")
        if not isinstance(role_name, str) or not role_name or len(role_name) > 64:
            raise ParameterError("role_name", role_name, "an IAM role name of 1-64 characters")
        region_list = validate_regions(list(regions)) if regions is not None else []
        if region is not None:
            region = validate_region(region)
        default_region: str | None = None
        if session is None:
            core = botocore.session.Session(profile=profile)
            try:
                core.get_scoped_config()
            except ProfileNotFound as err:
                raise ParameterError(
                    "profile", profile, "a profile defined in the AWS config or credentials file"
                ) from err
        else:
            # A botocore session of our own over the given session's credentials, so the
            # settings below (UTC timestamps) never change the caller's session.
            given = session._session  # boto3 has no public accessor for it
            credentials = session.get_credentials()
            if credentials is None:
                raise ParameterError("session", "a session without credentials",
                                     "a boto3.Session that resolves credentials")  # fmt: skip
            profile = _config_profile(given)
            core = botocore.session.Session(profile=profile)
            core.register_component("data_loader", given.get_component("data_loader"))
            core.register_component(
                "credential_provider", CredentialResolver([_GivenCredentials(credentials)])
            )
            default_region = session.region_name
        self._profile = profile
        self._session = boto3.session.Session(botocore_session=core)
        default_region = default_region or self._session.region_name
        # Role clients come from a second botocore session of the same profile whose only
        # credentials are "the bound account's role keys"; it shares the loaded models.
        roles = botocore.session.Session(profile=profile)
        roles.register_component("data_loader", core.get_component("data_loader"))
        roles.register_component("credential_provider", role_resolver(self._role_keys))
        for botocore_session in (core, roles):
            parsers = botocore_session.get_component("response_parser_factory")
            parsers.set_parser_defaults(timestamp_parser=utc_timestamp)
        self._role_boto_session = boto3.session.Session(botocore_session=roles)
        resolved = region or (region_list[0] if region_list else None) or default_region
        if not resolved:
            raise ParameterError(
                "region", None, "a Region (argument, AWS_DEFAULT_REGION or the profile's region)"
            )
        self._region = validate_region(resolved)
        self._regions = region_list or [self._region]
        if endpoint_url is None:
            endpoint_url = os.environ.get("AWS_ENDPOINT_URL") or None
        self._endpoint_url = endpoint_url
        self._role_name = role_name
        self._pacing = pacing
        self._config = Config(
            retries=cast(Any, {"mode": retry_mode, "max_attempts": max_attempts}),
            max_pool_connections=max_pool_connections,
        )
        self._lock = threading.RLock()
        # Builds clients one at a time (the boto3 session is not documented thread-safe),
        # without holding ``_lock``, so cache hits never wait behind a build.
        self._build_lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}
        self._shared_role_clients: dict[tuple[str, str], Any] = {}
        self._role_clients: dict[tuple[str, str, str], RoleClient] = {}
        self._roles: dict[str, _RoleCredentials] = {}
        self._account_locks: dict[str, threading.RLock] = {}
        self._identity: dict[str, str] | None = None

    def __repr__(self) -> str:
        return (
            f"Connection(profile={self._profile!r}, region={self._region!r}, "
            f"regions={self._regions!r}, endpoint_url={self._endpoint_url!r}, "
            f"role_name={self._role_name!r})"
        )

    # -- plain properties -------------------------------------------------------------

    @property
    def region(self) -> str:
        """Default Region for clients."""
        return self._region

    @property
    def regions(self) -> list[str]:
        """Regions an org-wide job covers (a copy)."""
        return list(self._regions)

    @property
    def endpoint_url(self) -> str | None:
        """Endpoint every client talks to, or None for AWS itself."""
        return self._endpoint_url

    @property
    def role_name(self) -> str:
        """Role assumed in other accounts."""
        return self._role_name

    @property
    def pacing(self) -> bool:
        """Whether bulk jobs pace their calls in flight (:mod:`dsshare.pacing`)."""
        return self._pacing

    def pacer(self, concurrency: int) -> Pacer:
        """A pacer for one bulk job with ``concurrency`` calls in flight."""
        return Pacer(concurrency, enabled=self._pacing)

    @property
    def profile(self) -> str | None:
        """Named profile in use, if any."""
        return self._profile

    # -- identity ---------------------------------------------------------------------

    def _caller_identity(self) -> dict[str, str]:
        identity = self._identity
        if identity is not None:  # resolved once, never changes: no lock on the hot path
            return identity
        with self._lock:
            if self._identity is None:
                sts = self._own_client("sts", self._region)
                try:
                    response = sts.get_caller_identity()
                except (ClientError, BotoCoreError) as err:
                    raise from_client_error(err, "GetCallerIdentity") from err
                self._identity = {"Account": response["Account"], "Arn": response["Arn"]}
                logger.debug("caller identity resolved to account %s", response["Account"])
            return self._identity

    @property
    def caller_account_id(self) -> str:
        """Account id of the credentials this connection was built from."""
        return self._caller_identity()["Account"]

    @property
    def caller_arn(self) -> str:
        """ARN of the calling principal (used in audit lines)."""
        return self._caller_identity()["Arn"]

    def describe_organization(self) -> dict[str, Any] | None:
        """DescribeOrganization's ``Organization`` now (not cached), None outside one.

        Here rather than in :mod:`dsshare.organization`, which builds on the connection.
        """
        try:
            response = self.client("organizations").describe_organization()
        except (ClientError, BotoCoreError) as err:
            if isinstance(err, ClientError) and err.response.get("Error", {}).get("Code") == _NOT_IN_ORG:
                return None
            raise from_client_error(err, "DescribeOrganization") from err
        organization: dict[str, Any] = response["Organization"]
        return organization

    # -- clients ----------------------------------------------------------------------

    def _build(self, session: boto3.session.Session, service: str, region: str) -> Any:
        with self._build_lock:
            client = session.client(
                service,  # type: ignore[call-overload]
                region_name=region,
                endpoint_url=self._endpoint_url,
                config=self._config,
            )
        if self._pacing:
            install_pacing(client, service, region)
        return client

    def _cached_client(
        self, cache: dict[tuple[str, str], Any], session: boto3.session.Session,
        service: str, region: str,
    ) -> Any:  # fmt: skip
        key = (service, region)
        client = cache.get(key)
        if client is not None:
            return client
        with self._lock:
            client = cache.get(key)
            if client is None:
                client = cache[key] = self._build(session, service, region)
            return client

    def _own_client(self, service: str, region: str) -> Any:
        return self._cached_client(self._clients, self._session, service, region)

    def _account_lock(self, account_id: str) -> threading.RLock:
        """One lock per account: roles for different accounts are assumed in parallel."""
        with self._lock:
            return self._account_locks.setdefault(account_id, threading.RLock())

    def _role_keys(self, account_id: str) -> dict[str, str]:
        """The role's temporary keys in ``account_id`` (assumed, or cached while fresh).

        Called when every role request is signed: fresh keys are read without a lock
        (``_roles`` entries are immutable and replaced whole).
        """
        cached = self._roles.get(account_id)
        if cached is not None and cached.fresh(datetime.now(UTC)):
            return cached.keys
        with self._account_lock(account_id):
            cached = self._roles.get(account_id)
            if cached is not None and cached.fresh(datetime.now(UTC)):
                return cached.keys
            role_arn = f"arn:aws:iam::{account_id}:role/{self._role_name}"
            sts = self._own_client("sts", self._region)
            try:
                response = sts.assume_role(
                    RoleArn=role_arn, RoleSessionName=f"dsshare-{account_id}"
                )
            except (ClientError, BotoCoreError) as err:
                raise from_client_error(err, "AssumeRole") from err
            creds = response["Credentials"]
            keys = {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            }
            expires = creds["Expiration"]
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=UTC)
            with self._lock:
                self._roles[account_id] = _RoleCredentials(keys=keys, expires=expires)
            logger.info("assumed %s (credentials valid until %s)", role_arn, expires.isoformat())
            return keys

    def client(
        self, service: str, *, region: str | None = None, account_id: str | None = None
    ) -> Any:
        """Return a cached, thread-safe boto3 client.

        For another account, the role is assumed first (or its cached credentials reused
        while fresh), so a role that cannot be assumed fails here; the client returned
        signs every call with the role's current keys, refreshed before they expire.

        Parameters
        ----------
        service
            boto3 service name, e.g. ``"ds"``.
        region
            Region; defaults to :attr:`region`.
        account_id
            None or the caller's own account uses the caller's credentials; any other
            account is reached by assuming :attr:`role_name` there.

        Example
        -------
        >>> conn.client("ds", region="eu-west-1")  # doctest: +SKIP
        """
        region = self._region if region is None else validate_region(region)
        if account_id is None:
            return self._own_client(service, region)
        account_id = validate_account_id(account_id)
        if account_id == self.caller_account_id:
            return self._own_client(service, region)
        self._role_keys(account_id)
        key = (service, region, account_id)
        client = self._role_clients.get(key)
        if client is None:
            shared = self._cached_client(
                self._shared_role_clients, self._role_boto_session, service, region
            )
            with self._lock:
                client = self._role_clients.setdefault(key, RoleClient(shared, account_id))
        return client
