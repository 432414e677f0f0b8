"""The guard: moto must still behave the way the sandbox's extension of it expects.

The sandbox subclasses moto's Directory Service response and backend classes and serves
them from its own apps (:mod:`dsshare.sandbox.dispatch`); two speed shortcuts repeat
small pieces of moto (its Flask view, its host lookup). Each check below *exercises* the
moto piece the sandbox relies on, with probe classes and requests of its own, and
compares the result with what the sandbox expects. Nothing in moto is changed and no
code object is read. A moto that behaves differently fails :func:`check_moto_shape` with
:class:`MotoShapeError` naming what changed, before the sandbox serves a request.
"""

from __future__ import annotations

import datetime
import inspect
import json
import threading
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

import moto
from botocore.exceptions import ClientError
from botocore.paginate import TokenEncoder
from flask import Flask
from moto.core.base_backend import AccountSpecificBackend, BackendDict
from moto.core.exceptions import InvalidToken
from moto.core.utils import convert_to_flask_response
from moto.ds import models as ds_models
from moto.ds import responses as ds_responses
from moto.ds.responses import DirectoryServiceResponse
from moto.moto_server.werkzeug_app import BackendRequest, DomainDispatcherApplication
from moto.organizations.models import OrganizationsBackend, organizations_backends
from moto.organizations.responses import OrganizationsResponse
from moto.utilities.paginator import Paginator
from werkzeug.test import EnvironBuilder

from . import MotoShapeError
from .backend import SharingBackend, SharingBackendDict
from .dispatch import DirectRoute, create_app, run_app
from .exceptions import EntityDoesNotExistException
from .organization import ListingResponse
from .responses import ADDED, REPLACED, SharingResponse

#: The moto the sandbox's tests have passed with (pyproject.toml allows it up to moto 6).
TESTED_WITH = "moto 5.2.5"

#: What probe requests are signed as (an account id no seed uses).
PROBE_ACCOUNT = "000000000000"
PROBE_REGION = "us-east-1"


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise MotoShapeError(
            f"dsshare's sandbox cannot extend moto {moto.__version__}: {what}. "
            f"The extension was tested with {TESTED_WITH}; pin moto or update "
            "dsshare.sandbox (see the README, section 'The guard')."
        )


def _probe_environ(service: str, target: str | None, body: bytes = b"{}") -> dict[str, Any]:
    """A signed-looking ``POST /`` for ``service`` on a loopback host, as a client sends it."""
    headers = {
        "Host": "127.0.0.1:1",
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential=AKIAPROBE/20240101/{PROBE_REGION}/{service}/"
            "aws4_request, SignedHeaders=host, Signature=0"
        ),
        "Content-Type": "application/x-amz-json-1.1",
    }
    if target is not None:
        headers["X-Amz-Target"] = target
    return EnvironBuilder(method="POST", path="/", headers=headers, data=body).get_environ()


def _ds_call(response_class: type, operation: str) -> tuple[int, dict[str, Any], Any]:
    """``operation`` answered by ``response_class.dispatch``, as moto's view calls it."""
    request = BackendRequest(
        _probe_environ("ds", f"DirectoryService_20150416.{operation}", b'{"DirectoryId": "d-0"}')
    )
    try:
        status, headers, body = response_class.dispatch(
            request, request.raw_url, dict(request.headers)
        )
    finally:
        request.close()
    return int(status), dict(headers), body


# -- moto's Directory Service response class ------------------------------------------


class _PlainAnswerProbe(DirectoryServiceResponse):
    """Answers as the sandbox's operations do: ``(body, headers)``, or a sharing error."""

    def share_directory(self) -> tuple[str, dict[str, str]]:
        return '{"SharedDirectoryId": "probe"}', {"Content-Type": "application/x-amz-json-1.1"}

    def unshare_directory(self) -> tuple[str, dict[str, str]]:
        raise EntityDoesNotExistException("probe directory does not exist")


class _LimitsProbe:
    """A backend whose only answer is recognisable."""

    def get_directory_limits(self) -> dict[str, Any]:
        return {"CloudOnlyDirectoriesLimit": 7, "ConnectedDirectoriesLimit": 3}


class _BackendProbe(DirectoryServiceResponse):
    @property
    def ds_backend(self) -> Any:
        return _LimitsProbe()


