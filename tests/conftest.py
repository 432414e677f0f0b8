"""Shared fixtures: one sandbox server per test session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from dsshare.sandbox import Sandbox

#: Transitional statuses last this long in tests: long enough to be observed,
#: short enough to keep the suite fast.
TEST_TRANSITION_DELAY = 0.05


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A demo-seeded sandbox server on a free loopback port, for the whole session."""
    with Sandbox(seed="demo", transition_delay=TEST_TRANSITION_DELAY) as server:
        yield server


@pytest.fixture
def sb(sandbox: Sandbox) -> Sandbox:
    """The session sandbox, reseeded so each test starts from the demo world."""
    sandbox.reset()
    sandbox.set_transition_delay(TEST_TRANSITION_DELAY)
    return sandbox


@pytest.fixture
def aws_env(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """Point boto3 (and subprocesses) at the sandbox with dummy credentials."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sb.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    return sb


def client_for(sb: Sandbox, service: str, account_id: str | None = None,
               region: str = "us-east-1", retry_mode: str = "standard") -> object:
    """A boto3 client against the sandbox, acting in ``account_id`` via AssumeRole."""
    from botocore.config import Config

    config = Config(retries={"mode": retry_mode, "max_attempts": 4})
    common = {"endpoint_url": sb.endpoint_url, "region_name": region, "config": config}
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    if account_id and account_id != sb.manifest["management_account_id"]:
        sts = boto3.client("sts", **common, **keys)
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{sb.manifest['role_name']}",
            RoleSessionName="dsshare-tests",
        )["Credentials"]
        keys = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
    return boto3.client(service, **common, **keys)


@pytest.fixture
def aws(sb: Sandbox):  # type: ignore[no-untyped-def]
    """Factory for sandbox clients: ``aws("ds", account_id=..., region=...)``."""

    def make(service: str, account_id: str | None = None, region: str = "us-east-1",
             retry_mode: str = "standard") -> object:
        return client_for(sb, service, account_id, region, retry_mode)

    return make


@pytest.fixture
def aws_once(sb: Sandbox):  # type: ignore[no-untyped-def]
    """Like ``aws``, but with retries off: the first error (injected or not) surfaces."""
    from botocore.config import Config

    def make(service: str, account_id: str | None = None, region: str = "us-east-1") -> object:
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        if account_id and account_id != sb.manifest["management_account_id"]:
            sts = client_for(sb, "sts", region=region)
            creds = sts.assume_role(  # type: ignore[attr-defined]
                RoleArn=f"arn:aws:iam::{account_id}:role/{sb.manifest['role_name']}",
                RoleSessionName="dsshare-tests",
            )["Credentials"]
            keys = {"aws_access_key_id": creds["AccessKeyId"],
                    "aws_secret_access_key": creds["SecretAccessKey"],
                    "aws_session_token": creds["SessionToken"]}
        return boto3.client(service, endpoint_url=sb.endpoint_url, region_name=region,
                            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
                            **keys)

    return make
