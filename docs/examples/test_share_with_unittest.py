"""Testing your own sharing automation against the sandbox with unittest.

Run with ``python docs/examples/test_share_with_unittest.py`` (or ``python -m unittest``
in its folder) once ``dsshare[sandbox]`` is installed. One sandbox serves the class; ``setUp`` reseeds it
so each test starts from the demo world.
"""

from __future__ import annotations

import unittest

import boto3

from dsshare.sandbox import Sandbox

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class ShareDirectoryTest(unittest.TestCase):
    sandbox: Sandbox

    @classmethod
    def setUpClass(cls) -> None:
        cls.sandbox = Sandbox(seed="demo", transition_delay=0).start()
        cls.addClassCleanup(cls.sandbox.stop)

    def setUp(self) -> None:
        self.sandbox.reset()

    def client(self, service: str, account: str):
        """A client acting in ``account``, through AssumeRole as the kit does."""
        common = {"endpoint_url": self.sandbox.endpoint_url, "region_name": "us-east-1"}
        sts = boto3.client("sts", **common, **KEYS)
        role = f"arn:aws:iam::{self.sandbox.account_id(account)}:role/" + (
            self.sandbox.manifest["role_name"]
        )
        keys = sts.assume_role(RoleArn=role, RoleSessionName="unittest")["Credentials"]
        return boto3.client(
            service,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
            **common,
        )

    def test_a_share_waits_for_the_consumer(self) -> None:
        owner = self.client("ds", "shared-services")
        directory_id = self.sandbox.directory_id("services.example.com")
        shared_id = owner.share_directory(
            DirectoryId=directory_id,
            ShareTarget={"Id": self.sandbox.account_id("dev-app1"), "Type": "ACCOUNT"},
            ShareMethod="HANDSHAKE",
        )["SharedDirectoryId"]
        (record,) = owner.describe_shared_directories(
            OwnerDirectoryId=directory_id, SharedDirectoryIds=[shared_id]
        )["SharedDirectories"]
        self.assertEqual(record["ShareStatus"], "PendingAcceptance")

    def test_each_test_starts_from_the_seeded_world(self) -> None:
        shares = self.sandbox.manifest["shares"]
        self.assertEqual(len(self.sandbox.share_records()), len(shares))


if __name__ == "__main__":
    unittest.main()