def _check_response_class() -> None:
    """The sharing operations are not moto's; moto's own reach the backend via ds_backend."""
    for name in ADDED:
        _require(
            getattr(DirectoryServiceResponse, name, None) is None,
            f"moto now implements DirectoryServiceResponse.{name} itself",
        )
    for name in REPLACED:
        _require(
            callable(getattr(DirectoryServiceResponse, name, None)),
            f"DirectoryServiceResponse.{name} is gone",
        )
    _require(
        issubclass(SharingResponse, DirectoryServiceResponse),
        "DirectoryServiceResponse can no longer be subclassed",
    )
    try:
        status, _, body = _ds_call(_BackendProbe, "GetDirectoryLimits")
        limits = json.loads(body).get("DirectoryLimits", {})
    except (AttributeError, TypeError, ValueError, KeyError) as err:
        status, limits = 0, {"error": repr(err)}
    _require(
        status == 200 and limits.get("CloudOnlyDirectoriesLimit") == 7,
        "DirectoryServiceResponse's own operations (GetDirectoryLimits) no longer reach the "
        f"backend through its ds_backend property (got {status} {limits!r})",
    )


def _check_plain_answers() -> None:
    """moto sends a ``(body, headers)`` answer as is (plus a request id), errors as JSON."""
    try:
        answer: Any = _ds_call(_PlainAnswerProbe, "ShareDirectory")
    except (AttributeError, TypeError, ValueError, KeyError, NotImplementedError) as err:
        answer = err
    _require(
        isinstance(answer, tuple)
        and answer[0] == 200
        and answer[2] == '{"SharedDirectoryId": "probe"}'
        and answer[1].get("Content-Type") == "application/x-amz-json-1.1"
        and any(key.lower() == "x-amzn-requestid" for key in answer[1]),
        "a response method's (body, headers) answer is no longer sent as 200 with that body, "
        f"those headers and a request id (got {answer!r})",
    )
    try:
        error: Any = _ds_call(_PlainAnswerProbe, "UnshareDirectory")
        error = (error[0], json.loads(error[2]))
    except (AttributeError, TypeError, ValueError, KeyError, NotImplementedError) as err:
        error = err
    _require(
        isinstance(error, tuple)
        and error[0] == 400
        and error[1].get("__type") == "EntityDoesNotExistException"
        and error[1].get("message") == "probe directory does not exist",
        "a sharing error (a JsonRESTError) raised by a response method is no longer answered "
        f"400 with its code and message as JSON (got {error!r})",
    )


# -- moto's backend dict and backend ----------------------------------------------------


def _check_backend_dict() -> None:
    """The sandbox's own dict builds SharingBackends per account and Region, as moto's does."""
    probe = SharingBackendDict()
    try:
        accounts = probe[PROBE_ACCOUNT]
        backend = accounts[PROBE_REGION]
        regions_known = "eu-west-1" in accounts
    except (AttributeError, TypeError, KeyError) as err:
        _require(False, f"moto's AccountSpecificBackend no longer builds backends ({err!r})")
        return
    _require(
        isinstance(accounts, AccountSpecificBackend)
        and probe[PROBE_ACCOUNT] is accounts
        and accounts[PROBE_REGION] is backend,
        "an AccountSpecificBackend no longer keeps one backend per Region",
    )
    _require(
        isinstance(backend, SharingBackend)
        and backend.account_id == PROBE_ACCOUNT
        and backend.region_name == PROBE_REGION
        and isinstance(getattr(backend, "directories", None), dict),
        "DirectoryServiceBackend(region_name, account_id) no longer keeps its directories "
        "in a dict",
    )
    _require(regions_known, "AccountSpecificBackend no longer knows Directory Service's Regions")
    _require(
        probe not in BackendDict._instances,
        "the sandbox's backends joined moto's reset list: moto's lookups changed",
    )
    for method in ("delete_directory", "describe_directories", "create_microsoft_ad"):
        _require(
            callable(getattr(ds_models.DirectoryServiceBackend, method, None)),
            f"DirectoryServiceBackend.{method} is gone",
        )
    directory_init = inspect.signature(ds_models.Directory.__init__).parameters
    for parameter in ("account_id", "region", "name", "directory_type", "edition", "vpc_settings"):
        _require(parameter in directory_init, f"Directory.__init__ lost '{parameter}'")


