"""What the sandbox puts on the wire: AWS's JSON protocol for the sharing operations, moto's
own errors, and HTTP/1.1 connections that stay open from one call to the next."""

from __future__ import annotations

import http.client
import io
import json
import logging
import re
import socket
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core.serialize import JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.moto_server.werkzeug_app import create_backend_app

from dsshare.sandbox import Sandbox, dispatch, wire
from dsshare.sandbox.backend import sharing_backends
from dsshare.sandbox.records import REGISTRY, utcnow
from dsshare.sandbox.responses import _owner_description
from dsshare.sandbox.shapes import output_json


def raw_responses(client: Any) -> list[Any]:
    """Every HTTP response ``client`` receives from now on, as botocore saw it."""
    seen: list[Any] = []
    client.meta.events.register("after-call", lambda http_response, **_: seen.append(http_response))
    return seen


def connect(sb: Sandbox) -> http.client.HTTPConnection:
    host, port = sb.endpoint_url.removeprefix("http://").rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=10)


def signed_headers(service: str, target: str) -> dict[str, str]:
    """Headers of a JSON-protocol call in the management account (the sandbox checks no signature)."""
    return {
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0",
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": target,
    }


@pytest.fixture
def own_world(sandbox: Sandbox) -> Iterator[None]:
    """Let a test start its own Sandbox; reseed the session's demo world afterwards."""
    yield
    sandbox.reset()


# -- the sharing operations answer in AWS's JSON protocol ----------------------------------


def test_sharing_answers_are_aws_json_with_a_request_id(sb: Sandbox, aws) -> None:
    ds = aws("ds")
    seen = raw_responses(ds)
    ds.describe_directories()
    ds.describe_shared_directories(OwnerDirectoryId=sb.directory_id("corp.example.com"))

    for response in seen:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
        assert response.headers["x-amzn-RequestId"]
    record = json.loads(seen[1].content)["SharedDirectories"][0]
    # Epoch seconds, as AWS's JSON protocol sends timestamps (botocore parses them to datetimes).
    assert isinstance(record["CreatedDateTime"], (int, float))
    assert list(record) == [  # the model's member order; ShareNotes only when some were given
        "OwnerAccountId",
        "OwnerDirectoryId",
        "ShareMethod",
        "SharedAccountId",
        "SharedDirectoryId",
        "ShareStatus",
        "CreatedDateTime",
        "LastUpdatedDateTime",
    ]


def test_bodies_are_what_moto_s_serializer_would_write(sb: Sandbox) -> None:
    """The direct serialization replaced moto's generic one: byte for byte the same bodies."""
    now = utcnow()
    management = sharing_backends[sb.manifest["management_account_id"]]["us-east-1"]
    consumer = sharing_backends[sb.account_id("prod-data")]["us-east-1"]
    results = {
        "DescribeSharedDirectories": {
            "SharedDirectories": [r.to_dict(now) for r in REGISTRY.all()],
            "NextToken": "token",
        },
        "DescribeDirectories": {
            "DirectoryDescriptions": [
                *(_owner_description(d) for d in management.directories.values()),
                *(
                    {k: v for k, v in view.describe(now).items() if v is not None}
                    for view in consumer.consumer_views()
                ),
            ]
        },
        "AcceptSharedDirectory": {"SharedDirectory": next(REGISTRY.all()).to_dict(now)},
        "ShareDirectory": {"SharedDirectoryId": "d-1234567890"},
        "AddRegion": {},
    }
    assert {d["Type"] for d in results["DescribeDirectories"]["DirectoryDescriptions"]} == {
        "MicrosoftAD",
        "SimpleAD",
        "SharedMicrosoftAD",
    }
    for operation, result in results.items():
        operation_model = get_service_model("ds").operation_model(operation)
        moto_body = JSONSerializer(
            operation_model, value_picker=XFormedAttributePicker()
        ).serialize(result)["body"]
        assert output_json("ds", operation, result) == moto_body, operation


def test_errors_are_json_errors_shaped_as_aws_s(sb: Sandbox, aws_once) -> None:
    ds = aws_once("ds")
    seen = raw_responses(ds)
    with pytest.raises(ClientError) as excinfo:
        ds.describe_shared_directories(OwnerDirectoryId="d-0000000000")

    assert excinfo.value.response["Error"]["Code"] == "EntityDoesNotExistException"
    [response] = seen
    assert response.status_code == 400
    assert response.headers["X-Amzn-ErrorType"] == "EntityDoesNotExistException"
    assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
    request_id = response.headers["x-amzn-RequestId"]
    assert str(uuid.UUID(request_id)) == request_id
    # The members of the model's EntityDoesNotExistException shape: Message and RequestId.
    assert json.loads(response.content) == {
        "__type": "EntityDoesNotExistException",
        "Message": "Directory d-0000000000 does not exist.",
        "RequestId": request_id,
    }


def test_warming_up_at_start_succeeds_and_leaves_the_request_log_empty(
    own_world: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="dsshare.sandbox"):
        with Sandbox(seed="empty", transition_delay=0) as other:
            assert other.request_log == []
    assert [r.getMessage() for r in caplog.records if "warming up" in r.getMessage()] == []


