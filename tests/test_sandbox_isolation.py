"""Importing or running the sandbox leaves moto as it was for other code in the process.

A user's own ``moto.mock_aws`` tests may run in the same pytest session as the sandbox.
The scenario runs in a fresh interpreter, so that "before" really is before dsshare's
sandbox was imported: it records plain moto Directory Service answers and the identity
of the moto internals an extension could be tempted to replace, imports
``dsshare.sandbox``, records again, runs a ``Sandbox`` (start, share, accept, stop),
and records a third time; the Sandbox records moto's internals once more while it serves.
All must be identical.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import base_backend, responses, utils
from moto.ds import models as ds_models
from moto.ds import responses as ds_responses
from moto.ds import urls as ds_urls
from moto.iam import models as iam_models
from moto.moto_api._internal import mock_random
from moto.moto_server import werkzeug_app
from moto.organizations import models as organizations_models
from moto.organizations import responses as organizations_responses
from moto.organizations import urls as organizations_urls
from moto.sts import models as sts_models

REPO = Path(__file__).resolve().parents[1]

#: Ids moto draws at random, replaced by their order of first appearance.
RANDOM_ID = re.compile(r"\b(d|vpc|subnet|sg|eni)-[0-9a-f]{8,17}\b")
#: Another account than moto's default 123456789012, for the sharing calls.
OTHER_ACCOUNT = "111122223333"


def normalised(value: Any, names: dict[str, str] | None = None) -> Any:
    """``value`` with timestamps and moto's random ids replaced by stable placeholders."""
    names = {} if names is None else names
    if isinstance(value, dict):
        return {
            k: normalised(v, names)
            for k, v in value.items()
            if k not in ("ResponseMetadata", "RequestId")
        }
    if isinstance(value, list):
        return [normalised(v, names) for v in value]
    if isinstance(value, dt.datetime):
        return "<time>"
    if isinstance(value, str):
        return RANDOM_ID.sub(
            lambda m: names.setdefault(m.group(0), f"<{m.group(1)}-{len(names)}>"), value
        )
    return value


def outcome(call: Any, **params: Any) -> dict[str, Any]:
    """What a boto3 call returned or raised, as an operator would see it."""
    try:
        return {"returned": call(**params)}
    except ClientError as err:
        return {"raised": "ClientError", "code": err.response["Error"]["Code"],
                "message": err.response["Error"]["Message"]}  # fmt: skip
    except NotImplementedError as err:
        return {"raised": "NotImplementedError", "message": str(err)}


def plain_moto_directory_service() -> Any:
    """Directory Service under ``mock_aws``: create, describe, and what moto leaves out."""
    with mock_aws():
        mock_random.seed(20261130)  # moto's ids and DNS addresses, the same every run
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=zone)[
                "Subnet"
            ]["SubnetId"]
            for n, zone in ((1, "us-east-1a"), (2, "us-east-1b"))
        ]
        network = {"VpcId": vpc, "SubnetIds": subnets}
        ds = boto3.client("ds", region_name="us-east-1")
        simple = ds.create_directory(
            Name="simple.example.com", Password="Passw0rd!Isolation", Size="Small",
            VpcSettings=network,
        )["DirectoryId"]  # fmt: skip
        managed = ds.create_microsoft_ad(
            Name="corp.example.com", Password="Passw0rd!Isolation", Edition="Enterprise",
            VpcSettings=network,
        )["DirectoryId"]  # fmt: skip
        answers = {
            "describe_directories": outcome(ds.describe_directories),
            "describe_one": outcome(ds.describe_directories, DirectoryIds=[managed]),
            "share_directory": outcome(
                ds.share_directory,
                DirectoryId=managed,
                ShareTarget={"Id": OTHER_ACCOUNT, "Type": "ACCOUNT"},
                ShareMethod="HANDSHAKE",
            ),
            "describe_shared_directories": outcome(
                ds.describe_shared_directories, OwnerDirectoryId=managed
            ),
            "accept_shared_directory": outcome(
                ds.accept_shared_directory, SharedDirectoryId="d-0123456789"
            ),
            "delete_directory": outcome(ds.delete_directory, DirectoryId=simple),
            "describe_after_delete": outcome(ds.describe_directories),
        }
        return normalised(answers)


