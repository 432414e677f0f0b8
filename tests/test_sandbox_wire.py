"""What the sandbox puts on the wire: AWS's JSON protocol for the sharing operations, moto's
own errors, and HTTP/1.1 connections that stay open from one call to the next."""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core.serialize import JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.ds.models import ds_backends

from dsshare.sandbox import Sandbox
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
    assert list(record) == [  # the model's member order
        "OwnerAccountId",
        "OwnerDirectoryId",
        "ShareMethod",
        "SharedAccountId",
        "SharedDirectoryId",
        "ShareStatus",
        "ShareNotes",
        "CreatedDateTime",
        "LastUpdatedDateTime",
    ]


def test_bodies_are_what_moto_s_serializer_would_write(sb: Sandbox) -> None:
    """The direct serialization replaced moto's generic one: byte for byte the same bodies."""
    now = utcnow()
    management = ds_backends[sb.manifest["management_account_id"]]["us-east-1"]
    consumer = ds_backends[sb.account_id("prod-data")]["us-east-1"]
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


def test_errors_are_still_moto_s_json_errors(sb: Sandbox, aws_once) -> None:
    ds = aws_once("ds")
    seen = raw_responses(ds)
    with pytest.raises(ClientError) as excinfo:
        ds.describe_shared_directories(OwnerDirectoryId="d-0000000000")

    assert excinfo.value.response["Error"]["Code"] == "EntityDoesNotExistException"
    [response] = seen
    assert response.status_code == 400
    assert response.headers["X-Amzn-ErrorType"] == "EntityDoesNotExistException"
    assert json.loads(response.content) == {
        "__type": "EntityDoesNotExistException",
        "message": "Directory d-0000000000 does not exist.",
    }


def test_warming_up_at_start_succeeds_and_leaves_the_request_log_empty(
    own_world: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="dsshare.sandbox.server"):
        with Sandbox(seed="empty", transition_delay=0) as other:
            assert other.request_log == []
    assert [r.getMessage() for r in caplog.records if "warming up" in r.getMessage()] == []