#: The attributes of a moto Directory that ``_directory_description`` describes.
_DIRECTORY_FIELDS = {
    "AccessUrl": "access_url",
    "Alias": "alias",
    "DirectoryId": "directory_id",
    "DesiredNumberOfDomainControllers": "desired_number_of_domain_controllers",
    "DnsIpAddrs": "dns_ip_addrs",
    "LaunchTime": "launch_time",
    "Name": "name",
    "SsoEnabled": "sso_enabled",
    "Stage": "stage",
    "StageLastUpdatedDateTime": "stage_last_updated_date_time",
    "Type": "directory_type",
    "Edition": "edition",
    "Size": "size",
    "ShortName": "short_name",
    "Description": "description",
    "VpcSettings": "vpc_settings",
    "ConnectSettings": "connect_settings",
    "RadiusStatus": "radius_status",
}


def _check_directory_description() -> None:
    """moto's description of an owner directory still reads the Directory's attributes."""
    directory = SimpleNamespace(
        **{attribute: f"probe-{key}" for key, attribute in _DIRECTORY_FIELDS.items()},
        radius_settings=None,
    )
    describe = getattr(ds_responses, "_directory_description", None)
    _require(callable(describe), "moto.ds.responses._directory_description is gone")
    try:
        description: Any = describe(directory)  # type: ignore[misc]
    except (AttributeError, TypeError) as err:
        description = err
    _require(
        isinstance(description, dict)
        and all(description.get(key) == f"probe-{key}" for key in _DIRECTORY_FIELDS),
        "moto.ds.responses._directory_description no longer describes a Directory's "
        f"attributes as the API's keys (got {description!r})",
    )


# -- moto's paginator -------------------------------------------------------------------


def _check_paginator() -> None:
    """moto's Paginator pages by a unique attribute and refuses a token for other parameters."""
    items = [SimpleNamespace(directory_id=f"d-{n}") for n in range(5)]

    def paginator(token: str | None, checked: dict[str, Any]) -> Paginator:
        return Paginator(
            max_results=2,
            max_results_default=50,
            starting_token=token,
            unique_attribute="directory_id",
            param_values_to_check=checked,
        )

    try:
        first, token = paginator(None, {"owner": "a"}).paginate(items)
        second, _ = paginator(token, {"owner": "a"}).paginate(items)
        pages: Any = ([i.directory_id for i in first], [i.directory_id for i in second])
    except (TypeError, ValueError, AttributeError) as err:
        pages, token = err, None
    _require(
        pages == (["d-0", "d-1"], ["d-2", "d-3"]) and isinstance(token, str),
        f"moto.utilities.paginator.Paginator no longer pages as it did (got {pages!r})",
    )
    refused = False
    try:
        paginator(token, {"owner": "b"}).paginate(items)
    except InvalidToken:
        refused = True
    _require(refused, "moto's Paginator accepts a NextToken issued for other parameters")


# -- moto's server: the dispatcher and its Flask view ------------------------------------


class _App:
    """A WSGI app that remembers what it was called with."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.environs: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.environs.append(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [self.service.encode()]


class _HostProbe(DomainDispatcherApplication):
    """moto's dispatcher, with ``get_backend_for_host`` answering ``answer`` for every host."""

    def __init__(self, answer: str | None) -> None:
        super().__init__(_App)  # type: ignore[arg-type]
        self.answer = answer
        self.hosts: list[str | None] = []

    def get_backend_for_host(self, host: str | None) -> Any:
        self.hosts.append(host)
        if self.answer is None:
            return super().get_backend_for_host(host)
        return self.answer if host is not None else None


def _check_dispatcher() -> None:
    """moto picks a request's app by ``get_backend_for_host(host)`` alone, and calls it as is."""
    try:
        _exercise_dispatcher()
    except (TypeError, AttributeError, KeyError, ValueError) as err:
        _require(False, f"DomainDispatcherApplication no longer dispatches as it did ({err!r})")


def _exercise_dispatcher() -> None:
    environ = _probe_environ("ds", "DirectoryService_20150416.DescribeDirectories")
    moto_own = _HostProbe(None)
    app: Any = moto_own.get_application(dict(environ))
    ds_hosts = [h for h in moto_own.hosts if h is not None]
    _require(
        getattr(app, "service", None) == "ds"
        and bool(ds_hosts)
        and moto_own.get_backend_for_host(ds_hosts[-1]) == "ds",
        "DomainDispatcherApplication no longer finds Directory Service's app through "
        f"get_backend_for_host(host) (hosts asked: {moto_own.hosts!r})",
    )
    decided = _HostProbe("sts")
    app = decided.get_application(dict(environ))
    _require(
        getattr(app, "service", None) == "sts",
        "DomainDispatcherApplication.get_application no longer serves the app "
        "get_backend_for_host names",
    )
    sent = dict(environ)
    answer = DomainDispatcherApplication.__call__(decided, sent, lambda *args: None)
    _require(
        list(answer) == [b"sts"] and app.environs[-1] is sent and sent == dict(environ),
        "DomainDispatcherApplication.__call__ does more than call get_application's app",
    )