def plain_backend_dicts() -> dict[str, Any]:
    """moto's IAM, STS and Organizations backend dicts, one entry per account that used them."""
    return {
        "moto.iam.models.iam_backends": iam_models.iam_backends,
        "moto.sts.models.sts_backends": sts_models.sts_backends,
        "moto.organizations.models.organizations_backends": (
            organizations_models.organizations_backends
        ),
    }


def moto_internals() -> dict[str, str]:
    """The identity of every moto attribute an extension might replace, by name."""
    watched: dict[str, Any] = {
        "moto.core.responses.method_names_from_class": responses.method_names_from_class,
        "moto.core.utils.method_names_from_class": utils.method_names_from_class,
        "moto.ds.models.ds_backends": ds_models.ds_backends,
        "moto.ds.models.ds_backends.backend": ds_models.ds_backends.backend,
        "moto.ds.urls.url_paths": ds_urls.url_paths,
        **{f"moto.ds.urls.url_paths[{path!r}]": view for path, view in ds_urls.url_paths.items()},
        "moto.organizations.urls.url_paths": organizations_urls.url_paths,
        **{
            f"moto.organizations.urls.url_paths[{path!r}]": view
            for path, view in organizations_urls.url_paths.items()
        },
        "MOTO_EC2_LOAD_DEFAULT_AMIS": os.environ.get("MOTO_EC2_LOAD_DEFAULT_AMIS"),
        # The dicts a sandbox reads every member account from: neither replaced nor retyped.
        **plain_backend_dicts(),
        **{f"type({name})": type(backends) for name, backends in plain_backend_dicts().items()},
    }
    for cls in (
        base_backend.BackendDict,
        base_backend.AccountSpecificBackend,
        base_backend.BaseBackend,
        responses.BaseResponse,
        ds_responses.DirectoryServiceResponse,
        organizations_responses.OrganizationsResponse,
        ds_models.DirectoryServiceBackend,
        ds_models.Directory,
        utils.convert_to_flask_response,
        werkzeug_app.DomainDispatcherApplication,
    ):
        for name, attribute in vars(cls).items():
            if name == "instances_tracked":
                continue  # moto's record of model instances, renewed by every reset
            watched[f"{cls.__module__}.{cls.__qualname__}.{name}"] = attribute
    return {name: f"{type(value).__name__}@{id(value)}" for name, value in watched.items()}


def run_a_sandbox() -> dict[str, str]:
    """Start a sandbox, share a directory, accept the share, stop: what the kit does."""
    # Imported here, not at the top: the scenario observes moto before this import.
    sandbox_module = importlib.import_module("dsshare.sandbox")
    with sandbox_module.Sandbox(seed="demo", transition_delay=0) as sb:
        owner = sb.account_id("shared-services")
        directory_id = sb.directory_id("services.example.com")
        shared_with = {s["shared_account_id"] for s in sb.manifest["shares"]}
        consumer = next(a["id"] for a in sb.manifest["accounts"]
                        if a["id"] not in shared_with | {owner})  # fmt: skip
        owner_ds, consumer_ds = (
            role_client(sb.endpoint_url, account, sb.manifest["role_name"])
            for account in (owner, consumer)
        )
        shared_id = owner_ds.share_directory(
            DirectoryId=directory_id,
            ShareTarget={"Id": consumer, "Type": "ACCOUNT"},
            ShareMethod="HANDSHAKE",
        )["SharedDirectoryId"]
        accepted = consumer_ds.accept_shared_directory(SharedDirectoryId=shared_id)
        return {"status": accepted["SharedDirectory"]["ShareStatus"], "consumer": consumer,
                "internals": moto_internals()}  # fmt: skip


