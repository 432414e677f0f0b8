"""Every Directory Service operation that takes a DirectoryId, on a consumer's SharedMicrosoftAD.

AWS lets a consumer tag its shared directory, describe it and leave it (DeleteDirectory),
and refuses the rest with ClientException (HTTP 400): "Operation is not supported for
Shared MicrosoftAD directories.", or for GetSnapshotLimits "Snapshot limits can be
fetched only for VPC or Microsoft AD directories." (docs/aws-sharing.md). The
operations are enumerated from the botocore model, so a new one is covered when botocore
adds it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import Shape

from dsshare.sandbox import Sandbox

MODEL = botocore.session.get_session().get_service_model("ds")
#: Operations a consumer may call on its SharedMicrosoftAD, each tested on its own below.
ANSWERED_FOR_THE_CONSUMER = {"DeleteDirectory", "ShareDirectory", "UnshareDirectory"}
DIRECTORY_ID_OPERATIONS = sorted(
    name
    for name in MODEL.operation_names
    if MODEL.operation_model(name).input_shape is not None
    and "DirectoryId" in MODEL.operation_model(name).input_shape.members
)
REFUSED = [name for name in DIRECTORY_ID_OPERATIONS if name not in ANSWERED_FOR_THE_CONSUMER]
NOT_FOR_SHARED = "Operation is not supported for Shared MicrosoftAD directories."
SNAPSHOT_LIMITS = "Snapshot limits can be fetched only for VPC or Microsoft AD directories."


def snake(name: str) -> str:
    return str(xform_name(name))


def example(shape: Shape, name: str = "") -> Any:
    """A value of ``shape`` with its required members, for a request botocore will send."""
    if shape.type_name == "structure":
        return {
            member: example(shape.members[member], member) for member in shape.required_members
        }
    if shape.type_name == "list":
        return [example(shape.member)]
    if shape.type_name == "map":
        return {}
    if shape.type_name in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if shape.type_name == "boolean":
        return False
    if shape.type_name == "timestamp":
        return dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    if shape.type_name == "blob":
        return b"x"
    if shape.enum:
        return shape.enum[0]
    return "x" * max(1, shape.metadata.get("min", 1))


def request_for(operation: str, directory_id: str) -> dict[str, Any]:
    params = example(MODEL.operation_model(operation).input_shape)
    params["DirectoryId"] = directory_id
    return params


@pytest.fixture
def consumer_directory(sb: Sandbox) -> tuple[str, str]:
    """prod-app1's SharedMicrosoftAD (corp.example.com, Shared) and the account."""
    account = sb.account_id("prod-app1")
    shared_id = next(
        s["shared_directory_id"]
        for s in sb.manifest["shares"]
        if s["shared_account_id"] == account and s["status"] == "Shared"
    )
    return account, shared_id


def test_the_model_lists_the_operations_this_file_covers() -> None:
    assert len(DIRECTORY_ID_OPERATIONS) > 50
    assert {"DescribeEventTopics", "GetSnapshotLimits", "DescribeDomainControllers"} <= set(
        REFUSED
    )


@pytest.mark.parametrize("operation", REFUSED)
def test_an_operation_aws_refuses_on_a_shared_directory_is_client_exception(
    sb: Sandbox, aws, consumer_directory: tuple[str, str], operation: str
) -> None:
    account, shared_id = consumer_directory
    ds = aws("ds", account_id=account)
    sb.clear_request_log()
    with pytest.raises(ClientError) as excinfo:
        getattr(ds, snake(operation))(**request_for(operation, shared_id))

    response = excinfo.value.response
    expected = SNAPSHOT_LIMITS if operation == "GetSnapshotLimits" else NOT_FOR_SHARED
    assert response["Error"] == {"Code": "ClientException", "Message": expected}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert response["RequestId"] == response["ResponseMetadata"]["RequestId"]
    # A client error: answered once, never retried.
    assert [e["operation"] for e in sb.request_log] == [operation]


def test_the_consumer_tags_its_shared_directory_and_the_owner_does_not_see_them(
    sb: Sandbox, aws, consumer_directory: tuple[str, str]
) -> None:
    account, shared_id = consumer_directory
    ds = aws("ds", account_id=account)
    assert ds.list_tags_for_resource(ResourceId=shared_id)["Tags"] == []
    ds.add_tags_to_resource(
        ResourceId=shared_id, Tags=[{"Key": "team", "Value": "app1"}, {"Key": "tier", "Value": "1"}]
    )
    ds.remove_tags_from_resource(ResourceId=shared_id, TagKeys=["tier"])
    assert ds.list_tags_for_resource(ResourceId=shared_id)["Tags"] == [
        {"Key": "team", "Value": "app1"}
    ]
    owner = aws("ds")
    assert owner.list_tags_for_resource(ResourceId=sb.directory_id("corp.example.com"))[
        "Tags"
    ] == []
    # Another account cannot see (nor tag) the consumer's directory.
    with pytest.raises(ClientError) as excinfo:
        aws("ds", account_id=sb.account_id("dev-app2")).list_tags_for_resource(
            ResourceId=shared_id
        )
    assert excinfo.value.response["Error"]["Code"] == "EntityDoesNotExistException"