def _flask_app(callback: Callable[..., Any]) -> Flask:
    """An app as moto's create_backend_app builds one: moto's view of ``callback`` on ``/``."""
    app = Flask("dsshare-guard")
    app.request_class = BackendRequest
    app.add_url_rule("/", endpoint="probe", view_func=convert_to_flask_response(callback),
                     methods=["POST"])  # fmt: skip
    return app


def _plain_answer(request: Any, full_url: str, headers: dict[str, str]) -> Any:
    body = json.dumps({"seen": request.get_data(as_text=True), "url": full_url})
    return 201, {"Content-Type": "application/x-amz-json-1.1", "X-Probe": "1"}, body


def _client_error(request: Any, full_url: str, headers: dict[str, str]) -> Any:
    raise ClientError({"Error": {"Code": "Probe", "Message": "probe failed"}}, "Probe")


def _check_direct_route() -> None:
    """The sandbox's DirectRoute answers ``POST /`` exactly as moto's Flask view does."""
    for callback in (_plain_answer, _client_error):
        app = _flask_app(callback)
        target = "DirectoryService_20150416.DescribeDirectories"
        via_flask = run_app(app, _probe_environ("ds", target))
        route = DirectRoute(app, callback)
        direct = run_app(route.answer, _probe_environ("ds", target))
        _require(
            via_flask[0] == direct[0]
            and sorted(via_flask[1]) == sorted(direct[1])
            and via_flask[2] == direct[2],
            "moto.core.utils.convert_to_flask_response answers differently from the "
            f"sandbox's DirectRoute ({callback.__name__}: Flask {via_flask!r}, "
            f"direct {direct!r})",
        )


#: The apps the sandbox answers with its own response classes (see dispatch.RESPONSE_CLASSES).
_APPS: dict[str, tuple[str, type, type]] = {
    "ds": ("Directory Service", DirectoryServiceResponse, SharingResponse),
    "organizations": ("Organizations", OrganizationsResponse, ListingResponse),
}


def _check_ds_app() -> None:
    """The sandbox's Directory Service and Organizations apps route every request to its
    response classes (SharingResponse, ListingResponse)."""
    for service, (name, moto_class, ours) in _APPS.items():
        app = create_app(service)
        views = [app.view_functions[rule.endpoint] for rule in app.url_map.iter_rules()]
        _require(
            bool(views)
            and all(
                isinstance(view, convert_to_flask_response)
                and getattr(view.callback, "__self__", None) is ours
                for view in views
            ),
            f"moto's {name} app no longer routes its requests to "
            f"{moto_class.__name__}.dispatch through convert_to_flask_response",
        )


# -- moto's Organizations ----------------------------------------------------------------


def _check_organizations() -> None:
    _require(
        isinstance(getattr(organizations_backends, "master_accounts", None), dict),
        "organizations_backends.master_accounts is gone",
    )
    for method in ("create_organization", "create_account", "enable_aws_service_access"):
        _require(
            callable(getattr(organizations_backends.backend, method, None)),
            f"OrganizationsBackend.{method} is gone",
        )


# -- moto's Organizations account lists -------------------------------------------------


class _ProbeAccount:
    """An account as ListAccounts reads it (moto's own would create IAM roles)."""

    def __init__(self, account_id: str, parent_id: str, second: int) -> None:
        self.id = account_id
        self.parent_id = parent_id
        self.create_time = datetime.datetime(2024, 1, 1) + datetime.timedelta(seconds=second)

    def describe(self) -> dict[str, Any]:
        return {"Id": self.id, "Name": f"probe-{self.id}", "Status": "ACTIVE",
                "JoinedTimestamp": self.create_time.timestamp()}  # fmt: skip


class _ProbeOrganization:
    """Two OUs and seven accounts, out of joining order, two joined at the same second.

    Its methods are moto's OrganizationsBackend's, read when called.
    """

    def __init__(self) -> None:
        self.ou = [SimpleNamespace(id="ou-a"), SimpleNamespace(id="ou-b")]
        joined = [(9, "ou-a"), (3, "ou-b"), (5, "ou-a"), (5, "ou-a"), (1, "ou-b"), (7, "ou-a"),
                  (2, "ou-a")]  # fmt: skip
        self.accounts = [
            _ProbeAccount(f"{900000000000 - n}", parent, second)
            for n, (second, parent) in enumerate(joined)
        ]

    def __getattr__(self, name: str) -> Any:
        return getattr(OrganizationsBackend, name).__get__(self)