def role_client(endpoint_url: str, account_id: str, role_name: str) -> Any:
    common = {"endpoint_url": endpoint_url, "region_name": "us-east-1"}
    sts = boto3.client("sts", aws_access_key_id="testing", aws_secret_access_key="testing",
                       **common)  # fmt: skip
    keys = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}", RoleSessionName="isolation"
    )["Credentials"]
    return boto3.client(
        "ds",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
        **common,
    )


def scenario() -> dict[str, Any]:
    """Observe moto, import the sandbox, observe, run a sandbox, observe."""
    before = {"answers": plain_moto_directory_service(), "internals": moto_internals()}
    assert "dsshare.sandbox" not in sys.modules
    # The package loads its moto-dependent modules on first use: use one.
    assert importlib.import_module("dsshare.sandbox").Sandbox.__name__ == "Sandbox"
    imported = {"answers": plain_moto_directory_service(), "internals": moto_internals()}
    ran = run_a_sandbox()
    after = {"answers": plain_moto_directory_service(), "internals": moto_internals()}
    return {"before": before, "imported": imported, "sandbox": ran, "after": after}


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    keys = sorted(set(expected) | set(actual))
    return [f"{k}: {expected.get(k)!r} -> {actual.get(k)!r}" for k in keys
            if expected.get(k) != actual.get(k)]  # fmt: skip


@pytest.fixture(scope="module")
def observed() -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "lib"), str(REPO / "tests")])}
    env.pop("MOTO_EC2_LOAD_DEFAULT_AMIS", None)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        env.pop(name, None)
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")  # fmt: skip
    code = "import json, test_sandbox_isolation as t; print(json.dumps(t.scenario()))"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_sandbox_ran_and_shared_in_that_process(observed: dict[str, Any]) -> None:
    assert observed["sandbox"]["status"] == "Shared"


def test_plain_moto_directory_service_answers_the_same_before_and_after(
    observed: dict[str, Any],
) -> None:
    before = observed["before"]["answers"]
    assert before["share_directory"]["raised"] == "NotImplementedError"
    assert "share_directory" in before["share_directory"]["message"]
    assert before["describe_shared_directories"]["raised"] == "NotImplementedError"
    assert len(before["describe_directories"]["returned"]["DirectoryDescriptions"]) == 2
    assert "ShareStatus" not in json.dumps(before["describe_directories"])
    assert observed["imported"]["answers"] == before
    assert observed["after"]["answers"] == before


def test_moto_s_internals_are_the_same_objects_before_and_after(observed: dict[str, Any]) -> None:
    before = observed["before"]["internals"]
    assert "moto.core.base_backend.BackendDict.__getitem__" in before
    assert differences(before, observed["imported"]["internals"]) == []
    assert differences(before, observed["sandbox"]["internals"]) == []
    assert differences(before, observed["after"]["internals"]) == []


def test_mock_aws_next_to_the_session_sandbox_sees_plain_moto(sandbox: Any) -> None:
    """In this very pytest session, with the shared sandbox serving: moto is moto.

    mock_aws resets moto's in-memory state, which the sandbox's world of the other
    services (Organizations, IAM, EC2) lives in: the session sandbox is reseeded after.
    """
    assert [type(backends) for backends in plain_backend_dicts().values()] == [
        base_backend.BackendDict,
        base_backend.BackendDict,
        organizations_models.OrganizationsBackendDict,
    ]
    try:
        answers = plain_moto_directory_service()
    finally:
        sandbox.reset()
    assert answers["share_directory"]["raised"] == "NotImplementedError"
    assert set(answers["delete_directory"]["returned"]) == {"DirectoryId"}
    described = answers["describe_directories"]["returned"]["DirectoryDescriptions"]
    assert sorted(d["Type"] for d in described) == ["MicrosoftAD", "SimpleAD"]
