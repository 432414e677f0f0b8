"""Specification of dsshare.connection against the sandbox: one place builds clients."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.credentials import RefreshableCredentials

from dsshare import connection as connection_module
from dsshare.calls import iter_directories
from dsshare.connection import Connection
from dsshare.errors import AwsTransportError, ParameterError, ThrottlingError
from dsshare.sandbox import Sandbox


def calls(sb: Sandbox, operation: str) -> list[dict[str, Any]]:
    return [entry for entry in sb.request_log if entry["operation"] == operation]


@pytest.fixture
def conn(aws_env: Sandbox) -> Connection:
    return Connection()


def test_endpoint_and_region_come_from_the_environment(aws_env: Sandbox) -> None:
    conn = Connection()
    assert conn.endpoint_url == aws_env.endpoint_url
    assert (conn.region, conn.regions) == ("us-east-1", ["us-east-1"])
    assert conn.role_name == "OrganizationAccountAccessRole"


def test_regions_default_the_region_to_the_first(aws_env: Sandbox) -> None:
    conn = Connection(regions=["eu-west-1", "us-east-1"])
    assert conn.region == "eu-west-1"
    assert conn.regions == ["eu-west-1", "us-east-1"]


def test_caller_identity_is_the_management_account(conn: Connection, aws_env: Sandbox) -> None:
    assert conn.caller_account_id == aws_env.manifest["management_account_id"]
    assert conn.caller_arn.startswith("arn:aws:")
    assert conn.caller_account_id == conn.caller_arn.split(":")[4]
    assert len(calls(aws_env, "GetCallerIdentity")) == 1, "identity is read once and cached"
    assert not hasattr(conn, "organization"), "organization facts are gathered, not cached here"


def test_member_accounts_are_reached_by_assume_role_cached_per_account(
    conn: Connection, aws_env: Sandbox
) -> None:
    member = aws_env.account_id("prod-app1")
    ds = conn.client("ds", account_id=member)
    assert conn.client("ds", account_id=member) is ds
    conn.client("ds", account_id=member, region="eu-west-1")
    conn.client("organizations", account_id=member)
    list(iter_directories(conn, account_id=member))
    assumed = calls(aws_env, "AssumeRole")
    assert len(assumed) == 1, "one AssumeRole per account while the credentials are fresh"
    member_calls = [e for e in aws_env.request_log if e["operation"] == "DescribeDirectories"]
    assert member_calls[-1]["account_id"] == member


def test_own_account_uses_the_callers_credentials(conn: Connection, aws_env: Sandbox) -> None:
    assert conn.client("ds", account_id=conn.caller_account_id) is conn.client("ds")
    assert calls(aws_env, "AssumeRole") == []


def test_expiring_credentials_are_refreshed(
    conn: Connection, aws_env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = aws_env.account_id("prod-app1")
    conn.client("ds", account_id=member)
    # Treat every credential as about to expire: the next use must assume the role again.
    from datetime import timedelta

    monkeypatch.setattr(connection_module, "REFRESH_MARGIN", timedelta(days=365))
    conn.client("ds", account_id=member)
    assert len(calls(aws_env, "AssumeRole")) == 2


def test_clients_are_shared_safely_across_threads(conn: Connection, aws_env: Sandbox) -> None:
    member = aws_env.account_id("dev-app1")
    seen: list[object] = []
    lock = threading.Lock()

    def grab() -> None:
        client = conn.client("ds", account_id=member)
        with lock:
            seen.append(client)

    threads = [threading.Thread(target=grab) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 16 and len({id(c) for c in seen}) == 1
    assert len(calls(aws_env, "AssumeRole")) == 1


def test_roles_for_many_accounts_are_assumed_once_each_in_parallel(
    conn: Connection, aws_env: Sandbox
) -> None:
    members = [aws_env.account_id(n) for n in ("prod-app1", "prod-app2", "dev-app1", "dev-app2")]
    clients: dict[str, set[int]] = {m: set() for m in members}
    lock = threading.Lock()

    def grab(member: str) -> None:
        client = conn.client("ds", account_id=member)
        with lock:
            clients[member].add(id(client))

    threads = [threading.Thread(target=grab, args=(members[i % 4],)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(ids) == 1 for ids in clients.values())
    assumed = calls(aws_env, "AssumeRole")
    assert len(assumed) == 4


def test_no_secret_in_repr_or_logs(
    conn: Connection, aws_env: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dsshare")
    member = aws_env.account_id("prod-app1")
    conn.client("ds", account_id=member)
    role_keys = conn._roles[member].keys  # noqa: SLF001 - the secret to look for
    secrets = ["testing", role_keys["aws_secret_access_key"], role_keys["aws_session_token"]]
    text = repr(conn) + caplog.text
    assert "assumed arn:aws:iam::" in caplog.text, "the log says what happened"
    for secret in secrets:
        assert secret and secret not in text


def test_throttling_is_retried_by_botocore(conn: Connection, aws_env: Sandbox) -> None:
    aws_env.add_fault("DescribeDirectories", code="ThrottlingException", count=2)
    assert len(list(iter_directories(conn))) >= 1
    attempts = calls(aws_env, "DescribeDirectories")
    assert [e["status"] for e in attempts][:3] == [400, 400, 200]


def test_throttling_beyond_max_attempts_is_a_throttling_error(aws_env: Sandbox) -> None:
    conn = Connection(max_attempts=1)
    aws_env.add_fault("DescribeDirectories", code="ThrottlingException", count=5)
    with pytest.raises(ThrottlingError) as info:
        list(iter_directories(conn))
    assert info.value.operation == "DescribeDirectories"


@pytest.mark.parametrize(
    "kwargs,parameter",
    [
        ({"retry_mode": "eager"}, "retry_mode"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"region": "mars-1"}, "region"),
        ({"regions": []}, "regions"),
        ({"max_pool_connections": 0}, "max_pool_connections"),
        ({"role_name": ""}, "role_name"),
    ],
)
def test_bad_connection_settings_are_refused_without_a_call(
    aws_env: Sandbox, kwargs: dict[str, Any], parameter: str
) -> None:
    before = len(aws_env.request_log)
    with pytest.raises(ParameterError) as info:
        Connection(**kwargs)
    assert info.value.parameter == parameter
    assert len(aws_env.request_log) == before


def test_bad_account_id_for_a_client_is_refused_without_a_call(
    conn: Connection, aws_env: Sandbox
) -> None:
    before = len(aws_env.request_log)
    with pytest.raises(ParameterError) as info:
        conn.client("ds", account_id="2000000004")
    assert info.value.parameter == "account_id"
    assert len(aws_env.request_log) == before


def test_unknown_profile_is_a_parameter_error(aws_env: Sandbox) -> None:
    with pytest.raises(ParameterError) as info:
        Connection(profile="no-such-profile")
    assert info.value.parameter == "profile"


def test_missing_credentials_are_a_dsshare_error_with_a_next_step(
    aws_env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    conn = Connection()
    with pytest.raises(AwsTransportError) as info:
        conn.caller_account_id  # noqa: B018 - the property makes the call
    assert info.value.code == "NoCredentialsError"
    assert "credentials" in info.value.next_step


def test_an_unreachable_endpoint_is_a_dsshare_error(aws_env: Sandbox) -> None:
    conn = Connection(endpoint_url="http://127.0.0.1:9", max_attempts=1)
    with pytest.raises(AwsTransportError) as info:
        list(iter_directories(conn))
    assert info.value.code == "EndpointConnectionError"
    assert info.value.operation == "DescribeDirectories"


def test_calls_for_many_accounts_from_many_threads_are_each_signed_as_their_account(
    conn: Connection, aws_env: Sandbox
) -> None:
    # Role clients of one Region share one botocore client: the account must still be
    # chosen per call, however the threads interleave.
    names = ("prod-app1", "prod-app2", "dev-app1", "dev-app2", "shared-services")
    members = [aws_env.account_id(n) for n in names]
    expected = {
        m: sorted(d["DirectoryId"] for d in iter_directories(conn, account_id=m)) for m in members
    }
    aws_env.clear_request_log()
    seen: dict[str, list[list[str]]] = {m: [] for m in members}
    lock = threading.Lock()

    def read(member: str) -> None:
        for _ in range(5):
            ids = sorted(d["DirectoryId"] for d in iter_directories(conn, account_id=member))
            with lock:
                seen[member].append(ids)

    threads = [threading.Thread(target=read, args=(members[i % len(members)],)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {m: [expected[m]] * 20 for m in members}
    logged = [e["account_id"] for e in calls(aws_env, "DescribeDirectories")]
    assert sorted(logged) == sorted(members * 20)
    assert any(expected[m] != expected[members[0]] for m in members), "accounts differ"


def test_role_clients_share_one_client_per_region_and_answer_for_their_account(
    conn: Connection, aws_env: Sandbox
) -> None:
    first, second = aws_env.account_id("prod-app1"), aws_env.account_id("dev-app1")
    a, b = conn.client("ds", account_id=first), conn.client("ds", account_id=second)
    assert a is not b and a.meta is b.meta, "one botocore client (and connection pool)"
    assert (a.account_id, b.account_id) == (first, second)
    assert first in repr(a) and "us-east-1" in repr(a)
    assert a.meta.region_name == "us-east-1"
    assert a.can_paginate("describe_directories")
    with pytest.raises(a.exceptions.EntityDoesNotExistException):
        a.describe_shared_directories(OwnerDirectoryId="d-0000000000")
    assert calls(aws_env, "DescribeSharedDirectories")[-1]["account_id"] == first


def test_the_shared_role_client_refuses_a_call_with_no_account_bound(
    conn: Connection, aws_env: Sandbox
) -> None:
    from dsshare.roles import UnboundRoleCallError

    member = aws_env.account_id("prod-app1")
    shared = conn.client("ds", account_id=member)._client  # noqa: SLF001 - the unbound client
    before = len(aws_env.request_log)
    with pytest.raises(UnboundRoleCallError, match="no account bound"):
        shared.describe_directories()
    assert len(aws_env.request_log) == before, "nothing was sent with anyone's keys"


def test_a_role_client_refreshes_expiring_credentials_when_it_signs(
    conn: Connection, aws_env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = aws_env.account_id("prod-app1")
    ds = conn.client("ds", account_id=member)
    from datetime import timedelta

    monkeypatch.setattr(connection_module, "REFRESH_MARGIN", timedelta(days=365))
    ds.describe_directories()
    assert len(calls(aws_env, "AssumeRole")) == 2, "the held client re-assumed the role"
    assert calls(aws_env, "DescribeDirectories")[-1]["account_id"] == member


def test_timestamps_come_back_in_utc_from_own_and_role_clients(
    conn: Connection, aws_env: Sandbox
) -> None:
    from datetime import UTC, datetime, timedelta

    member = aws_env.account_id("prod-app1")
    for account in (None, member):
        for directory in iter_directories(conn, account_id=account):
            launched = directory["LaunchTime"]
            assert launched.tzinfo is UTC, "UTC, not the machine's local zone"
            assert abs(datetime.now(UTC) - launched) < timedelta(days=3650)
    assumed = conn._roles[member].expires  # noqa: SLF001 - parsed from AssumeRole's XML
    assert assumed.tzinfo is UTC and assumed > datetime.now(UTC)


# -- a boto3 session handed in (SSO, aws-vault, an already-assumed role) ---------------------


def test_a_boto3_session_gives_its_credentials_and_region(aws_env: Sandbox) -> None:
    session = boto3.Session(aws_access_key_id="sso-like", aws_secret_access_key="sso-like",
                            region_name="eu-west-1")  # fmt: skip
    conn = Connection(session=session)
    assert conn.region == "eu-west-1" and conn.endpoint_url == aws_env.endpoint_url
    assert conn.caller_account_id == aws_env.manifest["management_account_id"]
    member = aws_env.account_id("prod-app1")
    list(iter_directories(conn, account_id=member))
    assert calls(aws_env, "DescribeDirectories")[-1]["account_id"] == member
    assert calls(aws_env, "DescribeDirectories")[-1]["region"] == "eu-west-1"
    parsers = session._session.get_component("response_parser_factory")
    assert "timestamp_parser" not in parsers._defaults, "the caller's session is not changed"


def test_an_already_assumed_session_acts_as_its_account(aws_env: Sandbox) -> None:
    member = aws_env.account_id("dev-app1")
    sts = boto3.client("sts", endpoint_url=aws_env.endpoint_url, region_name="us-east-1")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                            RoleSessionName="operator")["Credentials"]  # fmt: skip
    session = boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                            aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"])  # fmt: skip
    conn = Connection(session=session)
    assert conn.caller_account_id == member
    list(iter_directories(conn))
    assert calls(aws_env, "DescribeDirectories")[-1]["account_id"] == member


def test_a_sessions_refreshing_credentials_keep_refreshing(aws_env: Sandbox) -> None:
    refreshed: list[int] = []

    def refresh() -> dict[str, str]:
        refreshed.append(1)
        expiry = datetime.now(UTC) + timedelta(minutes=1)  # inside botocore's refresh window
        return {"access_key": "refreshed", "secret_key": "refreshed", "token": "t",
                "expiry_time": expiry.isoformat()}  # fmt: skip

    core = botocore.session.Session()
    core._credentials = RefreshableCredentials.create_from_metadata(
        refresh(), refresh, "sso-test"
    )
    refreshed.clear()
    conn = Connection(session=boto3.Session(botocore_session=core))
    list(iter_directories(conn))
    list(iter_directories(conn))
    assert len(refreshed) >= 2, "each signing asked the session's credentials to refresh"


def test_a_session_and_a_profile_together_are_refused(aws_env: Sandbox) -> None:
    with pytest.raises(ParameterError, match="profile"):
        Connection(profile="ops", session=boto3.Session())
    with pytest.raises(ParameterError, match="session"):
        Connection(session="ops")  # type: ignore[arg-type]
    assert aws_env.request_log == []
