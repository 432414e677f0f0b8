"""Injected errors, latency and the request log, through the Python API.

Errors are written in each service's wire protocol (JSON for Directory Service and
Organizations, query XML for STS), so botocore parses them and its standard retry
mode retries throttling exactly as it would against AWS.
"""

from __future__ import annotations

import re
import time

import pytest
from botocore.exceptions import ClientError

from dsshare.sandbox import FaultRule, Sandbox, SandboxError
from dsshare.sandbox.faults import account_of_key

SHARED_ID = re.compile(r"^d-[0-9a-f]{10}$")


def target(account_id: str) -> dict[str, str]:
    return {"Id": account_id, "Type": "ACCOUNT"}


def test_throttled_share_is_retried_by_botocore_and_succeeds(sb: Sandbox, aws) -> None:
    # botocore backs off rand(0, 1) s before its first retry of a throttle, rand(0, 2) s before
    # the second: one throttle keeps this test fast.
    sb.add_fault("ShareDirectory", code="ThrottlingException", service="ds", count=1)
    ds = aws("ds")
    answer = ds.share_directory(
        DirectoryId=sb.directory_id("corp.example.com"),
        ShareTarget=target("200000000011"),
        ShareMethod="HANDSHAKE",
    )
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert SHARED_ID.match(answer["SharedDirectoryId"])
    calls = [
        (e["operation"], e["status"], e["injected"])
        for e in sb.request_log
        if e["operation"] == "ShareDirectory"
    ]
    assert calls == [("ShareDirectory", 400, "ThrottlingException"), ("ShareDirectory", 200, None)]


def test_throttled_organizations_call_is_retried(sb: Sandbox, aws) -> None:
    sb.add_fault(
        "DescribeOrganization", code="ThrottlingException", service="organizations", count=1
    )
    answer = aws("organizations").describe_organization()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert answer["Organization"]["Id"] == sb.manifest["organization_id"]


def test_throttled_assume_role_is_retried(sb: Sandbox, aws) -> None:
    sb.add_fault("AssumeRole", code="Throttling", service="sts", count=1)
    network = sb.account_id("network")
    answer = aws("sts").assume_role(
        RoleArn=f"arn:aws:iam::{network}:role/{sb.manifest['role_name']}", RoleSessionName="retry"
    )
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert answer["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{network}:assumed-role/")


@pytest.mark.parametrize(
    "service, operation, code, call",
    [
        ("ds", "DescribeDirectories", "ThrottlingException", lambda c: c.describe_directories()),
        ("organizations", "ListAccounts", "ThrottlingException", lambda c: c.list_accounts()),
        (
            "sts",
            "AssumeRole",
            "Throttling",
            lambda c: c.assume_role(
                RoleArn="arn:aws:iam::200000000002:role/OrganizationAccountAccessRole",
                RoleSessionName="xx",
            ),
        ),
        ("sts", "GetCallerIdentity", "ServiceUnavailable", lambda c: c.get_caller_identity()),
        (
            "ds",
            "DescribeSharedDirectories",
            "AccessDeniedException",
            lambda c: c.describe_shared_directories(OwnerDirectoryId="d-0000000000"),
        ),
    ],
)
def test_without_retries_the_injected_error_surfaces(
    sb: Sandbox, aws_once, service: str, operation: str, code: str, call
) -> None:
    sb.add_fault(operation, code=code, service=service, message="slow down, please")
    with pytest.raises(ClientError) as excinfo:
        call(aws_once(service))
    err = excinfo.value.response["Error"]
    assert (err["Code"], err["Message"]) == (code, "slow down, please")
    status = excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status == {"ServiceUnavailable": 503, "AccessDeniedException": 403}.get(code, 400)
    assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    assert excinfo.value.response["ResponseMetadata"]["RequestId"]


@pytest.mark.parametrize(
    "service, call",
    [
        ("iam", lambda c: c.list_roles()),  # query XML
        ("ec2", lambda c: c.describe_vpcs()),  # EC2's own XML
        ("s3", lambda c: c.list_buckets()),  # REST-XML
        ("sts", lambda c: c.get_caller_identity()),  # query XML
        ("organizations", lambda c: c.list_roots()),  # JSON
    ],
)
def test_a_catch_all_rule_speaks_each_services_protocol(
    sb: Sandbox, aws_once, service: str, call
) -> None:
    sb.add_fault(message='<busy> & "throttled"')  # every service, every operation
    with pytest.raises(ClientError) as excinfo:
        call(aws_once(service))
    err = excinfo.value.response["Error"]
    assert (err["Code"], err["Message"]) == ("ThrottlingException", '<busy> & "throttled"')