# -- connections are kept open ------------------------------------------------------------


def test_two_calls_from_one_client_share_one_connection(sb: Sandbox, aws) -> None:
    ds = aws("ds")
    seen = raw_responses(ds)
    ds.describe_directories()
    ds.describe_directories()

    assert [r.headers.get("Connection") for r in seen] == [None, None]  # no "close"
    pools = ds._endpoint.http_session._manager.pools  # urllib3 counts the TCP connections it opens
    assert [pools[key].num_connections for key in pools.keys()] == [1]


def test_one_connection_serves_calls_one_after_another(sb: Sandbox) -> None:
    connection = connect(sb)
    sockets = []
    for _ in range(3):
        connection.request(
            "POST",
            "/",
            body=b"{}",
            headers=signed_headers("ds", "DirectoryService_20150416.DescribeDirectories"),
        )
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["DirectoryDescriptions"]
        assert response.getheader("Connection") is None
        sockets.append(connection.sock)
    assert sockets[0] is not None and sockets == [sockets[0]] * 3


def test_a_body_the_application_ignores_does_not_spill_into_the_next_request(sb: Sandbox) -> None:
    connection = connect(sb)
    connection.request("GET", "/moto-api/", body=b"GET /_dsshare/manifest HTTP/1.1\r\n\r\n" * 100)
    first = connection.getresponse()
    first.read()
    connection.request("GET", "/_dsshare/manifest")
    second = connection.getresponse()

    assert first.status == 200 and second.status == 200
    assert (
        json.loads(second.read())["management_account_id"] == sb.manifest["management_account_id"]
    )


def test_a_chunked_request_is_answered_then_its_connection_closed(sb: Sandbox) -> None:
    connection = connect(sb)
    connection.request(
        "POST",
        "/",
        body=iter([b"{", b"}"]),
        encode_chunked=True,
        headers=signed_headers("ds", "DirectoryService_20150416.DescribeDirectories"),
    )
    response = connection.getresponse()

    assert response.status == 200 and json.loads(response.read())["DirectoryDescriptions"]
    assert response.getheader("Connection") == "close"


def test_a_client_expecting_100_continue_gets_it_before_sending_its_body(sb: Sandbox) -> None:
    host, port = sb.endpoint_url.removeprefix("http://").rsplit(":", 1)
    headers = signed_headers("ds", "DirectoryService_20150416.DescribeDirectories")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(
            f"POST / HTTP/1.1\r\nHost: {host}\r\n{head}Content-Length: 2\r\n"
            "Expect: 100-continue\r\n\r\n".encode()
        )
        assert connection.recv(64).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        connection.sendall(b"{}")
        reader = connection.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 200 ")


def test_a_failing_request_answers_500_and_closes_only_its_connection(sb: Sandbox) -> None:
    connection = connect(sb)
    # moto's recorder has no recording to download: its handler raises.
    connection.request("GET", "/moto-api/recorder/download-recording")
    response = connection.getresponse()
    response.read()

    assert (response.status, response.getheader("Connection")) == (500, "close")
    other = connect(sb)
    other.request("GET", "/_dsshare/manifest")
    assert other.getresponse().status == 200


def test_a_stopped_sandbox_closes_its_kept_alive_connections(own_world: None) -> None:
    with Sandbox(seed="empty", transition_delay=0) as other:
        connection = connect(other)
        connection.request("GET", "/_dsshare/manifest")
        assert connection.getresponse().read()
        kept = connection.sock
    assert kept is not None
    assert ended(kept)


def ended(connection: socket.socket) -> bool:
    """Whether the other end closed ``connection`` (waiting up to 5 s)."""
    connection.settimeout(5)
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True


# -- plain POST / answers skip Flask, and say exactly what Flask would have said -----------

FLASK_PARITY_CALLS = [
    ("ds", "DirectoryService_20150416.DescribeDirectories", b"{}"),
    ("ds", "DirectoryService_20150416.DescribeDirectories", b'{"DirectoryIds": []}'),
    ("ds", "DirectoryService_20150416.NoSuchOperation", b"{}"),
    ("organizations", "AWSOrganizationsV20161128.DescribeOrganization", b"{}"),
    ("sts", "", b"Action=GetCallerIdentity&Version=2011-06-15"),
]


def answers(sb: Sandbox, extra_headers: dict[str, str]) -> list[tuple[int, list[Any], bytes]]:
    """Status, headers and body of each FLASK_PARITY_CALLS call (request ids and dates blanked)."""
    seen = []
    for service, target, body in FLASK_PARITY_CALLS:
        headers = {**signed_headers(service, target), **extra_headers}
        if not target:
            del headers["X-Amz-Target"]
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = connect(sb)
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        kept = [
            (key, value)
            for key, value in response.getheaders()
            if key.lower() not in ("date", "x-amzn-requestid", "x-amz-request-id")
        ]
        blanked = re.sub(rb'"RequestId": "[^"]*"', b'"RequestId": ""', data.split(b"<RequestId>")[0])
        seen.append((response.status, kept, blanked))
    return seen


