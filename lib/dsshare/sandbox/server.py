"""The sandbox server: moto's dispatcher behind the fault middleware, on loopback.

``Sandbox`` is both the Python API (a context manager used by tests, the demo
and benchmarks) and what ``dsshare sandbox`` runs in the foreground. Its state
can also be driven over HTTP under ``/_dsshare/`` (see the README ("The sandbox")).
"""

from __future__ import annotations

import email.parser
import io
import json
import logging
import os
import re
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from email.message import Message
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from flask import Flask, Response
from moto.core.utils import convert_to_flask_response
from moto.ds.models import ds_backends
from moto.moto_api import recorder
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import (
    BackendRequest,
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.organizations.models import organizations_backends
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.serving import ThreadedWSGIServer
from werkzeug.test import EnvironBuilder

from .faults import FaultMiddleware, FaultRule, Faults
from .install import install
from .records import REGISTRY, ShareRecord, utcnow
from .seeds import DEFAULT_REGIONS, SEEDS, check_scale, create_directory, network, seed

#: Statuses a test may force a share into, to provoke what AWS does rarely.
FORCEABLE = {"ShareFailed", "RejectFailed", "Shared", "PendingAcceptance", "Deleted", "Rejected"}

logger = logging.getLogger(__name__)
#: werkzeug's log: one line per request (on for ``--log-requests``) and server errors.
werkzeug_logger = logging.getLogger("werkzeug")


class SandboxError(RuntimeError):
    """Bad sandbox settings or control request."""


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
        super().__init__(create_backend_app)
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


def _run(
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
            status, _, _ = _run(app, environ)
        except Exception:
            logger.exception("warming up %s failed; its first requests will load it", service)
            continue
        if not status.startswith("200"):
            logger.warning("warming up %s answered %s", service, status)


#: http.client's limits on a request's header block (its private _MAXLINE, _MAXHEADERS).
MAX_HEADER_LINE = 65536
MAX_HEADERS = 100
#: A header line the email parser reads as ``name: value`` and nothing else.
_PLAIN_HEADER = re.compile(rb"[\x21-\x39\x3b-\x7e]+:[^\r\n]*\r?\n")


def parse_header_block(lines: list[bytes], message_class: type[Message]) -> Message:
    """The message ``http.client.parse_headers`` makes of a header block's ``lines``.

    Lines of the plain ``Name: value`` form are stored as the email parser stores them
    (value without its leading blanks and line end); a block with any other line
    (folded, bare CR, no colon) goes through the email parser itself.
    """
    fields = lines[:-1] if lines and lines[-1] in (b"\r\n", b"\n", b"") else lines
    if not all(_PLAIN_HEADER.fullmatch(line) for line in fields):
        text = b"".join(lines).decode("iso-8859-1")
        return email.parser.Parser(_class=message_class).parsestr(text)
    message = message_class()
    for line in fields:
        name, _, value = line.decode("iso-8859-1").partition(":")
        message.set_raw(name, value.lstrip(" \t").rstrip("\r\n"))
    message.set_payload("")
    return message


class KeepAliveRequestHandler(MotoRequestHandler):
    """moto's request handler, keeping HTTP/1.1 connections open between requests.

    werkzeug's handler answers every request with ``Connection: close`` (http.server
    cannot skip an unread request body to reach the next request line), so every
    botocore call cost a TCP connection, an accept and a new server thread. This one
    reads each request body whole before calling the app and answers with a
    Content-Length, so the next request starts where this one ended.
    """

    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    #: Small responses go out at once instead of waiting for the client's delayed ACK.
    disable_nagle_algorithm = True
    #: Buffered writes: status line, headers and body leave in one send (flushed per request).
    wbufsize = -1
    #: An idle kept-alive connection (and its thread) ends after this many seconds.
    timeout = 120
    #: The last Date header written and its second.
    _date: tuple[int, str] = (-1, "")

    def run_wsgi(self) -> None:
        # http.server already answered "Expect: 100-continue" while parsing the request.
        self.environ = environ = self.make_environ()
        try:
            body = self._request_body(environ)
        except ValueError as err:
            self.close_connection = True
            self.send_error(400, str(err))
            return
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        try:
            status, headers, data = _run(self.server.app, environ)
        except Exception:
            # As werkzeug does: log it, answer its 500 page, and the server lives on.
            werkzeug_logger.exception("Error on request %s %s", self.command, self.path)
            self.close_connection = True
            status, headers, data = _run(InternalServerError(), environ)
        self._send(status, headers, data)

    def parse_request(self) -> bool:
        # http.server's parse_request reads the header block through the email package's
        # feed parser: ~15 % of the sandbox's CPU per request, most of it setting the
        # parser up. This one is http.server's (Python 3.11) with the header block read
        # here: plain lines are split directly, anything unusual goes to the email parser.
        if not self._parse_request_line():
            return False
        lines: list[bytes] = []
        while True:
            line = self.rfile.readline(MAX_HEADER_LINE + 1)
            if len(line) > MAX_HEADER_LINE:
                self.send_error(
                    431, "Line too long", "got more than 65536 bytes when reading header line"
                )
                return False
            lines.append(line)
            if len(lines) > MAX_HEADERS:
                self.send_error(431, "Too many headers", f"got more than {MAX_HEADERS} headers")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
        self.headers = parse_header_block(lines, self.MessageClass)
        # What http.server does with the headers it reads.
        connection = self.headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        if (
            self.headers.get("Expect", "").lower() == "100-continue"
            and self.protocol_version >= "HTTP/1.1"
            and self.request_version >= "HTTP/1.1"
        ):
            return self.handle_expect_100()
        return True

    def _parse_request_line(self) -> bool:
        """http.server's parsing of the request line: method, path and version, or an error."""
        self.command = None  # type: ignore[assignment]  # as http.server: set in case of error
        self.request_version = version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if len(words) == 0:
            return False
        if len(words) >= 3:  # enough to determine the protocol version
            version = words[-1]
            try:
                if not version.startswith("HTTP/"):
                    raise ValueError
                base_version_number = version.split("/", 1)[1]
                version_number = base_version_number.split(".")
                if len(version_number) != 2:
                    raise ValueError
                if any(not component.isdigit() for component in version_number):
                    raise ValueError("non digit in http version")
                if any(len(component) > 10 for component in version_number):
                    raise ValueError("unreasonable length http version")
                major, minor = int(version_number[0]), int(version_number[1])
            except (ValueError, IndexError):
                self.send_error(400, f"Bad request version ({version!r})")
                return False
            if (major, minor) >= (1, 1) and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            if (major, minor) >= (2, 0):
                self.send_error(505, f"Invalid HTTP version ({base_version_number})")
                return False
            self.request_version = version
        if not 2 <= len(words) <= 3:
            self.send_error(400, f"Bad request syntax ({requestline!r})")
            return False
        command, path = words[:2]
        if len(words) == 2:
            self.close_connection = True
            if command != "GET":
                self.send_error(400, f"Bad HTTP/0.9 request type ({command!r})")
                return False
        self.command, self.path = command, path
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")  # reduce to a single /
        return True

    def _request_body(self, environ: dict[str, Any]) -> bytes:
        """The whole request body, so nothing of it is left before the next request line."""
        if environ.get("wsgi.input_terminated"):
            # Chunked: werkzeug's decoder reads to the last chunk. Trailers are not
            # parsed, so this connection ends after the answer.
            self.close_connection = True
            return bytes(environ["wsgi.input"].read())
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit():
            raise ValueError(f"bad Content-Length {length!r}")
        return bytes(self.rfile.read(int(length))) if int(length) else b""

    def _send(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        self.send_response(code, reason)
        head = self.command == "HEAD"
        for key, value in headers:
            if key.lower() == "content-length" and not head:
                continue  # the length sent is that of the body sent
            self.send_header(key, value)
        if not head and code >= 200 and code not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header of every answer: formatted once per second, not per request.
        if timestamp is not None:
            return str(super().date_time_string(timestamp))
        second = int(time.time())
        cached = KeepAliveRequestHandler._date
        if cached[0] != second:
            cached = (second, str(super().date_time_string(second)))
            KeepAliveRequestHandler._date = cached
        return cached[1]

    def handle_expect_100(self) -> bool:
        answered: bool = super().handle_expect_100()
        self.wfile.flush()  # the client waits for "100 Continue" before it sends the body
        return answered

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # werkzeug formats the line before its logger drops it: only when it is kept.
        if werkzeug_logger.isEnabledFor(logging.INFO):
            super().log_request(code, size)

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):
            # An idle kept-alive connection reaching `timeout`: routine, not an error.
            logger.debug(format, *args)
            return
        super().log_error(format, *args)

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        self.server.untrack(self.connection)
        super().finish()


class SandboxHTTPServer(ThreadedWSGIServer):
    """werkzeug's threaded server that can drop its kept-alive connections when it stops."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """End every open connection: a stopped sandbox must not answer on kept-alive ones."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError as err:  # already closed by the client or its thread
                logger.debug("closing a connection: %s", err)


class Sandbox:
    """An AWS-faithful Directory Service sharing sandbox on 127.0.0.1.

    Parameters
    ----------
    seed : {"demo", "scale", "empty"}
        What the sandbox starts with (see the README ("The sandbox"), "Seeds").
    host, port : str, int
        Where to listen. ``port=0`` picks a free port. Loopback by default.
    regions : sequence of str, optional
        Regions of the seeded world; the demo default is us-east-1, eu-west-1.
    transition_delay : float
        Seconds each transitional share status (Sharing, Deleting, Rejecting) lasts.
    latency_ms, jitter_ms : float
        Injected latency on every AWS call.
    accounts, directories, shares : int, optional
        Sizes for the ``scale`` seed.

    Examples
    --------
    >>> with Sandbox(seed="demo", transition_delay=0) as sb:  # doctest: +SKIP
    ...     boto3.client("ds", endpoint_url=sb.endpoint_url).describe_directories()
    """

    def __init__(
        self,
        seed: str = "demo",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        regions: Sequence[str] | None = None,
        transition_delay: float = 0.2,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        accounts: int | None = None,
        directories: int | None = None,
        shares: int | None = None,
        fault_seed: int = 0,
        log_requests: bool = False,
    ) -> None:
        if seed not in SEEDS:
            # Checked here, before start() resets moto's (process-wide) state.
            raise SandboxError(f"unknown seed {seed!r}; choose one of {', '.join(SEEDS)}")
        if transition_delay < 0:
            raise SandboxError(f"transition_delay must be >= 0 seconds, got {transition_delay}")
        if latency_ms < 0 or jitter_ms < 0:
            raise SandboxError("latency_ms and jitter_ms must be >= 0")
        self.seed_name = seed
        self.host = host
        self.port = port
        self.regions = list(regions or DEFAULT_REGIONS)
        self.transition_delay = transition_delay
        self.scale_options = {
            k: v
            for k, v in {"accounts": accounts, "directories": directories, "shares": shares}.items()
            if v is not None
        }
        if self.scale_options and seed != "scale":
            raise SandboxError("accounts/directories/shares apply to the 'scale' seed only")
        if seed == "scale":
            try:
                check_scale(**self.scale_options)
            except ValueError as err:
                raise SandboxError(str(err)) from err
        self.fault_seed = fault_seed
        self.log_requests = log_requests
        self.faults = Faults(seed=fault_seed)
        self._initial_latency = (latency_ms, jitter_ms)
        self.manifest: dict[str, Any] = {}
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise SandboxError("the sandbox is not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> Sandbox:
        # werkzeug logs one line per request at INFO; keep it for `--log-requests`.
        logging.getLogger("werkzeug").setLevel(
            logging.INFO if self.log_requests else logging.WARNING
        )
        install()
        dispatcher = Dispatcher()
        app = FaultMiddleware(dispatcher, self.faults, control=self._control_app)
        # Bind before reseeding: moto's state is process-wide, and a port that is taken
        # must not cost another sandbox in this process its world. Bind here rather than
        # in werkzeug, which answers a taken port with sys.exit(1): this raises OSError.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.create_server((self.host, self.port), family=family, backlog=128) as listener:
            server = SandboxHTTPServer(
                self.host, self.port, app, KeepAliveRequestHandler, fd=listener.fileno()
            )
        try:
            self._reseed()
            warm_up(dispatcher, self.regions[0])
        except BaseException:
            server.server_close()
            raise
        self._server = server
        self.set_latency(*self._initial_latency)
        self.manifest["endpoint_url"] = self.endpoint_url
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dsshare-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until the server thread ends (``dsshare sandbox``)."""
        if self._thread is not None:
            self._thread.join()

    # -- state --------------------------------------------------------------

    def _reseed(self) -> None:
        # moto loads ~7,800 default AMIs into every EC2 backend it creates, which the
        # seeds touch for their VPCs: 0.4 s of every reset, for images nobody here asks
        # about. moto's own switch turns that off (an explicit setting still wins).
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        with REGISTRY.lock:
            moto_api_backend.reset()
            # moto keeps member->management links across resets; drop them.
            organizations_backends.master_accounts.clear()
            REGISTRY.clear()
            REGISTRY.transition_delay = self.transition_delay
            world = seed(self.seed_name, self.regions, **self.scale_options)
        self.manifest = dict(world.manifest, seed=self.seed_name)
        if self._server is not None:
            self.manifest["endpoint_url"] = self.endpoint_url

    def reset(self) -> None:
        """Reseed the world and clear faults, latency and the request log."""
        self.faults.clear(self.fault_seed)
        self._reseed()

    def set_transition_delay(self, seconds: float) -> None:
        if seconds < 0:
            raise SandboxError(f"transition_delay must be >= 0 seconds, got {seconds}")
        self.transition_delay = seconds
        REGISTRY.transition_delay = seconds

    def set_latency(self, ms: float, jitter_ms: float = 0.0) -> None:
        if ms < 0 or jitter_ms < 0:
            raise SandboxError("latency and jitter must be >= 0 ms")
        with self.faults.lock:
            self.faults.latency_ms, self.faults.jitter_ms = float(ms), float(jitter_ms)

    def add_fault(
        self,
        operation: str = "*",
        *,
        code: str = "ThrottlingException",
        count: int | None = None,
        probability: float | None = None,
        service: str = "*",
        account_id: str | None = None,
        message: str | None = None,
    ) -> FaultRule:
        """Answer matching calls with ``code`` (``count`` times, or with ``probability``)."""
        try:
            return self.faults.add(
                FaultRule(
                    operation=operation,
                    code=code,
                    service=service,
                    account_id=account_id,
                    count=count,
                    probability=probability,
                    message=message,
                )
            )
        except ValueError as err:
            raise SandboxError(str(err)) from err

    def clear_faults(self) -> None:
        with self.faults.lock:
            self.faults.rules.clear()

    @property
    def request_log(self) -> list[dict[str, Any]]:
        """Every AWS call served (or answered with an injected fault), oldest first."""
        return self.faults.entries()

    def clear_request_log(self) -> None:
        self.faults.log.clear()

    def set_directory_stage(self, directory_id: str, stage: str, region: str | None = None) -> None:
        """Force a directory's Stage (e.g. ``Creating``) to provoke the 'not Active' path."""
        entry = self._directory_entry(directory_id, region)
        ds_backends[entry["account_id"]][entry["region"]].directories[directory_id].stage = stage

    def hide_share(self, shared_directory_id: str, side: str) -> None:
        """Make one side stop seeing a share record, as AWS's two views can disagree.

        ``side="consumer"``: the owner still lists the record but the consumer's
        SharedMicrosoftAD is gone; ``side="owner"``: the consumer still has its
        directory but the owner's DescribeSharedDirectories no longer lists it.
        For provoking the inventory's consistency findings.
        """
        if side not in ("owner", "consumer"):
            raise SandboxError(f"side must be 'owner' or 'consumer', got {side!r}")
        record = REGISTRY.get(shared_directory_id)
        if record is None:
            raise SandboxError(f"no share record {shared_directory_id}")
        with REGISTRY.lock:
            if side == "owner":
                record.hidden_from_owner = True
            else:
                record.hidden_from_consumer = True

    def add_region(self, directory_id: str, region: str) -> None:
        """Replicate an Enterprise directory to ``region`` (AddRegion with a fresh VPC)."""
        entry = self._directory_entry(directory_id, None)
        backend = ds_backends[entry["account_id"]][entry["region"]]
        backend.add_region(directory_id, region, network(entry["account_id"], region))
        self.manifest["directories"].append(dict(entry, region=region))

    def force_share_status(self, shared_directory_id: str, status: str) -> None:
        """Put a share record into ``status`` now (e.g. ShareFailed, which AWS does rarely)."""
        if status not in FORCEABLE:
            raise SandboxError(f"status must be one of {sorted(FORCEABLE)}, got {status!r}")
        record = REGISTRY.get(shared_directory_id)
        if record is None:
            raise SandboxError(f"no share record {shared_directory_id}")
        with REGISTRY.lock:
            record.move([status], 0.0, utcnow())

    def add_directory(
        self,
        account_id: str,
        region: str,
        name: str,
        edition: str | None = "Standard",
        kind: str = "MicrosoftAD",
        stage: str = "Active",
    ) -> str:
        """Create one more owner directory (any edition, including Hybrid, any Stage)."""
        directory_id = create_directory(account_id, region, name, edition, kind)
        directory = ds_backends[account_id][region].directories[directory_id]
        directory.stage = stage
        self.manifest["directories"].append(
            {
                "id": directory_id,
                "account_id": account_id,
                "region": region,
                "name": name,
                "edition": edition,
                "type": directory.directory_type,
                "stage": stage,
            }
        )
        return directory_id

    def set_feature_set(self, feature_set: str) -> None:
        """Switch the organization between ALL and CONSOLIDATED_BILLING features."""
        if feature_set not in ("ALL", "CONSOLIDATED_BILLING"):
            raise SandboxError(
                f"feature_set must be ALL or CONSOLIDATED_BILLING, got {feature_set!r}"
            )
        org = organizations_backends[self.manifest["management_account_id"]]["aws"].org
        org.feature_set = feature_set

    def share_records(self) -> list[ShareRecord]:
        return list(REGISTRY.all())

    # -- lookups by name -------------------------------------------------------

    def account_id(self, name: str) -> str:
        for account in self.manifest["accounts"] + self.manifest["external_accounts"]:
            if account["name"] == name or account["name"].startswith(name + " "):
                return str(account["id"])
        raise KeyError(f"no account named {name!r} in the {self.seed_name} seed")

    def ou_id(self, name: str) -> str:
        for ou in self.manifest["ous"]:
            if ou["name"] == name:
                return str(ou["id"])
        raise KeyError(f"no OU named {name!r} in the {self.seed_name} seed")

    def directory_id(self, name: str, region: str | None = None) -> str:
        for directory in self.manifest["directories"]:
            if directory["name"] == name and (region is None or directory["region"] == region):
                return str(directory["id"])
        raise KeyError(f"no directory named {name!r} in the {self.seed_name} seed")

    def _directory_entry(self, directory_id: str, region: str | None) -> dict[str, Any]:
        for directory in self.manifest["directories"]:
            if directory["id"] == directory_id and (
                region is None or directory["region"] == region
            ):
                return directory
        raise SandboxError(f"no seeded directory {directory_id}")

    def write_manifest(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_text(json.dumps(self.manifest, indent=2, sort_keys=True) + "\n")
        return target

    # -- HTTP control endpoint --------------------------------------------------

    def _control_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")[len("/_dsshare/") :].strip("/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            payload = json.loads(raw) if raw else {}
            status, body = "200 OK", self._control(method, path, payload)
        except (SandboxError, KeyError, ValueError, TypeError) as err:
            status, body = "400 Bad Request", {"error": str(err)}
        data = json.dumps(body, default=str).encode()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        )
        return [data]

    def _control(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        routes: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", "manifest"): lambda: self.manifest,
            ("POST", "reset"): lambda: self.reset() or {"reset": True},
            ("GET", "faults"): lambda: [vars(r) for r in self.faults.rules],
            ("POST", "faults"): lambda: vars(self.add_fault(**payload)),
            ("DELETE", "faults"): lambda: self.clear_faults() or {"cleared": True},
            ("POST", "latency"): lambda: (
                self.set_latency(**payload) or {"latency_ms": self.faults.latency_ms}
            ),
            ("POST", "transition-delay"): lambda: (
                self.set_transition_delay(payload["seconds"]) or {"seconds": self.transition_delay}
            ),
            ("GET", "requests"): lambda: self.request_log,
            ("DELETE", "requests"): lambda: self.clear_request_log() or {"cleared": True},
            ("POST", "directory-stage"): lambda: (
                self.set_directory_stage(**payload) or {"ok": True}
            ),
            ("POST", "share-status"): lambda: self.force_share_status(**payload) or {"ok": True},
            ("POST", "directories"): lambda: {"id": self.add_directory(**payload)},
            ("POST", "feature-set"): lambda: self.set_feature_set(**payload) or {"ok": True},
            ("POST", "hide-share"): lambda: self.hide_share(**payload) or {"ok": True},
            ("POST", "add-region"): lambda: self.add_region(**payload) or {"ok": True},
        }
        handler = routes.get((method, path))
        if handler is None:
            raise SandboxError(
                f"unknown control request {method} /_dsshare/{path}; "
                f"known: {', '.join(f'{m} {p}' for m, p in routes)}"
            )
        return handler()