def test_a_count_bounded_rule_stops_after_count_hits(sb: Sandbox, aws_once) -> None:
    rule = sb.add_fault("DescribeDirectories", code="ThrottlingException", count=2)
    ds = aws_once("ds")
    outcomes = []
    for _ in range(4):
        try:
            ds.describe_directories()
            outcomes.append("ok")
        except ClientError as err:
            outcomes.append(err.response["Error"]["Code"])
    assert outcomes == ["ThrottlingException", "ThrottlingException", "ok", "ok"]
    assert rule.hits == 2


def test_a_rule_for_one_service_leaves_the_others_alone(sb: Sandbox, aws_once) -> None:
    sb.add_fault("*", code="ThrottlingException", service="organizations")
    assert aws_once("ds").describe_directories()["DirectoryDescriptions"]
    with pytest.raises(ClientError):
        aws_once("organizations").describe_organization()


def test_a_rule_for_one_account_hits_only_that_account(sb: Sandbox, aws_once) -> None:
    network = sb.account_id("network")
    consumer = aws_once("ds", account_id=sb.account_id("prod-app1"))
    victim = aws_once("ds", account_id=network)
    sb.add_fault("DescribeDirectories", code="ThrottlingException", account_id=network)
    assert consumer.describe_directories()["DirectoryDescriptions"]
    with pytest.raises(ClientError) as excinfo:
        victim.describe_directories()
    assert excinfo.value.response["Error"]["Code"] == "ThrottlingException"


def test_an_assume_role_rule_for_one_account_matches_the_role_being_assumed(
    sb: Sandbox, aws_once
) -> None:
    network = sb.account_id("network")
    sb.add_fault("AssumeRole", code="AccessDenied", service="sts", account_id=network)
    sts = aws_once("sts")
    role = "arn:aws:iam::{}:role/" + sb.manifest["role_name"]
    assert sts.assume_role(RoleArn=role.format(sb.account_id("prod-app1")), RoleSessionName="ok")
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role.format(network), RoleSessionName="denied")
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def outcomes_with_probability(sb: Sandbox, aws_once, calls: int = 40) -> list[bool]:
    sb.add_fault("DescribeDirectories", code="ThrottlingException", probability=0.5)
    ds = aws_once("ds")
    failed = []
    for _ in range(calls):
        try:
            ds.describe_directories()
            failed.append(False)
        except ClientError:
            failed.append(True)
    return failed


def test_probability_rules_are_reproducible_with_the_seed(sb: Sandbox, aws_once) -> None:
    first = outcomes_with_probability(sb, aws_once)
    sb.reset()  # reseeds the fault random source
    second = outcomes_with_probability(sb, aws_once)
    assert first == second
    assert 5 < sum(first) < 35  # roughly half, not all or nothing


def test_probability_zero_never_and_one_always_fires(sb: Sandbox, aws_once) -> None:
    sb.add_fault("DescribeDirectories", code="ThrottlingException", probability=0.0)
    sb.add_fault("ListAccounts", code="ThrottlingException", probability=1.0)
    for _ in range(10):
        aws_once("ds").describe_directories()
        with pytest.raises(ClientError):
            aws_once("organizations").list_accounts()


@pytest.mark.parametrize(
    "kwargs, complaint",
    [
        ({"probability": 1.5}, "probability must be between 0 and 1"),
        ({"count": -1}, "count must be >= 0"),
    ],
)
def test_bad_rules_are_refused(sb: Sandbox, kwargs: dict, complaint: str) -> None:
    with pytest.raises(SandboxError, match=complaint):
        sb.add_fault("ShareDirectory", **kwargs)


def test_clear_faults_removes_every_rule(sb: Sandbox, aws_once) -> None:
    rule = sb.add_fault()
    assert isinstance(rule, FaultRule)
    sb.clear_faults()
    assert aws_once("ds").describe_directories()["DirectoryDescriptions"]


def timed(call) -> float:
    start = time.monotonic()
    call()
    return time.monotonic() - start


def test_latency_is_added_to_every_call(sb: Sandbox, aws) -> None:
    ds = aws("ds")
    ds.describe_directories()  # connect first
    sb.set_latency(300)
    assert timed(ds.describe_directories) >= 0.3
    sb.set_latency(0)
    assert sb.faults.latency_ms == 0


def test_jittered_latency_stays_within_its_bounds(sb: Sandbox) -> None:
    sb.set_latency(100, jitter_ms=50)
    delays = [sb.faults.delay() for _ in range(200)]
    assert all(0.05 <= d <= 0.15 for d in delays)
    assert len(set(delays)) > 100  # jittered, not fixed


def test_negative_latency_is_refused(sb: Sandbox) -> None:
    with pytest.raises(SandboxError, match=">= 0"):
        sb.set_latency(-1)