_PROBE_ORGANIZATION = _ProbeOrganization()


class _MotoListing(OrganizationsResponse):
    @property
    def organizations_backend(self) -> Any:
        return _PROBE_ORGANIZATION


class _SandboxListing(ListingResponse):
    @property
    def organizations_backend(self) -> Any:
        return _PROBE_ORGANIZATION


def _listing_answer(response_class: type, operation: str, params: dict[str, Any]) -> Any:
    body = json.dumps(params).encode()
    request = BackendRequest(
        _probe_environ("organizations", f"AWSOrganizationsV20161128.{operation}", body)
    )
    try:
        status, _, answer = response_class.dispatch(request, request.raw_url, dict(request.headers))
    except (AttributeError, TypeError, KeyError, ValueError, InvalidToken) as err:
        return repr(err)
    finally:
        request.close()
    return int(status), answer


def _listing_pages(response_class: type, operation: str, params: dict[str, Any]) -> list[Any]:
    """Every page of a listing, following NextToken (at most 20 pages)."""
    pages = []
    token = None
    for _ in range(20):
        answer = _listing_answer(
            response_class, operation, {**params, **({"NextToken": token} if token else {})}
        )
        pages.append(answer)
        if not isinstance(answer, tuple) or answer[0] != 200:
            break
        token = json.loads(answer[1]).get("NextToken")
        if not token:
            break
    return pages


#: Listings the guard pages through both ways: each operation, page sizes, parents.
_LISTINGS = [
    *(("ListAccounts", {} if size is None else {"MaxResults": size}) for size in (None, 1, 2, 3, 0, 50, -2)),
    *(("ListAccountsForParent", {"ParentId": parent, **({} if size is None else {"MaxResults": size})})
      for parent in ("ou-a", "ou-b", "ou-none") for size in (None, 1, 2, 4)),
]  # fmt: skip


def _check_account_listing() -> None:
    """ListingResponse answers ListAccounts and ListAccountsForParent as moto does, byte for byte."""
    for operation, params in _LISTINGS:
        moto_pages = _listing_pages(_MotoListing, operation, params)
        ours = _listing_pages(_SandboxListing, operation, params)
        _require(
            moto_pages == ours,
            f"moto's Organizations {operation} answers {params} differently from the "
            f"sandbox's pages (moto {moto_pages!r}, sandbox {ours!r})",
        )
    # A token for one parent refused for another, and a token that matches no account.
    first_page = _listing_answer(
        _MotoListing, "ListAccountsForParent", {"ParentId": "ou-a", "MaxResults": 1}
    )
    token = (
        json.loads(first_page[1]).get("NextToken") if isinstance(first_page, tuple) else None
    )
    _require(
        isinstance(token, str),
        f"moto's ListAccountsForParent no longer pages by MaxResults ({first_page!r})",
    )
    stale = TokenEncoder().encode({"uniqueAttributes": "not-an-account"})
    for operation, params in [
        ("ListAccountsForParent", {"ParentId": "ou-b", "NextToken": token}),
        ("ListAccounts", {"NextToken": stale}),
        ("ListAccounts", {"NextToken": "not a token"}),
    ]:
        moto_answer = _listing_answer(_MotoListing, operation, params)
        ours_answer = _listing_answer(_SandboxListing, operation, params)
        _require(
            moto_answer == ours_answer,
            f"moto's Organizations {operation} refuses {params} differently from the "
            f"sandbox (moto {moto_answer!r}, sandbox {ours_answer!r})",
        )


def check_moto_shape() -> None:
    """Raise MotoShapeError unless moto behaves as the sandbox's extension expects."""
    _check_response_class()
    _check_plain_answers()
    _check_backend_dict()
    _check_directory_description()
    _check_paginator()
    _check_dispatcher()
    _check_direct_route()
    _check_ds_app()
    _check_organizations()
    _check_account_listing()


_checked = False
_checked_lock = threading.Lock()


def ensure_moto_shape() -> None:
    """:func:`check_moto_shape`, once per process (what ``Sandbox.start`` calls)."""
    global _checked
    with _checked_lock:
        if not _checked:
            check_moto_shape()
            _checked = True
