"""``make demo`` until the runbooks land: a scripted share round trip on the sandbox.

Starts the sandbox (demo seed), prints its endpoint and manifest, then runs a
HANDSHAKE share -> accept (as the consumer, through AssumeRole) -> describe
with plain boto3, and prints what an operator would see at each step.
"""

from __future__ import annotations

import time
from typing import Any

import boto3

from dsshare.sandbox import Sandbox
from dsshare.sandbox.cli import export_lines


def _client(sb: Sandbox, service: str, credentials: dict[str, str] | None = None) -> Any:
    keys = credentials or {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}
    return boto3.client(service, endpoint_url=sb.endpoint_url, region_name=sb.regions[0], **keys)  # type: ignore[call-overload]


def _wait(ds: Any, directory_id: str, shared_id: str, wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        record: dict[str, Any] = ds.describe_shared_directories(
            OwnerDirectoryId=directory_id, SharedDirectoryIds=[shared_id]
        )["SharedDirectories"][0]
        if record["ShareStatus"] == wanted or time.monotonic() > deadline:
            return record
        time.sleep(0.1)


def main() -> int:
    with Sandbox(seed="demo") as sb:
        m = sb.manifest
        print(f"Sandbox endpoint: {sb.endpoint_url}")
        print(f"Organization {m['organization_id']} (management account {m['management_account_id']})")
        print(f"  {len(m['accounts'])} accounts in {len(m['ous'])} OUs over {', '.join(m['regions'])}")
        for d in m["directories"]:
            print(f"  directory {d['id']}  {d['name']:<22} {d['type']:<12} {d['edition'] or '-':<10} "
                  f"{d['region']} owner {d['account_id']}")
        print(f"  {len(m['shares'])} seeded share records")
        print("Environment for boto3 / the AWS CLI:")
        for line in export_lines(sb):
            print(f"  {line}")

        owner_dir = sb.directory_id("global.example.com")
        consumer = sb.account_id("dev-app1")
        ds = _client(sb, "ds")
        print(f"\n1. ShareDirectory {owner_dir} -> {consumer} (HANDSHAKE)")
        shared_id = ds.share_directory(
            DirectoryId=owner_dir, ShareTarget={"Id": consumer, "Type": "ACCOUNT"},
            ShareMethod="HANDSHAKE", ShareNotes="Demo invitation from dsshare",
        )["SharedDirectoryId"]
        record = _wait(ds, owner_dir, shared_id, "PendingAcceptance")
        print(f"   owner sees {shared_id}: {record['ShareStatus']}")

        creds = _client(sb, "sts").assume_role(
            RoleArn=f"arn:aws:iam::{consumer}:role/{m['role_name']}", RoleSessionName="dsshare-demo"
        )["Credentials"]
        consumer_ds = _client(sb, "ds", {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        })
        print(f"2. AcceptSharedDirectory {shared_id} as account {consumer}")
        consumer_ds.accept_shared_directory(SharedDirectoryId=shared_id)
        record = _wait(ds, owner_dir, shared_id, "Shared")
        view = consumer_ds.describe_directories(DirectoryIds=[shared_id])["DirectoryDescriptions"][0]
        print("3. DescribeSharedDirectories / DescribeDirectories")
        print(f"   owner    : {record['SharedDirectoryId']} {record['ShareMethod']} -> "
              f"{record['SharedAccountId']}: {record['ShareStatus']}")
        print(f"   consumer : {view['DirectoryId']} {view['Type']} {view['Name']} "
              f"stage {view['Stage']}, share {view['ShareStatus']}, owner "
              f"{view['OwnerDirectoryDescription']['AccountId']}/{view['OwnerDirectoryDescription']['DirectoryId']}")
        ok = record["ShareStatus"] == "Shared" and view["ShareStatus"] == "Shared"
        print(f"\nRound trip {'complete' if ok else 'FAILED'}: share -> accept -> describe.")
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
