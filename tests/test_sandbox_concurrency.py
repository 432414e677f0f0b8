"""Share state is locked: concurrent calls from many threads give AWS's answers, never a double share."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox


def target(account_id: str) -> dict[str, str]:
    return {"Id": account_id, "Type": "ACCOUNT"}


def client(sb: Sandbox, threads: int, **keys: str):  # type: ignore[no-untyped-def]
    """No retries: a retried call could turn one success into an 'already shared'."""
    keys = keys or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return boto3.client(
        "ds",
        endpoint_url=sb.endpoint_url,
        region_name="us-east-1",
        config=Config(
            max_pool_connections=threads, retries={"mode": "standard", "total_max_attempts": 1}
        ),
        **keys,
    )


def race(threads: int, call: Callable[[int], str]) -> list[str]:
    """Run ``call(i)`` in ``threads`` threads released together; return each outcome."""
    barrier = threading.Barrier(threads)

    def run(index: int) -> str:
        barrier.wait()
        try:
            return "ok:" + call(index)
        except ClientError as err:
            return str(err.response["Error"]["Code"])

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, range(threads)))


def test_50_concurrent_shares_to_distinct_accounts_get_50_distinct_ids(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    global_ = sb.directory_id("global.example.com")  # Enterprise
    ds = client(sb, 50)
    accounts = [f"5000000000{n:02d}" for n in range(50)]

    outcomes = race(
        50,
        lambda i: ds.share_directory(
            DirectoryId=global_, ShareTarget=target(accounts[i]), ShareMethod="HANDSHAKE"
        )["SharedDirectoryId"],
    )

    assert all(o.startswith("ok:") for o in outcomes), Counter(outcomes)
    ids = {o[3:] for o in outcomes}
    assert len(ids) == 50
    records = (
        aws("ds")
        .get_paginator("describe_shared_directories")
        .paginate(OwnerDirectoryId=global_)
        .build_full_result()["SharedDirectories"]
    )
    by_id = {r["SharedDirectoryId"]: r["SharedAccountId"] for r in records}
    assert {by_id[i] for i in ids} == set(accounts)


def test_100_concurrent_duplicate_shares_give_exactly_one_success(sb: Sandbox, aws) -> None:
    global_ = sb.directory_id("global.example.com")
    ds = client(sb, 100)

    outcomes = race(
        100,
        lambda i: ds.share_directory(
            DirectoryId=global_, ShareTarget=target("600000000001"), ShareMethod="HANDSHAKE"
        )["SharedDirectoryId"],
    )

    counts = Counter("ok" if o.startswith("ok:") else o for o in outcomes)
    assert counts == {"ok": 1, "DirectoryAlreadySharedException": 99}
    records = [
        r
        for r in aws("ds").describe_shared_directories(OwnerDirectoryId=global_)[
            "SharedDirectories"
        ]
        if r["SharedAccountId"] == "600000000001"
    ]
    assert len(records) == 1


def test_concurrent_shares_never_exceed_the_quota(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    corp = sb.directory_id("corp.example.com")  # Standard: 2 live shares, room for 23
    ds = client(sb, 40)

    outcomes = race(
        40,
        lambda i: ds.share_directory(
            DirectoryId=corp, ShareTarget=target(f"7000000000{i:02d}"), ShareMethod="HANDSHAKE"
        )["SharedDirectoryId"],
    )

    counts = Counter("ok" if o.startswith("ok:") else o for o in outcomes)
    assert counts == {"ok": 23, "ShareLimitExceededException": 17}


def test_concurrent_accepts_of_one_invitation_give_exactly_one_success(sb: Sandbox, aws) -> None:
    alice = sb.account_id("sandbox-alice")
    shared_id = next(
        s["shared_directory_id"] for s in sb.manifest["shares"] if s["shared_account_id"] == alice
    )
    creds = aws("sts").assume_role(
        RoleArn=f"arn:aws:iam::{alice}:role/{sb.manifest['role_name']}", RoleSessionName="race"
    )["Credentials"]
    ds = client(
        sb,
        20,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )

    outcomes = race(
        20,
        lambda i: ds.accept_shared_directory(SharedDirectoryId=shared_id)["SharedDirectory"][
            "ShareStatus"
        ],
    )

    assert Counter(outcomes) == {"ok:Shared": 1, "DirectoryAlreadySharedException": 19}


def test_concurrent_unshares_of_one_account_give_exactly_one_success(sb: Sandbox, aws) -> None:
    corp = sb.directory_id("corp.example.com")
    ds = client(sb, 20)
    outcomes = race(
        20,
        lambda i: ds.unshare_directory(
            DirectoryId=corp, UnshareTarget=target(sb.account_id("prod-app1"))
        )["SharedDirectoryId"],
    )
    counts = Counter("ok" if o.startswith("ok:") else o for o in outcomes)
    assert counts == {"ok": 1, "DirectoryNotSharedException": 19}