def test_describe_directories_and_tags_answer_the_moment_a_share_is_listed(
    sb: Sandbox, aws
) -> None:
    """Terraform's data source: DescribeDirectories, then ListTagsForResource, at once."""
    sb.set_transition_delay(60)
    bob = sb.account_id("sandbox-bob")
    shared_id = aws("ds").share_directory(
        DirectoryId=sb.directory_id("corp.example.com"),
        ShareTarget={"Id": bob, "Type": "ACCOUNT"},
        ShareMethod="HANDSHAKE",
    )["SharedDirectoryId"]
    ds = aws("ds", account_id=bob)
    [view] = ds.describe_directories(DirectoryIds=[shared_id])["DirectoryDescriptions"]
    assert view["DirectoryId"] == shared_id
    assert ds.list_tags_for_resource(ResourceId=shared_id)["Tags"] == []


def test_an_operation_moto_lacks_is_a_json_error_that_is_not_retried(sb: Sandbox, aws) -> None:
    ds = aws("ds")  # the owner, on its own directory: AWS would answer; the sandbox cannot
    sb.clear_request_log()
    with pytest.raises(ClientError) as excinfo:
        ds.describe_event_topics(DirectoryId=sb.directory_id("corp.example.com"))
    response = excinfo.value.response
    assert response["Error"]["Code"] == "NotImplemented"
    assert "DescribeEventTopics" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == (
        "application/x-amz-json-1.1"
    )
    assert len(sb.request_log) == 1  # botocore does not retry a 501


def test_even_a_legacy_retrying_client_gets_a_missing_operation_once(sb: Sandbox) -> None:
    import boto3

    ds = boto3.client(
        "ds",
        endpoint_url=sb.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "legacy", "max_attempts": 5}),
    )
    sb.clear_request_log()
    with pytest.raises(ClientError):
        ds.get_snapshot_limits(DirectoryId=sb.directory_id("corp.example.com"))
    assert len(sb.request_log) == 1


def test_an_error_body_carries_the_model_s_exception_members(sb: Sandbox, aws) -> None:
    ds = aws("ds")
    seen: list[Any] = []
    ds.meta.events.register("after-call.ds", lambda http_response, **_: seen.append(http_response))
    with pytest.raises(ClientError):
        ds.describe_directories(DirectoryIds=["d-0000000000"])
    [response] = seen
    body = json.loads(response.content)
    members = set(MODEL.shape_for("EntityDoesNotExistException").members)
    assert members == {"Message", "RequestId"}
    assert set(body) == {"__type", *members}
    assert body["RequestId"] == response.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    "operation, params, code",
    [
        ("delete_directory", {"DirectoryId": "corp"}, "EntityDoesNotExistException"),
        (
            "unshare_directory",
            {"DirectoryId": "d-0123456789", "UnshareTarget": {"Id": "2000", "Type": "OU"}},
            "InvalidTargetException",
        ),
        ("describe_directories", {"DirectoryIds": ["corp"]}, "InvalidParameterException"),
    ],
)
def test_malformed_input_is_an_error_the_operation_s_model_lists(
    sb: Sandbox, operation: str, params: dict[str, Any], code: str
) -> None:
    import boto3

    ds = boto3.client(
        "ds",
        endpoint_url=sb.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False),
    )
    with pytest.raises(ClientError) as excinfo:
        getattr(ds, operation)(**params)
    assert excinfo.value.response["Error"]["Code"] == code
    listed = {e.name for e in MODEL.operation_model(xform_op(operation)).error_shapes}
    assert code in listed


def xform_op(snake_name: str) -> str:
    return next(name for name in MODEL.operation_names if xform_name(name) == snake_name)


def test_an_injected_fault_is_shaped_as_the_sandbox_s_own_errors(sb: Sandbox, aws_once) -> None:
    sb.add_fault("DescribeDirectories", code="ClientException", service="ds", message="boom")
    ds = aws_once("ds")
    seen: list[Any] = []
    ds.meta.events.register("after-call.ds", lambda http_response, **_: seen.append(http_response))
    with pytest.raises(ClientError) as excinfo:
        ds.describe_directories()
    [response] = seen
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert json.loads(response.content) == {
        "__type": "ClientException",
        "Message": "boom",
        "RequestId": response.headers["x-amzn-RequestId"],
    }
    assert excinfo.value.response["Error"] == {"Code": "ClientException", "Message": "boom"}
