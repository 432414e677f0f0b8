"""The sandbox's HTTP/1.1 server: kept-alive connections, one send per answer.

werkzeug's request handler closes every connection; this one reads each request whole,
answers with a Content-Length, and parses plain header blocks without the email parser
(odd ones still go through it), so a client's pooled connections are reused.
"""

from __future__ import annotations

import email.parser
import io
import logging
import re
import socket
import threading
import time
from email.message import Message
from typing import Any

from moto.moto_server.werkzeug_app import (
    MotoRequestHandler,
)
from werkzeug.exceptions import InternalServerError
from werkzeug.serving import ThreadedWSGIServer

from .dispatch import run_app

logger = logging.getLogger(__name__)
#: werkzeug's log: one line per request (on for ``--log-requests``) and server errors.
werkzeug_logger = logging.getLogger("werkzeug")


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
            status, headers, data = run_app(self.server.app, environ)
        except Exception:
            # As werkzeug does: log it, answer its 500 page, and the server lives on.
            werkzeug_logger.exception("Error on request %s %s", self.command, self.path)
            self.close_connection = True
            status, headers, data = run_app(InternalServerError(), environ)
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
