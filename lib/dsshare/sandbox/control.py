"""Who may drive the sandbox's control API (``/_dsshare/*``), and a client that may.

The control API resets the world and injects faults, so a web page the operator
happens to visit must not reach it: any browser can send a cross-origin
``text/plain`` POST to a loopback port without asking first (a CORS "simple" request),
and DNS rebinding can make a page's own origin resolve to 127.0.0.1. A control request
is therefore answered only when

- it carries no ``Origin`` header, or the sandbox's own loopback origin;
- its ``Host`` is the sandbox's own address (loopback names when bound to loopback);
- a request that changes state (POST, PUT, PATCH, DELETE) says ``Content-Type:
  application/json``, which a page cannot send cross-origin without a CORS preflight,
  and the sandbox answers no preflight;
- when the sandbox listens beyond loopback, it carries the token printed at start-up
  (``X-Dsshare-Token``), as anyone on the network can reach it then.

Refusals are JSON (``{"error": ...}``) with HTTP 403 or 415, never a page.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

#: The header a control request carries the sandbox's token in.
TOKEN_HEADER = "X-Dsshare-Token"
#: The environment variable ``dsshare sandbox`` tells clients to keep the token in.
TOKEN_ENV = "DSSHARE_SANDBOX_TOKEN"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or name) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Whether ``host`` means every interface (0.0.0.0, ::, or empty)."""
    if host in ("", "*"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def url_host(host: str) -> str:
    """``host`` as it is written in a URL (IPv6 literals in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def client_url(host: str, port: int) -> str:
    """The endpoint URL clients use for a server bound to ``host``: loopback for a wildcard.

    >>> client_url("0.0.0.0", 4566)
    'http://127.0.0.1:4566'
    >>> client_url("::", 4566)
    'http://[::1]:4566'
    """
    if is_wildcard(host):
        host = "::1" if ":" in host else "127.0.0.1"
    return f"http://{url_host(host)}:{port}"


class ControlRefused(Exception):
    """A control request the sandbox will not serve: HTTP ``status`` and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ControlGuard:
    """The checks every ``/_dsshare/*`` request passes before it is served."""

    def __init__(self, host: str, token: str | None) -> None:
        self.host = host
        self.token = token
        self.port = 0

    def origins(self) -> set[str]:
        """The sandbox's own origins: the only ones a browser request may come from."""
        names = {*LOOPBACK_NAMES, self.host} if not is_wildcard(self.host) else set(LOOPBACK_NAMES)
        return {f"http://{url_host(name)}:{self.port}" for name in names}

    def _host_allowed(self, host_header: str) -> bool:
        if not is_loopback(self.host):
            return True  # reachable under any name on the network; the token guards it
        try:
            parts = urllib.parse.urlsplit("//" + host_header)
            port = parts.port
        except ValueError:
            return False
        if port is not None and port != self.port:
            return False
        return (parts.hostname or "") in {*LOOPBACK_NAMES, self.host.strip("[]")}

    def check(self, environ: dict[str, Any]) -> None:
        """Raise ControlRefused unless the request may drive the sandbox."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin not in self.origins():
            raise ControlRefused(
                403,
                f"cross-origin control request from {origin!r} refused; the control API "
                "answers only the sandbox's own origin and clients that send no Origin",
            )
        if environ.get("HTTP_SEC_FETCH_SITE") in ("cross-site", "same-site"):
            raise ControlRefused(403, "cross-site control request refused")
        host = environ.get("HTTP_HOST", "")
        if host and not self._host_allowed(host):
            raise ControlRefused(
                403,
                f"control request for host {host!r} refused; use {self.host}:{self.port}",
            )
        method = environ.get("REQUEST_METHOD", "GET")
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if method in STATE_CHANGING and content_type != "application/json":
            raise ControlRefused(
                415,
                f"{method} control requests must be 'Content-Type: application/json' "
                f"(got {content_type or 'none'!r})",
            )
        if self.token is not None:
            given = environ.get("HTTP_" + TOKEN_HEADER.upper().replace("-", "_"), "")
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                raise ControlRefused(
                    403,
                    f"this sandbox listens beyond loopback: control requests need the "
                    f"{TOKEN_HEADER} header with the token printed at start-up",
                )


class ControlClientError(RuntimeError):
    """The control API refused a request (``status``, and its JSON ``error``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class ControlClient:
    """Drive a sandbox's control API over HTTP, with the headers (and token) it requires.

    Examples
    --------
    >>> control = ControlClient("http://127.0.0.1:4566")  # doctest: +SKIP
    >>> control.post("faults", {"operation": "ShareDirectory", "code": "ThrottlingException"})  # doctest: +SKIP
    """

    def __init__(self, endpoint_url: str, token: str | None = None, timeout: float = 60) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, payload: Any = None) -> Any:
        """Send one control request; its JSON answer, or ControlClientError."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers[TOKEN_HEADER] = self.token
        data = json.dumps(payload).encode() if payload is not None else b""
        request = urllib.request.Request(
            f"{self.endpoint_url}/_dsshare/{path.lstrip('/')}",
            data=data if method in STATE_CHANGING else None,
            method=method,
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - the sandbox's URL
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            body = err.read()
            try:
                message = str(json.loads(body).get("error", body))
            except (ValueError, AttributeError):
                message = body.decode("utf-8", "replace")
            raise ControlClientError(err.code, message) from err

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, payload: Any = None) -> Any:
        return self.request("POST", path, payload if payload is not None else {})

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)