def test_the_request_log_records_service_operation_account_region_and_status(
    sb: Sandbox, aws
) -> None:
    sb.clear_request_log()
    network = sb.account_id("network")
    consumer = aws("ds", account_id=network, region="eu-west-1")
    consumer.describe_directories()
    with pytest.raises(ClientError):
        consumer.accept_shared_directory(SharedDirectoryId="d-0000000000")

    log = [
        (e["service"], e["operation"], e["account_id"], e["region"], e["status"], e["injected"])
        for e in sb.request_log
    ]
    assert log == [
        ("sts", "AssumeRole", sb.manifest["management_account_id"], "eu-west-1", 200, None),
        ("ds", "DescribeDirectories", network, "eu-west-1", 200, None),
        ("ds", "AcceptSharedDirectory", network, "eu-west-1", 400, None),
    ]
    assert all(isinstance(e["time"], float) for e in sb.request_log)


def test_reset_clears_faults_latency_and_the_log(sb: Sandbox, aws_once) -> None:
    sb.add_fault("DescribeDirectories", code="ThrottlingException")
    sb.set_latency(50, 10)
    aws_once("organizations").describe_organization()
    sb.reset()
    assert (sb.faults.rules, sb.faults.latency_ms, sb.faults.jitter_ms) == ([], 0.0, 0.0)
    assert sb.request_log == []
    assert aws_once("ds").describe_directories()["DirectoryDescriptions"]


SHARING_OPERATIONS = [
    "ShareDirectory",
    "UnshareDirectory",
    "DescribeSharedDirectories",
    "AcceptSharedDirectory",
    "RejectSharedDirectory",
    "DescribeDirectories",
    "DeleteDirectory",
]
CALL_ARGS: dict[str, dict] = {
    "ShareDirectory": {
        "DirectoryId": "d-1234567890",
        "ShareMethod": "HANDSHAKE",
        "ShareTarget": {"Id": "200000000011", "Type": "ACCOUNT"},
    },
    "UnshareDirectory": {
        "DirectoryId": "d-1234567890",
        "UnshareTarget": {"Id": "200000000011", "Type": "ACCOUNT"},
    },
    "DescribeSharedDirectories": {"OwnerDirectoryId": "d-1234567890"},
    "AcceptSharedDirectory": {"SharedDirectoryId": "d-1234567890"},
    "RejectSharedDirectory": {"SharedDirectoryId": "d-1234567890"},
    "DescribeDirectories": {},
    "DeleteDirectory": {"DirectoryId": "d-1234567890"},
}


def modelled_errors() -> list[tuple[str, str]]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("ds")
    return [
        (operation, shape.name)
        for operation in SHARING_OPERATIONS
        for shape in model.operation_model(operation).error_shapes
    ]


@pytest.mark.parametrize("operation, code", modelled_errors())
def test_every_modelled_error_reaches_botocore_as_its_exception_class(
    sb: Sandbox, aws_once, operation: str, code: str
) -> None:
    """What a client's ``except ds.exceptions.<Code>`` sees, for every error of every sharing operation."""
    sb.add_fault(operation, code=code, service="ds", message=f"{code} for {operation}")
    ds = aws_once("ds")
    method = getattr(
        ds, "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
    )
    with pytest.raises(getattr(ds.exceptions, code)) as excinfo:
        method(**CALL_ARGS[operation])
    assert excinfo.value.response["Error"] == {"Code": code, "Message": f"{code} for {operation}"}


# -- which account a request acts in ----------------------------------------------------------


def assume(sb: Sandbox, aws, account_id: str) -> str:
    return str(
        aws("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{sb.manifest['role_name']}",
            RoleSessionName="dsshare-tests",
        )["Credentials"]["AccessKeyId"]
    )


def test_a_key_issued_by_assume_role_acts_in_the_role_s_account_from_its_first_call(
    sb: Sandbox, aws
) -> None:
    account_id = sb.account_id("prod-data")
    aws("ds", account_id=account_id).describe_directories()  # assumes the role first

    assert [(e["operation"], e["account_id"]) for e in sb.request_log][-1] == (
        "DescribeDirectories",
        account_id,
    )


def test_an_access_key_is_only_believed_to_be_the_account_whose_iam_holds_it(
    sb: Sandbox, aws
) -> None:
    account_id = sb.account_id("prod-data")
    key = assume(sb, aws, account_id)

    account_of_key.learn(key, sb.account_id("dev-data"))  # a wrong hint is not remembered
    assert account_of_key(key) == account_id
    account_of_key.learn("ASIA0000000000000000", account_id)  # nor a key IAM never issued
    assert account_of_key("ASIA0000000000000000") == sb.manifest["management_account_id"]
