"""Install the sharing extension into moto, guarded against moto changing shape.

The sandbox relies on a handful of moto internals. Every one is checked before
anything is patched; if moto already implements a sharing operation itself, or
an internal moved, installation fails with :class:`MotoShapeError` naming what
changed, instead of silently serving wrong answers.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

import moto
from moto.core import responses as core_responses
from moto.core import utils as core_utils
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.request import Request
from moto.core.responses import BaseResponse
from moto.core.utils import convert_to_flask_response
from moto.ds import models as ds_models
from moto.ds import responses as ds_responses
from moto.moto_server.werkzeug_app import BackendRequest, DomainDispatcherApplication
from moto.organizations.models import OrganizationsBackend, organizations_backends
from moto.utilities.paginator import Paginator

from . import responses
from .backend import SharingBackend

_installed = False
_lock = threading.Lock()


#: moto's own versions of what the sandbox replaces with cheaper equivalents.
_moto_method_names = core_utils.method_names_from_class
_moto_backend_lookup = BackendDict.__getitem__


class MotoShapeError(RuntimeError):
    """moto no longer has the shape the sandbox extension was written against."""


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise MotoShapeError(
            f"dsshare's sandbox cannot extend moto {moto.__version__}: {what}. "
            "The extension was written for moto 5.2.x; pin moto or update "
            "dsshare.sandbox (see the README, section 'The guard')."
        )


def _check_plain_answers() -> None:
    """The sharing operations answer ``(body, headers)``: call_action must still send that as is.

    moto's call_action hands a non-ActionResult answer to ``_transform_response``
    (status from the headers, 200 by default) and then ``_enrich_response``
    (request id); its generic serializer is never involved.
    """
    names = set(getattr(getattr(BaseResponse.call_action, "__code__", None), "co_names", ()))
    _require(
        {"_transform_response", "_enrich_response"} <= names,
        "BaseResponse.call_action no longer passes a (body, headers) answer through "
        "_transform_response and _enrich_response",
    )
    try:
        answer: object = BaseResponse._transform_response(
            {}, ("{}", {"Content-Type": "application/json"})
        )
    except (AttributeError, TypeError, ValueError) as err:
        answer = err
    _require(
        answer == (200, {"Content-Type": "application/json"}, "{}"),
        "BaseResponse._transform_response no longer sends a (body, headers) answer as "
        f"200 with those headers (got {answer!r})",
    )


def _check_dispatcher() -> None:
    """The sandbox's dispatcher remembers ``get_backend_for_host``: moto must still ask it.

    get_application resolves a request's host through that method alone (under its
    lock), so an answer remembered per host is the answer moto would compute again.
    """
    method = getattr(DomainDispatcherApplication, "get_backend_for_host", None)
    _require(
        inspect.isfunction(method)
        and list(inspect.signature(method).parameters) == ["self", "host"],
        "DomainDispatcherApplication.get_backend_for_host(self, host) is gone",
    )
    get_application = getattr(DomainDispatcherApplication, "get_application", None)
    names = set(getattr(getattr(get_application, "__code__", None), "co_names", ()))
    _require(
        "get_backend_for_host" in names,
        "DomainDispatcherApplication.get_application no longer resolves hosts through "
        "get_backend_for_host",
    )


_method_names: dict[type, frozenset[str]] = {}


def method_names_from_class(clazz: type) -> frozenset[str]:
    """moto's names of a response class's functions, listed once per class.

    ``BaseResponse.call_action`` lists them with ``inspect.getmembers`` on every
    request, only to ask whether the action is among them (~5 % of the sandbox's CPU
    in a profile of the inventory benchmark). :func:`install` forgets the lists once
    it has added the sharing operations.
    """
    names = _method_names.get(clazz)
    if names is None:
        names = frozenset(_moto_method_names(clazz))
        _method_names[clazz] = names
    return names


def present_account_backend(self: BackendDict[Any], account_id: str) -> Any:
    """``BackendDict[account_id]``, without re-registering an account that is there.

    moto's lookup first makes sure the account exists and that the dict is among the
    ones ``BackendDict.reset`` clears: a list scan of every account and of every
    backend dict under the global backend lock, on every lookup (~10 % of the
    sandbox's CPU with 300 accounts, from IAM, STS and Organizations). An account is
    only ever added by that same registration, and a reset empties the dict when it
    forgets it, so an account that is there is registered already.
    """
    if dict.__contains__(self, account_id):
        return dict.__getitem__(self, account_id)
    return _moto_backend_lookup(self, account_id)


def _code_names(function: object) -> set[str]:
    return set(getattr(getattr(function, "__code__", None), "co_names", ()))


def _check_shortcuts() -> None:
    """moto must still do, the long way, what :func:`install` shortens."""
    _require(
        "method_names_from_class" in _code_names(BaseResponse.call_action)
        and getattr(core_responses, "method_names_from_class", None)
        in (_moto_method_names, method_names_from_class),
        "BaseResponse.call_action no longer looks actions up with method_names_from_class",
    )
    _require(
        inspect.isfunction(_moto_backend_lookup)
        and "_create_account_specific_backend" in _code_names(_moto_backend_lookup)
        and "_instances"
        in _code_names(getattr(BackendDict, "_create_account_specific_backend", None))
        and BackendDict.__getitem__ in (_moto_backend_lookup, present_account_backend),
        "BackendDict.__getitem__ no longer registers accounts through "
        "_create_account_specific_backend",
    )


#: The names moto 5.2's ``convert_to_flask_response.__call__`` uses: the sandbox's
#: DirectRoute does what it does, so any change to it must be looked at.
FLASK_VIEW_NAMES = frozenset(
    {
        "ClientError", "Request", "Response", "_record_request", "callback", "cast", "dict",
        "flask", "headers", "len", "method", "moto.moto_api", "normalize_request", "raw_url",
        "recorder", "request", "response",
    }
)  # fmt: skip


def _check_direct_route() -> None:
    """The sandbox answers ``POST /`` as moto's Flask view does, without Flask around it."""
    _require(
        _code_names(convert_to_flask_response.__call__) == FLASK_VIEW_NAMES,
        "moto.core.utils.convert_to_flask_response.__call__ changed; the sandbox's "
        "DirectRoute repeats what it does",
    )
    _require(
        _code_names(DomainDispatcherApplication.__call__) <= {"get_application"},
        "DomainDispatcherApplication.__call__ does more than call get_application's app",
    )
    _require(
        issubclass(BackendRequest, Request),
        "moto_server's BackendRequest is no longer moto's Request",
    )


#: What the sandbox's ``paginated`` hands moto's Paginator.
PAGINATOR_PARAMETERS = (
    "max_results",
    "max_results_default",
    "starting_token",
    "unique_attribute",
    "param_values_to_check",
)


def check_moto_shape() -> None:
    """Raise MotoShapeError unless moto has every internal the extension uses."""
    response_cls = ds_responses.DirectoryServiceResponse
    for name, ours in responses.ADDED.items():
        _require(
            getattr(response_cls, name, ours) is ours,
            f"moto now implements DirectoryServiceResponse.{name} itself",
        )
    for name in responses.REPLACED:
        _require(
            inspect.isfunction(getattr(response_cls, name, None)),
            f"DirectoryServiceResponse.{name} is gone",
        )
    _require(issubclass(response_cls, BaseResponse), "DirectoryServiceResponse changed base")
    _require(hasattr(BaseResponse, "call_action"), "BaseResponse.call_action is gone")
    _check_plain_answers()
    _check_dispatcher()
    _check_shortcuts()
    _check_direct_route()
    paginator_parameters = inspect.signature(Paginator.__init__).parameters
    _require(
        all(name in paginator_parameters for name in PAGINATOR_PARAMETERS)
        and callable(getattr(Paginator, "paginate", None)),
        "moto.utilities.paginator.Paginator no longer takes "
        f"{', '.join(PAGINATOR_PARAMETERS)} and paginates",
    )
    _require(
        callable(getattr(ds_responses, "_directory_description", None)),
        "moto.ds.responses._directory_description is gone",
    )
    backends = ds_models.ds_backends
    _require(isinstance(backends, BackendDict), "moto.ds.models.ds_backends is not a BackendDict")
    # responses._backend reads a present account with dict.get, past BackendDict.__getitem__.
    _require(issubclass(BackendDict, dict), "BackendDict is no longer a dict of accounts")
    _require(
        backends.backend in (ds_models.DirectoryServiceBackend, SharingBackend),
        "ds_backends no longer builds DirectoryServiceBackend",
    )
    directory_init = inspect.signature(ds_models.Directory.__init__).parameters
    for parameter in ("account_id", "region", "name", "directory_type", "edition", "vpc_settings"):
        _require(parameter in directory_init, f"Directory.__init__ lost '{parameter}'")
    for method in ("delete_directory", "describe_directories", "create_microsoft_ad"):
        _require(
            hasattr(ds_models.DirectoryServiceBackend, method),
            f"DirectoryServiceBackend.{method} is gone",
        )
    _require(
        isinstance(getattr(BaseBackend, "_url_module", None), property),
        "BaseBackend._url_module is no longer a property",
    )
    _require(
        hasattr(organizations_backends, "master_accounts"),
        "organizations_backends.master_accounts is gone",
    )
    for method in ("create_organization", "create_account", "enable_aws_service_access"):
        _require(hasattr(OrganizationsBackend, method), f"OrganizationsBackend.{method} is gone")


def install() -> None:
    """Extend moto's Directory Service with the sharing API (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        check_moto_shape()
        response_cls = ds_responses.DirectoryServiceResponse
        for name, function in {**responses.ADDED, **responses.REPLACED}.items():
            setattr(response_cls, name, function)
        ds_models.ds_backends.backend = SharingBackend
        # Backends created before installation are of the old class: drop them.
        ds_models.ds_backends.clear()
        _method_names.clear()  # the lists before the sharing operations were added
        core_responses.method_names_from_class = method_names_from_class  # type: ignore[assignment]
        BackendDict.__getitem__ = present_account_backend  # type: ignore[method-assign]
        _installed = True
