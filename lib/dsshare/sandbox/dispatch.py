"""How a request reaches moto: the sandbox's apps, the dispatcher, the direct route, warm-up.

moto's server wraps every service in a Flask app behind a host dispatcher. The sandbox
builds its own dispatcher and apps (moto's ``DomainDispatcherApplication`` and
``create_backend_app``), with Directory Service answered by the sandbox's
:class:`~dsshare.sandbox.responses.SharingResponse` and Organizations by its
:class:`~dsshare.sandbox.organization.ListingResponse`: moto's classes and module state stay
as they are for any other code in the process. It keeps moto's view functions and
answers, but remembers which backend serves each host and calls the view directly for
plain ``POST /`` requests; everything else still goes through Flask. The moto behaviour
relied on here is exercised by the guard (:mod:`dsshare.sandbox.guard`).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError
from flask import Flask, Response
from moto.core.utils import convert_to_flask_response
from moto.ds.responses import DirectoryServiceResponse
from moto.moto_api import recorder
from moto.moto_server.werkzeug_app import (
    BackendRequest,
    DomainDispatcherApplication,
    create_backend_app,
)
from moto.organizations.responses import OrganizationsResponse
from werkzeug.exceptions import HTTPException
from werkzeug.test import EnvironBuilder

from .organization import ListingResponse
from .responses import SharingResponse

logger = logging.getLogger(__name__)

#: The response classes the sandbox answers with instead of moto's, in its own apps.
RESPONSE_CLASSES: dict[str, tuple[type, type]] = {
    "ds": (DirectoryServiceResponse, SharingResponse),
    "organizations": (OrganizationsResponse, ListingResponse),
}


def create_app(service: str) -> Flask:
    """moto's Flask app for ``service``, answering with the sandbox's response class.

    ``create_backend_app`` builds a new app on every call, from moto's URL table; the
    Directory Service app's views call ``DirectoryServiceResponse.dispatch`` (and
    Organizations', ``OrganizationsResponse.dispatch``). The app is
    the sandbox's own (one per :class:`Dispatcher`), so its views are pointed at the
    sandbox's subclass here, leaving moto's class and URL table as they are.
    """
    app = create_backend_app(service)  # type: ignore[arg-type]
    classes = RESPONSE_CLASSES.get(service)
    if classes is not None:
        moto_class, ours = classes
        for endpoint, view in list(app.view_functions.items()):
            if (
                isinstance(view, convert_to_flask_response)
                and getattr(view.callback, "__self__", None) is moto_class
            ):
                app.view_functions[endpoint] = convert_to_flask_response(ours.dispatch)
    return app


class Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves each host name.

    moto resolves the host it infers from every request (``ds.us-east-1.amazonaws.com``)
    by listing its package directory on disk and trying its URL patterns one by one
    (~8 % of the sandbox's CPU in a profile of the inventory benchmark), for an answer
    that only depends on the host. Unknown hosts are not remembered, so moto keeps
    warning about them.
    """

    #: Distinct hosts remembered at most (service x Region, so a few hundred at most).
    MAX_HOSTS = 4096

    def __init__(self) -> None:
        super().__init__(create_app)  # type: ignore[arg-type]
        self._backend_of_host: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        # get_application calls this under self.lock.
        backend = self._backend_of_host.get(host)
        if backend is None:
            backend = super().get_backend_for_host(host)
            if backend is not None and len(self._backend_of_host) < self.MAX_HOSTS:
                self._backend_of_host[host] = backend
        return backend

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        app = self.get_application(environ)
        direct = _direct_route(app, environ)
        if direct is None:
            return app(environ, start_response)
        return direct.answer(environ, start_response)


