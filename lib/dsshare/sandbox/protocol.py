"""Answers in each service's own wire protocol, shaped as AWS shapes them.

Every error the sandbox sends, its own, moto's and injected ones alike, goes out as
AWS sends it (docs/aws-sharing.md, "Errors"):

- JSON protocols (Directory Service, Organizations): the body carries ``__type`` and
  the members of the model's exception shape (Directory Service: ``Message`` and
  ``RequestId``), ``Content-Type: application/x-amz-json-1.1``, ``x-amzn-RequestId`` (a UUID, the
  body's RequestId) and ``X-Amzn-ErrorType``.
- Query and EC2 XML (STS, IAM, EC2) and REST-XML: the protocol's error document, every
  text escaped (characters XML cannot carry replaced), with the request id.

:class:`ProtocolMiddleware` also answers what moto cannot: an operation moto lacks is a
JSON (or XML) ``NotImplemented`` error with HTTP 501, which botocore does not retry,
instead of moto's HTML 500 page; an unexpected exception inside moto is the protocol's
``InternalFailure`` (HTTP 500); and a Directory Service operation on a consumer's
SharedMicrosoftAD that AWS refuses is refused here (:func:`backend.consumer_refusal`).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from botocore.exceptions import UnknownServiceError
from botocore.model import NoShapeFoundError
from moto.core.utils import camelcase_to_underscores

from .backend import consumer_refusal
from .dispatch import run_app
from .responses import SharingResponse
from .shapes import json_content_type, service_model

logger = logging.getLogger(__name__)

#: Injected codes that are server faults (HTTP 5xx) rather than client errors.
SERVER_CODES = {
    "ServiceException": 500,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
    "InternalError": 500,
    "ServiceUnavailableException": 503,
    "NotImplemented": 501,
}
REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}
#: An error code as AWS spells them: letters, digits, dots and underscores.
ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,127}$")
#: Characters XML 1.0 cannot carry, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Headers = list[tuple[str, str]]
#: The wire protocols the sandbox writes errors in.
KNOWN_PROTOCOLS = ("json", "rest-json", "query", "ec2", "rest-xml")


def protocol_of(service: str) -> str:
    """The botocore wire protocol of ``service`` (``json`` when botocore does not know it)."""
    try:
        metadata = service_model(service).metadata
    except UnknownServiceError:
        return "json"
    # Newer models list several (Directory Service: smithy-rpc-v2-cbor, json); the sandbox
    # and moto speak the first botocore's clients here speak.
    for protocol in [*metadata.get("protocols", ()), metadata.get("protocol", "json")]:
        if protocol in KNOWN_PROTOCOLS:
            return str(protocol)
    return "json"


def status_of(code: str) -> int:
    """The HTTP status AWS answers error ``code`` with."""
    return SERVER_CODES.get(code, 403 if code.startswith("AccessDenied") else 400)


def xml_text(text: str) -> str:
    """``text`` escaped for an XML element, characters XML cannot carry replaced."""
    return escape(_NOT_XML.sub("\ufffd", text))


def _json_members(service: str, code: str) -> tuple[str, bool]:
    """The message member's name and whether RequestId is a member, from the model."""
    try:
        shape = service_model(service).shape_for(code)
    except (NoShapeFoundError, UnknownServiceError):  # an error code the model does not define
        return "message", False
    members = getattr(shape, "members", {})
    message = next((name for name in members if name.lower() == "message"), "message")
    return message, "RequestId" in members


