"""The HTTP control endpoint under /_dsshare/, driven with nothing but urllib."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox
from dsshare.sandbox.cli import exposure_warning
from dsshare.sandbox.control import client_url


@pytest.fixture
def own_world(sandbox: Sandbox) -> Iterator[None]:
    """Let a test start its own Sandbox; reseed the session's demo world afterwards."""
    yield
    sandbox.reset()


def control(sb: Sandbox, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    """A control request through the library's client (the headers the API requires)."""
    return sb.control.request(method, path, payload)


def raw_request(
    sb: Sandbox,
    method: str,
    path: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body of a hand-made control request (errors included)."""
    request = urllib.request.Request(
        f"{sb.endpoint_url}/_dsshare/{path}", data=data, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def control_error(
    sb: Sandbox, method: str, path: str, payload: Any = None, raw: bytes | None = None
) -> str:
    data = (
        raw if raw is not None else (json.dumps(payload).encode() if payload is not None else None)
    )
    status, headers, body = raw_request(
        sb, method, path, data, {"Content-Type": "application/json"}
    )
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    return str(body["error"])


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


@pytest.mark.parametrize(
    "raw, complaint",
    [
        (b"[1, 2]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b'{"operation": 5}', "operation must be text"),
        (b'{"code": "Bad\\r\\nX-Injected: 1"}', "code must be an AWS error code"),
        (b'{"count": "three"}', "count must be a whole number"),
    ],
)
def test_malformed_fault_rules_are_json_400_naming_the_problem(
    sb: Sandbox, raw: bytes, complaint: str
) -> None:
    assert complaint in control_error(sb, "POST", "faults", raw=raw)


@pytest.mark.parametrize(
    "path, payload, complaint",
    [
        (
            "directories",
            {"account_id": 123456789012, "region": "us-east-1", "name": "x"},
            "12 digits",
        ),
        ("directories", {"account_id": "123456789012", "region": "mars-1", "name": "x"}, "region"),
        (
            "directories",
            {"account_id": "123456789012", "region": "us-east-1", "name": "x", "edition": "Huge"},
            "edition",
        ),
        ("directory-stage", {"directory_id": "d-0000000000", "stage": "Sleeping"}, "stage"),
        ("share-status", {"status": "Shared"}, "shared_directory_id"),
    ],
)
def test_bad_world_controls_are_json_400_never_a_traceback(
    sb: Sandbox, path: str, payload: dict, complaint: str
) -> None:
    assert complaint in control_error(sb, "POST", path, payload)


def test_a_cross_origin_text_plain_post_from_a_web_page_is_refused(sb: Sandbox) -> None:
    """What any page the operator visits can send without a CORS preflight."""
    status, headers, body = raw_request(
        sb,
        "POST",
        "reset",
        b"{}",
        {"Content-Type": "text/plain", "Origin": "https://attacker.example"},
    )
    assert status == 403
    assert headers["Content-Type"] == "application/json"
    assert "cross-origin" in body["error"]
    assert "Access-Control-Allow-Origin" not in headers
    assert sb.manifest["shares"]  # nothing was reset: the request never reached the world


def test_a_cross_origin_json_request_is_refused(sb: Sandbox) -> None:
    status, _, body = raw_request(
        sb,
        "POST",
        "faults",
        b'{"code": "ThrottlingException"}',
        {"Content-Type": "application/json", "Origin": "http://localhost:8888"},
    )
    assert status == 403 and "cross-origin" in body["error"]
    assert sb.faults.rules == []


def test_a_same_origin_text_plain_post_is_refused_as_not_json(sb: Sandbox) -> None:
    status, _, body = raw_request(sb, "POST", "faults", b"{}", {"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in body["error"]
    status, _, body = raw_request(sb, "DELETE", "faults")
    assert status == 415
    assert sb.faults.rules == []


def test_the_sandbox_s_own_origin_may_drive_it(sb: Sandbox) -> None:
    status, _, body = raw_request(
        sb,
        "POST",
        "transition-delay",
        b'{"seconds": 0.05}',
        {"Content-Type": "application/json", "Origin": sb.endpoint_url},
    )
    assert (status, body) == (200, {"seconds": 0.05})


def test_a_rebound_host_name_is_refused(sb: Sandbox) -> None:
    """DNS rebinding: a page's own name resolving to 127.0.0.1 sends its own Host."""
    port = sb.endpoint_url.rsplit(":", 1)[1]
    status, _, body = raw_request(
        sb, "GET", "manifest", headers={"Host": f"attacker.example:{port}"}
    )
    assert status == 403 and "host" in body["error"]
    status, _, _ = raw_request(sb, "GET", "manifest", headers={"Host": f"localhost:{port}"})
    assert status == 200


def test_a_sandbox_with_a_token_refuses_control_requests_without_it(own_world: None) -> None:
    # Bound to loopback here (tests never listen beyond it); a sandbox bound beyond
    # loopback gets a token of its own (next test) and enforces it the same way.
    with Sandbox(seed="empty", transition_delay=0, control_token="s3cret-" + "x" * 20) as guarded:
        status, _, body = raw_request(guarded, "GET", "manifest")
        assert status == 403 and "X-Dsshare-Token" in body["error"]
        status, _, _ = raw_request(guarded, "GET", "manifest", headers={"X-Dsshare-Token": "wrong"})
        assert status == 403
        # The library's client sends it.
        assert guarded.control.get("manifest")["seed"] == "empty"
        assert guarded.control.post("reset") == {"reset": True}


def test_a_sandbox_bound_beyond_loopback_makes_a_token_and_a_usable_url() -> None:
    exposed = Sandbox(seed="empty", host="0.0.0.0")  # not started: nothing listens
    assert exposed.control_token and len(exposed.control_token) >= 24
    assert Sandbox(seed="empty", host="0.0.0.0").control_token != exposed.control_token
    assert client_url("0.0.0.0", 4566) == "http://127.0.0.1:4566"
    assert client_url("::", 4566) == "http://[::1]:4566"
    assert client_url("192.0.2.7", 4566) == "http://192.0.2.7:4566"


def test_the_exposure_warning_names_the_emulator_the_control_api_and_the_token() -> None:
    warning = exposure_warning("0.0.0.0", 4566, "tok-123")
    lines = warning.splitlines()
    assert len(lines) > 5
    assert "every interface" in lines[0] and "4566" in lines[0]
    assert "AWS emulator" in warning and "control API" in warning
    assert "X-Dsshare-Token" in warning and "tok-123" in warning
    assert "0.0.0.0" not in warning  # never offered as a URL


def test_a_loopback_sandbox_needs_no_token(sb: Sandbox) -> None:
    assert sb.control_token is None
    assert raw_request(sb, "GET", "manifest")[0] == 200


def test_fault_messages_are_escaped_for_every_protocol(sb: Sandbox, aws_once) -> None:
    """A message with markup, quotes and control characters reaches each client intact."""
    message = "a <b>bold</b> & \"quoted\" 'message' ]]> with\ttab"
    control(sb, "POST", "faults", {"service": "sts", "code": "AccessDenied", "message": message})
    control(sb, "POST", "faults", {"service": "ds", "code": "ClientException", "message": message})
    with pytest.raises(ClientError) as sts_error:
        aws_once("sts").get_caller_identity()
    assert sts_error.value.response["Error"] == {
        "Type": "Sender",
        "Code": "AccessDenied",
        "Message": message,
    }
    with pytest.raises(ClientError) as ds_error:
        aws_once("ds").describe_directories()
    assert ds_error.value.response["Error"]["Message"] == message
    control(sb, "DELETE", "faults")
    nul = "bad \x00 byte"
    control(sb, "POST", "faults", {"service": "sts", "code": "AccessDenied", "message": nul})
    with pytest.raises(ClientError) as replaced:
        aws_once("sts").get_caller_identity()
    assert replaced.value.response["Error"]["Message"] == "bad \ufffd byte"