@pytest.mark.parametrize("extra_headers", [{}, {"Origin": "https://console.example"}])
def test_answers_without_flask_match_flask_s_to_the_header(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, extra_headers: dict[str, str]
) -> None:
    direct = answers(sb, extra_headers)
    monkeypatch.setattr(dispatch, "_direct_route", lambda app, environ: None)
    through_flask = answers(sb, extra_headers)

    assert direct == through_flask
    # An operation moto lacks is a JSON NotImplemented error (501, not retried), not HTML.
    assert [status for status, _, _ in direct] == [200, 400, 501, 200, 200]
    assert json.loads(direct[2][2])["__type"] == "NotImplemented"
    origin = extra_headers.get("Origin", "*")
    # moto's answers keep its CORS hook's header; the 501 is the sandbox's own.
    assert all(
        ("Access-Control-Allow-Origin", origin) in headers
        for status, headers, _ in direct
        if status != 501
    )


def test_only_plain_post_requests_to_moto_s_one_view_apps_skip_flask(sb: Sandbox) -> None:
    app = create_backend_app("ds")
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/"}

    assert dispatch._direct_route(app, environ) is not None
    assert dispatch._direct_route(app, {**environ, "REQUEST_METHOD": "GET"}) is None
    assert dispatch._direct_route(app, {**environ, "PATH_INFO": "/x"}) is None
    assert dispatch._direct_route(app, {**environ, "HTTP_ORIGIN": "https://a.example"}) is None
    assert dispatch._direct_route(create_backend_app("s3"), environ) is None


# -- request headers are read as http.server reads them -----------------------------------

HEADER_BLOCKS = [
    b"Host: a\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target:  T \r\n\r\n",
    b"Host: a\nAccept:\n\n",
    b"X-Folded: one\r\n two\r\nHost: a\r\n\r\n",
    b"From someone\r\nHost: a\r\n\r\n",
    b"Host: a\r\nNo colon here\r\nAfter: b\r\n\r\n",
    b"Host: a\rb\r\n\r\n",
    b"Caf\xe9: cr\xe8me\r\nDup: 1\r\nDup: 2\r\n\r\n",
    b"Host: a\r\n",
    b"\r\n",
]


@pytest.mark.parametrize("block", HEADER_BLOCKS)
def test_header_blocks_parse_as_http_client_parses_them(block: bytes) -> None:
    lines = io.BytesIO(block).readlines()
    ours = wire.parse_header_block(lines, http.client.HTTPMessage)
    stdlib = http.client.parse_headers(io.BytesIO(block))

    assert ours.items() == stdlib.items()
    assert ours.get_payload() == stdlib.get_payload()
    assert [type(d) for d in ours.defects] == [type(d) for d in stdlib.defects]


def test_too_many_request_headers_answer_431(sb: Sandbox) -> None:
    host, port = sb.endpoint_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        many = "".join(f"X-{i}: v\r\n" for i in range(101))
        connection.sendall(f"GET /_dsshare/manifest HTTP/1.1\r\nHost: a\r\n{many}\r\n".encode())
        assert connection.makefile("rb").readline().startswith(b"HTTP/1.1 431 ")


def test_a_connection_close_request_is_answered_and_closed(sb: Sandbox) -> None:
    connection = connect(sb)
    connection.request("GET", "/_dsshare/manifest", headers={"Connection": "close"})
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Connection") == "close"


REQUESTS = [
    b"GET /_dsshare/manifest HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    b"POST / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
    b"GET //x//y HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n",
    b"GET / HTTP/x.1\r\n\r\n",
    b"GET / HTTP/2.0\r\n\r\n",
    b"GET / HTTP/1.1 extra\r\n\r\n",
    b"POST /\r\n\r\n",
    b"GET /\r\n\r\n",
    b"\r\n",
    b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(101)) + b"\r\n",
    b"GET / HTTP/1.1\r\nX-Long: " + b"v" * 70000 + b"\r\n\r\n",
]


def parsed(parse_request: Any, raw: bytes) -> tuple[Any, ...]:
    """What ``parse_request`` makes of ``raw`` on a handler with no socket behind it."""
    handler = object.__new__(wire.KeepAliveRequestHandler)
    handler.rfile = io.BytesIO(raw)
    handler.wfile = io.BytesIO()
    handler.client_address = ("127.0.0.1", 1)
    handler.raw_requestline = handler.rfile.readline(65537)
    handler.log_error = lambda *args: None  # type: ignore[method-assign]
    handler.date_time_string = lambda *args: "DATE"  # type: ignore[method-assign]
    answer = parse_request(handler)
    headers = getattr(handler, "headers", None)
    return (
        answer,
        getattr(handler, "command", None),
        getattr(handler, "path", None),
        handler.request_version,
        handler.close_connection,
        handler.wfile.getvalue(),
        None if headers is None else headers.items(),
    )


@pytest.mark.parametrize("raw", REQUESTS)
def test_requests_are_parsed_as_http_server_parses_them(raw: bytes) -> None:
    ours = parsed(wire.KeepAliveRequestHandler.parse_request, raw)
    stdlib = parsed(BaseHTTPRequestHandler.parse_request, raw)

    assert ours == stdlib