def error_response(
    service: str,
    code: str,
    message: str,
    status: int | None = None,
    request_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[str, Headers, bytes]:
    """An error in the service's own wire protocol, as AWS sends it and botocore parses it.

    Query XML for STS (and IAM), EC2's own XML, REST-XML for S3, JSON for Directory
    Service, Organizations and the rest: a catch-all rule must not hand a JSON body
    to a client that parses XML.
    """
    status = status or status_of(code)
    request_id = request_id or str(uuid.uuid4())
    protocol = protocol_of(service)
    headers: Headers
    if protocol in ("query", "ec2", "rest-xml"):
        code_xml, message_xml = xml_text(code), xml_text(message)
        if protocol == "query":
            kind = "Receiver" if status >= 500 else "Sender"
            text = (
                f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code_xml}</Code>"
                f"<Message>{message_xml}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            )
            headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        elif protocol == "ec2":
            text = (
                f"<Response><Errors><Error><Code>{code_xml}</Code><Message>{message_xml}"
                f"</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
            )
            headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        else:
            text = (
                f"<Error><Code>{code_xml}</Code><Message>{message_xml}</Message>"
                f"<RequestId>{request_id}</RequestId></Error>"
            )
            headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
        body = text.encode()
    else:
        message_member, has_request_id = _json_members(service, code)
        document: dict[str, Any] = {"__type": code, message_member: message}
        if has_request_id:
            document["RequestId"] = request_id
        for key, value in (extra or {}).items():
            document.setdefault(key, value)
        body = json.dumps(document).encode()
        headers = [
            ("Content-Type", _json_type(service)),
            ("x-amzn-RequestId", request_id),
            ("X-Amzn-ErrorType", code),
        ]
    headers.append(("Content-Length", str(len(body))))
    return f"{status} {REASONS.get(status, 'Error')}", headers, body


def _json_type(service: str) -> str:
    try:
        return json_content_type(service)
    except UnknownServiceError:
        return "application/x-amz-json-1.1"


INTERNAL_FAILURE = "The dsshare sandbox failed on this request; its log has the traceback."


def not_implemented(operation: str, err: object = None) -> str:
    """The message of the NotImplemented error for an operation moto lacks."""
    detail = f" ({err})" if err else ""
    return f"The dsshare sandbox does not implement {operation or 'this request'}{detail}."


def ds_implements(operation: str) -> bool:
    """Whether moto's Directory Service (with the sandbox's additions) answers ``operation``."""
    return hasattr(SharingResponse, camelcase_to_underscores(operation))


def aws_request_id(headers: Headers) -> Headers:
    """``headers`` with moto's request id (52 letters) as AWS's (a UUID), and without the
    duplicate lower-case ``status`` header moto adds."""
    kept = [(k, v) for k, v in headers if k.lower() not in ("x-amzn-requestid", "status")]
    return [*kept, ("x-amzn-RequestId", str(uuid.uuid4()))]


@functools.cache
def _directory_id_operations() -> frozenset[str]:
    """Directory Service operations whose input has a DirectoryId (from the model)."""
    model = service_model("ds")
    return frozenset(
        name
        for name in model.operation_names
        if (shape := model.operation_model(name).input_shape) is not None
        and "DirectoryId" in shape.members
    )


def _speaks_protocol(headers: Headers) -> bool:
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    return "json" in content_type or "xml" in content_type


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: The environ key under which the fault middleware leaves what it identified.
REQUEST_KEY = "dsshare.request"
#: ... and the request's body, already read.
BODY_KEY = "dsshare.body"


class ProtocolMiddleware:
    """Between the fault middleware and moto: every AWS answer in its protocol's shape."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = environ.get(REQUEST_KEY)
        if request is None:
            return self.app(environ, start_response)
        if request.service == "ds":
            refused = self._refusal(environ, request)
            if refused is not None:
                return self._send(start_response, error_response("ds", *refused))
            if not ds_implements(request.operation):
                # Answered here for every path: through Flask, moto's NotImplementedError
                # would become Flask's HTML page before this middleware saw it.
                answer = error_response("ds", "NotImplemented", not_implemented(request.operation))
                return self._send(start_response, answer)
        try:
            status, headers, body = run_app(self.app, environ)
        except NotImplementedError as err:
            answer = error_response(
                request.service, "NotImplemented", not_implemented(request.operation, err)
            )
            return self._send(start_response, answer)
        except Exception:
            logger.exception("moto failed on %s %s", request.service, request.operation)
            answer = error_response(request.service, "InternalFailure", INTERNAL_FAILURE)
            return self._send(start_response, answer)
        code = int(status.split()[0])
        reshaped = None
        if code >= 400 and protocol_of(request.service) in ("json", "rest-json"):
            reshaped = self._reshape_json_error(request.service, code, headers, body)
        if reshaped is None and code >= 500 and not _speaks_protocol(headers):
            # Flask's HTML page for an exception inside moto: the protocol's own error.
            reshaped = error_response(request.service, "InternalFailure", INTERNAL_FAILURE)
        if reshaped is not None:
            return self._send(start_response, reshaped)
        if protocol_of(request.service) in ("json", "rest-json"):
            headers = aws_request_id(headers)
        start_response(status, headers)
        return [body]

    @staticmethod
    def _send(
        start_response: Callable[..., Any], answer: tuple[str, Headers, bytes]
    ) -> list[bytes]:
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    @staticmethod
    def _refusal(environ: dict[str, Any], request: Any) -> tuple[str, str] | None:
        if request.operation not in _directory_id_operations():
            return None  # most requests (DescribeDirectories...): no body to parse
        try:
            params = json.loads(environ.get(BODY_KEY) or b"{}")
        except ValueError:
            return None  # moto answers a body it cannot parse
        if not isinstance(params, dict):
            return None
        refusal = consumer_refusal(request.account_id, request.region, request.operation, params)
        return None if refusal is None else (refusal.error_code, refusal.message)

    @staticmethod
    def _reshape_json_error(
        service: str, status: int, headers: Headers, body: bytes
    ) -> tuple[str, Headers, bytes] | None:
        """moto's JSON error (``{"__type", "message"}``, its own request id) as AWS's."""
        try:
            document = json.loads(body)
        except ValueError:
            return None
        if not isinstance(document, dict) or not isinstance(document.get("__type"), str):
            return None
        code = document["__type"].rsplit("#", 1)[-1]
        message = str(document.get("message", document.get("Message", "")))
        extra = {k: v for k, v in document.items() if k not in ("__type", "message", "Message")}
        extra.pop("RequestId", None)
        status_line, new_headers, new_body = error_response(
            service, code, message, status=status, extra=extra
        )
        # Keep the rest of moto's headers (CORS), not its duplicate lower-case ones.
        replaced = {key.lower() for key, _ in new_headers} | {"status", "server"}
        kept = [(k, v) for k, v in headers if k.lower() not in replaced or k == "Server"]
        return status_line, kept + new_headers, new_body
