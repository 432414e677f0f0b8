"""The HTTP control endpoint under /_dsshare/, driven with nothing but urllib."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox


def control(sb: Sandbox, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        f"{sb.endpoint_url}/_dsshare/{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        return json.loads(response.read())


def control_error(
    sb: Sandbox, method: str, path: str, payload: Any = None, raw: bytes | None = None
) -> str:
    data = (
        raw if raw is not None else (json.dumps(payload).encode() if payload is not None else None)
    )
    request = urllib.request.Request(f"{sb.endpoint_url}/_dsshare/{path}", data=data, method=method)
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)
    assert excinfo.value.code == 400
    return str(json.loads(excinfo.value.read())["error"])


def test_manifest(sb: Sandbox) -> None:
    manifest = control(sb, "GET", "manifest")
    assert manifest["endpoint_url"] == sb.endpoint_url
    assert manifest["organization_id"] == sb.manifest["organization_id"]
    assert [d["id"] for d in manifest["directories"]] == [
        d["id"] for d in sb.manifest["directories"]
    ]
    assert manifest["seed"] == "demo"


def test_faults_can_be_added_listed_and_cleared(sb: Sandbox, aws_once) -> None:
    rule = control(
        sb,
        "POST",
        "faults",
        {
            "operation": "DescribeDirectories",
            "code": "ThrottlingException",
            "service": "ds",
            "count": 1,
        },
    )
    assert (rule["operation"], rule["code"], rule["count"], rule["hits"]) == (
        "DescribeDirectories",
        "ThrottlingException",
        1,
        0,
    )

    with pytest.raises(ClientError) as excinfo:
        aws_once("ds").describe_directories()
    assert excinfo.value.response["Error"]["Code"] == "ThrottlingException"
    [listed] = control(sb, "GET", "faults")
    assert listed["hits"] == 1

    control(sb, "POST", "faults", {"operation": "ListAccounts", "code": "ThrottlingException"})
    assert len(control(sb, "GET", "faults")) == 2
    assert control(sb, "DELETE", "faults") == {"cleared": True}
    assert control(sb, "GET", "faults") == []
    assert aws_once("organizations").list_accounts()["Accounts"]


def test_a_probability_rule_over_http_is_reproducible(sb: Sandbox, aws_once) -> None:
    def run() -> list[bool]:
        control(sb, "POST", "faults", {"operation": "DescribeDirectories", "probability": 0.3})
        ds = aws_once("ds")
        failed = []
        for _ in range(30):
            try:
                ds.describe_directories()
                failed.append(False)
            except ClientError:
                failed.append(True)
        return failed

    first = run()
    control(sb, "POST", "reset")
    assert first == run()
    assert any(first) and not all(first)


def test_latency(sb: Sandbox, aws) -> None:
    ds = aws("ds")
    ds.describe_directories()
    assert control(sb, "POST", "latency", {"ms": 250}) == {"latency_ms": 250.0}
    start = time.monotonic()
    ds.describe_directories()
    assert time.monotonic() - start >= 0.25
    assert control(sb, "POST", "latency", {"ms": 0, "jitter_ms": 0}) == {"latency_ms": 0.0}


def test_requests_log_and_clear(sb: Sandbox, aws) -> None:
    assert control(sb, "DELETE", "requests") == {"cleared": True}
    aws("ds").describe_directories()
    with pytest.raises(ClientError):
        aws("ds").describe_shared_directories(OwnerDirectoryId="d-0000000000")

    log = control(sb, "GET", "requests")

    assert [(e["service"], e["operation"], e["account_id"], e["status"]) for e in log] == [
        ("ds", "DescribeDirectories", sb.manifest["management_account_id"], 200),
        ("ds", "DescribeSharedDirectories", sb.manifest["management_account_id"], 400),
    ]
    assert "/_dsshare/" not in json.dumps(log)  # control calls are not AWS calls


def test_reset_reseeds_the_world(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    corp = sb.directory_id("corp.example.com")
    ds = aws("ds")
    ds.share_directory(
        DirectoryId=corp,
        ShareTarget={"Id": "200000000011", "Type": "ACCOUNT"},
        ShareMethod="HANDSHAKE",
    )
    assert len(ds.describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]) == 4

    assert control(sb, "POST", "reset") == {"reset": True}

    assert len(ds.describe_shared_directories(OwnerDirectoryId=corp)["SharedDirectories"]) == 3


def test_world_controls(sb: Sandbox, aws) -> None:
    ds = aws("ds")
    corp = sb.directory_id("corp.example.com")
    assert control(sb, "POST", "transition-delay", {"seconds": 0}) == {"seconds": 0}
    assert control(sb, "POST", "directory-stage", {"directory_id": corp, "stage": "Impaired"}) == {
        "ok": True
    }
    with pytest.raises(ClientError) as excinfo:
        ds.share_directory(
            DirectoryId=corp,
            ShareTarget={"Id": "200000000011", "Type": "ACCOUNT"},
            ShareMethod="HANDSHAKE",
        )
    assert excinfo.value.response["Error"]["Code"] == "ClientException"

    shared_id = sb.manifest["shares"][0]["shared_directory_id"]
    assert control(
        sb, "POST", "share-status", {"shared_directory_id": shared_id, "status": "ShareFailed"}
    ) == {"ok": True}
    [record] = ds.describe_shared_directories(
        OwnerDirectoryId=corp, SharedDirectoryIds=[shared_id]
    )["SharedDirectories"]
    assert record["ShareStatus"] == "ShareFailed"

    added = control(
        sb,
        "POST",
        "directories",
        {
            "account_id": sb.manifest["management_account_id"],
            "region": "us-east-1",
            "name": "hy.example.com",
            "edition": "Hybrid",
        },
    )
    [described] = ds.describe_directories(DirectoryIds=[added["id"]])["DirectoryDescriptions"]
    assert described["Edition"] == "Hybrid"

    assert control(sb, "POST", "feature-set", {"feature_set": "CONSOLIDATED_BILLING"}) == {
        "ok": True
    }
    assert (
        aws("organizations").describe_organization()["Organization"]["FeatureSet"]
        == "CONSOLIDATED_BILLING"
    )


def test_unknown_requests_are_400_with_the_known_ones_listed(sb: Sandbox) -> None:
    message = control_error(sb, "GET", "nothing-here")
    assert "unknown control request GET /_dsshare/nothing-here" in message
    assert "POST faults" in message and "GET manifest" in message


@pytest.mark.parametrize(
    "path, payload, complaint",
    [
        ("faults", {"probability": 2}, "probability must be between 0 and 1"),
        ("faults", {"bogus": 1}, "bogus"),
        ("latency", {"ms": -5}, ">= 0"),
        (
            "share-status",
            {"shared_directory_id": "d-0000000000", "status": "Shared"},
            "no share record",
        ),
        ("transition-delay", {}, "seconds"),
    ],
)
def test_bad_control_requests_are_400_with_a_reason(
    sb: Sandbox, path: str, payload: dict, complaint: str
) -> None:
    assert complaint in control_error(sb, "POST", path, payload)


def test_a_body_that_is_not_json_is_400(sb: Sandbox) -> None:
    assert control_error(sb, "POST", "faults", raw=b"{not json")