class DirectRoute:
    """A moto app's one view for ``POST /``, called without Flask around it.

    The AWS APIs clients call here (Directory Service, STS, Organizations, ...) each
    have one route, ``/``, whose view hands the request to moto's response class.
    Flask's request context, URL matching, signals and after-request hooks cost ~25 %
    of the sandbox's CPU per request around a view that reads none of them. This
    calls the view's callback as moto's ``convert_to_flask_response`` does, with the
    same request class, and adds the headers Flask's after-request hooks (flask-cors)
    add to such an answer, learned once from Flask itself. Anything else (another
    path or method, an Origin or private-network header CORS answers differently to,
    an app with request hooks) goes through Flask as before.
    """

    def __init__(self, app: Flask, callback: Callable[..., Any]) -> None:
        self.callback = callback
        with app.test_request_context("/", method="POST"):
            sample = app.process_response(Response())
        plain = Response()
        self.hook_headers = [
            (key, value)
            for key, value in sample.headers.items()
            if (key, value) not in plain.headers.items()
        ]

    def answer(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = BackendRequest(environ)
        try:
            response = self._view(request)
        except HTTPException as err:
            # What Flask does with an HTTP error a view raises: its page as the answer.
            response = Response.force_type(err, environ)  # type: ignore[arg-type]
        finally:
            request.close()
        for key, value in self.hook_headers:
            response.headers.add(key, value)
        return response(environ, start_response)

    def _view(self, request: BackendRequest) -> Response:
        """moto's ``convert_to_flask_response.__call__``, given the request instead of Flask's."""
        try:
            recorder._record_request(request)
            result = self.callback(request, request.raw_url, dict(request.headers))
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        if len(result) == 3:
            status, headers, content = result
        else:
            status, headers, content = 200, {}, result
        response = Response(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
        return response


#: Each app's route, learned on its first plain request (forgotten with the app).
_direct_routes: weakref.WeakKeyDictionary[Flask, DirectRoute | None] = weakref.WeakKeyDictionary()
_direct_routes_lock = threading.Lock()
#: Request headers flask-cors answers by (beyond the method): their requests go through Flask.
_CORS_REQUEST_HEADERS = ("HTTP_ORIGIN", "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK")


def _direct_route(app: Flask, environ: dict[str, Any]) -> DirectRoute | None:
    """The route that answers this request without Flask, if it is a plain ``POST /``."""
    if (
        environ.get("REQUEST_METHOD") != "POST"
        or environ.get("PATH_INFO") != "/"
        or any(name in environ for name in _CORS_REQUEST_HEADERS)
    ):
        return None
    try:
        return _direct_routes[app]
    except KeyError:
        pass
    with _direct_routes_lock:
        if app not in _direct_routes:
            _direct_routes[app] = _learn_direct_route(app)
        return _direct_routes[app]


def _learn_direct_route(app: Flask) -> DirectRoute | None:
    """A DirectRoute when ``app`` is moto's usual one-view app with no request hooks."""
    rules = list(app.url_map.iter_rules())
    if len(rules) != 1 or rules[0].rule != "/" or "POST" not in (rules[0].methods or ()):
        return None
    view = app.view_functions.get(rules[0].endpoint)
    hooks = (
        app.before_request_funcs,
        app.url_value_preprocessors,
        app.url_default_functions,
        app.teardown_request_funcs,
    )
    if (
        not isinstance(view, convert_to_flask_response)
        or any(hooks)
        or app.request_class is not BackendRequest
    ):
        return None
    return DirectRoute(app, view.callback)


def run_app(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any]
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run a WSGI app to the end: its status, headers and whole body."""
    answer: list[Any] = []
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        answer[:] = [status, headers]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = answer
    return status, headers, b"".join(chunks)


#: One read-only request per service clients call (target header, content type, body).
WARM_UP: dict[str, tuple[str | None, str, bytes]] = {
    "ds": ("DirectoryService_20150416.DescribeDirectories", "application/x-amz-json-1.1", b"{}"),
    "organizations": (
        "AWSOrganizationsV20161128.DescribeOrganization",
        "application/x-amz-json-1.1",
        b"{}",
    ),
    "sts": (
        None,
        "application/x-www-form-urlencoded",
        b"Action=GetCallerIdentity&Version=2011-06-15",
    ),
}


def warm_up(app: Callable[..., Iterable[bytes]], region: str) -> None:
    """Serve :data:`WARM_UP` in-process, before the first client connects.

    moto (and the sandbox's own model checks) load each service's botocore model on
    its first request, behind caches that let every thread of a concurrent first
    burst load it again: ~20 ms of CPU per thread and service, all fighting for the
    GIL. ``app`` is moto's dispatcher, under the fault middleware: warm-up requests
    are not delayed, faulted or logged. A failure is logged, never fatal: it only
    leaves the loading to the first requests.
    """
    for service, (target, content_type, body) in WARM_UP.items():
        headers = {
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential=WARMUP/20240101/{region}/{service}/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
            "Content-Type": content_type,
        }
        if target is not None:
            headers["X-Amz-Target"] = target
        environ = EnvironBuilder(method="POST", path="/", headers=headers, data=body).get_environ()
        try:
            status, _, _ = run_app(app, environ)
        except Exception:
            logger.exception("warming up %s failed; its first requests will load it", service)
            continue
        if not status.startswith("200"):
            logger.warning("warming up %s answered %s", service, status)
